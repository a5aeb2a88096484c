/**
 * The floor of the routes benchmark: what the runtime alone charges to carry the routes'
 * answer of N frames from a Durable Object to a client, on the minimal relay's Worker
 * (bench/minimal-relay-worker.ts), with no relay work. `stream`: the object's stream passed
 * through to an HTTP response, as Sluice's native route and `/api/chat` do. `ws`: the Worker
 * reads the stream and sends each frame as its own WebSocket message, as `/api/chat/ws` must
 * (the AI SDK's transport takes one chunk per message, numbered). `read`: the Worker reads
 * them all but sends only the last, so `ws` minus `read` is the sending alone. The frames come
 * one per read, as they do from a relay that keeps up with its upstream.
 */
import { openSocket } from "./route-clients.ts";
import { median } from "./stats.ts";
import type { TrackedRelay } from "./tracked-relay.ts";

export const FLOOR_WIRES = ["stream", "read", "ws"] as const;
export type FloorWire = (typeof FLOOR_WIRES)[number];

export interface FloorRow {
  wire: FloorWire;
  /** Request to the last frame, median, ms. */
  lastFrameMs: number;
  /** workerd CPU per run, median, ms. */
  cpuMs: number;
}

/** Reads the `n` frames of `/floor/stream`; rejects unless exactly `n` came. */
async function readStream(relay: string, n: number): Promise<void> {
  const response = await fetch(`${relay}/floor/stream?n=${n}`);
  if (!response.body) throw new Error("floor stream: no body");
  const decoder = new TextDecoder();
  let frames = 0;
  for await (const bytes of response.body) {
    const text = decoder.decode(bytes, { stream: true });
    for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) frames += 1;
  }
  if (frames !== n) throw new Error(`floor stream: ${frames} of ${n} frames`);
}

/**
 * Receives the `n` messages of `/floor/ws` (with `lastOnly`, the one); rejects if the socket
 * ends before.
 */
async function readSocket(
  relay: string,
  n: number,
  timeoutMs: number,
  lastOnly: boolean,
): Promise<void> {
  const query = lastOnly ? `n=${n}&send=last` : `n=${n}`;
  const url = `${relay.replace(/^http/, "ws")}/floor/ws?${query}`;
  const ws = await openSocket(url, undefined, timeoutMs);
  const expected = lastOnly ? 1 : n;
  await new Promise<void>((resolve, reject) => {
    let frames = 0;
    const timer = setTimeout(() => reject(new Error("floor ws: timeout")), timeoutMs);
    ws.addEventListener("message", () => {
      frames += 1;
      if (frames < expected) return;
      clearTimeout(timer);
      resolve();
    });
    ws.addEventListener("close", () => reject(new Error(`floor ws: closed after ${frames}`)));
    ws.send("go");
  });
  ws.close();
}

/** Runs each wire `reps` times (after a warm-up) on `relay`, the minimal relay. */
export async function benchFloor(
  relay: TrackedRelay,
  frames: number,
  reps: number,
  log: (line: string) => void,
): Promise<FloorRow[]> {
  const timeoutMs = 60_000 + frames * 5;
  const run = (wire: FloorWire, n: number) =>
    wire === "stream"
      ? readStream(relay.url, n)
      : readSocket(relay.url, n, timeoutMs, wire === "read");
  for (const wire of FLOOR_WIRES) await run(wire, 200);
  const samples = new Map<FloorWire, { ms: number; cpuMs: number }[]>(
    FLOOR_WIRES.map((wire) => [wire, []]),
  );
  for (let rep = 0; rep < reps; rep += 1) {
    for (const wire of FLOOR_WIRES) {
      const cpuBefore = relay.cpuMs();
      const started = performance.now();
      await run(wire, frames);
      const sample = { ms: performance.now() - started, cpuMs: relay.cpuMs() - cpuBefore };
      samples.get(wire)?.push(sample);
      log(
        `  floor ${wire.padEnd(6)} rep ${rep + 1}: ${sample.ms.toFixed(0)} ms, ${sample.cpuMs} ms CPU`,
      );
    }
  }
  return FLOOR_WIRES.map((wire) => {
    const list = samples.get(wire) ?? [];
    return {
      wire,
      lastFrameMs: median(list.map((sample) => sample.ms)),
      cpuMs: median(list.map((sample) => sample.cpuMs)),
    };
  });
}
