/**
 * What every provider turns its upstream into: one normalized event stream of parts (text,
 * reasoning, tool calls), usage, finish and error.
 */
import type { ErrorCode } from "../errors.ts";
import type { RequestOptions, ToolDefinition } from "../tools-options.ts";

/** A part of an assistant message sent back upstream: each provider maps it to its own format. */
export type ContextPart =
  | { type: "text"; text: string }
  /** Anthropic needs `signature` (or `redactedData`) back; OpenAI-compatible upstreams get no reasoning. */
  | { type: "reasoning"; text: string; signature?: string; redactedData?: string }
  /** `arguments` is the input as JSON text (OpenAI's `function.arguments`). */
  | { type: "tool-call"; id: string; name: string; arguments: string; input: ToolInput };

/**
 * A message of the conversation as sent upstream. `content` is always the text; assistant
 * messages may carry `parts` (reasoning, text and tool calls in order), and `tool` messages
 * answer the call `toolCallId` with `content` (the output as JSON text, or the error text
 * when `isError`).
 */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  parts?: ContextPart[];
  toolCallId?: string;
  toolName?: string;
  isError?: boolean;
}

/** Token counts reported by the upstream. */
export interface Usage {
  inputTokens: number;
  /** Every token the model produced, reasoning included (as OpenAI and Anthropic count them). */
  outputTokens: number;
  /** The part of `outputTokens` spent on reasoning, where the upstream reports it. */
  reasoningTokens?: number | undefined;
}

/**
 * How one call was served, filled in by the retry wrapper (`resilient`) as it happens, for the
 * operator's log line and metrics: retries spent, and which provider committed.
 */
export interface CallReport {
  /** Attempts after the first, over the primary and the fallback together. */
  retries: number;
  /** True when the fallback provider gave the answer. */
  fallback: boolean;
  /** The provider and model that committed; unset until one did. */
  provider?: string;
  model?: string;
}

/** A tool call's complete input: always a JSON object, as every upstream's tools take. */
export type ToolInput = Record<string, unknown>;

/**
 * One normalized event from any upstream.
 *
 * ## Parts
 * An answer is a sequence of parts. Text is as it always was: a `text` event is a piece of
 * the answer's text, with no start or end (a consumer that needs text parts, such as the AI
 * SDK encoder, opens one at a text event that follows anything but text, and closes it at
 * the next non-text event). Reasoning and tool calls are explicit parts:
 *
 * - reasoning: `reasoning-start`, any number of `reasoning-delta`, `reasoning-end`, all with
 *   the same `id`. The end carries what the upstream needs back when the conversation goes
 *   on (Anthropic's `signature`, or the `redactedData` of a `redacted_thinking` block).
 * - tool call: `tool-call-start` (the call's `id` and `name`, both known), any number of
 *   `tool-call-delta` (pieces of the arguments' JSON text), then exactly one of
 *   `tool-call-end` (the joined arguments parse as a JSON object: `input`) or
 *   `tool-call-invalid` (they do not: `message` says why). Either ends the part; the stream
 *   goes on, since a model that wrote bad JSON is not a broken connection.
 *
 * ## Guarantees every provider keeps (tested on the recordings)
 * - A part's deltas come after its start and before its end; nothing of a part comes after
 *   its end. Parts of different kinds may interleave (parallel tool calls stream their
 *   arguments by `id`), but at most one reasoning part is open at a time.
 * - Ids are unique within one upstream stream. Reasoning ids are made here (`reasoning-0`,
 *   `reasoning-1`, ...) in order; tool-call ids are the upstream's own (OpenAI `call_...`,
 *   Anthropic `toolu_...`), or `call_` and 24 random hex digits when the upstream gave none.
 *   One answer made of several upstream calls (a tool round trip) must namespace reasoning
 *   ids by step before it shows them to a client.
 * - `index` of a tool call is its position among the stream's tool calls, 0, 1, 2, ... in
 *   the order they started, on its start, deltas and end: an encoder writes OpenAI
 *   `tool_calls[].index` from it without keeping state.
 * - Every part that started is ended before `finish`. After an `error`, parts that were open
 *   stay open: they are incomplete, and no end will come.
 * - Deltas are never empty strings; several deltas of one part may be joined into one (the
 *   SSE reader joins the deltas one network read made), so their boundaries carry no meaning.
 *
 * ## How encoders map them
 * AI SDK UI message stream: `reasoning-start/delta/end` one to one (`id`; `text` becomes
 * `delta`; `signature` / `redactedData` go in `providerMetadata.anthropic`);
 * `tool-call-start` is `tool-input-start` (`toolCallId` = `id`, `toolName` = `name`), each
 * `tool-call-delta` a `tool-input-delta` (`inputTextDelta` = `arguments`), `tool-call-end`
 * is `tool-input-available` (`input`), `tool-call-invalid` is `tool-input-error` (`input` =
 * the raw `arguments` text, `errorText` = `message`). OpenAI Chat Completions:
 * `tool-call-start` is the delta `{index, id, type: "function", function: {name, arguments: ""}}`,
 * each `tool-call-delta` is `{index, function: {arguments}}`; the end adds nothing.
 */
export type UpstreamEvent =
  /** A piece of the assistant's answer text. */
  | { type: "text"; text: string }
  /** A reasoning part begins. */
  | { type: "reasoning-start"; id: string }
  /** A piece of the reasoning's text (never empty). */
  | { type: "reasoning-delta"; id: string; text: string }
  /**
   * The reasoning part is complete. `signature` is Anthropic's signature of a thinking block;
   * `redactedData` the opaque data of a `redacted_thinking` block (it has no text). Both must
   * go back upstream unchanged when a tool-use turn continues with thinking on.
   */
  | { type: "reasoning-end"; id: string; signature?: string; redactedData?: string }
  /** A tool call begins: the model calls the tool `name`; `id` names this call. */
  | { type: "tool-call-start"; id: string; index: number; name: string }
  /** A piece of the call's arguments, JSON text that is only whole once joined (never empty). */
  | { type: "tool-call-delta"; id: string; index: number; arguments: string }
  /**
   * The call is complete: `arguments` is the joined JSON text (`""` when the upstream sent
   * none), `input` its parsed value (`{}` for no arguments).
   */
  | {
      type: "tool-call-end";
      id: string;
      index: number;
      name: string;
      arguments: string;
      input: ToolInput;
    }
  /** The call is complete, but its joined `arguments` are not a JSON object; `message` says why. */
  | {
      type: "tool-call-invalid";
      id: string;
      index: number;
      name: string;
      arguments: string;
      message: string;
    }
  /** Token counts; may come more than once, the last one wins. */
  | { type: "usage"; usage: Usage }
  /** Why the upstream stopped (`stop`, `length`, `tool_calls`, `end_turn`, ...), as the upstream names it. */
  | { type: "finish"; reason: string }
  /** The upstream failed; no more events follow. */
  | { type: "error"; code: ErrorCode; message: string };

/** The resolved settings a provider needs for one answer. */
export interface UpstreamRequest {
  messages: ChatMessage[];
  /** Client tools the model may call, in each provider's own format once sent. */
  tools?: ToolDefinition[];
  /** Per-request settings, already checked (`parseRequestOptions`). */
  options?: RequestOptions;
  /**
   * Fields only OpenAI-compatible upstreams take, passed through from `/v1/chat/completions`
   * unchanged (`response_format`, `parallel_tool_calls`); the route refuses them for others.
   */
  openaiPassThrough?: { response_format?: Record<string, unknown>; parallel_tool_calls?: boolean };
  /** Fires on cancel, stall or shutdown; the upstream call must stop at once. */
  signal: AbortSignal;
  /** Called whenever the upstream shows life (bytes arrive); the stall watchdog listens. */
  onActivity?: () => void;
  /** Where the retry wrapper reports retries and the provider that answered. */
  report?: CallReport;
}

/**
 * The events of one answer, pulled one at a time: nothing is produced before `next()` asks,
 * so a slow reader slows the upstream down instead of filling a queue. A plain object, not a
 * `ReadableStream`: in workerd each JS stream a token passes through costs about 7 µs of the
 * relay's one thread (bench/README.md, pipeline benchmark), and the chain of such hops, not
 * Sluice's own code, was most of its CPU per token.
 */
export interface UpstreamEvents {
  /**
   * The next event, or `undefined` once the stream is over (after its `finish` or `error`
   * event, or at once after a cancel or an abort). Call it again only after it settled.
   * Providers report failures as an `error` event; a rejection means a bug.
   */
  next(): Promise<UpstreamEvent | undefined>;
  /** Stops the stream and releases the upstream; a pending or later `next()` gives `undefined`. */
  cancel(reason?: unknown): void;
}

/** A configured upstream: starts an answer and returns its normalized events. */
export interface Provider {
  readonly name: string;
  readonly model: string;
  /**
   * Starts the upstream call. Rejects with a SluiceError when the call cannot start
   * (missing key, rejected key, non-2xx, unreachable); after that, failures arrive as
   * an `error` event and the events end.
   */
  stream(request: UpstreamRequest): Promise<UpstreamEvents>;
  /**
   * Throws `invalid_option` for tools or options this upstream does not take (each is refused,
   * never dropped); called before anything is stored, so the refusal changes nothing.
   */
  checkOptions?(tools: UpstreamRequest["tools"], options: UpstreamRequest["options"]): void;
}
