// Collects what clients receive and what the runtime logs, so the secrets scan can read it.
import { appendFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Where every test process writes what it saw; the global teardown scans the folder. */
export const SCAN_DIR = fileURLToPath(new URL("../../dist/test/scan/", import.meta.url));
const file = `${SCAN_DIR}/${process.pid}-${Math.random().toString(36).slice(2)}.txt`;

/** Appends `text` (a frame, an SSE event, a response body, a log line) to this process's file. */
export function record(text: string): void {
  mkdirSync(SCAN_DIR, { recursive: true });
  appendFileSync(file, `${text}\n`);
}
