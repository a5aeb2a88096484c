/** Bundle size: what `wrangler deploy --dry-run` would upload, raw and gzipped. */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export interface SizeResult {
  rawBytes: number;
  /** gzip (default level) of the bundle, computed here. */
  gzipBytes: number;
  /** Wrangler's own "Total Upload: ... / gzip: ..." line, for comparison. */
  wranglerSays: string;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WRANGLER = fileURLToPath(
  new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url),
);

/** Runs `command` to its end (at most `timeoutMs`), resolving with its output. */
function run(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // No banner means no update check: the benchmark talks to nothing but 127.0.0.1.
    const env = { ...process.env, WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_METRICS: "false" };
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const decoder = new TextDecoder();
    const collect = (chunk: Uint8Array) => {
      output += decoder.decode(chunk, { stream: true });
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const timer = setTimeout(() => child.kill(), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`wrangler exited with ${code}:\n${output}`));
    });
  });
}

export async function benchSize(): Promise<SizeResult> {
  const outdir = mkdtempSync(`${tmpdir()}/sluice-size-`);
  try {
    const output = await run(["deploy", "--dry-run", "--outdir", outdir], 120_000);
    const bundle = readFileSync(`${outdir}/index.js`);
    return {
      rawBytes: bundle.length,
      gzipBytes: gzipSync(bundle).length,
      wranglerSays: /Total Upload:[^\n]*/.exec(output)?.[0] ?? "",
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
