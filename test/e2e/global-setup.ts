// Bundles the Worker once per run, as wrangler would, for the Miniflare instances of e2e tests;
// after the run, scans everything clients received and the runtime logged for the test secrets.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../helpers/bundle.ts";
import { SCAN_DIR } from "../helpers/record.ts";
import { SECRETS } from "../helpers/secrets.ts";

export const BUNDLE = fileURLToPath(new URL("../../dist/test/index.js", import.meta.url));

/** Throws if any configured secret appears in what the suite's clients saw or its logs. */
function scanForSecrets(): void {
  let files: string[] = [];
  try {
    files = readdirSync(SCAN_DIR);
  } catch {
    // No test recorded anything (a run of unit tests only).
  }
  let bytes = 0;
  for (const file of files) {
    const text = readFileSync(`${SCAN_DIR}/${file}`, "utf8");
    bytes += text.length;
    for (const [name, secret] of Object.entries(SECRETS)) {
      if (text.includes(secret)) {
        throw new Error(`secrets scan: ${name} appears in ${SCAN_DIR}${file}`);
      }
    }
  }
  console.log(
    `secrets scan: ${Object.keys(SECRETS).length} secrets, ${files.length} files, ${bytes} characters of client output and logs, none found`,
  );
}

export default async function setup(): Promise<() => void> {
  process.env.SLUICE_SCAN_DIR = SCAN_DIR;
  await bundleWorker(fileURLToPath(new URL("../../src/index.ts", import.meta.url)), BUNDLE);
  return () => {
    try {
      scanForSecrets();
    } finally {
      rmSync(SCAN_DIR, { recursive: true, force: true });
    }
  };
}
