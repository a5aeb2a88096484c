/** Shared pieces of the provider tests: running bytes through a transform and summing up the events. */
import { expect } from "vitest";
import { anthropicEvents } from "../../../src/providers/anthropic-events.ts";
import { openaiEvents } from "../../../src/providers/openai.ts";
import { type EventTransform, sseEvents } from "../../../src/providers/sse-events.ts";
import type {
  ToolInput,
  UpstreamEvent,
  UpstreamEvents,
  Usage,
} from "../../../src/providers/types.ts";
import { workersAiEvents } from "../../../src/providers/workers-ai.ts";
import { rechunk } from "../../helpers/rechunk.ts";

/** A tool call as a whole stream made it. */
export interface CallOutcome {
  id: string;
  name: string;
  /** The joined argument deltas, checked to equal the end event's `arguments`. */
  arguments: string;
  /** The parsed input of `tool-call-end`, or `undefined` when it ended invalid. */
  input: ToolInput | undefined;
  /** The message of `tool-call-invalid`, if it ended so. */
  invalid: string | undefined;
}

/** A reasoning part as a whole stream made it. */
export interface ReasoningOutcome {
  id: string;
  text: string;
  signature: string | undefined;
  redactedData: string | undefined;
}

/** What a whole stream amounted to, in index.json's terms. */
export interface Outcome {
  text: string;
  /** All reasoning text, every part joined, as index.json's `expected_reasoning`. */
  reasoning: string;
  reasoningParts: ReasoningOutcome[];
  /** Calls in the order they ended; only calls that ended (after an error some may not). */
  toolCalls: CallOutcome[];
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

/**
 * Sums `events` up, checking the rules every stream keeps (see `UpstreamEvent`): exactly one
 * finish or error, last; every delta and end belongs to an open part with the same id (and
 * index); no part starts twice or changes after its end; at most one reasoning part is open;
 * tool-call indexes count 0, 1, 2 in start order; no delta is empty; an end's `arguments`
 * are its joined deltas; and before a finish every part has ended.
 */
export function summarize(events: readonly UpstreamEvent[]): Outcome {
  const terminal = events.filter((event) => event.type === "finish" || event.type === "error");
  expect(terminal).toHaveLength(1);
  expect(events.at(-1)).toBe(terminal[0]);
  let text = "";
  let usage: Usage | null = null;
  let finish: string | undefined;
  let error: Outcome["error"];
  const seen = new Set<string>();
  const reasoningParts: ReasoningOutcome[] = [];
  const openReasoning = new Map<string, ReasoningOutcome>();
  const calls: CallOutcome[] = [];
  const openCalls = new Map<string, { index: number; name: string; joined: string }>();
  const startPart = (id: string) => {
    expect(seen.has(id), `part ${id} started twice`).toBe(false);
    seen.add(id);
  };
  for (const event of events) {
    switch (event.type) {
      case "text":
        expect(event.text).not.toBe("");
        text += event.text;
        break;
      case "reasoning-start": {
        startPart(event.id);
        expect(openReasoning.size, "two reasoning parts open at once").toBe(0);
        const part = { id: event.id, text: "", signature: undefined, redactedData: undefined };
        openReasoning.set(event.id, part);
        reasoningParts.push(part);
        break;
      }
      case "reasoning-delta": {
        const part = openReasoning.get(event.id);
        expect(part, `reasoning delta for ${event.id}, which is not open`).toBeDefined();
        expect(event.text).not.toBe("");
        if (part) part.text += event.text;
        break;
      }
      case "reasoning-end": {
        const part = openReasoning.get(event.id);
        expect(part, `reasoning end for ${event.id}, which is not open`).toBeDefined();
        openReasoning.delete(event.id);
        if (part)
          Object.assign(part, { signature: event.signature, redactedData: event.redactedData });
        break;
      }
      case "tool-call-start":
        startPart(event.id);
        expect(event.index).toBe(calls.length + openCalls.size);
        expect(event.name).not.toBe("");
        openCalls.set(event.id, { index: event.index, name: event.name, joined: "" });
        break;
      case "tool-call-delta": {
        const call = openCalls.get(event.id);
        expect(call, `tool-call delta for ${event.id}, which is not open`).toBeDefined();
        expect(event.index).toBe(call?.index);
        expect(event.arguments).not.toBe("");
        if (call) call.joined += event.arguments;
        break;
      }
      case "tool-call-end":
      case "tool-call-invalid": {
        const call = openCalls.get(event.id);
        expect(call, `tool-call end for ${event.id}, which is not open`).toBeDefined();
        expect([event.index, event.name, event.arguments]).toEqual([
          call?.index,
          call?.name,
          call?.joined,
        ]);
        openCalls.delete(event.id);
        const ended = event.type === "tool-call-end";
        calls.push({
          id: event.id,
          name: event.name,
          arguments: event.arguments,
          input: ended ? event.input : undefined,
          invalid: ended ? undefined : event.message,
        });
        break;
      }
      case "usage":
        usage = event.usage;
        break;
      case "finish":
        expect(openReasoning.size + openCalls.size, "parts still open at finish").toBe(0);
        finish = event.reason;
        break;
      case "error":
        finish = "error";
        error = event;
        break;
    }
  }
  const reasoning = reasoningParts.map((part) => part.text).join("");
  return { text, reasoning, reasoningParts, toolCalls: calls, finish, usage, error };
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
