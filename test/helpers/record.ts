// Collects what clients receive and what the runtime logs, so the secrets scan can read it.
import { appendFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Where every test process writes what it saw; the global teardown scans the folder. Each run
 * has its own (the global setup names it in SLUICE_SCAN_DIR, which the test workers inherit),
 * so runs side by side cannot delete each other's records.
 */
export const SCAN_DIR =
  process.env.SLUICE_SCAN_DIR ??
  fileURLToPath(new URL(`../../dist/test/scan-${process.pid}/`, import.meta.url));
const file = `${SCAN_DIR}/${process.pid}-${Math.random().toString(36).slice(2)}.txt`;

/**
 * Where tests register secrets made while they run (the JWTs they mint), one per line, so the
 * scan looks for them too. Beside SCAN_DIR, not in it: the list must not scan itself.
 */
export const MINTED_DIR = SCAN_DIR.replace(/\/?$/, "-minted/");
const mintedFile = `${MINTED_DIR}/${process.pid}-${Math.random().toString(36).slice(2)}.txt`;

/** Registers a secret made by a test (a minted token): it must never appear in what is recorded. */
export function registerSecret(secret: string): void {
  mkdirSync(MINTED_DIR, { recursive: true });
  appendFileSync(mintedFile, `${secret}\n`);
}

/** Appends `text` (a frame, an SSE event, a response body, a log line) to this process's file. */
export function record(text: string): void {
  mkdirSync(SCAN_DIR, { recursive: true });
  appendFileSync(file, `${text}\n`);
}
