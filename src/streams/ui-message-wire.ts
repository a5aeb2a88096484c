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

/** Provider data a reasoning part carries back (Anthropic's thinking signature). */
export type UIReasoningMetadata = {
  /** `signature` and/or `redactedData`; a type, not an interface, so it fits the SDK's records. */
  anthropic: Record<string, string>;
};

/** The chunks we emit. */
export type UIChunk =
  /** The message begins; the id is the answer's id in the session's history. */
  | { type: "start"; messageId?: string }
  /** One model call begins (a `step-start` part): one per step of the answer. */
  | { type: "start-step" }
  /** A text part begins; its deltas and end carry the same id. */
  | { type: "text-start"; id: string }
  | { type: "text-delta"; id: string; delta: string }
  | { type: "text-end"; id: string }
  /** A reasoning part, like a text part; its end carries Anthropic's signature when there is one. */
  | { type: "reasoning-start"; id: string }
  | { type: "reasoning-delta"; id: string; delta: string }
  | { type: "reasoning-end"; id: string; providerMetadata?: UIReasoningMetadata }
  /** A tool call begins; argument text follows, then the parsed input (or why it is invalid). */
  | { type: "tool-input-start"; toolCallId: string; toolName: string }
  | { type: "tool-input-delta"; toolCallId: string; inputTextDelta: string }
  | { type: "tool-input-available"; toolCallId: string; toolName: string; input: unknown }
  | {
      type: "tool-input-error";
      toolCallId: string;
      toolName: string;
      input: unknown;
      errorText: string;
    }
  /** A client's result of a call. */
  | { type: "tool-output-available"; toolCallId: string; output: unknown }
  | { type: "tool-output-error"; toolCallId: string; errorText: string }
  | { type: "finish-step" }
  /** The message is complete. */
  | { type: "finish"; finishReason?: UIFinishReason }
  /** The answer was cancelled (in the session, by any of its clients). */
  | { type: "abort"; reason?: string }
  /** The answer failed; the client shows `errorText`. */
  | { type: "error"; errorText: string };

/** The header that tells the AI SDK this is a UI message stream, on top of the SSE headers. */
export const UI_MESSAGE_STREAM_HEADERS = { "x-vercel-ai-ui-message-stream": "v1" } as const;

/** A text part's id: `text` for the first of an answer's stream, then `text-1`, `text-2`, ... */
function textId(count: number): string {
  return count === 0 ? "text" : `text-${count}`;
}

function reasoningEnd(event: Extract<AnswerEvent, { type: "reasoning-end" }>): UIChunk {
  const { id, signature, redactedData } = event;
  if (signature === undefined && redactedData === undefined) return { type: "reasoning-end", id };
  const anthropic: Record<string, string> = {};
  if (signature !== undefined) anthropic.signature = signature;
  if (redactedData !== undefined) anthropic.redactedData = redactedData;
  return { type: "reasoning-end", id, providerMetadata: { anthropic } };
}

/** An upstream's finish reason in the AI SDK's set. */
export function uiFinishReason(finish: string | undefined): UIFinishReason {
  const meaning = finishMeaning(finish);
  if (meaning === "filter") return "content-filter";
  if (meaning === "tools") return "tool-calls";
  return meaning;
}

/**
 * The UI message chunks of one answer, event by event: the returned function takes the
 * answer's events in order and returns the chunks each one becomes. `start` opens the message
 * and its step; a `step` after some parts closes the step and opens the next (right after
 * `start`, as a continuation's stream begins, it adds nothing); text opens a text part that the next part or the end
 * closes; reasoning and tool calls map one to one; `end` closes the step and the message. A
 * tool result is sent only for a call this stream showed (the client of a continuation has
 * its own calls' results already). It keeps the message's state, so one encoder serves one
 * answer. The same events always give the same chunks, which is what lets the WebSocket route
 * number chunks by their position in the message and resume after any of them.
 */
export function uiChunkEncoder(): (event: AnswerEvent) => UIChunk[] {
  let started = false;
  // Nothing was shown since the step's `start-step`: a `step` here opens no new step.
  let stepEmpty = false;
  let textOpen: string | undefined;
  let texts = 0;
  const calls = new Set<string>();
  return (event) => {
    const chunks: UIChunk[] = [];
    const begin = (messageId?: string) => {
      if (started) return;
      started = true;
      chunks.push(messageId === undefined ? { type: "start" } : { type: "start", messageId });
      chunks.push({ type: "start-step" });
      stepEmpty = true;
    };
    const closeText = () => {
      if (textOpen !== undefined) chunks.push({ type: "text-end", id: textOpen });
      textOpen = undefined;
    };
    switch (event.type) {
      case "start":
        begin(event.messageId);
        return chunks;
      case "step":
        if (started && !stepEmpty) {
          closeText();
          chunks.push({ type: "finish-step" }, { type: "start-step" });
          stepEmpty = true;
        }
        begin();
        return chunks;
      case "text":
        begin();
        if (textOpen === undefined) {
          textOpen = textId(texts++);
          chunks.push({ type: "text-start", id: textOpen });
        }
        chunks.push({ type: "text-delta", id: textOpen, delta: event.text });
        break;
      case "reasoning-start":
        begin();
        closeText();
        chunks.push({ type: "reasoning-start", id: event.id });
        break;
      case "reasoning-delta":
        begin();
        chunks.push({ type: "reasoning-delta", id: event.id, delta: event.text });
        break;
      case "reasoning-end":
        begin();
        chunks.push(reasoningEnd(event));
        break;
      case "tool-call-start":
        begin();
        closeText();
        calls.add(event.toolCallId);
        chunks.push({
          type: "tool-input-start",
          toolCallId: event.toolCallId,
          toolName: event.toolName,
        });
        break;
      case "tool-call-delta":
        begin();
        chunks.push({
          type: "tool-input-delta",
          toolCallId: event.toolCallId,
          inputTextDelta: event.inputDelta,
        });
        break;
      case "tool-call": {
        begin();
        closeText();
        calls.add(event.toolCallId);
        const { toolCallId, toolName, input } = event;
        chunks.push({ type: "tool-input-available", toolCallId, toolName, input });
        break;
      }
      case "tool-call-error": {
        begin();
        closeText();
        calls.add(event.toolCallId);
        const { toolCallId, toolName, inputText, message } = event;
        chunks.push({
          type: "tool-input-error",
          toolCallId,
          toolName,
          input: inputText,
          errorText: message,
        });
        break;
      }
      case "tool-result":
        begin();
        if (!calls.has(event.toolCallId)) break;
        chunks.push(
          "errorText" in event
            ? {
                type: "tool-output-error",
                toolCallId: event.toolCallId,
                errorText: event.errorText,
              }
            : { type: "tool-output-available", toolCallId: event.toolCallId, output: event.output },
        );
        break;
      case "error":
        begin();
        chunks.push({ type: "error", errorText: event.message });
        break;
      case "end":
        begin();
        closeText();
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
    stepEmpty = false;
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
