/**
 * One Server-Sent Events client of a session: a bounded stream it reads at its own pace, with
 * keep-alive comments while idle. A client that falls too far behind is closed, not buffered
 * without bound; it can come back with Last-Event-ID.
 */
import type { ServerEvent } from "../protocol.ts";
import { encodeSse, SSE_HEADERS, sseComment } from "../streams/sse.ts";

/** Frames a slow reader may have queued before it is dropped. */
export const SSE_QUEUE_LIMIT = 1_024;
/** Proxies close idle streams at about 100 s; a comment every 20 s keeps them open. */
export const KEEP_ALIVE_MS = 20_000;

export interface SseListenerOptions {
  /** Only events of this message, and close after its `done` (the POST /messages stream). */
  messageId?: string;
  /** Called once when the listener ends, whoever ends it. */
  onClose: (listener: SseListener) => void;
  /** Milliseconds between keep-alive comments (default KEEP_ALIVE_MS). */
  keepAliveMs?: number;
}

export class SseListener {
  readonly response: Response;
  private readonly writer: WritableStreamDefaultWriter<string>;
  private readonly keepAlive: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(private readonly options: SseListenerOptions) {
    const { readable, writable } = new TransformStream<string, string>(
      undefined,
      new CountQueuingStrategy({ highWaterMark: SSE_QUEUE_LIMIT }),
    );
    this.writer = writable.getWriter();
    this.writer.closed.catch(() => this.close());
    this.response = new Response(readable.pipeThrough(new TextEncoderStream()), {
      headers: SSE_HEADERS,
    });
    this.keepAlive = setInterval(
      () => this.write(sseComment("keep-alive")),
      options.keepAliveMs ?? KEEP_ALIVE_MS,
    );
  }

  /** The message this listener is limited to, if any. */
  get messageId(): string | undefined {
    return this.options.messageId;
  }

  /** Sends an event if this listener wants it; ends the stream after its message's `done`. */
  send(event: ServerEvent): void {
    const scope = this.options.messageId;
    if (scope !== undefined && (!("messageId" in event) || event.messageId !== scope)) return;
    this.write(encodeSse(event));
    if (scope !== undefined && event.type === "done") this.close();
  }

  private write(text: string): void {
    if (this.closed) return;
    const desired = this.writer.desiredSize;
    if (desired !== null && desired <= 0) {
      const message = "The client read too slowly; reconnect with Last-Event-ID.";
      // Queued past the limit on purpose: the last thing the client reads says why it ends.
      this.writer
        .write(encodeSse({ type: "error", code: "slow_consumer", message }))
        .catch(() => {});
      this.close();
      return;
    }
    // A failed write means the client went away; `closed` above already handles it.
    this.writer.write(text).catch(() => this.close());
  }

  /** Ends the stream (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    this.writer.close().catch(() => {});
    this.options.onClose(this);
  }
}
