/** Server-Sent Events encoding: one place for the wire format and the response headers. */
import type { ServerEvent } from "../protocol.ts";

/** Headers of every SSE response. `no-transform` stops proxies from compressing and buffering it. */
export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
} as const;

const LINE_BREAK = /\r\n|\r|\n/g;

/**
 * One SSE message. The event name is the frame's `type` and the id its sequence number, so a
 * browser's EventSource sends it back as `Last-Event-ID`. The data is one line: JSON.stringify
 * escapes every CR and LF inside strings and adds none of its own, so no content can end the
 * line and forge another field. `json` is the event already stringified, when the caller has it.
 */
export function encodeSse(event: ServerEvent, json = JSON.stringify(event)): string {
  const id = "seq" in event ? `id: ${event.seq}\n` : "";
  return `event: ${event.type}\n${id}data: ${json}\n\n`;
}

/** An SSE comment line: keeps idle connections open through proxies, ignored by clients. */
export function sseComment(text: string): string {
  return `: ${text.replace(LINE_BREAK, " ")}\n\n`;
}
