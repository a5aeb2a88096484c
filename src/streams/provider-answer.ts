/**
 * A stateless answer: the provider's event stream as an answer, with no session and no Durable
 * Object. The Worker holds the upstream call itself, so it gets what a session's answer
 * gets: an AbortController that the client's disconnect fires, and the stall watchdog.
 */
import { type ErrorCode, SluiceError } from "../errors.ts";
import type { MessageStatus } from "../protocol.ts";
import type {
  CallReport,
  ChatMessage,
  Provider,
  UpstreamEvent,
  UpstreamEvents,
  UpstreamRequest,
  Usage,
} from "../providers/types.ts";
import { partEvent } from "../session/answer-step.ts";
import type { AnswerEvent } from "./answer-events.ts";
import type { AnswerSource } from "./answer-source.ts";
import { answerPartEvent } from "./session-answer.ts";
import { StallWatchdog } from "./stall-watchdog.ts";

export interface ProviderAnswerOptions {
  provider: Provider;
  messages: ChatMessage[];
  /** Tools, options and pass-through fields of the request, sent upstream by the provider. */
  request?: Pick<UpstreamRequest, "tools" | "options" | "openaiPassThrough">;
  /** The answer's id (the `start` event's messageId). */
  messageId: string;
  /** Milliseconds without an upstream byte before the answer fails as `upstream_stalled`. */
  stallMs: number;
  /** Called once when the answer ends, fails or is cancelled (frees the client's slot, reports it). */
  onClose?: (ended: EndedAnswer) => void;
}

/** How a stateless answer ended, for its report. */
export interface EndedAnswer {
  status: Exclude<MessageStatus, "streaming">;
  errorCode: ErrorCode | undefined;
  usage: Usage | undefined;
  call: CallReport;
  firstTextAt: number | undefined;
  answerChars: number;
}

/**
 * Starts the upstream call and resolves with the answer once the upstream accepted it. A call
 * that cannot start (missing key, rejected key, non-2xx, unreachable, stalled before its
 * headers) rejects with its SluiceError, so the route can answer with an HTTP error; later
 * failures arrive as an `error` event. Cancelling the answer aborts the upstream call.
 */
export async function providerAnswer(options: ProviderAnswerOptions): Promise<AnswerSource> {
  const { provider, messages, messageId, stallMs } = options;
  const abort = new AbortController();
  let closed = false;
  const watchdog = new StallWatchdog(stallMs, () => {
    const message = `The upstream sent nothing for ${stallMs / 1000} s; the relay stopped waiting.`;
    abort.abort(new SluiceError("upstream_stalled", message));
  });
  const call: CallReport = { retries: 0, fallback: false };
  let text = "";
  let firstTextAt: number | undefined;
  let failure: { code: ErrorCode; message: string } | undefined;
  let finish: string | undefined;
  let usage: Usage | undefined;
  const close = (status: EndedAnswer["status"]) => {
    if (closed) return;
    closed = true;
    watchdog.stop();
    const errorCode = failure?.code;
    options.onClose?.({ status, errorCode, usage, call, firstTextAt, answerChars: text.length });
  };
  let events: UpstreamEvents;
  try {
    events = await provider.stream({
      ...options.request,
      messages,
      signal: abort.signal,
      onActivity: () => watchdog.poke(),
      report: call,
    });
  } catch (error) {
    failure = { code: error instanceof SluiceError ? error.code : "internal", message: "" };
    close("error");
    throw error;
  }
  // Until the first text, the provider's connect and first-token timeouts (and its retries)
  // govern; the stall watchdog starts once the stream is handed over.
  watchdog.poke();

  let started = false;
  let ended = false;
  return {
    // Reads until it has an event: the answer's first read is its `start`.
    async read() {
      if (ended) return undefined;
      if (!started) {
        started = true;
        return [{ type: "start", messageId }];
      }
      const out: AnswerEvent[] = [];
      while (out.length === 0) {
        let event: UpstreamEvent | undefined;
        try {
          event = await events.next();
        } catch {
          // Providers end with an error event rather than reject; a rejection is a lost upstream.
          failure ??= { code: "upstream_dropped", message: "The upstream stream failed." };
          out.push({ type: "error", ...failure });
        }
        if (event === undefined) {
          // A provider ends without an event when its signal fired: say why here.
          const reason: unknown = abort.signal.reason;
          if (!failure && reason instanceof SluiceError) {
            failure = { code: reason.code, message: reason.message };
            out.push({ type: "error", ...failure });
          }
          const status = failure ? (text === "" ? "error" : "incomplete") : "complete";
          out.push({ type: "end", status, finish, usage });
          ended = true;
          close(status);
          break;
        }
        switch (event.type) {
          case "text":
            firstTextAt ??= Date.now();
            text += event.text;
            out.push({ type: "text", text: event.text });
            break;
          case "usage":
            usage = event.usage;
            break;
          case "finish":
            finish = event.reason;
            break;
          case "error":
            failure ??= { code: event.code, message: event.message };
            out.push({ type: "error", code: event.code, message: event.message });
            break;
          default: {
            // Reasoning and tool calls: as the session names them (step 0), then as answer events.
            const part = partEvent(event, 0);
            const answer = part && answerPartEvent(part);
            if (answer) out.push(answer);
          }
        }
      }
      return out;
    },
    async cancel(reason) {
      if (ended) return;
      ended = true;
      close("cancelled");
      abort.abort(reason);
      events.cancel(reason);
    },
  };
}
