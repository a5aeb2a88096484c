/**
 * Pipeline speed: a recorded Chat Completions stream, repeated to a few MB, through the relay's
 * provider pipeline and event encoding, against the floor of decoding and JSON.parse alone.
 * Every contender runs in the same process, in rotated order, in Node and then inside workerd.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { now } from "./clock.ts";
import { startHarness } from "./harness.ts";
import {
  CHUNKINGS,
  type Chunking,
  chunk,
  type Output,
  repeatStream,
  runVariant,
  VARIANTS,
  type Variant,
} from "./pipeline-core.ts";
import { median } from "./stats.ts";

export interface PipelineConfig {
  /** A file of test/fixtures. */
  fixture: string;
  minBytes: number;
  /** Timed runs of each contender (after two warm-up runs). */
  rounds: number;
}

export interface PipelineRow {
  runtime: "node" | "workerd";
  chunking: Chunking;
  variant: Variant;
  medianMs: number;
  mbPerSecond: number;
  /** medianMs over the floor's medianMs in the same runtime and chunking. */
  ratioToFloor: number;
  events: number;
}

export interface PipelineResult {
  config: PipelineConfig;
  bytes: number;
  rows: PipelineRow[];
}

/** Runs one contender and returns its output; the caller times it. */
type Runner = (variant: Variant, chunking: Chunking) => Promise<Output>;

async function measure(
  runtime: PipelineRow["runtime"],
  bytes: number,
  rounds: number,
  run: Runner,
) {
  const rows: PipelineRow[] = [];
  for (const chunking of CHUNKINGS) {
    const times = new Map<Variant, number[]>(VARIANTS.map((variant) => [variant, []]));
    const events = new Map<Variant, number>();
    for (let round = -2; round < rounds; round += 1) {
      const shift = ((round % VARIANTS.length) + VARIANTS.length) % VARIANTS.length;
      for (const variant of [...VARIANTS.slice(shift), ...VARIANTS.slice(0, shift)]) {
        const startedAt = now();
        const output = await run(variant, chunking);
        const elapsed = now() - startedAt;
        events.set(variant, output.events);
        if (round >= 0) times.get(variant)?.push(elapsed);
      }
    }
    const floorMs = median(times.get("floor") ?? []);
    for (const variant of VARIANTS) {
      const medianMs = median(times.get(variant) ?? []);
      rows.push({
        runtime,
        chunking,
        variant,
        medianMs,
        mbPerSecond: bytes / 1e6 / (medianMs / 1000),
        ratioToFloor: medianMs / floorMs,
        events: events.get(variant) ?? 0,
      });
    }
  }
  return rows;
}

function isOutput(value: unknown): value is Output {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof Reflect.get(value, "events") === "number" &&
    typeof Reflect.get(value, "chars") === "number"
  );
}

export async function benchPipeline(config: PipelineConfig): Promise<PipelineResult> {
  const path = fileURLToPath(new URL(`../test/fixtures/${config.fixture}`, import.meta.url));
  const bytes = repeatStream(readFileSync(path, "utf8"), config.minBytes);
  const cut = new Map(CHUNKINGS.map((chunking) => [chunking, chunk(bytes, chunking)]));
  const rows = await measure("node", bytes.length, config.rounds, (variant, chunking) =>
    runVariant(variant, cut.get(chunking) ?? []),
  );

  const harness = await startHarness({});
  try {
    const route = `${harness.url}/__bench/pipeline`;
    const upload = await fetch(route, { method: "POST", body: bytes });
    if (upload.status !== 204) throw new Error(`pipeline upload failed: HTTP ${upload.status}`);
    rows.push(
      ...(await measure("workerd", bytes.length, config.rounds, async (variant, chunking) => {
        const response = await fetch(`${route}?variant=${variant}&chunking=${chunking}`);
        const output: unknown = await response.json();
        if (!isOutput(output)) throw new Error(`pipeline run failed: ${JSON.stringify(output)}`);
        return output;
      })),
    );
  } finally {
    await harness.dispose();
  }
  return { config, bytes: bytes.length, rows };
}
