/**
 * Data-only SSE, the dialect OpenAI and the AI SDK speak: each message is one `data:` line of
 * JSON, and `data: [DONE]` ends the stream. Sluice's own event streams use src/streams/sse.ts.
 */

import type { AnswerEvent } from "./answer-events.ts";
import type { AnswerSource } from "./answer-source.ts";
import { SSE_HEADERS } from "./sse.ts";

/** The last message of a data-only stream. */
export const DONE_FRAME = "data: [DONE]\n\n";

/**
 * One message. JSON.stringify escapes every line break inside strings and emits none between
 * tokens, so one `data:` line always holds the whole value and nothing can forge a field.
 */
export function jsonFrame(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

const encoder = new TextEncoder();

/**
 * A streaming response: each event of `answer` through `encode` (an answer event to SSE text),
 * as UTF-8, with the SSE headers plus `headers`. One stream, pulled by the client: nothing is
 * read ahead of it, and cancelling the response cancels the answer. The events of one read
 * are one chunk, so a client that fell behind is caught up in few writes.
 */
export function jsonSseResponse(
  answer: AnswerSource,
  encode: (event: AnswerEvent) => string,
  headers: Record<string, string> = {},
): Response {
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const events = await answer.read();
          if (events === undefined) return controller.close();
          let text = "";
          for (const event of events) text += encode(event);
          if (text !== "") return controller.enqueue(encoder.encode(text));
        }
      },
      cancel: (reason) => answer.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { headers: { ...SSE_HEADERS, ...headers } });
}
