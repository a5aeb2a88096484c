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
import type { AnswerEvent } from "../streams/answer-events.ts";
import { answerStepper, INTERRUPTED_FRAME } from "../streams/session-answer.ts";
import type { SessionFrame } from "../streams/session-frame.ts";
import { encodeSse, sseComment } from "../streams/sse.ts";
import { uiMessageChunks } from "../streams/ui-message-wire.ts";
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

/**
 * Most frames joined into one chunk. Joining is what makes a reader that falls behind cheaper,
 * not slower: every chunk is a read, a promise and a write on the RPC stream to the Worker.
 */
const BATCH_FRAMES = 256;

/** One event on the `frames` wire: its JSON, which holds no raw line break, and one. */
export function encodeFrame(event: ServerEvent, json = JSON.stringify(event)): string {
  return `${json}\n`;
}

/**
 * One answer on the `ui` wire: each event as the UI message stream's SSE text (often none),
 * with this listener's own encoder state; `ended()` once the answer's last chunk is written.
 */
function uiAnswerEncoder(): { encode: (event: ServerEvent) => string; ended: () => boolean } {
  const step = answerStepper();
  const encode = uiMessageChunks();
  let done = false;
  return {
    encode(event) {
      if (done || !isAnswerFrame(event)) return "";
      const events: AnswerEvent[] = [];
      done = step(event, events);
      let text = "";
      for (const answerEvent of events) text += encode(answerEvent);
      return text;
    },
    ended: () => done,
  };
}

/** Connection frames that carry nothing of an answer. */
const NOT_ANSWER: ReadonlySet<string> = new Set(["history", "pong", "renamed", "deleted", "chats"]);

function isAnswerFrame(event: ServerEvent): event is SessionFrame {
  return !NOT_ANSWER.has(event.type);
}

export class SseListener {
  /** What the listener reads. */
  readonly body: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private readonly keepAlive: ReturnType<typeof setInterval> | undefined;
  private readonly encode: (event: ServerEvent, json?: string) => string;
  /** On the `ui` wire: whether its one answer has ended (the stream then closes). */
  private readonly answered: () => boolean = () => false;
  private closed = false;
  /**
   * Text not yet handed to the reader, in order: a replay (however long: it is already in
   * memory, and retention bounds it) and the live text behind it. Each read takes what has
   * gathered since the last one as one chunk, so nothing waits while the reader keeps up and a
   * reader that is behind gets many frames per read.
   */
  private backlog: string[] = [];
  private head = 0;
  /** Where the replay ends in `backlog`; live text after it counts against the queue limit. */
  private replayEnd = 0;
  /** The reader asked for a chunk and got none yet: the next text goes to it at once. */
  private waiting = false;
  /** Set when the stream should end once the backlog is read. */
  private ending = false;

  constructor(private readonly options: SseListenerOptions) {
    if (options.wire === "ui") {
      const ui = uiAnswerEncoder();
      this.encode = ui.encode;
      this.answered = ui.ended;
    } else {
      this.encode = options.wire === "frames" ? encodeFrame : encodeSse;
    }
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.pull(),
        // The client went away: nothing more is read.
        cancel: () => this.finish(),
      },
      // Nothing queues inside the stream: the backlog is the queue, joined on each read.
      { highWaterMark: 0 },
    );
    // The Worker between a `frames` listener and its client keeps that connection alive; the
    // UI message stream has no keep-alive (as when the Worker wrote it).
    this.keepAlive =
      options.wire === "frames" || options.wire === "ui"
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
    if ((scope !== undefined && event.type === "done") || this.answered()) this.close();
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
      if ((scope !== undefined && event.type === "done") || this.answered()) this.close();
    }
  }

  private write(text: string, replayed = false): void {
    if (this.closed || this.ending || text === "") return;
    if (this.waiting) {
      this.waiting = false;
      this.controller.enqueue(encoder.encode(text));
      return;
    }
    this.backlog.push(text);
    if (replayed) this.replayEnd = this.backlog.length;
    else if (this.backlog.length - Math.max(this.head, this.replayEnd) > SSE_QUEUE_LIMIT) {
      this.dropSlow();
    }
  }

  /** The reader wants a chunk: what has gathered, joined, or the next text when it comes. */
  private pull(): void {
    if (this.head === this.backlog.length) {
      if (this.ending) this.finish();
      else this.waiting = true;
      return;
    }
    const end = Math.min(this.backlog.length, this.head + BATCH_FRAMES);
    const text =
      end - this.head === 1
        ? (this.backlog[this.head] ?? "")
        : this.backlog.slice(this.head, end).join("");
    this.head = end;
    if (this.head === this.backlog.length) {
      this.backlog = [];
      this.head = 0;
      this.replayEnd = 0;
    }
    this.controller.enqueue(encoder.encode(text));
  }

  /**
   * The reader fell too far behind live events: it gets what the queue limit allows, then why
   * it ends, and the stream ends. The backlog past that is dropped; it resumes with Last-Event-ID.
   */
  private dropSlow(): void {
    const message = "The client read too slowly; reconnect with Last-Event-ID.";
    const kept = this.backlog.slice(this.head, this.head + SSE_QUEUE_LIMIT);
    kept.push(this.encode({ type: "error", code: "slow_consumer", message }));
    this.backlog = [];
    this.head = 0;
    // Queued past the limit on purpose: the last thing the client reads says why it ends.
    this.controller.enqueue(encoder.encode(kept.join("")));
    this.finish();
  }

  /** Ends the stream once what it holds is read (idempotent). */
  close(): void {
    // A UI message stream always ends with its answer's end: here, `interrupted`.
    if (!this.closed && !this.ending && this.options.wire === "ui" && !this.answered()) {
      this.write(this.encode(INTERRUPTED_FRAME));
    }
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
