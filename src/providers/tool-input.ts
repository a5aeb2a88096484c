/** A tool call's arguments, from joined JSON text to its input, and the ids of calls that came without one. */
import { hex } from "../ids.ts";
import type { ToolInput, UpstreamEvent } from "./types.ts";
import { isObject, truncate } from "./wire.ts";

/**
 * Longest joined arguments text of one tool call, in UTF-16 code units. Real calls are a few
 * hundred bytes; the bound stops an upstream that never ends a call from filling the isolate's
 * memory, and keeps a call well inside one stored row (SQLite in Durable Objects: 2 MB).
 */
export const MAX_TOOL_ARGUMENTS = 512 * 1024;

/** What the joined arguments of a call amount to. */
export type ParsedToolInput = { ok: true; input: ToolInput } | { ok: false; message: string };

/**
 * Parses the joined `text` of a call's arguments. Blank text is `{}`: Anthropic sends no
 * `input_json_delta` text for a tool without parameters, and some OpenAI-compatible servers
 * send `""`. Anything else must be JSON whose value is an object.
 */
export function parseToolInput(text: string): ParsedToolInput {
  if (text.trim() === "") return { ok: true, input: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      message: `The tool call's arguments are not valid JSON: ${truncate(reason)}`,
    };
  }
  if (!isObject(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return { ok: false, message: `The tool call's arguments are ${kind}, not a JSON object` };
  }
  return { ok: true, input: value };
}

/** A call id for an upstream that names none (Workers AI's own format): `call_` and 24 hex digits. */
export function newToolCallId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `call_${hex(bytes)}`;
}

/** The event that ends a call: `tool-call-end` when `joined` parses, else `tool-call-invalid`. */
export function toolCallEnd(
  id: string,
  index: number,
  name: string,
  joined: string,
): UpstreamEvent {
  const parsed = parseToolInput(joined);
  return parsed.ok
    ? { type: "tool-call-end", id, index, name, arguments: joined, input: parsed.input }
    : { type: "tool-call-invalid", id, index, name, arguments: joined, message: parsed.message };
}
