/** Shared pieces of the provider tests: running bytes through a transform and summing up the events. */
import { expect } from "vitest";
import { anthropicEvents } from "../../../src/providers/anthropic.ts";
import type { EventTransform } from "../../../src/providers/fetch-upstream.ts";
import { sseEvents } from "../../../src/providers/fetch-upstream.ts";
import { openaiEvents } from "../../../src/providers/openai.ts";
import type { UpstreamEvent, UpstreamEvents, Usage } from "../../../src/providers/types.ts";
import { workersAiEvents } from "../../../src/providers/workers-ai.ts";
import { rechunk } from "../../helpers/rechunk.ts";

/** What a whole stream amounted to, in index.json's terms. */
export interface Outcome {
  text: string;
  /** The finish reason, or "error" when the stream ended with an error event. */
  finish: string | undefined;
  usage: Usage | null;
  error: Extract<UpstreamEvent, { type: "error" }> | undefined;
}

/** A fresh transform for `provider` as index.json names it. */
export function transformFor(provider: string): EventTransform {
  if (provider === "openai") return openaiEvents();
  if (provider === "anthropic") return anthropicEvents();
  if (provider === "workers-ai") return workersAiEvents();
  throw new Error(`no transform for ${provider}`);
}

/** Every event of `body` run through `transform`, via the real SSE pipeline. */
export function replay(
  body: ReadableStream<Uint8Array>,
  transform: EventTransform,
  signal = new AbortController().signal,
): Promise<UpstreamEvent[]> {
  return collectEvents(sseEvents(body, transform, signal));
}

/** Every event of `events`, pulled to the end. */
export async function collectEvents(events: UpstreamEvents): Promise<UpstreamEvent[]> {
  const all: UpstreamEvent[] = [];
  for (let event = await events.next(); event !== undefined; event = await events.next()) {
    all.push(event);
  }
  return all;
}

/** Replays `text` cut into seeded random pieces. */
export function replayText(
  text: string,
  transform: EventTransform,
  seed = 1,
): Promise<UpstreamEvent[]> {
  return replay(rechunk(new TextEncoder().encode(text), seed), transform);
}

/** Sums `events` up, checking the rule every stream keeps: exactly one finish or error, last. */
export function summarize(events: readonly UpstreamEvent[]): Outcome {
  const terminal = events.filter((event) => event.type === "finish" || event.type === "error");
  expect(terminal).toHaveLength(1);
  expect(events.at(-1)).toBe(terminal[0]);
  let text = "";
  let usage: Usage | null = null;
  let finish: string | undefined;
  let error: Outcome["error"];
  for (const event of events) {
    if (event.type === "text") text += event.text;
    else if (event.type === "usage") usage = event.usage;
    else if (event.type === "finish") finish = event.reason;
    else {
      finish = "error";
      error = event;
    }
  }
  return { text, finish, usage, error };
}

/** SSE text with one `data:` event per payload (objects are JSON-encoded). */
export function sse(...payloads: readonly (string | object)[]): string {
  return payloads
    .map(
      (payload) => `data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`,
    )
    .join("");
}

/** A stream of `chunks` as UTF-8, one per pull, then either a close or `failure`. */
export function bytesOf(chunks: readonly string[], failure?: Error): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[next++];
        if (chunk !== undefined) controller.enqueue(encoder.encode(chunk));
        else if (failure) controller.error(failure);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}
