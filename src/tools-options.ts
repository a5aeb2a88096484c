/**
 * Client tools and per-request options: their wire types, limits and the deployment's policy,
 * shared by every protocol (`/chat`, SSE, `/api/chat`, `/v1/chat/completions`). Their parsers
 * are src/schema/tools.ts and src/schema/options.ts.
 */
import { outputCap } from "./providers/config.ts";

/** A tool the client runs: the model may call it with input matching `inputSchema`. */
export interface ToolDefinition {
  /** Matches /^[A-Za-z0-9_-]{1,64}$/ (what OpenAI and Anthropic both accept). */
  name: string;
  description?: string;
  /** A JSON Schema object (`type: "object"`), sent upstream unchanged. */
  inputSchema: Record<string, unknown>;
}

/** A client's result for one tool call: its output, or the error the tool gave. */
export type ToolResult =
  | { toolCallId: string; output: unknown }
  | { toolCallId: string; errorText: string };

/** Which tools the model may call: any, none, at least one, or the one named. */
export type ToolChoice = "auto" | "none" | "required" | { name: string };

/** Per-request settings; each provider maps them to its own request fields. */
export interface RequestOptions {
  /** One of `ALLOWED_MODELS` (unset: only `MODEL`). */
  model?: string;
  /** 0..2. */
  temperature?: number;
  /** 0..1. */
  top_p?: number;
  /** 1..MAX_OUTPUT_TOKENS (when that is set); the smaller of the two is sent. */
  max_tokens?: number;
  /** Up to 4 stop sequences. */
  stop?: string[];
  /** An integer, for providers that sample deterministically with one. */
  seed?: number;
  /** OpenAI-style reasoning effort. */
  reasoning_effort?: "low" | "medium" | "high";
  /** Anthropic's extended thinking budget in tokens, 1024..MAX_OUTPUT_TOKENS. */
  thinking_budget?: number;
  tool_choice?: ToolChoice;
}

/** Limits on tool definitions and results. */
export const TOOL_LIMITS = {
  /** Tools in one request. */
  tools: 128,
  /** Characters of one request's definitions, as JSON. */
  definitionChars: 64 * 1024,
  /** Characters of one result's output (or errorText), as JSON. */
  resultChars: 64 * 1024,
  /** Stop sequences. */
  stops: 4,
} as const;

/** What the deployment allows: the models a request may pick and the output cap. */
export interface OptionPolicy {
  /** Models a request may name; empty: none may be named. */
  models: readonly string[];
  /** MAX_OUTPUT_TOKENS, when set. */
  maxOutputTokens?: number | undefined;
}

/** The policy from `ALLOWED_MODELS` (comma list) or else `MODEL`, and MAX_OUTPUT_TOKENS. */
export function optionPolicy(
  allowedModels: string | undefined,
  model: string | undefined,
  maxOutputTokens: number | undefined,
): OptionPolicy {
  const listed = (allowedModels ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const fallback = model?.trim();
  const models = listed.length > 0 ? listed : fallback ? [fallback] : [];
  return { models, maxOutputTokens };
}

/** The policy of a deployment's settings (`Env` satisfies the argument). */
export function policyOf(env: {
  ALLOWED_MODELS?: string | undefined;
  MODEL?: string | undefined;
  MAX_OUTPUT_TOKENS?: string | undefined;
}): OptionPolicy {
  let cap: number | undefined;
  try {
    cap = outputCap(env.MAX_OUTPUT_TOKENS);
  } catch {
    // A bad MAX_OUTPUT_TOKENS is the answer's `config_error` to report, not every frame's.
    cap = undefined;
  }
  return optionPolicy(env.ALLOWED_MODELS, env.MODEL, cap);
}
