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
  outputTokens: number;
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
}

/** A configured upstream: starts a generation and returns its normalized event stream. */
export interface Provider {
  readonly name: string;
  readonly model: string;
  /**
   * Starts the upstream call. Rejects with a SluiceError when the call cannot start
   * (missing key, rejected key, non-2xx, unreachable); after that, failures arrive as
   * an `error` event and the stream closes.
   */
  stream(request: GenerationRequest): Promise<ReadableStream<UpstreamEvent>>;
}
