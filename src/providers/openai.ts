/** Any OpenAI-compatible Chat Completions stream (OpenAI, Azure, Groq, DeepSeek, OpenRouter, Ollama). */
import type { Env } from "../env.ts";
import { baseUrl, endpoint, isLocalUrl, missingSecret, outputCap, setting } from "./config.ts";
import type { EventTransform, FetchLike } from "./fetch-upstream.ts";
import { streamUpstream } from "./fetch-upstream.ts";
import type { ChatMessage, Provider, Usage } from "./types.ts";
import type { JsonObject } from "./wire.ts";
import {
  droppedEvent,
  malformedEvent,
  parseObject,
  readCount,
  readFirst,
  readObject,
  readString,
  upstreamErrorEvent,
} from "./wire.ts";

const DEFAULT_BASE_URL = "https://api.openai.com/v1";
const DEFAULT_MODEL = "gpt-4o-mini";

/** What one JSON chunk says, each part optional. */
export interface ChunkParts {
  text?: string | undefined;
  usage?: Usage | undefined;
  finish?: string | undefined;
  /** Present when the chunk carries an error object; `message` is its text, if it has one. */
  error?: { message: string | undefined } | undefined;
}

/**
 * Reads one Chat Completions chunk. Only `choices[0].delta.content` is answer text: role-only
 * deltas, `content: null`, tool-call and reasoning deltas add none. Usage may sit on its own
 * chunk with `choices: []` or on the finish chunk (Groq, DeepSeek, OpenRouter).
 */
export function readOpenAIChunk(chunk: JsonObject): ChunkParts {
  const choice = readFirst(chunk, "choices");
  const usage = readObject(chunk, "usage");
  const inputTokens = readCount(usage, "prompt_tokens");
  const outputTokens = readCount(usage, "completion_tokens");
  return {
    text: readString(readObject(choice, "delta"), "content"),
    finish: readString(choice, "finish_reason"),
    usage:
      inputTokens !== undefined && outputTokens !== undefined
        ? { inputTokens, outputTokens }
        : undefined,
    error: readChunkError(chunk),
  };
}

/** The chunk's `error` (OpenRouter reports failures after HTTP 200 this way): an object or a string. */
function readChunkError(chunk: JsonObject): ChunkParts["error"] {
  const error = chunk.error;
  if (error === undefined || error === null) return undefined;
  if (typeof error === "string") return { message: error };
  return { message: readString(readObject(chunk, "error"), "message") };
}

/**
 * The state machine of streams of JSON chunks ended by `data: [DONE]`. Events come in wire
 * order, except `finish`, which is held until `[DONE]` so it is always the last event (usage
 * usually follows the finish chunk) and an error reported after it (OpenRouter) replaces it.
 * An `error` event ends the stream; later chunks are ignored. A stream that closes without
 * `[DONE]` but after a finish reason still delivered the whole answer, so it ends with that
 * `finish` (lenient: some compatible servers omit `[DONE]`); without either it is `upstream_dropped`.
 */
export function doneTerminatedEvents(
  read: (chunk: JsonObject) => ChunkParts,
  defaultFinish = "stop",
): EventTransform {
  let finish: string | undefined;
  let ended = false;
  return {
    message(message, emit) {
      if (ended) return;
      const data = message.data.trim();
      if (data === "") return;
      if (data === "[DONE]") {
        ended = true;
        emit({ type: "finish", reason: finish ?? defaultFinish });
        return;
      }
      const chunk = parseObject(data);
      if (!chunk) {
        ended = true;
        emit(malformedEvent("a chunk that is not a JSON object"));
        return;
      }
      const parts = read(chunk);
      if (parts.text) emit({ type: "text", text: parts.text });
      if (parts.usage) emit({ type: "usage", usage: parts.usage });
      finish ??= parts.finish;
      if (parts.error) {
        ended = true;
        emit(upstreamErrorEvent(parts.error.message));
      }
    },
    end(emit) {
      if (ended) return;
      emit(finish ? { type: "finish", reason: finish } : droppedEvent());
    },
  };
}

/** Parsed SSE messages of a Chat Completions stream to our events. */
export function openaiEvents(): EventTransform {
  return doneTerminatedEvents(readOpenAIChunk);
}

/** The settings this provider reads; `Env` satisfies it. */
export type OpenAIEnv = Pick<
  Env,
  "MODEL" | "OPENAI_BASE_URL" | "OPENAI_API_KEY" | "MAX_OUTPUT_TOKENS"
>;

/**
 * The provider for `${OPENAI_BASE_URL}/chat/completions`. OPENAI_API_KEY is required, except
 * when OPENAI_BASE_URL points at this machine (see `isLocalUrl`): then no Authorization header
 * is sent unless a key is set. Settings are checked when `stream()` is called.
 */
export function createOpenAIProvider(env: OpenAIEnv, fetcher?: FetchLike): Provider {
  const model = setting(env.MODEL, DEFAULT_MODEL);
  return {
    name: "openai",
    model,
    async stream(call) {
      return streamUpstream(
        openaiRequest(env, model, call.messages),
        openaiEvents(),
        call,
        fetcher,
      );
    },
  };
}

function openaiRequest(env: OpenAIEnv, model: string, messages: ChatMessage[]): Request {
  const base = baseUrl(env.OPENAI_BASE_URL, "OPENAI_BASE_URL", DEFAULT_BASE_URL);
  const headers = new Headers({ "content-type": "application/json", accept: "text/event-stream" });
  const key = env.OPENAI_API_KEY?.trim();
  if (key) headers.set("authorization", `Bearer ${key}`);
  else if (!isLocalUrl(base)) throw missingSecret("OPENAI_API_KEY");
  const cap = outputCap(env.MAX_OUTPUT_TOKENS);
  const body = {
    model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    ...(cap === undefined ? {} : { [capField(base)]: cap }),
  };
  return new Request(endpoint(base, "/chat/completions"), {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
}

/**
 * The output cap's field: OpenAI's own API (and Azure OpenAI) take `max_completion_tokens`,
 * the only one their reasoning models accept; every other compatible server (vLLM, Ollama,
 * llama.cpp, Groq, DeepSeek, OpenRouter, Together) reads `max_tokens`, which some of them
 * do not know under the newer name.
 */
function capField(base: URL): "max_completion_tokens" | "max_tokens" {
  const host = base.hostname;
  return host === "api.openai.com" || host.endsWith(".openai.azure.com")
    ? "max_completion_tokens"
    : "max_tokens";
}
