/**
 * The wait of an answer for its client tools' results: which calls are awaited, the results
 * in so far, and the tools and options the continuation sends again. Kept in the session's
 * `meta` table (one row), so it survives hibernation and eviction.
 */

import type { DistributiveOmit } from "../client/parts.ts";
import { SluiceError } from "../errors.ts";
import type {
  MessagePart,
  RequestOptions,
  SessionEvent,
  StoredMessage,
  ToolDefinition,
  ToolResult,
} from "../protocol.ts";
import { PartsAssembler, partsText } from "./parts.ts";
import type { SessionStore } from "./store.ts";

/** A `tool-result` event before the log numbers it and names its message. */
export type ToolResultEvent = DistributiveOmit<
  Extract<SessionEvent, { type: "tool-result" }>,
  "seq" | "messageId"
>;

const KEY = "tool_wait";

/** An answer waiting for tool results. */
export interface ToolWaitState {
  messageId: string;
  /** Position of the answer's row. */
  position: number;
  /** The step that called the tools; the continuation is `step + 1`. */
  step: number;
  /** The call ids a result must come for, in call order. */
  awaited: string[];
  /** Results received so far (partial sets are kept). */
  results: ToolResult[];
  tools?: ToolDefinition[] | undefined;
  options?: RequestOptions | undefined;
}

function isState(value: unknown): value is ToolWaitState {
  return (
    typeof value === "object" &&
    value !== null &&
    "messageId" in value &&
    "awaited" in value &&
    Array.isArray(value.awaited)
  );
}

/** Reads and changes the persisted wait; every refusal changes nothing. */
export class ToolWait {
  constructor(private readonly store: () => SessionStore) {}

  /** The wait in force, if any. */
  current(): ToolWaitState | undefined {
    const text = this.store().meta(KEY);
    if (text === undefined) return undefined;
    const value: unknown = JSON.parse(text);
    return isState(value) ? value : undefined;
  }

  /** Starts waiting for `state.awaited`. */
  begin(state: ToolWaitState): void {
    this.store().setMeta(KEY, JSON.stringify(state));
  }

  /** Ends the wait (the continuation started, or a cancel dropped it). */
  clear(): void {
    this.store().setMeta(KEY, undefined);
  }

  /**
   * Checks `results` against the wait and records them: `no_tool_call_pending` when nothing
   * waits, `tool_call_unknown` for an id not awaited, `tool_result_duplicate` for one already
   * answered (or twice in `results`). Returns the wait with them and whether it is complete;
   * stores nothing (the caller `begin`s a partial wait or `clear`s a complete one).
   */
  accept(results: readonly ToolResult[]): { state: ToolWaitState; complete: boolean } {
    const state = this.current();
    if (!state) {
      throw new SluiceError(
        "no_tool_call_pending",
        "No answer in this session is waiting for tool results.",
      );
    }
    const answered = new Set(state.results.map((result) => result.toolCallId));
    for (const { toolCallId } of results) {
      if (!state.awaited.includes(toolCallId)) {
        throw new SluiceError(
          "tool_call_unknown",
          `No awaited tool call has the id ${JSON.stringify(toolCallId).slice(0, 80)}; awaited: ${state.awaited.join(", ")}.`,
        );
      }
      if (answered.has(toolCallId)) {
        throw new SluiceError(
          "tool_result_duplicate",
          `The tool call ${toolCallId} already has a result.`,
        );
      }
      answered.add(toolCallId);
    }
    const next = { ...state, results: [...state.results, ...results] };
    return { state: next, complete: next.awaited.every((id) => answered.has(id)) };
  }

  /** The answer the wait is for; `internal` if its row is gone (it never is while a wait stands). */
  message(state: ToolWaitState): StoredMessage {
    const message = this.store().messageAt(state.position);
    if (!message) throw new SluiceError("internal", "The waiting answer is gone.");
    return message;
  }

  /**
   * Stores `results` in the answer's parts (its status and finish unchanged) and returns the
   * parts and the `tool-result` events to broadcast.
   */
  record(
    state: ToolWaitState,
    message: StoredMessage,
    results: readonly ToolResult[],
  ): { parts: MessagePart[]; events: ToolResultEvent[] } {
    const assembler = new PartsAssembler(message.parts);
    const events = results.map(
      (result): ToolResultEvent =>
        "errorText" in result
          ? { type: "tool-result", toolCallId: result.toolCallId, errorText: result.errorText }
          : { type: "tool-result", toolCallId: result.toolCallId, output: result.output },
    );
    for (const event of events) assembler.apply(event);
    const { parts } = assembler;
    this.store().finishMessage(state.position, {
      content: partsText(parts),
      parts,
      status: message.status === "streaming" ? "complete" : message.status,
      finish: message.finish,
      usage: message.usage,
    });
    return { parts, events };
  }

  /** Drops the wait (a cancel): the answer keeps its parts and becomes `cancelled`. */
  drop(): ToolWaitState | undefined {
    const state = this.current();
    if (!state) return undefined;
    this.clear();
    const message = this.store().messageAt(state.position);
    if (message) {
      this.store().finishMessage(state.position, {
        content: message.content,
        parts: message.parts ?? [],
        status: "cancelled",
        finish: message.finish,
        usage: message.usage,
      });
    }
    return state;
  }
}
