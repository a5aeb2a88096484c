/**
 * What one message of each wire format the relay speaks says to a benchmark: the answer's text
 * in it, whether it ends the answer, or the error it reports. Only the public wire formats are
 * read (docs/protocol.md, docs/clients.md), so the readers hold whatever the relay's insides are.
 */

/** One message, read. */
export interface Reading {
  /** Answer text the message carries (the stamps of the bench upstream). */
  text?: string;
  /** The answer (or the response to this request) ended cleanly. */
  end?: boolean;
  /** The answer failed: the error code or text. */
  error?: string;
}

/** A JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `text` as a JSON object, or undefined when it is not one. */
export function parseRecord(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== "string") return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const str = (value: unknown) => (typeof value === "string" ? value : undefined);

/** A session event (`/chat` frames; SSE `event:` + `data:` on the native routes). */
function readSessionEvent(type: unknown, frame: Record<string, unknown> | undefined): Reading {
  if (type === "chunk") return { text: str(frame?.content) ?? "" };
  if (type === "error") return { error: str(frame?.code) ?? "error" };
  if (type === "done")
    return frame?.status === "complete" ? { end: true } : { error: "incomplete" };
  return {};
}

/** An SSE message of `POST /sessions/:id/messages` or `GET /sessions/:id/events`. */
export function readNativeSse(event: string, data: string): Reading {
  return readSessionEvent(event, parseRecord(data));
}

/** A frame of the `/chat` WebSocket. */
export function readChatFrame(data: unknown): Reading {
  const frame = parseRecord(data);
  if (frame === undefined) return { error: "bad_frame" };
  return readSessionEvent(frame.type, frame);
}

/** An SSE `data:` of `POST /v1/chat/completions` (stream: true), or of the upstream itself. */
export function readOpenAiSse(data: string): Reading {
  if (data === "[DONE]") return { end: true };
  const chunk = parseRecord(data);
  if (chunk === undefined) return { error: "bad_frame" };
  if (chunk.error !== undefined) return { error: "error" };
  const choices = chunk.choices;
  const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
  const delta = isRecord(choice) ? choice.delta : undefined;
  return { text: (isRecord(delta) && str(delta.content)) || "" };
}

/** One AI SDK UI message chunk (an object already parsed). */
function readUiChunk(chunk: unknown): Reading {
  if (!isRecord(chunk)) return { error: "bad_frame" };
  if (chunk.type === "text-delta") return { text: str(chunk.delta) ?? "" };
  if (chunk.type === "error") return { error: str(chunk.errorText) ?? "error" };
  if (chunk.type === "abort") return { error: "abort" };
  return {};
}

/** An SSE `data:` of `POST /api/chat` or `GET /api/chat/:id/stream` (UI message stream). */
export function readUiSse(data: string): Reading {
  if (data === "[DONE]") return { end: true };
  const chunk = parseRecord(data);
  return chunk === undefined ? { error: "bad_frame" } : readUiChunk(chunk);
}

/** A server frame of `/api/chat/ws` (WebSocketChatTransport) for request `requestId`. */
export function readAiSdkWsFrame(data: unknown, requestId: string): Reading {
  const frame = parseRecord(data);
  if (frame === undefined) return { error: "bad_frame" };
  if (frame.requestId !== requestId) return {};
  if (frame.type === "chunk") return readUiChunk(frame.chunk);
  if (frame.type === "end") return { end: true };
  if (frame.type === "error") return { error: str(frame.errorText) ?? "error" };
  if (frame.type === "no-active") return { error: "no-active" };
  return {};
}
