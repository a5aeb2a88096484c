/** Server-Sent Events encoding: one place for the wire format and the response headers. */
import type { ServerEvent } from "../protocol.ts";

/** Headers of every SSE response. `no-transform` stops proxies from compressing and buffering it. */
export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
} as const;

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * One SSE message. The event name is the frame's `type` and the id its sequence number, so a
 * browser's EventSource sends it back as `Last-Event-ID`. Data is JSON (no raw newlines), but
 * it is still split on line breaks so that no input can forge another field.
 */
export function encodeSse(event: ServerEvent): string {
  const id = "seq" in event ? `id: ${event.seq}\n` : "";
  const data = JSON.stringify(event)
    .split(LINE_BREAK)
    .map((line) => `data: ${line}\n`)
    .join("");
  return `event: ${event.type}\n${id}${data}\n`;
}

/** An SSE comment line: keeps idle connections open through proxies, ignored by clients. */
export function sseComment(text: string): string {
  return `: ${text.replace(LINE_BREAK, " ")}\n\n`;
}
