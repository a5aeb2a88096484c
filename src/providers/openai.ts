/** Any OpenAI-compatible Chat Completions stream (OpenAI, Azure, Groq, DeepSeek, OpenRouter, Ollama). */
import type { Env } from "../env.ts";
import { baseUrl, endpoint, isLocalUrl, missingSecret, outputCap, setting } from "./config.ts";
import { DeltaParts } from "./delta-parts.ts";
import type { FetchLike } from "./fetch-upstream.ts";
import { streamUpstream } from "./fetch-upstream.ts";
import { type ChunkParts, readOpenAIChunk } from "./openai-chunk.ts";
import { chatCompletionsMessages, chatCompletionsOptions, outputTokens } from "./request-shapes.ts";
import { coalesceWindow, type Emit, type EventTransform } from "./sse-events.ts";
import type { Provider, UpstreamRequest } from "./types.ts";
import type { JsonObject } from "./wire.ts";
import {
  droppedEvent,
  malformedEvent,
  parseObject,
  UpstreamMalformed,
  upstreamErrorEvent,
} from "./wire.ts";

const DEFAULT_BASE_URL = "https://api.openai.com/v1";
const DEFAULT_MODEL = "gpt-4o-mini";

/**
 * The state machine of streams of JSON chunks ended by `data: [DONE]`. Events come in wire
 * order, except `finish`, which is held until `[DONE]` so it is always the last event (usage
 * usually follows the finish chunk) and an error reported after it (OpenRouter) replaces it.
 * The first finish reason closes the parts (`DeltaParts.close`): Chat Completions never says
 * when a reasoning part or a tool call ends, and nothing may be added once the choice is over.
 * An `error` event ends the stream; later chunks are ignored, and open parts stay open. A
 * stream that closes without `[DONE]` but after a finish reason still delivered the whole
 * answer, so it ends with that `finish` (lenient: some compatible servers omit `[DONE]`);
 * without either it is `upstream_dropped`. `newId` names tool calls that came without an id.
 */
export function doneTerminatedEvents(
  read: (chunk: JsonObject) => ChunkParts,
  defaultFinish = "stop",
  newId?: () => string,
): EventTransform {
  let finish: string | undefined;
  let ended = false;
  const parts = new DeltaParts(newId);
  const guarded = (emit: Emit, step: () => void) => {
    try {
      step();
    } catch (error) {
      if (!(error instanceof UpstreamMalformed)) throw error;
      ended = true;
      emit(malformedEvent(error.what));
    }
  };
  return {
    message(message, emit) {
      if (ended) return;
      const data = message.data.trim();
      if (data === "") return;
      guarded(emit, () => {
        if (data === "[DONE]") {
          ended = true;
          parts.close(emit);
          emit({ type: "finish", reason: finish ?? defaultFinish });
          return;
        }
        const chunk = parseObject(data);
        if (!chunk) throw new UpstreamMalformed("a chunk that is not a JSON object");
        const said = read(chunk);
        parts.reasoning(said.reasoning, emit);
        parts.text(said.text, emit);
        for (const call of said.toolCalls ?? []) parts.toolCall(call, emit);
        for (const call of said.wholeCalls ?? []) parts.wholeCall(call, emit);
        if (finish === undefined && said.finish !== undefined) {
          finish = said.finish;
          parts.close(emit);
        }
        if (said.usage) emit({ type: "usage", usage: said.usage });
        if (said.error) {
          ended = true;
          emit(upstreamErrorEvent(said.error.message));
        }
      });
    },
    end(emit) {
      if (ended) return;
      ended = true;
      if (finish === undefined) return emit(droppedEvent());
      const reason = finish;
      guarded(emit, () => {
        parts.close(emit);
        emit({ type: "finish", reason });
      });
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
  "MODEL" | "OPENAI_BASE_URL" | "OPENAI_API_KEY" | "MAX_OUTPUT_TOKENS" | "DELTA_COALESCE_MS"
>;

/**
 * The provider for `${OPENAI_BASE_URL}/chat/completions`. OPENAI_API_KEY is required, except
 * when OPENAI_BASE_URL points at this machine (see `isLocalUrl`): then no Authorization header
 * is sent unless a key is set. Settings are checked when `stream()` is called.
 */
export function createOpenAIProvider(env: OpenAIEnv, fetcher?: FetchLike): Provider {
  const model = setting(env.MODEL, DEFAULT_MODEL);
  const coalesceMs = coalesceWindow(env.DELTA_COALESCE_MS);
  return {
    name: "openai",
    model,
    async stream(call) {
      return streamUpstream(
        openaiRequest(env, call.options?.model ?? model, call),
        openaiEvents(),
        call,
        fetcher,
        coalesceMs,
      );
    },
    checkOptions(tools, options) {
      chatCompletionsOptions(tools, options);
    },
  };
}

function openaiRequest(env: OpenAIEnv, model: string, call: UpstreamRequest): Request {
  const base = baseUrl(env.OPENAI_BASE_URL, "OPENAI_BASE_URL", DEFAULT_BASE_URL);
  const headers = new Headers({ "content-type": "application/json", accept: "text/event-stream" });
  const key = env.OPENAI_API_KEY?.trim();
  if (key) headers.set("authorization", `Bearer ${key}`);
  else if (!isLocalUrl(base)) throw missingSecret("OPENAI_API_KEY");
  const cap = outputTokens(outputCap(env.MAX_OUTPUT_TOKENS), call.options);
  const body = {
    model,
    messages: chatCompletionsMessages(call.messages),
    stream: true,
    stream_options: { include_usage: true },
    ...chatCompletionsOptions(call.tools, call.options),
    ...(cap === undefined ? {} : { [capField(base)]: cap }),
    // A /v1/chat/completions client's own OpenAI fields, checked by the route, sent unchanged.
    ...call.openaiPassThrough,
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
