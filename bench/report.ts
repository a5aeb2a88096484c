/** Turns a run's results into the goals' verdicts and the Markdown tables the README shows. */
import type { Machine } from "./machine.ts";
import type { MemoryResult } from "./memory.ts";
import type { MinimalResult } from "./minimal.ts";
import type { OverheadResult, TransportRow } from "./overhead.ts";
import type { PipelineResult } from "./pipeline.ts";
import type { ReplayResult } from "./replay.ts";
import { issue11Failures, renderIssue11 } from "./report-issue11.ts";
import type { RoutesResult } from "./routes.ts";
import type { SizeResult } from "./size.ts";
import type { StorageResult } from "./storage.ts";
import type { TtftResult } from "./ttft.ts";
import type { UsersResult } from "./users.ts";

export interface Results {
  mode: "full" | "ci";
  machine: Machine;
  overhead?: OverheadResult;
  pipeline?: PipelineResult;
  size?: SizeResult;
  storage?: StorageResult;
  memory?: MemoryResult;
  routes?: RoutesResult;
  minimal?: MinimalResult;
  replay?: ReplayResult;
  ttft?: TtftResult;
  users?: UsersResult;
  /** Benchmarks that crashed, with the reason. */
  failures: string[];
}

export interface Verdict {
  goal: string;
  measured: string;
  /** undefined when the run did not measure it (a CI run has no 100- or 500-stream level). */
  pass: boolean | undefined;
}

const ms = (value: number) =>
  Number.isNaN(value) ? "n/a" : `${value.toFixed(value < 10 ? 2 : 0)} ms`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const times = (ratio: number) =>
  Number.isNaN(ratio) ? "n/a" : `${ratio.toFixed(ratio < 10 ? 2 : 0)}x`;

function row(results: Results, transport: string, streams: number): TransportRow | undefined {
  return results.overhead?.rows.find((r) => r.transport === transport && r.streams === streams);
}

function direct(results: Results, streams: number): TransportRow | undefined {
  return row(results, "direct", streams);
}

/** Every goal of issue #6, judged on what this run measured. */
export function verdicts(results: Results): Verdict[] {
  const list: Verdict[] = [];
  for (const transport of ["ws", "sse"]) {
    const at100 = row(results, transport, 100);
    list.push({
      goal: `${transport} per-token latency p50 < 2 ms at 100 streams`,
      measured: at100 ? ms(at100.lagMs.p50) : "not run",
      pass: at100 && at100.lagMs.p50 < 2,
    });
    list.push({
      goal: `${transport} per-token latency p99 < 10 ms at 100 streams`,
      measured: at100 ? ms(at100.lagMs.p99) : "not run",
      pass: at100 && at100.lagMs.p99 < 10,
    });
  }
  const at500 = results.overhead?.rows.filter((r) => r.streams === 500 && r.transport !== "direct");
  const errors500 = at500?.reduce((sum, r) => sum + r.errorCount, 0);
  list.push({
    goal: "no errors at 500 streams",
    measured: at500?.length ? `${errors500} failed streams` : "not run",
    pass: at500?.length ? errors500 === 0 : undefined,
  });
  for (const chunking of ["event", "64k"] as const) {
    const relay = results.pipeline?.rows.find(
      (r) => r.runtime === "workerd" && r.chunking === chunking && r.variant === "relay",
    );
    list.push({
      goal: `pipeline <= 2x floor (workerd, ${chunking === "event" ? "one event per read" : "64 KiB reads"})`,
      measured: relay ? times(relay.ratioToFloor) : "not run",
      pass: relay && relay.ratioToFloor <= 2,
    });
  }
  const size = results.size;
  list.push({
    goal: "bundle <= 50 KiB gzip",
    measured: size ? kib(size.gzipBytes) : "not run",
    pass: size && size.gzipBytes <= 50 * 1024,
  });
  // The goal's pace is 50 tokens/s; slower answers write more (one batch per 1.75 s, docs/storage.md).
  const worst = results.storage?.rows
    .filter((r) => r.intervalMs <= 20)
    .reduce((max, r) => Math.max(max, r.answerRows), 0);
  list.push({
    goal: "<= 20 rows written per 1,000-token answer at 50 tokens/s or faster",
    measured: worst === undefined ? "not run" : String(worst),
    pass: worst === undefined ? undefined : worst <= 20,
  });
  const tools = results.storage?.toolRoundTrip;
  list.push({
    goal: "<= 20 rows for a 1,000-token answer with reasoning and two tool calls, results and continuation",
    measured: tools === undefined ? "not run" : String(tools.rows),
    pass: tools === undefined ? undefined : tools.rows <= 20 && tools.error === undefined,
  });
  const usage = results.storage?.usage;
  list.push({
    goal: "<= 1 usage ledger row written per answer",
    measured: usage === undefined ? "not run" : String(usage.rowsPerAnswer),
    pass: usage === undefined ? undefined : usage.rowsPerAnswer <= 1,
  });
  return list;
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

function errorsText(r: TransportRow): string {
  const parts = Object.entries(r.errors).map(([reason, count]) => `${count} ${reason}`);
  return parts.length === 0 ? "0" : parts.join(", ");
}

function overheadTable(results: Results): string {
  const overhead = results.overhead;
  if (!overhead) return "";
  const { plan, reps, upstream } = overhead.config;
  const rows = overhead.rows.map((r) => {
    const base = direct(results, r.streams);
    const ratio = (a: number, b: number | undefined) => (b ? times(a / b) : "n/a");
    return [
      String(r.streams),
      r.transport,
      ms(r.lagMs.p50),
      ms(r.lagMs.p95),
      ms(r.lagMs.p99),
      ms(r.lagMs.max),
      ms(r.ttfcMs.p50),
      r.transport === "direct" ? "1" : ratio(r.lagMs.p50, base?.lagMs.p50),
      r.transport === "direct" ? "1" : ratio(r.lagMs.p99, base?.lagMs.p99),
      errorsText(r),
      r.transport === "direct" ? "-" : r.relayCpuCores.toFixed(2),
      r.transport === "direct" ? "-" : `${r.relayCpuUsPerToken.toFixed(0)} µs`,
      ms(r.clientLoopP99Ms),
    ];
  });
  return [
    `### Relay overhead`,
    "",
    `Per-token latency = receipt time minus the emission time the upstream wrote into the token. ` +
      `${plan.tokens} tokens per stream, ${plan.intervalMs} ms apart; median of ${reps} repetition(s); ` +
      `upstream in ${upstream === "process" ? "its own process" : "the load generator's process"}. ` +
      `"direct" is the baseline: the same clients reading the upstream without the relay.`,
    "",
    table(
      [
        "streams",
        "transport",
        "p50",
        "p95",
        "p99",
        "max",
        "TTFC p50",
        "p50 / direct",
        "p99 / direct",
        "failed streams",
        "workerd CPU (cores)",
        "workerd CPU per token",
        "client loop p99",
      ],
      rows,
    ),
  ].join("\n");
}

function pipelineTable(results: Results): string {
  const pipeline = results.pipeline;
  if (!pipeline) return "";
  const rows = pipeline.rows.map((r) => [
    r.runtime,
    r.chunking === "event" ? "one event per read" : "64 KiB reads",
    r.variant,
    ms(r.medianMs),
    `${r.mbPerSecond.toFixed(1)} MB/s`,
    times(r.ratioToFloor),
    String(r.events),
  ]);
  return [
    "### Pipeline",
    "",
    `${pipeline.config.fixture} repeated to ${(pipeline.bytes / 1e6).toFixed(1)} MB; median of ${pipeline.config.rounds} runs.`,
    "",
    table(["runtime", "chunks", "contender", "time", "throughput", "vs floor", "events"], rows),
  ].join("\n");
}

function storageTable(results: Results): string {
  const storage = results.storage;
  if (!storage) return "";
  const rows = storage.rows.map((r) => [
    `${r.intervalMs} ms`,
    String(r.tokens),
    String(r.answerRows),
    String(r.totalRows),
    String(r.eventRows),
    String(r.messageRows),
    r.error ?? "none",
  ]);
  return [
    "### Storage",
    "",
    table(
      [
        "token interval",
        "tokens",
        "rows written by the answer",
        "rows written since creation",
        "events rows",
        "messages rows",
        "error",
      ],
      rows,
    ),
    ...(storage.toolRoundTrip
      ? [
          "",
          `Client tool round trip (1,000 tokens, reasoning, two tool calls, results, continuation): ${storage.toolRoundTrip.rows} rows.`,
        ]
      : []),
    ...(storage.usage
      ? [
          "",
          `Usage ledger: ${storage.usage.rowsWritten} rows written for ${storage.usage.answers} answers (${storage.usage.rowsPerAnswer} per answer).`,
        ]
      : []),
  ].join("\n");
}

function memoryTable(results: Results): string {
  const memory = results.memory;
  if (!memory) return "";
  const rows = memory.rows.map((r) => [
    String(r.streams),
    mib(r.idleBytes),
    mib(r.rssBytes),
    r.streams === 0 ? "-" : kib(r.perStreamBytes),
    String(r.errors),
  ]);
  return [
    "### Memory (workerd RSS)",
    "",
    table(
      ["open streams", "idle RSS", "RSS while streaming", "per stream", "failed streams"],
      rows,
    ),
  ].join("\n");
}

export function renderReport(results: Results): string {
  const m = results.machine;
  const verdictRows = verdicts(results).map((v) => [
    v.goal,
    v.measured,
    v.pass === undefined ? "not measured" : v.pass ? "pass" : "**FAIL**",
  ]);
  const size = results.size
    ? `### Size\n\nBundle ${kib(results.size.rawBytes)} raw, ${kib(results.size.gzipBytes)} gzip (wrangler: ${results.size.wranglerSays || "n/a"}).`
    : "";
  return [
    `## Benchmarks (${results.mode}, ${m.date.slice(0, 10)})`,
    "",
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, Node ${m.node}, load average ${m.loadAtStart.toFixed(2)} at start, Durable Object storage on ${m.objectStorage === "memory" ? "a tmpfs" : "disk"}.`,
    "",
    table(["goal", "measured", "result"], verdictRows),
    "",
    overheadTable(results),
    "",
    pipelineTable(results),
    "",
    size,
    "",
    storageTable(results),
    "",
    memoryTable(results),
    "",
    renderIssue11(results),
    "",
    results.failures.length ? `Benchmarks that failed to run: ${results.failures.join("; ")}` : "",
  ]
    .filter((part, index, parts) => part !== "" || parts[index - 1] !== "")
    .join("\n");
}

/** Streams that failed anywhere in the run (the CI gate: errors fail it, missed goals do not). */
export function failedStreams(results: Results): number {
  const overhead = results.overhead?.rows.reduce((sum, r) => sum + r.errorCount, 0) ?? 0;
  const storage = results.storage?.rows.filter((r) => r.error !== undefined).length ?? 0;
  const memory = results.memory?.rows.reduce((sum, r) => sum + r.errors, 0) ?? 0;
  return overhead + storage + memory + issue11Failures(results);
}
