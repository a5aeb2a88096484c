/** What every provider turns its upstream into: one normalized event stream. */
import type { ErrorCode } from "../errors.ts";

/** A message of the conversation as sent upstream. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
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

/** One normalized event from any upstream. */
export type UpstreamEvent =
  /** A piece of the assistant's answer text. */
  | { type: "text"; text: string }
  /** Token counts; may come more than once, the last one wins. */
  | { type: "usage"; usage: Usage }
  /** Why the upstream stopped (`stop`, `length`, `tool_calls`, `end_turn`, ...), as the upstream names it. */
  | { type: "finish"; reason: string }
  /** The upstream failed; no more events follow. */
  | { type: "error"; code: ErrorCode; message: string };

/** The resolved settings a provider needs for one generation. */
export interface GenerationRequest {
  messages: ChatMessage[];
  /** Fires on cancel, stall or shutdown; the upstream call must stop at once. */
  signal: AbortSignal;
  /** Called whenever the upstream shows life (bytes arrive); the stall watchdog listens. */
  onActivity?: () => void;
  /** Where the retry wrapper reports retries and the provider that answered. */
  report?: CallReport;
}

/**
 * The events of one generation, pulled one at a time: nothing is produced before `next()` asks,
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

/** A configured upstream: starts a generation and returns its normalized events. */
export interface Provider {
  readonly name: string;
  readonly model: string;
  /**
   * Starts the upstream call. Rejects with a SluiceError when the call cannot start
   * (missing key, rejected key, non-2xx, unreachable); after that, failures arrive as
   * an `error` event and the events end.
   */
  stream(request: GenerationRequest): Promise<UpstreamEvents>;
}
