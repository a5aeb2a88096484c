/**
 * Workers AI through the `AI` binding. With `stream: true`, `env.AI.run` resolves to a
 * ReadableStream of SSE bytes, `data: {"response":"..."}` per token and then `data: [DONE]`
 * (Cloudflare's streaming page, https://developers.cloudflare.com/workers-ai/get-started/streaming/,
 * added in cloudflare-docs PR 19018). Real streams also carry a `p` padding field and, before
 * `[DONE]`, a `{"response":"","usage":{"prompt_tokens":…,"completion_tokens":…}}` chunk; newer
 * models (gpt-oss and others) send Chat Completions chunks (`choices[0].delta.content`) instead,
 * as cloudflare/ai's workers-ai-provider `src/streaming.ts` handles. Both shapes are read here,
 * with their function calling: Workers AI's own top-level `tool_calls` and Chat Completions'
 * `delta.tool_calls` (see `readWorkersAiChunk`).
 */
import * as v from "valibot";
import { SluiceError } from "../errors.ts";
import { outputCap, setting } from "./config.ts";
import type { WholeToolCall } from "./delta-parts.ts";
import { doneTerminatedEvents } from "./openai.ts";
import {
  argumentsText,
  type ChunkParts,
  chunkParts,
  OPENAI_CHUNK_ENTRIES,
} from "./openai-chunk.ts";
import { chatCompletionsMessages, chatCompletionsTools, outputTokens } from "./request-shapes.ts";
import { coalesceWindow, type EventTransform, sseEvents } from "./sse-events.ts";
import type { Provider, UpstreamRequest } from "./types.ts";
import type { JsonObject } from "./wire.ts";
import { lenient, nonEmpty, objectOnly, readWith, Text, truncate } from "./wire.ts";

const DEFAULT_MODEL = "@cf/meta/llama-3.1-8b-instruct";

/** The one method of the `AI` binding we call; `Ai` from workers-types satisfies it. */
export interface AiRunner {
  run(model: string, inputs: Record<string, unknown>): Promise<unknown>;
}

/** The settings this provider reads; `Env` satisfies it. */
export interface WorkersAiEnv {
  AI?: AiRunner | undefined;
  MODEL?: string | undefined;
  MAX_OUTPUT_TOKENS?: string | undefined;
  DELTA_COALESCE_MS?: string | undefined;
}

/**
 * A Workers AI chunk: a Chat Completions chunk's fields, plus `response` (the text; a number
 * on some models, e.g. Llama 4, when the answer is a bare number), a top-level `finish_reason`
 * and a top-level `tool_calls`: Workers AI's own function-calling format, as Cloudflare's
 * "Traditional" function calling page shows it: `[{name, arguments}]`, with `arguments` an
 * object and no id, each entry one whole call. An entry that is not an object is refused.
 */
const WorkersAiChunk = v.object({
  ...OPENAI_CHUNK_ENTRIES,
  response: lenient(
    v.custom<string | number>((value) => typeof value === "string" || typeof value === "number"),
  ),
  finish_reason: Text,
  tool_calls: v.nullish(
    v.array(
      objectOnly(
        v.object({ id: Text, name: Text, arguments: v.optional(v.unknown()) }),
        "a tool_calls entry that is not an object",
      ),
      "tool_calls that is not an array",
    ),
  ),
});

/**
 * Reads one Workers AI chunk: `response` is the text; otherwise the chunk is read as Chat
 * Completions, which brings `reasoning_content` and `delta.tool_calls` (the models Cloudflare
 * serves in that format). Entries of a top-level `tool_calls` carrying nothing (no name, no
 * arguments: the "null" entries some models end with) are skipped; one with arguments but no
 * name is malformed when the choice closes.
 */
export function readWorkersAiChunk(chunk: JsonObject): ChunkParts {
  const fields = readWith(WorkersAiChunk, chunk);
  const parts = chunkParts(fields);
  const { response } = fields;
  return {
    ...parts,
    text: (typeof response === "number" ? String(response) : response) || parts.text,
    wholeCalls: fields.tool_calls?.flatMap((entry): WholeToolCall[] => {
      const name = nonEmpty(entry.name);
      const args = argumentsText(entry.arguments);
      if (name === undefined && args === "") return [];
      return [{ id: nonEmpty(entry.id), name, arguments: args }];
    }),
    finish: parts.finish ?? fields.finish_reason ?? undefined,
  };
}

/**
 * Parsed SSE messages of a Workers AI stream to our events. The legacy format names no finish
 * reason, so `[DONE]` finishes with `stop` unless a chunk named one. `newId` names the calls
 * of Workers AI's own format, which have no id.
 */
export function workersAiEvents(newId?: () => string): EventTransform {
  return doneTerminatedEvents(readWorkersAiChunk, "stop", newId);
}

/**
 * The provider for the `AI` binding. A missing binding is a `config_error` at the first
 * `stream()`. The signal is not passed to `run`: a binding reached over RPC (as in local tests)
 * cannot carry an AbortSignal, and the call returns as soon as the stream starts anyway. On
 * abort, `sseEvents` cancels the returned stream, which ends the inference.
 */
export function createWorkersAiProvider(env: WorkersAiEnv): Provider {
  const model = setting(env.MODEL, DEFAULT_MODEL);
  const coalesceMs = coalesceWindow(env.DELTA_COALESCE_MS);
  return {
    name: "workers-ai",
    model,
    checkOptions(tools, options) {
      workersAiOptions(tools, options);
    },
    async stream({ messages, signal, onActivity, tools, options }) {
      const ai = env.AI;
      if (!ai) {
        throw new SluiceError(
          "config_error",
          'The AI binding is missing; add `[ai]` with `binding = "AI"` to wrangler.toml',
        );
      }
      const cap = outputTokens(outputCap(env.MAX_OUTPUT_TOKENS), options);
      const inputs = {
        messages: chatCompletionsMessages(messages),
        stream: true,
        ...workersAiOptions(tools, options),
        ...(cap === undefined ? {} : { max_tokens: cap }),
      };
      let result: unknown;
      try {
        result = await ai.run(options?.model ?? model, inputs);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw bindingFailure(error);
      }
      if (!(result instanceof ReadableStream)) {
        throw new SluiceError("upstream_malformed", "Workers AI answered without a stream");
      }
      return sseEvents(result, workersAiEvents(), signal, onActivity, coalesceMs);
    },
  };
}

/**
 * What Workers AI's text generation inputs take besides messages: `tools` (the Chat
 * Completions shape its function calling documents), temperature, top_p and seed. Its
 * models take no stop sequences, tool choice or reasoning settings: refused, never dropped.
 */
function workersAiOptions(
  tools: UpstreamRequest["tools"],
  options: UpstreamRequest["options"],
): Record<string, unknown> {
  for (const name of ["stop", "tool_choice", "reasoning_effort", "thinking_budget"] as const) {
    if (options?.[name] !== undefined) {
      throw new SluiceError("invalid_option", `"options.${name}" is not supported by Workers AI.`);
    }
  }
  const inputs: Record<string, unknown> = {};
  if (tools && tools.length > 0) inputs.tools = chatCompletionsTools(tools);
  if (options?.temperature !== undefined) inputs.temperature = options.temperature;
  if (options?.top_p !== undefined) inputs.top_p = options.top_p;
  if (options?.seed !== undefined) inputs.seed = options.seed;
  return inputs;
}

/**
 * The SluiceError for a rejected `run`. The binding reports failures as plain Errors whose
 * message carries Workers AI's code and text (e.g. "3040: Capacity temporarily exceeded"), so
 * only the message tells a rate limit from any other refusal.
 */
function bindingFailure(error: unknown): SluiceError {
  const detail = truncate(error instanceof Error ? error.message : String(error));
  if (/capacity|rate.?limit|too many|\b429\b/i.test(detail)) {
    return new SluiceError("upstream_rate_limited", `Workers AI is rate limiting: ${detail}`);
  }
  return new SluiceError("upstream_error", `Workers AI refused the request: ${detail}`);
}
