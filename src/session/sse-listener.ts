/**
 * One streaming listener of a session: a bounded byte stream it reads at its own pace. On the
 * `sse` wire (a client's SSE response) events are SSE messages with keep-alive comments while
 * idle; on the `frames` wire (the Worker's compatibility routes) each event is its JSON, the
 * string the broadcast already built, and a line break. A reader that falls too far behind is
 * closed, not buffered without bound; it can come back with Last-Event-ID.
 *
 * The stream is one ReadableStream fed bytes directly: each JS stream hop costs per event in
 * workerd, and this path runs once per token per listener (bench/README.md).
 */
import type { ServerEvent } from "../protocol.ts";
import { encodeSse, sseComment } from "../streams/sse.ts";
import type { EventWire } from "./calls.ts";

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
  /** How events are written (default `sse`). */
  wire?: EventWire;
}

const encoder = new TextEncoder();

/** One event on the `frames` wire: its JSON, which holds no raw line break, and one. */
export function encodeFrame(event: ServerEvent, json = JSON.stringify(event)): string {
  return `${json}\n`;
}

export class SseListener {
  /** What the listener reads. */
  readonly body: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private readonly keepAlive: ReturnType<typeof setInterval> | undefined;
  private readonly encode: (event: ServerEvent, json?: string) => string;
  private closed = false;

  constructor(private readonly options: SseListenerOptions) {
    this.encode = options.wire === "frames" ? encodeFrame : encodeSse;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        // The client went away.
        cancel: () => this.close(),
      },
      new CountQueuingStrategy({ highWaterMark: SSE_QUEUE_LIMIT }),
    );
    // The Worker between a `frames` listener and its client keeps that connection alive.
    this.keepAlive =
      options.wire === "frames"
        ? undefined
        : setInterval(
            () => this.write(sseComment("keep-alive")),
            options.keepAliveMs ?? KEEP_ALIVE_MS,
          );
  }

  /**
   * Sends an event if this listener wants it (`json` is the event already stringified, when
   * the caller has it); ends the stream after its message's `done`.
   */
  send(event: ServerEvent, json?: string): void {
    const scope = this.options.messageId;
    if (scope !== undefined && (!("messageId" in event) || event.messageId !== scope)) return;
    this.write(this.encode(event, json));
    if (scope !== undefined && event.type === "done") this.close();
  }

  private write(text: string): void {
    if (this.closed) return;
    const desired = this.controller.desiredSize;
    if (desired !== null && desired <= 0) {
      const message = "The client read too slowly; reconnect with Last-Event-ID.";
      // Queued past the limit on purpose: the last thing the client reads says why it ends.
      this.controller.enqueue(
        encoder.encode(this.encode({ type: "error", code: "slow_consumer", message })),
      );
      this.close();
      return;
    }
    this.controller.enqueue(encoder.encode(text));
  }

  /** Ends the stream (idempotent); what is queued is still delivered. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    try {
      this.controller.close();
    } catch {
      // Already closed or errored by a client that went away.
    }
    this.options.onClose(this);
  }
}
