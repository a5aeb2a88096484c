// Bundles the Worker once per run, as wrangler would, for the Miniflare instances of e2e tests;
// after the run, scans everything clients received and the runtime logged for the test secrets.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../helpers/bundle.ts";
import { MINTED_DIR, SCAN_DIR } from "../helpers/record.ts";
import { SECRETS } from "../helpers/secrets.ts";

export const BUNDLE = fileURLToPath(new URL("../../dist/test/index.js", import.meta.url));

/** The files of `dir`, or none when no test wrote there. */
function filesOf(dir: string): string[] {
  try {
    return readdirSync(dir).map((file) => `${dir}/${file}`);
  } catch {
    return [];
  }
}

/**
 * Throws if any configured secret, or any token a test minted and registered, appears in what
 * the suite's clients saw or its logs. Error messages name the secret, never show it.
 */
function scanForSecrets(): void {
  const secrets = new Map<string, string>(Object.entries(SECRETS));
  for (const file of filesOf(MINTED_DIR)) {
    for (const [index, line] of readFileSync(file, "utf8").split("\n").entries()) {
      if (line !== "") secrets.set(`minted token ${index} of ${file}`, line);
    }
  }
  const files = filesOf(SCAN_DIR);
  let bytes = 0;
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    bytes += text.length;
    for (const [name, secret] of secrets) {
      if (text.includes(secret)) throw new Error(`secrets scan: ${name} appears in ${file}`);
    }
  }
  console.log(
    `secrets scan: ${secrets.size} secrets (${Object.keys(SECRETS).length} configured, ${secrets.size - Object.keys(SECRETS).length} minted), ${files.length} files, ${bytes} characters of client output and logs, none found`,
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
      rmSync(MINTED_DIR, { recursive: true, force: true });
    }
  };
}
