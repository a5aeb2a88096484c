/**
 * One step of an answer (one upstream call): reads a provider's event stream into session
 * events and the message's parts, and can be cancelled at once.
 */
import type { ErrorCode } from "../errors.ts";
import { toSluiceError } from "../errors.ts";
import type { MessagePart, RequestOptions, ToolDefinition } from "../protocol.ts";
import type {
  CallReport,
  ChatMessage,
  Provider,
  UpstreamEvent,
  UpstreamEvents,
  Usage,
} from "../providers/types.ts";
import { StallWatchdog } from "../streams/stall-watchdog.ts";
import { type PartEvent, PartsAssembler, partsText } from "./parts.ts";
import type { MessageOutcome } from "./store.ts";

/** What a step sends upstream besides the conversation. */
export interface StepRequest {
  tools?: ToolDefinition[] | undefined;
  options?: RequestOptions | undefined;
}

/** The session event of one upstream event, or undefined for usage, finish and error. */
export function partEvent(event: UpstreamEvent, step: number): PartEvent | undefined {
  switch (event.type) {
    case "text":
      return { type: "chunk", content: event.text };
    case "reasoning-start":
      return { type: "reasoning-start", partId: `s${step}-${event.id}` };
    case "reasoning-delta":
      return { type: "reasoning-delta", partId: `s${step}-${event.id}`, content: event.text };
    case "reasoning-end": {
      const end: PartEvent = { type: "reasoning-end", partId: `s${step}-${event.id}` };
      if (event.signature !== undefined) end.signature = event.signature;
      if (event.redactedData !== undefined) end.redactedData = event.redactedData;
      return end;
    }
    case "tool-call-start":
      return { type: "tool-call-start", toolCallId: event.id, toolName: event.name };
    case "tool-call-delta":
      return { type: "tool-call-delta", toolCallId: event.id, inputDelta: event.arguments };
    case "tool-call-end":
      return { type: "tool-call", toolCallId: event.id, toolName: event.name, input: event.input };
    case "tool-call-invalid":
      return {
        type: "tool-call-error",
        toolCallId: event.id,
        toolName: event.name,
        inputText: event.arguments,
        message: event.message,
      };
    default:
      return undefined;
  }
}

export class AnswerStep {
  /** Aborts the upstream call: fired by cancel, the stall watchdog or shutdown. */
  readonly controller = new AbortController();
  /** The whole message's parts: earlier steps' (a continuation), then this step's. */
  readonly assembler: PartsAssembler;
  private usage: Usage | undefined;
  private finish: string | undefined;
  private failure: { code: ErrorCode; message: string } | undefined;
  private cancelled = false;
  /** Retries and the provider that answered, as the retry wrapper reports them. */
  readonly call: CallReport = { retries: 0, fallback: false };
  /** When its first text arrived (ms since the epoch), for the time to first token. */
  firstTextAt: number | undefined;
  /** The upstream call `begin` made, and the watchdog that bounds its silences. */
  private started: { events: Promise<UpstreamEvents>; watchdog: StallWatchdog } | undefined;

  /**
   * `step` 0 is an answer's first upstream call; a continuation after tool results is 1, 2, ...
   * and starts from the message's stored `parts`.
   */
  constructor(
    readonly messageId: string,
    readonly step = 0,
    parts: readonly MessagePart[] = [],
  ) {
    this.assembler = new PartsAssembler(parts);
  }

  /** Stops the upstream call; no text read after this is used. */
  cancel(): void {
    this.cancelled = true;
    this.controller.abort(new Error("cancelled"));
  }

  /** Fails the step with `code` and stops the upstream call. */
  fail(code: ErrorCode, message: string): void {
    this.failure ??= { code, message };
    this.controller.abort(new Error(code));
  }

  /**
   * Sends the step upstream now: the provider's request leaves before anything else the
   * session does for this answer (its checks, its writes), so their time overlaps the
   * upstream's. `run` reads what it answers; `cancel` before that aborts the request.
   * Once `provider.stream()` resolved, no upstream byte for `stallMs` fails the step
   * with `upstream_stalled`. The wait before that is the provider's: the one from
   * `createProvider` resolves at the first text and bounds the wait with its connect and
   * first-token timeouts.
   */
  begin(
    provider: Provider,
    messages: ChatMessage[],
    stallMs: number,
    extra: StepRequest = {},
  ): void {
    const watchdog = new StallWatchdog(stallMs, () =>
      this.fail(
        "upstream_stalled",
        `The upstream sent nothing for ${stallMs / 1000} s; the relay stopped waiting.`,
      ),
    );
    const events = provider.stream({
      messages,
      ...(extra.tools === undefined ? {} : { tools: extra.tools }),
      ...(extra.options === undefined ? {} : { options: extra.options }),
      signal: this.controller.signal,
      onActivity: () => watchdog.poke(),
      report: this.call,
    });
    // Settled by `run`; a step refused before it runs must not leave a rejection unheard.
    events.catch(() => {});
    this.started = { events, watchdog };
  }

  /**
   * Reads the step `begin` sent, calling `onEvent` for each part event (text is `chunk`);
   * resolves when the step ends.
   */
  async run(onEvent: (event: PartEvent) => void): Promise<void> {
    const started = this.started;
    if (!started) throw new Error("AnswerStep.run before begin");
    const { watchdog } = started;
    try {
      const events = await started.events;
      watchdog.poke();
      // A provider that ignores its signal still stops here.
      this.controller.signal.addEventListener("abort", () => events.cancel(), { once: true });
      for (;;) {
        const event = await events.next();
        if (event === undefined || this.controller.signal.aborted) break;
        const part = partEvent(event, this.step);
        if (part) {
          if (part.type === "chunk") this.firstTextAt ??= Date.now();
          this.assembler.apply(part);
          onEvent(part);
          continue;
        }
        switch (event.type) {
          case "usage":
            this.usage = event.usage;
            break;
          case "finish":
            this.finish = event.reason;
            break;
          case "error":
            this.failure ??= { code: event.code, message: event.message };
            break;
          default:
        }
      }
    } catch (error) {
      if (this.controller.signal.aborted) return;
      const failure = toSluiceError(error);
      if (failure.code === "internal") console.error("answer step failed", error);
      // Also stops the upstream, which a throw from `onEvent` would otherwise leave streaming.
      this.fail(failure.code, failure.message);
    } finally {
      watchdog.stop();
    }
  }

  /** The error that ended the step, if one did. */
  get error(): { code: ErrorCode; message: string } | undefined {
    return this.failure;
  }

  /** The answer's text so far, every step's. */
  get text(): string {
    return partsText(this.assembler.parts);
  }

  /** How the answer ended, as it is stored. */
  outcome(): MessageOutcome {
    const parts = this.assembler.parts;
    const produced = parts.some((part) => part.type !== "step-start");
    const status = this.cancelled
      ? "cancelled"
      : this.failure
        ? produced
          ? "incomplete"
          : "error"
        : "complete";
    return {
      content: partsText(parts),
      parts,
      status,
      finish: this.finish,
      errorCode: this.failure?.code,
      usage: this.usage,
    };
  }
}
