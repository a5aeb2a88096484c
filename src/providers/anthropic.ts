/** The Anthropic Messages API: the request; `anthropic-events.ts` reads its stream. */
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { anthropicEvents } from "./anthropic-events.ts";
import { baseUrl, endpoint, missingSecret, outputCap, setting } from "./config.ts";
import type { FetchLike } from "./fetch-upstream.ts";
import { streamUpstream } from "./fetch-upstream.ts";
import { anthropicOptions, anthropicTurns, outputTokens } from "./request-shapes.ts";
import { coalesceWindow } from "./sse-events.ts";
import type { Provider, UpstreamRequest } from "./types.ts";

const DEFAULT_BASE_URL = "https://api.anthropic.com/v1";
const DEFAULT_MODEL = "claude-sonnet-4-5";
const API_VERSION = "2023-06-01";
/** The Messages API requires `max_tokens`: this one unless MAX_OUTPUT_TOKENS is set. */
const MAX_TOKENS = 4096;

/** The settings this provider reads; `Env` satisfies it. */
export type AnthropicEnv = Pick<
  Env,
  "MODEL" | "ANTHROPIC_BASE_URL" | "ANTHROPIC_API_KEY" | "MAX_OUTPUT_TOKENS" | "DELTA_COALESCE_MS"
>;

/**
 * The provider for `${ANTHROPIC_BASE_URL}/messages`. System messages go to the top-level
 * `system` field, joined by blank lines, since the Messages API takes no system role.
 * ANTHROPIC_API_KEY is checked when `stream()` is called.
 */
export function createAnthropicProvider(env: AnthropicEnv, fetcher?: FetchLike): Provider {
  const model = setting(env.MODEL, DEFAULT_MODEL);
  const coalesceMs = coalesceWindow(env.DELTA_COALESCE_MS);
  return {
    name: "anthropic",
    model,
    async stream(call) {
      const request = anthropicRequest(env, call.options?.model ?? model, call);
      return streamUpstream(request, anthropicEvents(), call, fetcher, coalesceMs);
    },
    checkOptions(tools, options) {
      anthropicOptions(tools, options);
      checkThinkingBudget(options, outputTokens(outputCap(env.MAX_OUTPUT_TOKENS), options));
    },
  };
}

/** Anthropic counts thinking in max_tokens and refuses a budget that does not fit below it. */
function checkThinkingBudget(options: UpstreamRequest["options"], maxTokens = MAX_TOKENS): void {
  const budget = options?.thinking_budget;
  if (budget !== undefined && budget >= maxTokens) {
    throw new SluiceError(
      "invalid_option",
      `"options.thinking_budget" (${budget}) must be below max_tokens (${maxTokens}).`,
    );
  }
}

function anthropicRequest(env: AnthropicEnv, model: string, call: UpstreamRequest): Request {
  const { messages } = call;
  const base = baseUrl(env.ANTHROPIC_BASE_URL, "ANTHROPIC_BASE_URL", DEFAULT_BASE_URL);
  const key = env.ANTHROPIC_API_KEY?.trim();
  if (!key) throw missingSecret("ANTHROPIC_API_KEY");
  const system = messages
    .filter((message) => message.role === "system")
    .map((message) => message.content)
    .join("\n\n");
  const maxTokens = outputTokens(outputCap(env.MAX_OUTPUT_TOKENS), call.options) ?? MAX_TOKENS;
  checkThinkingBudget(call.options, maxTokens);
  const body = {
    model,
    max_tokens: maxTokens,
    stream: true,
    ...(system ? { system } : {}),
    messages: anthropicTurns(messages),
    ...anthropicOptions(call.tools, call.options),
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
