/**
 * One answer as the compatibility routes (OpenAI, AI SDK) see it, whether it streams from a
 * session's object or straight from the provider: one vocabulary, so each wire format has one
 * encoder and the two sources one adapter each.
 */
import type { ErrorCode } from "../errors.ts";
import type { MessageStatus } from "../protocol.ts";
import type { ToolInput, Usage } from "../providers/types.ts";
import { type AnswerSource, answerEvents } from "./answer-source.ts";

/** How an answer ended, as its `done` event says. */
export type AnswerStatus = Exclude<MessageStatus, "streaming">;

/** One event of an answer: `start` first, `end` last, exactly once each. */
export type AnswerEvent =
  /** The answer began; `messageId` names it (in the session's history, when there is one). */
  | { type: "start"; messageId: string }
  /** A piece of the answer's text. */
  | { type: "text"; text: string }
  /** A reasoning part begins; `id` is unique within the answer (`s<step>-reasoning-<n>`). */
  | { type: "reasoning-start"; id: string }
  /** A piece of the reasoning's text. */
  | { type: "reasoning-delta"; id: string; text: string }
  /** The reasoning part is complete; Anthropic's `signature` / `redactedData` when there were any. */
  | {
      type: "reasoning-end";
      id: string;
      signature?: string | undefined;
      redactedData?: string | undefined;
    }
  /** The model began a call of the tool `toolName`. */
  | { type: "tool-call-start"; toolCallId: string; toolName: string }
  /** A piece of the call's arguments (JSON text, whole only once joined). */
  | { type: "tool-call-delta"; toolCallId: string; inputDelta: string }
  /** The call is complete: `input` is its parsed arguments. */
  | { type: "tool-call"; toolCallId: string; toolName: string; input: ToolInput }
  /** The call is complete, but its arguments `inputText` are not a JSON object. */
  | {
      type: "tool-call-error";
      toolCallId: string;
      toolName: string;
      inputText: string;
      message: string;
    }
  /** A client's result for a call: `output`, or `errorText` when the tool failed. */
  | { type: "tool-result"; toolCallId: string; output: unknown }
  | { type: "tool-result"; toolCallId: string; errorText: string }
  /** A continuation of the same answer began (step 1, 2, ...): the results are in context. */
  | { type: "step"; step: number }
  /** The answer failed; `end` follows. */
  | { type: "error"; code: ErrorCode; message: string }
  /** The answer ended: how, why (the upstream's finish reason), and what it cost. */
  | { type: "end"; status: AnswerStatus; finish?: string | undefined; usage?: Usage | undefined };

/** A tool call of a collected answer: its arguments as the JSON text the model wrote. */
export interface CollectedToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A whole answer, read to its end (non-streaming responses). */
export interface CollectedAnswer {
  messageId: string;
  text: string;
  /** The reasoning parts' text, joined. */
  reasoning: string;
  /** The tool calls, in the order they started. */
  toolCalls: CollectedToolCall[];
  status: AnswerStatus;
  finish: string | undefined;
  usage: Usage | undefined;
  /** The first error, if the answer failed. */
  error: { code: ErrorCode; message: string } | undefined;
}

/** Reads `answer` to its end and returns it whole. */
export async function collectAnswer(answer: AnswerSource): Promise<CollectedAnswer> {
  const collected: CollectedAnswer = {
    messageId: "",
    text: "",
    reasoning: "",
    toolCalls: [],
    status: "incomplete",
    finish: undefined,
    usage: undefined,
    error: undefined,
  };
  const calls = new Map<string, CollectedToolCall>();
  const call = (toolCallId: string, toolName: string): CollectedToolCall => {
    let found = calls.get(toolCallId);
    if (!found) {
      found = { id: toolCallId, name: toolName, arguments: "" };
      calls.set(toolCallId, found);
    }
    return found;
  };
  for await (const event of answerEvents(answer)) {
    switch (event.type) {
      case "start":
        collected.messageId = event.messageId;
        break;
      case "text":
        collected.text += event.text;
        break;
      case "reasoning-delta":
        collected.reasoning += event.text;
        break;
      case "tool-call-start":
        call(event.toolCallId, event.toolName);
        break;
      case "tool-call-delta": {
        const found = calls.get(event.toolCallId);
        if (found) found.arguments += event.inputDelta;
        break;
      }
      case "tool-call": {
        const found = call(event.toolCallId, event.toolName);
        // Anthropic's tool_use may come whole, with no argument deltas.
        if (found.arguments === "") found.arguments = JSON.stringify(event.input);
        break;
      }
      case "tool-call-error": {
        const found = call(event.toolCallId, event.toolName);
        found.arguments = event.inputText;
        break;
      }
      case "error":
        collected.error ??= { code: event.code, message: event.message };
        break;
      case "end":
        collected.status = event.status;
        collected.finish = event.finish;
        collected.usage = event.usage;
        break;
    }
  }
  collected.toolCalls = [...calls.values()];
  return collected;
}

/** Finish reasons as upstreams name them, grouped by what they mean. */
const FINISH_MEANINGS: Record<string, "stop" | "length" | "filter" | "tools"> = {
  stop: "stop",
  end_turn: "stop",
  stop_sequence: "stop",
  length: "length",
  max_tokens: "length",
  model_length: "length",
  content_filter: "filter",
  refusal: "filter",
  tool_calls: "tools",
  tool_use: "tools",
  function_call: "tools",
};

/**
 * What an upstream's finish reason means, whichever upstream named it (OpenAI `length`,
 * Anthropic `max_tokens`, ...); `other` for names we do not know.
 */
export function finishMeaning(
  finish: string | undefined,
): "stop" | "length" | "filter" | "tools" | "other" {
  if (finish === undefined) return "stop";
  return Object.hasOwn(FINISH_MEANINGS, finish) ? (FINISH_MEANINGS[finish] ?? "other") : "other";
}
