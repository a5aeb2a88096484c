/** Reads /proc for the workerd processes Miniflare started: their resident memory and CPU time. */
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";

/** Clock ticks per second of /proc/PID/stat times; 100 on every Linux we run on. */
const TICKS_PER_SECOND = 100;

interface Stat {
  pid: number;
  name: string;
  parent: number;
  /** User plus system CPU time, in ms. */
  cpuMs: number;
}

function readStat(pid: string): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // The process ended while we listed it.
  }
  // The name is in parentheses and may hold spaces; the fields after it are space-separated.
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return {
    pid: Number(pid),
    name: text.slice(text.indexOf("(") + 1, close),
    parent: Number(fields[1]),
    cpuMs: (ticks * 1000) / TICKS_PER_SECOND,
  };
}

/** Every process named `name` descending from this one (other users' workerd are not ours). */
export function ownProcesses(name: string): number[] {
  const stats = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(readStat)
    .filter((stat): stat is Stat => stat !== undefined);
  const ours = new Set([process.pid]);
  // Parents have lower pids than children except after pid wrap-around; loop until stable.
  for (let grew = true; grew; ) {
    grew = false;
    for (const stat of stats) {
      if (!ours.has(stat.pid) && ours.has(stat.parent)) {
        ours.add(stat.pid);
        grew = true;
      }
    }
  }
  return stats.filter((stat) => stat.name === name && ours.has(stat.pid)).map((stat) => stat.pid);
}

/** Resident memory of `pid` in bytes (VmRSS), or 0 if it is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) of `pid` so far, in ms, or 0 if it is gone. */
export function cpuMs(pid: number): number {
  return readStat(String(pid))?.cpuMs ?? 0;
}
