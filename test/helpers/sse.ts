// An SSE client for tests: reads a text/event-stream response event by event, and can drop it.
import { EventSourceParserStream } from "eventsource-parser/stream";
import { record } from "./record.ts";

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: Record<string, unknown>;
}

export interface SseStream {
  response: Response;
  /** The next event, or undefined when the stream ended. */
  next(): Promise<SseEvent | undefined>;
  /** Drops the connection, as a network failure would. */
  drop(): void;
}

export async function openSse(url: string, init: RequestInit = {}): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(url, { ...init, signal: controller.signal });
  if (!response.body) throw new Error(`no body (HTTP ${response.status})`);
  const reader = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  return {
    response,
    async next() {
      try {
        const { done, value } = await reader.read();
        if (done) return undefined;
        record(`${value.event} ${value.id} ${value.data}`);
        return { event: value.event ?? "message", id: value.id, data: JSON.parse(value.data) };
      } catch (error) {
        if (controller.signal.aborted) return undefined;
        throw error;
      }
    },
    drop: () => controller.abort(),
  };
}

/** Reads every event until the stream ends. */
export async function readAll(stream: SseStream): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for (;;) {
    const event = await stream.next();
    if (!event) return events;
    events.push(event);
  }
}
