/** The machine a run was measured on, so a table is never read without it. */
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import process from "node:process";

export interface Machine {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  /** 1-minute load average when the run began: other work on the machine adds noise. */
  loadAtStart: number;
  /** Where the relays' Durable Object storage lived (bench/README.md, "Where storage lives"). */
  objectStorage: ObjectStorage;
}

/** `memory`: a tmpfs, so a commit's fsync costs nothing; `disk`: the machine's disk. */
export type ObjectStorage = "memory" | "disk";

function procField(file: string, pattern: RegExp): string | undefined {
  try {
    return pattern.exec(readFileSync(file, "utf8"))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

export function describeMachine(objectStorage: ObjectStorage): Machine {
  const memoryKiB = Number(procField("/proc/meminfo", /^MemTotal:\s+(\d+) kB/m) ?? Number.NaN);
  return {
    date: new Date().toISOString(),
    cpus: availableParallelism(),
    cpuModel: procField("/proc/cpuinfo", /^model name\s*:\s*(.+)$/m) ?? "unknown",
    memoryGiB: Math.round((memoryKiB / 1024 / 1024) * 10) / 10,
    node: process.version,
    loadAtStart: loadavg()[0] ?? Number.NaN,
    objectStorage,
  };
}
