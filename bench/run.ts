/**
 * `npm run bench` and `npm run bench:ci`: runs every benchmark, writes bench/results/full.json
 * (or ci.json), prints the Markdown report. Exits non-zero when a benchmark crashed or a
 * stream failed, never because a goal was missed. Options: `--ci`, `--only=overhead,size`
 * (any of BENCHES), `--upstream=inline|process`, `--storage=memory|disk`.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import buildRelayBundle from "../test/e2e/global-setup.ts";
import { buildHarness } from "./harness.ts";
import { describeMachine, type ObjectStorage } from "./machine.ts";
import { benchMemory, type MemoryConfig } from "./memory.ts";
import { benchMinimal, type MinimalConfig } from "./minimal.ts";
import { buildMinimalRelay } from "./minimal-relay.ts";
import { benchOverhead, type OverheadConfig } from "./overhead.ts";
import { benchPipeline, type PipelineConfig } from "./pipeline.ts";
import { benchReplay, type ReplayConfig } from "./replay.ts";
import { failedStreams, type Results, renderReport } from "./report.ts";
import { benchRoutes, type RoutesConfig } from "./routes.ts";
import { benchSize } from "./size.ts";
import { benchStorage, type StorageConfig } from "./storage.ts";
import { benchTtft, type TtftConfig } from "./ttft.ts";
import type { UpstreamPlace } from "./upstream.ts";
import { benchUsers, type UsersConfig } from "./users.ts";

interface Sizes {
  overhead: Omit<OverheadConfig, "upstream">;
  pipeline: PipelineConfig;
  storage: StorageConfig;
  memory: Omit<MemoryConfig, "upstream">;
  routes: Omit<RoutesConfig, "upstream">;
  minimal: Omit<MinimalConfig, "upstream">;
  replay: Omit<ReplayConfig, "upstream">;
  ttft: Omit<TtftConfig, "upstream">;
  users: Omit<UsersConfig, "upstream">;
  /** The whole run is stopped after this long, whatever is still running. */
  deadlineMs: number;
}

const TRANSPORTS: OverheadConfig["transports"] = ["direct", "ws", "sse"];
const FIXTURE = "groq-llama33-x-groq.sse";

const FULL: Sizes = {
  overhead: {
    levels: [1, 20, 100, 500],
    reps: 3,
    plan: { tokens: 100, intervalMs: 25 },
    transports: TRANSPORTS,
  },
  pipeline: { fixture: FIXTURE, minBytes: 4 * 1024 * 1024, rounds: 7 },
  // 20 ms is the storage goal's pace (50 tokens/s); 50 ms shows what a slower answer costs.
  storage: { tokens: 1_000, intervalsMs: [0, 10, 20, 50] },
  memory: { levels: [0, 100, 500], plan: { tokens: 40, intervalMs: 250 } },
  routes: { tokens: 20_000, reps: 5 },
  minimal: { streams: 100, reps: 3, plan: { tokens: 100, intervalMs: 25 } },
  replay: { tokens: 20_000, reps: 3, holdMs: 170_000 },
  ttft: { prompts: 30 },
  users: { users: 500, reps: 3, plan: { tokens: 40, intervalMs: 500 } },
  deadlineMs: 55 * 60_000,
};

const CI: Sizes = {
  overhead: {
    levels: [1, 20],
    reps: 1,
    plan: { tokens: 20, intervalMs: 20 },
    transports: TRANSPORTS,
  },
  pipeline: { fixture: FIXTURE, minBytes: 512 * 1024, rounds: 3 },
  storage: { tokens: 1_000, intervalsMs: [0, 5] },
  memory: { levels: [0, 20], plan: { tokens: 30, intervalMs: 50 } },
  routes: { tokens: 2_000, reps: 1 },
  minimal: { streams: 20, reps: 1, plan: { tokens: 20, intervalMs: 20 } },
  replay: { tokens: 1_000, reps: 1, holdMs: 60_000 },
  ttft: { prompts: 5 },
  users: { users: 30, reps: 1, plan: { tokens: 6, intervalMs: 100 } },
  deadlineMs: 7 * 60_000,
};

const BENCHES = [
  "overhead",
  "pipeline",
  "size",
  "storage",
  "memory",
  "routes",
  "minimal",
  "replay",
  "ttft",
  "users",
] as const;
type Bench = (typeof BENCHES)[number];

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

const log = (line: string) => process.stdout.write(`${line}\n`);

/**
 * Puts the relays' Durable Object storage (Miniflare keeps it under the temporary directory)
 * on a tmpfs unless `--storage=disk`: locally every commit is an fsync on the one workerd
 * thread that runs every object, which production's storage does not put on an isolate
 * (bench/README.md, "Where storage lives"). Returns where it is and how to clean up.
 */
function placeStorage(): { where: ObjectStorage; cleanUp: () => void } {
  if (option("storage") === "disk" || !existsSync("/dev/shm")) {
    return { where: "disk", cleanUp: () => {} };
  }
  const dir = mkdtempSync("/dev/shm/sluice-bench-");
  process.env.TMPDIR = dir;
  return { where: "memory", cleanUp: () => rmSync(dir, { recursive: true, force: true }) };
}

async function main(): Promise<number> {
  const ci = process.argv.includes("--ci");
  const sizes = ci ? CI : FULL;
  const only = option("only")?.split(",");
  const selected = BENCHES.filter((bench) => !only || only.includes(bench));
  // A separate process for the upstream: see bench/README.md, "Where the upstream runs".
  const upstream: UpstreamPlace = option("upstream") === "process" ? "process" : "inline";

  const stop = setTimeout(() => {
    log(`bench: stopped after ${sizes.deadlineMs / 60_000} minutes`);
    process.exit(2);
  }, sizes.deadlineMs);

  const storage = placeStorage();
  const results: Results = {
    mode: ci ? "ci" : "full",
    machine: describeMachine(storage.where),
    failures: [],
  };
  log(`bench (${results.mode}): ${selected.join(", ")}; building the Worker bundles`);
  // The e2e global setup: bundles the Worker and returns the secrets scan of what clients saw.
  const scanForSecrets = await buildRelayBundle();
  await buildHarness();
  await buildMinimalRelay();
  const runners: Record<Bench, () => Promise<void>> = {
    overhead: async () => {
      results.overhead = await benchOverhead({ ...sizes.overhead, upstream }, log);
    },
    pipeline: async () => {
      results.pipeline = await benchPipeline(sizes.pipeline);
    },
    size: async () => {
      results.size = await benchSize();
    },
    storage: async () => {
      results.storage = await benchStorage(sizes.storage);
    },
    memory: async () => {
      results.memory = await benchMemory({ ...sizes.memory, upstream });
    },
    routes: async () => {
      results.routes = await benchRoutes({ ...sizes.routes, upstream }, log);
    },
    minimal: async () => {
      results.minimal = await benchMinimal({ ...sizes.minimal, upstream }, log);
    },
    replay: async () => {
      results.replay = await benchReplay({ ...sizes.replay, upstream }, log);
    },
    ttft: async () => {
      results.ttft = await benchTtft({ ...sizes.ttft, upstream }, log);
    },
    users: async () => {
      results.users = await benchUsers({ ...sizes.users, upstream }, log);
    },
  };
  for (const bench of selected) {
    log(`bench: ${bench}`);
    try {
      await runners[bench]();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      results.failures.push(`${bench}: ${reason}`);
      log(`bench: ${bench} failed: ${reason}`);
    }
  }
  clearTimeout(stop);
  storage.cleanUp();
  try {
    scanForSecrets();
  } catch (error) {
    results.failures.push(
      `secrets scan: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  const name = only ? `${results.mode}-${selected.join("+")}` : results.mode;
  const file = fileURLToPath(new URL(`./results/${name}.json`, import.meta.url));
  mkdirSync(fileURLToPath(new URL("./results/", import.meta.url)), { recursive: true });
  // Written then renamed, so a crash never leaves half a file where the last results were.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  log(`\n${renderReport(results)}\nbench: results in ${file}`);
  const failed = failedStreams(results);
  if (failed > 0) log(`bench: ${failed} stream(s) failed`);
  return results.failures.length > 0 || failed > 0 ? 1 : 0;
}

// Miniflare and open sockets may keep the event loop alive; the run is over, so exit.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
