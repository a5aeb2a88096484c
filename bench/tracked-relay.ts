/**
 * A relay together with the workerd processes it started, so the CPU time of one relay can be
 * read while another runs beside it (the issue-11 benchmarks compare Sluice with the minimal
 * relay in the same run).
 */
import type { Relay } from "../test/helpers/relay.ts";
import { cpuMs, ownProcesses } from "./proc.ts";

export interface TrackedRelay extends Relay {
  /** CPU time (user + system) of this relay's workerd processes so far, ms. */
  cpuMs(): number;
}

/**
 * Starts a relay with `start` and finds its workerd processes: the ones that were not there
 * before. Start relays one after another, never two at once, or they cannot be told apart.
 */
export async function startTracked(start: () => Promise<Relay>): Promise<TrackedRelay> {
  const before = new Set(ownProcesses("workerd"));
  const relay = await start();
  const pids = ownProcesses("workerd").filter((pid) => !before.has(pid));
  if (pids.length === 0) {
    await relay.dispose();
    throw new Error("no new workerd process found for the relay");
  }
  return { ...relay, cpuMs: () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0) };
}
