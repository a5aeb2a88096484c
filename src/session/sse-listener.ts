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
  /**
   * Text waiting for the reader, pulled as it reads: a replay (however long: it is already in
   * memory, and retention bounds it) and whatever live text arrives behind it, in order.
   */
  private backlog: string[] = [];
  private head = 0;
  /** Where the replay ends in `backlog`; live text after it counts against the queue limit. */
  private replayEnd = 0;
  /** Set when the stream should end once the backlog is read. */
  private ending = false;

  constructor(private readonly options: SseListenerOptions) {
    this.encode = options.wire === "frames" ? encodeFrame : encodeSse;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.drain(),
        // The client went away: nothing more is read.
        cancel: () => this.finish(),
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

  /**
   * Sends a client the events it missed. They are pulled as it reads, so a long replay (a late
   * joiner of a 20,000-token answer) is never taken for a slow reader; live events wait behind it.
   */
  replay(events: readonly ServerEvent[]): void {
    for (const event of events) {
      const scope = this.options.messageId;
      if (scope !== undefined && (!("messageId" in event) || event.messageId !== scope)) continue;
      this.write(this.encode(event), true);
      if (scope !== undefined && event.type === "done") this.close();
    }
  }

  private write(text: string, replayed = false): void {
    if (this.closed || this.ending) return;
    if (replayed || this.head < this.backlog.length) {
      this.backlog.push(text);
      if (replayed) this.replayEnd = this.backlog.length;
      else if (this.backlog.length - Math.max(this.head, this.replayEnd) > SSE_QUEUE_LIMIT) {
        this.dropSlow();
        return;
      }
      this.drain();
      return;
    }
    const desired = this.controller.desiredSize;
    if (desired !== null && desired <= 0) this.dropSlow();
    else this.controller.enqueue(encoder.encode(text));
  }

  /** Moves backlog into the stream while the reader has room; ends it if it was told to. */
  private drain(): void {
    while (this.head < this.backlog.length && (this.controller.desiredSize ?? 0) > 0) {
      this.controller.enqueue(encoder.encode(this.backlog[this.head++] ?? ""));
    }
    if (this.head < this.backlog.length) return;
    this.backlog = [];
    this.head = 0;
    this.replayEnd = 0;
    if (this.ending) this.finish();
  }

  /** The reader fell too far behind live events: it is told why, then the stream ends. */
  private dropSlow(): void {
    const message = "The client read too slowly; reconnect with Last-Event-ID.";
    this.backlog = [];
    this.head = 0;
    // Queued past the limit on purpose: the last thing the client reads says why it ends.
    this.controller.enqueue(
      encoder.encode(this.encode({ type: "error", code: "slow_consumer", message })),
    );
    this.finish();
  }

  /** Ends the stream once what it holds is read (idempotent). */
  close(): void {
    if (this.head < this.backlog.length) {
      this.ending = true;
      return;
    }
    this.finish();
  }

  /** Ends the stream now: what is queued in it is still delivered, the backlog is not. */
  private finish(): void {
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
