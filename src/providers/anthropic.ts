/** The Anthropic Messages API stream. */
import type { Env } from "../env.ts";
import { baseUrl, endpoint, missingSecret, outputCap, setting } from "./config.ts";
import type { EventTransform, FetchLike } from "./fetch-upstream.ts";
import { streamUpstream } from "./fetch-upstream.ts";
import type { ChatMessage, Provider } from "./types.ts";
import {
  droppedEvent,
  malformedEvent,
  parseObject,
  readCount,
  readObject,
  readString,
  upstreamErrorEvent,
} from "./wire.ts";

const DEFAULT_BASE_URL = "https://api.anthropic.com/v1";
const DEFAULT_MODEL = "claude-sonnet-4-5";
const API_VERSION = "2023-06-01";
/** The Messages API requires `max_tokens`: this one unless MAX_OUTPUT_TOKENS is set. */
const MAX_TOKENS = 4096;

/**
 * Parsed SSE messages of a Messages stream to our events. The JSON `type` decides, not the SSE
 * `event:` line, which some proxies drop. Only `text_delta` is answer text: thinking, signature
 * and tool-input deltas add none. One `usage` event comes at `message_delta`, with input
 * tokens from it if present, else from `message_start`. `finish` is held until `message_stop`
 * so it is the last event, like the OpenAI transform. An `error` event ends the stream.
 * `ping`, block start/stop and event types added after this was written are skipped, as
 * Anthropic's versioning policy asks of clients.
 * A stream that closes without `message_stop` is `upstream_dropped`, unless it already gave a
 * stop reason (lenient, as for OpenAI's missing `[DONE]`: the answer is complete by then).
 */
export function anthropicEvents(): EventTransform {
  let inputTokens: number | undefined;
  let stopReason: string | undefined;
  let ended = false;
  return {
    message(message, emit) {
      if (ended || message.data.trim() === "") return;
      const event = parseObject(message.data);
      if (!event) {
        ended = true;
        emit(malformedEvent("an event that is not a JSON object"));
        return;
      }
      switch (readString(event, "type") ?? message.event) {
        case "message_start":
          inputTokens = readCount(
            readObject(readObject(event, "message"), "usage"),
            "input_tokens",
          );
          break;
        case "content_block_delta": {
          const delta = readObject(event, "delta");
          const text = readString(delta, "type") === "text_delta" && readString(delta, "text");
          if (text) emit({ type: "text", text });
          break;
        }
        case "message_delta": {
          const usage = readObject(event, "usage");
          const outputTokens = readCount(usage, "output_tokens");
          if (outputTokens !== undefined) {
            const input = readCount(usage, "input_tokens") ?? inputTokens ?? 0;
            emit({ type: "usage", usage: { inputTokens: input, outputTokens } });
          }
          stopReason = readString(readObject(event, "delta"), "stop_reason") ?? stopReason;
          break;
        }
        case "message_stop":
          ended = true;
          emit({ type: "finish", reason: stopReason ?? "end_turn" });
          break;
        case "error": {
          ended = true;
          const error = readObject(event, "error");
          const text = readString(error, "message");
          const kind = readString(error, "type");
          emit(upstreamErrorEvent(text && kind ? `${text} (${kind})` : (text ?? kind)));
          break;
        }
      }
    },
    end(emit) {
      if (ended) return;
      emit(stopReason ? { type: "finish", reason: stopReason } : droppedEvent());
    },
  };
}

/** The settings this provider reads; `Env` satisfies it. */
export type AnthropicEnv = Pick<
  Env,
  "MODEL" | "ANTHROPIC_BASE_URL" | "ANTHROPIC_API_KEY" | "MAX_OUTPUT_TOKENS"
>;

/**
 * The provider for `${ANTHROPIC_BASE_URL}/messages`. System messages go to the top-level
 * `system` field, joined by blank lines, since the Messages API takes no system role.
 * ANTHROPIC_API_KEY is checked when `stream()` is called.
 */
export function createAnthropicProvider(env: AnthropicEnv, fetcher?: FetchLike): Provider {
  const model = setting(env.MODEL, DEFAULT_MODEL);
  return {
    name: "anthropic",
    model,
    async stream(call) {
      const request = anthropicRequest(env, model, call.messages);
      return streamUpstream(request, anthropicEvents(), call, fetcher);
    },
  };
}

function anthropicRequest(env: AnthropicEnv, model: string, messages: ChatMessage[]): Request {
  const base = baseUrl(env.ANTHROPIC_BASE_URL, "ANTHROPIC_BASE_URL", DEFAULT_BASE_URL);
  const key = env.ANTHROPIC_API_KEY?.trim();
  if (!key) throw missingSecret("ANTHROPIC_API_KEY");
  const system = messages
    .filter((message) => message.role === "system")
    .map((message) => message.content)
    .join("\n\n");
  const turns = messages
    .filter((message) => message.role !== "system")
    .map(({ role, content }) => ({ role, content }));
  const body = {
    model,
    max_tokens: outputCap(env.MAX_OUTPUT_TOKENS) ?? MAX_TOKENS,
    stream: true,
    ...(system ? { system } : {}),
    messages: turns,
  };
  return new Request(endpoint(base, "/messages"), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
      "x-api-key": key,
      "anthropic-version": API_VERSION,
    },
    body: JSON.stringify(body),
  });
}
