/** One Chat Completions stream chunk, read through its valibot schema into what it says. */
import * as v from "valibot";
import type { ToolCallDelta, WholeToolCall } from "./delta-parts.ts";
import type { Usage } from "./types.ts";
import type { JsonObject } from "./wire.ts";
import {
  Count,
  ErrorField,
  isIndex,
  isObject,
  lenient,
  nested,
  nonEmpty,
  objectOnly,
  readWith,
  Text,
  truncate,
} from "./wire.ts";

/** What one JSON chunk says, each part optional. */
export interface ChunkParts {
  text?: string | undefined;
  /** Reasoning text (DeepSeek and xAI `reasoning_content`, OpenRouter and Groq `reasoning`). */
  reasoning?: string | undefined;
  /** The delta's `tool_calls` entries, in order. */
  toolCalls?: ToolCallDelta[] | undefined;
  /** Calls that came whole (Workers AI's own format). */
  wholeCalls?: WholeToolCall[] | undefined;
  usage?: Usage | undefined;
  finish?: string | undefined;
  /** Present when the chunk carries an error object; `message` is its text, if it has one. */
  error?: { message?: string | undefined } | undefined;
}

/**
 * A delta's `tool_calls`: an array of objects whose `index`, when present, is a non-negative
 * integer. Anything else is refused: guessing which call such a piece belongs to could mix two
 * calls up. `function.arguments` is JSON text, or an object on some compatible servers.
 */
export const ToolCalls = v.nullish(
  v.array(
    objectOnly(
      v.object({
        index: v.nullish(
          v.custom<number>(
            isIndex,
            (issue) => `a tool call with index ${truncate(JSON.stringify(issue.input), 40)}`,
          ),
        ),
        id: Text,
        function: nested(v.object({ name: Text, arguments: v.optional(v.unknown()) })),
      }),
      "a tool_calls entry that is not an object",
    ),
    "tool_calls that is not an array",
  ),
);

const Delta = v.object({
  content: Text,
  reasoning_content: Text,
  reasoning: Text,
  reasoning_details: lenient(v.array(nested(v.object({ text: Text, summary: Text })))),
  tool_calls: ToolCalls,
});

/**
 * The fields of a chunk we read; every other field is ignored, and so is a field of the wrong
 * type (as `lenient` says), except `tool_calls`. Only `choices[0]` is read.
 */
export const OPENAI_CHUNK_ENTRIES = {
  // Read as its first item alone, the others unlooked at (a one-item tuple cost 0.3 KiB of
  // bundle for this one field).
  choices: nested(
    v.pipe(
      v.custom<unknown[]>(Array.isArray),
      v.transform((choices) => choices[0]),
      nested(v.object({ delta: nested(Delta), finish_reason: Text })),
    ),
    Array.isArray,
  ),
  usage: nested(v.object({ prompt_tokens: Count, completion_tokens: Count })),
  // OpenRouter reports failures after HTTP 200 this way.
  error: ErrorField,
};

const OpenAIChunk = v.object(OPENAI_CHUNK_ENTRIES);

/** A chunk as `OPENAI_CHUNK_ENTRIES` read it. */
export type OpenAIChunkFields = v.InferOutput<typeof OpenAIChunk>;

/**
 * Reads one Chat Completions chunk. Only `choices[0].delta.content` is answer text; role-only
 * deltas and `content: null` add none. Reasoning and tool calls are read as `chunkReasoning`
 * and `ToolCalls` say. Usage may sit on its own chunk with `choices: []` or on the finish
 * chunk (Groq, DeepSeek, OpenRouter). Throws `UpstreamMalformed` for `tool_calls` we cannot
 * read.
 */
export function readOpenAIChunk(chunk: JsonObject): ChunkParts {
  return chunkParts(readWith(OpenAIChunk, chunk));
}

/** What the fields of a read chunk say. */
export function chunkParts(chunk: OpenAIChunkFields): ChunkParts {
  const choice = chunk.choices;
  const delta = choice?.delta;
  const inputTokens = chunk.usage?.prompt_tokens;
  const outputTokens = chunk.usage?.completion_tokens;
  return {
    text: delta?.content ?? undefined,
    reasoning: chunkReasoning(delta),
    toolCalls: delta?.tool_calls?.map(
      (entry): ToolCallDelta => ({
        index: entry.index ?? undefined,
        id: nonEmpty(entry.id),
        name: nonEmpty(entry.function?.name),
        arguments: argumentsText(entry.function?.arguments),
      }),
    ),
    finish: choice?.finish_reason ?? undefined,
    usage: inputTokens != null && outputTokens != null ? { inputTokens, outputTokens } : undefined,
    error: chunkError(chunk.error),
  };
}

/**
 * The reasoning text of a delta: the first non-empty of `reasoning_content` (DeepSeek, xAI)
 * and `reasoning` (OpenRouter, Groq), else the joined `text` or `summary` of the entries of
 * `reasoning_details` (OpenRouter; its encrypted entries have no text). OpenRouter sends the
 * same text as `reasoning` and in `reasoning_details`, so only one of them is read.
 */
function chunkReasoning(delta: v.InferOutput<typeof Delta> | undefined): string | undefined {
  const direct = nonEmpty(delta?.reasoning_content) ?? delta?.reasoning;
  if (direct) return direct;
  const details = delta?.reasoning_details;
  if (!details) return undefined;
  let text = "";
  for (const detail of details) text += detail?.text ?? detail?.summary ?? "";
  return text || undefined;
}

function chunkError(error: OpenAIChunkFields["error"]): ChunkParts["error"] {
  if (error == null) return undefined;
  return { message: (typeof error === "string" ? error : error.message) ?? undefined };
}

/** Arguments as JSON text: a string as it is, an object as its JSON, anything else as none. */
export function argumentsText(value: unknown): string {
  if (typeof value === "string") return value;
  return isObject(value) ? JSON.stringify(value) : "";
}
