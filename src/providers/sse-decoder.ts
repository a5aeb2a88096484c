/** Server-sent events from text, by the WHATWG EventSource parsing rules, fed read by read. */

/** One dispatched event. */
export interface SseMessage {
  /** The `event` field, `undefined` when the event had none (a plain "message"). */
  event: string | undefined;
  /** The last `id` seen on the stream so far, as the spec keeps it across events. */
  id: string | undefined;
  /** The `data` lines joined with "\n". */
  data: string;
}

/**
 * The SSE parsing algorithm of the HTML standard ("Parsing an event stream"), with the text
 * fed in pieces as it arrives: lines end at CR, LF or CRLF (a CRLF split across two pieces is
 * one line end), `:` starts a comment, a field's value loses one leading space, `data` lines
 * are joined with "\n", a blank line dispatches (nothing when no `data` came), `id` persists
 * across events (unless it holds U+0000), `retry` takes digits only, other fields are ignored.
 * A BOM at the very start is dropped. An event not ended by a blank line before the text ends
 * is never dispatched, as the spec says. Bytes are not its business: the caller decodes them
 * (with `ignoreBOM`, so that only this strips the BOM).
 *
 * Written for the hot path, one call per read: the held partial line is the only copy made
 * of the text, and lines are cut with `indexOf` rather than a character loop or a RegExp.
 */
export class SseDecoder {
  /** The last valid `retry` value in milliseconds; the relay never reconnects, tests read it. */
  retry: number | undefined;

  private readonly onMessage: (message: SseMessage) => void;
  private readonly maxLine: number;
  private partial = "";
  private data: string | undefined;
  private event: string | undefined;
  private id: string | undefined;
  private started = false;
  /** The last piece ended with CR: an LF at the start of the next one ends no line. */
  private afterCr = false;

  /**
   * `onMessage` hears each event. `maxLine` bounds what is held between blank lines (a partial
   * line, and the data of an event not yet dispatched); going over it throws `SseOverflow`,
   * after which this decoder must not be fed again.
   */
  constructor(onMessage: (message: SseMessage) => void, maxLine = Number.POSITIVE_INFINITY) {
    this.onMessage = onMessage;
    this.maxLine = maxLine;
  }

  /** Decodes the next piece of the stream's text. */
  feed(piece: string): void {
    if (piece === "") return;
    let text = piece;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    if (this.afterCr && text.charCodeAt(0) === 10) start = 1;
    this.afterCr = false;
    if (this.partial !== "") {
      text = this.partial + text.slice(start);
      this.partial = "";
      start = 0;
    }
    const length = text.length;
    // CR line ends are rare; the next one is looked up only once the last one is passed.
    let cr = text.indexOf("\r", start);
    while (start < length) {
      const lf = text.indexOf("\n", start);
      if (cr !== -1 && cr < start) cr = text.indexOf("\r", start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 === length) {
          this.afterCr = true;
          next = length;
        } else {
          next = text.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      this.line(text, start, end);
      start = next;
    }
    if (start < length) {
      this.partial = start === 0 ? text : text.slice(start);
      if (this.partial.length > this.maxLine) throw new SseOverflow(this.maxLine);
    }
  }

  private line(text: string, start: number, end: number): void {
    if (start === end) {
      this.dispatch();
      return;
    }
    const colon = text.indexOf(":", start);
    if (colon === start) return;
    let field: string;
    let value: string;
    if (colon === -1 || colon >= end) {
      field = text.slice(start, end);
      value = "";
    } else {
      field = text.slice(start, colon);
      value = text.slice(text.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1, end);
    }
    switch (field) {
      case "data":
        this.data = this.data === undefined ? value : `${this.data}\n${value}`;
        if (this.data.length > this.maxLine) throw new SseOverflow(this.maxLine);
        break;
      case "event":
        this.event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
    }
  }

  private dispatch(): void {
    const data = this.data;
    const event = this.event;
    this.data = undefined;
    this.event = undefined;
    if (data === undefined) return;
    this.onMessage({ event: event === "" ? undefined : event, id: this.id, data });
  }
}

/** Thrown by `SseDecoder.feed` when a line or an event's data outgrows its bound. */
export class SseOverflow extends Error {
  constructor(max: number) {
    super(`An SSE line over ${max} chars`);
    this.name = "SseOverflow";
  }
}
