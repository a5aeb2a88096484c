/** Entry of the upstream's own process: serves, reports its URL, and exits with its parent. */
import process from "node:process";
import { startStampedUpstream } from "./upstream.ts";

/** Longest life of the process even if the parent never says goodbye. */
const MAX_LIFETIME_MS = 60 * 60 * 1000;

const upstream = await startStampedUpstream();
process.send?.({ baseUrl: upstream.baseUrl });
const stop = () => void upstream.close().finally(() => process.exit(0));
// The IPC channel closes when the parent exits or crashes.
process.on("disconnect", stop);
setTimeout(stop, MAX_LIFETIME_MS);
