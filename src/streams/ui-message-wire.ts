/**
 * What Sluice sends to AI SDK clients (`useChat`, `DefaultChatTransport`): the UI message
 * stream protocol, https://ai-sdk.dev/docs/ai-sdk-ui/stream-protocol#ui-message-stream-protocol.
 * `UIChunk` is the subset of the `ai` package's `UIMessageChunk` we emit, field for field;
 * test/e2e/ai-sdk.test.ts checks it against that type and reads our streams with the SDK itself.
 */
import { type AnswerEvent, finishMeaning } from "./answer-events.ts";
import { DONE_FRAME, jsonFrame } from "./json-sse.ts";

/** Why the model stopped, in the AI SDK's set. */
export type UIFinishReason =
  | "stop"
  | "length"
  | "content-filter"
  | "tool-calls"
  | "error"
  | "interrupted"
  | "other";

/** The chunks we emit. */
export type UIChunk =
  /** The message begins; the id is the answer's id in the session's history. */
  | { type: "start"; messageId?: string }
  /** One model call begins (a `step-start` part). Sluice makes exactly one per answer. */
  | { type: "start-step" }
  /** A text part begins; its deltas and end carry the same id. */
  | { type: "text-start"; id: string }
  | { type: "text-delta"; id: string; delta: string }
  | { type: "text-end"; id: string }
  | { type: "finish-step" }
  /** The message is complete. */
  | { type: "finish"; finishReason?: UIFinishReason }
  /** The answer was cancelled (in the session, by any of its clients). */
  | { type: "abort"; reason?: string }
  /** The answer failed; the client shows `errorText`. */
  | { type: "error"; errorText: string };

/** The header that tells the AI SDK this is a UI message stream, on top of the SSE headers. */
export const UI_MESSAGE_STREAM_HEADERS = { "x-vercel-ai-ui-message-stream": "v1" } as const;

/** The one text part of an answer. */
const TEXT_ID = "text";

/** An upstream's finish reason in the AI SDK's set. */
export function uiFinishReason(finish: string | undefined): UIFinishReason {
  const meaning = finishMeaning(finish);
  if (meaning === "filter") return "content-filter";
  if (meaning === "tools") return "tool-calls";
  return meaning;
}

/**
 * The UI message chunks of one answer, event by event: the returned function takes the
 * answer's events in order and returns the chunks each one becomes (`start` opens the message
 * and its step, the first text also opens the text part, `end` closes all three). It keeps the
 * message's state, so one encoder serves one answer. The same events always give the same
 * chunks, which is what lets the WebSocket route number chunks by their position in the
 * message and resume after any of them.
 */
export function uiChunkEncoder(): (event: AnswerEvent) => UIChunk[] {
  let started = false;
  let textOpen = false;
  return (event) => {
    const chunks: UIChunk[] = [];
    const begin = (messageId?: string) => {
      if (started) return;
      started = true;
      chunks.push(messageId === undefined ? { type: "start" } : { type: "start", messageId });
      chunks.push({ type: "start-step" });
    };
    switch (event.type) {
      case "start":
        begin(event.messageId);
        break;
      case "text":
        begin();
        if (!textOpen) chunks.push({ type: "text-start", id: TEXT_ID });
        textOpen = true;
        chunks.push({ type: "text-delta", id: TEXT_ID, delta: event.text });
        break;
      case "error":
        begin();
        chunks.push({ type: "error", errorText: event.message });
        break;
      case "end":
        begin();
        if (textOpen) chunks.push({ type: "text-end", id: TEXT_ID });
        textOpen = false;
        chunks.push({ type: "finish-step" });
        if (event.status === "cancelled") {
          chunks.push({ type: "abort", reason: "cancelled" });
        } else {
          const failed = event.status === "error" || event.status === "incomplete";
          chunks.push({
            type: "finish",
            finishReason: failed ? "error" : uiFinishReason(event.finish),
          });
        }
        break;
    }
    return chunks;
  };
}

/**
 * An answer as UI message chunks, event by event (the SSE text each event becomes): `start`
 * (with the message id), `start-step`, a text part opened at the first piece of text,
 * `finish-step`, then `finish` (or `abort` for a cancelled answer), then `data: [DONE]`. An
 * error is sent where it happens, as an `error` chunk; the message is then closed the same
 * way, with `finishReason: "error"`.
 */
export function uiMessageChunks(): (event: AnswerEvent) => string {
  const encode = uiChunkEncoder();
  return (event) => {
    const text = encode(event).map(jsonFrame).join("");
    return event.type === "end" ? text + DONE_FRAME : text;
  };
}
