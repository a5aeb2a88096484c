/**
 * The one clock of the benchmarks: CLOCK_MONOTONIC in milliseconds. Every process on the machine
 * reads the same monotonic clock, so a stamp taken in the upstream process can be subtracted
 * from a receipt time taken in the load generator. `performance.timeOrigin + performance.now()`
 * is only comparable within one process: each process estimates its own time origin.
 */
import process from "node:process";

/** Milliseconds on the machine's monotonic clock, with nanosecond resolution. */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
