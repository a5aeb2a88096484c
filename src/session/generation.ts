/** One generation: reads a provider's event stream into an answer, and can be cancelled at once. */
import type { ErrorCode } from "../errors.ts";
import { toSluiceError } from "../errors.ts";
import type { CallReport, ChatMessage, Provider, Usage } from "../providers/types.ts";
import { StallWatchdog } from "../streams/stall-watchdog.ts";
import type { MessageOutcome } from "./store.ts";

export class Generation {
  /** Aborts the upstream call: fired by cancel, the stall watchdog or shutdown. */
  readonly controller = new AbortController();
  private text = "";
  private usage: Usage | undefined;
  private finish: string | undefined;
  private failure: { code: ErrorCode; message: string } | undefined;
  private cancelled = false;
  /** Retries and the provider that answered, as the retry wrapper reports them. */
  readonly call: CallReport = { retries: 0, fallback: false };
  /** When its first text arrived (ms since the epoch), for the time to first token. */
  firstTextAt: number | undefined;

  constructor(readonly messageId: string) {}

  /** Stops the upstream call; no text read after this is used. */
  cancel(): void {
    this.cancelled = true;
    this.controller.abort(new Error("cancelled"));
  }

  /** Fails the generation with `code` and stops the upstream call. */
  fail(code: ErrorCode, message: string): void {
    this.failure ??= { code, message };
    this.controller.abort(new Error(code));
  }

  /**
   * Streams the answer, calling `onText` for each piece; resolves when the generation ends.
   * Once `provider.stream()` resolved, no upstream byte for `stallMs` fails it with
   * `upstream_stalled`. The wait before that is the provider's: the one from `createProvider`
   * resolves at the first text and bounds the wait with its connect and first-token timeouts.
   */
  async run(
    provider: Provider,
    messages: ChatMessage[],
    stallMs: number,
    onText: (text: string) => void,
  ): Promise<void> {
    const watchdog = new StallWatchdog(stallMs, () =>
      this.fail(
        "upstream_stalled",
        `The upstream sent nothing for ${stallMs / 1000} s; the relay stopped waiting.`,
      ),
    );
    try {
      const events = await provider.stream({
        messages,
        signal: this.controller.signal,
        onActivity: () => watchdog.poke(),
        report: this.call,
      });
      watchdog.poke();
      // A provider that ignores its signal still stops here.
      this.controller.signal.addEventListener("abort", () => events.cancel(), { once: true });
      for (;;) {
        const event = await events.next();
        if (event === undefined || this.controller.signal.aborted) break;
        switch (event.type) {
          case "text":
            this.firstTextAt ??= Date.now();
            this.text += event.text;
            onText(event.text);
            break;
          case "usage":
            this.usage = event.usage;
            break;
          case "finish":
            this.finish = event.reason;
            break;
          case "error":
            this.failure ??= { code: event.code, message: event.message };
            break;
          default: // Reasoning and tool-call parts are not stored yet (issue 12).
        }
      }
    } catch (error) {
      if (this.controller.signal.aborted) return;
      const failure = toSluiceError(error);
      if (failure.code === "internal") console.error("generation failed", error);
      // Also stops the upstream, which a throw from `onText` would otherwise leave streaming.
      this.fail(failure.code, failure.message);
    } finally {
      watchdog.stop();
    }
  }

  /** The error that ended the generation, if one did. */
  get error(): { code: ErrorCode; message: string } | undefined {
    return this.failure;
  }

  /** How the answer ended, as it is stored. */
  outcome(): MessageOutcome {
    const status = this.cancelled
      ? "cancelled"
      : this.failure
        ? this.text === ""
          ? "error"
          : "incomplete"
        : "complete";
    return {
      content: this.text,
      status,
      finish: this.finish,
      errorCode: this.failure?.code,
      usage: this.usage,
    };
  }
}
