/**
 * What `GET /api/chat/ws` sends: the server frames of the AI SDK's `WebSocketChatTransport`
 * (`ai` 7, `WebSocketChatTransportResponse`), field for field. Kept apart from the request
 * parser so the Node tests can check the type against the SDK's without loading the Worker.
 */
import type { SluiceError } from "../errors.ts";
import type { UIChunk } from "../streams/ui-message-wire.ts";

/** A server frame; every one names the request it answers. */
export type WsChatResponse =
  /** A resume found an answer in progress; its chunks follow. */
  | { type: "start"; requestId: string }
  /** One UI message chunk; `sequence` counts up by one, from 0 in each response. */
  | { type: "chunk"; requestId: string; sequence: number; chunk: UIChunk }
  /** The response is complete. */
  | { type: "end"; requestId: string }
  /** The request failed; `errorText` is `<code>: <message>`. */
  | { type: "error"; requestId: string; errorText: string }
  /** A resume found nothing streaming in the chat. */
  | { type: "no-active"; requestId: string };

/**
 * The error frame for `requestId` ("" when the frame had none readable). The code leads the
 * text because `errorText` is all the SDK passes on: an app can still tell `busy` from the rest.
 */
export function errorResponse(requestId: string, error: SluiceError): WsChatResponse {
  return { type: "error", requestId, errorText: `${error.code}: ${error.message}` };
}
