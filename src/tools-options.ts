/**
 * Client tools and per-request options: their wire types and the one parser of each, shared by
 * every protocol (`/chat`, SSE, `/api/chat`, `/v1/chat/completions`).
 */
import { SluiceError } from "./errors.ts";
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

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

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
    // A bad MAX_OUTPUT_TOKENS is the generation's `config_error` to report, not every frame's.
    cap = undefined;
  }
  return optionPolicy(env.ALLOWED_MODELS, env.MODEL, cap);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function toolsError(message: string): SluiceError {
  return new SluiceError("invalid_tools", message);
}

/**
 * Checks a request's tool definitions (`field` names them in errors): an array of at most 128
 * `{name, description?, inputSchema}` with unique names, 64 KiB in all. `undefined` passes.
 */
export function parseToolDefinitions(value: unknown, field: string): ToolDefinition[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw toolsError(`"${field}" must be an array of tool definitions.`);
  if (value.length > TOOL_LIMITS.tools) {
    throw toolsError(`"${field}" has ${value.length} tools; the most is ${TOOL_LIMITS.tools}.`);
  }
  const size = JSON.stringify(value).length;
  if (size > TOOL_LIMITS.definitionChars) {
    throw toolsError(
      `"${field}" is ${size} characters as JSON; the most is ${TOOL_LIMITS.definitionChars}.`,
    );
  }
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isRecord(entry)) throw toolsError(`"${at}" must be an object.`);
    const { name, description, inputSchema } = entry;
    if (typeof name !== "string" || !TOOL_NAME.test(name)) {
      throw toolsError(`"${at}.name" must match /^[A-Za-z0-9_-]{1,64}$/.`);
    }
    if (seen.has(name)) throw toolsError(`"${at}.name" repeats the tool name "${name}".`);
    seen.add(name);
    if (description !== undefined && typeof description !== "string") {
      throw toolsError(`"${at}.description" must be a string.`);
    }
    if (!isRecord(inputSchema) || inputSchema.type !== "object") {
      throw toolsError(`"${at}.inputSchema" must be a JSON Schema object with "type": "object".`);
    }
    if (inputSchema.properties !== undefined && !isRecord(inputSchema.properties)) {
      throw toolsError(`"${at}.inputSchema.properties" must be an object.`);
    }
    const tool: ToolDefinition = { name, inputSchema };
    if (description !== undefined) tool.description = description;
    return tool;
  });
}

function optionError(message: string): SluiceError {
  return new SluiceError("invalid_option", message);
}

function numberIn(value: unknown, at: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw optionError(`"${at}" must be a number from ${min} to ${max}.`);
  }
  return value;
}

function integerIn(value: unknown, at: string, min: number, max: number | undefined): number {
  const top = max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > top) {
    const bound = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
    throw optionError(`"${at}" must be an integer ${bound}.`);
  }
  return value;
}

/**
 * Checks a request's options (`field` names them in errors) against the deployment's policy:
 * unknown keys and values out of bounds are `invalid_option`, a model not allowed is
 * `model_not_allowed`. `undefined` passes; without a policy, `model` is refused.
 */
export function parseRequestOptions(
  value: unknown,
  field: string,
  policy: OptionPolicy = { models: [] },
): RequestOptions | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw optionError(`"${field}" must be an object.`);
  const options: RequestOptions = {};
  for (const [key, raw] of Object.entries(value)) {
    if (raw === undefined) continue;
    const at = `${field}.${key}`;
    switch (key) {
      case "model":
        if (typeof raw !== "string" || !policy.models.includes(raw)) {
          const allowed =
            policy.models.length > 0 ? policy.models.join(", ") : "none (set ALLOWED_MODELS)";
          throw new SluiceError(
            "model_not_allowed",
            `"${at}" ${JSON.stringify(raw).slice(0, 80)} is not allowed; allowed: ${allowed}.`,
          );
        }
        options.model = raw;
        break;
      case "temperature":
        options.temperature = numberIn(raw, at, 0, 2);
        break;
      case "top_p":
        options.top_p = numberIn(raw, at, 0, 1);
        break;
      case "max_tokens":
        options.max_tokens = integerIn(raw, at, 1, policy.maxOutputTokens);
        break;
      case "thinking_budget":
        options.thinking_budget = integerIn(raw, at, 1024, policy.maxOutputTokens);
        break;
      case "seed":
        if (typeof raw !== "number" || !Number.isSafeInteger(raw)) {
          throw optionError(`"${at}" must be an integer.`);
        }
        options.seed = raw;
        break;
      case "stop": {
        const stops = typeof raw === "string" ? [raw] : raw;
        if (
          !Array.isArray(stops) ||
          stops.length === 0 ||
          stops.length > TOOL_LIMITS.stops ||
          !stops.every((stop): stop is string => typeof stop === "string" && stop !== "")
        ) {
          throw optionError(
            `"${at}" must be a string or up to ${TOOL_LIMITS.stops} non-empty strings.`,
          );
        }
        options.stop = stops;
        break;
      }
      case "reasoning_effort":
        if (raw !== "low" && raw !== "medium" && raw !== "high") {
          throw optionError(`"${at}" must be "low", "medium" or "high".`);
        }
        options.reasoning_effort = raw;
        break;
      case "tool_choice":
        options.tool_choice = parseToolChoice(raw, at);
        break;
      default:
        throw optionError(
          `"${at}" is not an option; expected model, temperature, top_p, max_tokens, stop, seed, reasoning_effort, thinking_budget or tool_choice.`,
        );
    }
  }
  return options;
}

function parseToolChoice(raw: unknown, at: string): ToolChoice {
  if (raw === "auto" || raw === "none" || raw === "required") return raw;
  if (isRecord(raw) && typeof raw.name === "string" && TOOL_NAME.test(raw.name)) {
    return { name: raw.name };
  }
  throw optionError(`"${at}" must be "auto", "none", "required" or {"name": "<tool>"}.`);
}

/**
 * Checks a list of tool results (`field` names them): each `{toolCallId, output}` or
 * `{toolCallId, errorText}`, at most 64 KiB of JSON each (`tool_input_too_large`).
 */
export function parseToolResults(value: unknown, field: string): ToolResult[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new SluiceError(
      "invalid_request",
      `"${field}" must be a non-empty array of tool results.`,
    );
  }
  return value.map((entry: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isRecord(entry) || typeof entry.toolCallId !== "string" || entry.toolCallId === "") {
      throw new SluiceError(
        "invalid_request",
        `"${at}" must be an object with a "toolCallId" string.`,
      );
    }
    const hasOutput = "output" in entry && entry.output !== undefined;
    const hasError = entry.errorText !== undefined;
    if (hasOutput === hasError) {
      throw new SluiceError(
        "invalid_request",
        `"${at}" must have exactly one of "output" and "errorText".`,
      );
    }
    if (hasError && typeof entry.errorText !== "string") {
      throw new SluiceError("invalid_request", `"${at}.errorText" must be a string.`);
    }
    const size = JSON.stringify(hasOutput ? entry.output : entry.errorText).length;
    if (size > TOOL_LIMITS.resultChars) {
      throw new SluiceError(
        "tool_input_too_large",
        `"${at}" is ${size} characters as JSON; the most is ${TOOL_LIMITS.resultChars}.`,
      );
    }
    if (typeof entry.errorText === "string")
      return { toolCallId: entry.toolCallId, errorText: entry.errorText };
    return { toolCallId: entry.toolCallId, output: entry.output };
  });
}
