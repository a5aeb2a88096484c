/**
 * Parts from delta streams that never say where a part starts or ends (Chat Completions and
 * Workers AI): reasoning opens at its first text and closes at the next text or tool call;
 * tool calls are grouped by `index` and close when the choice finishes.
 */
import type { Emit } from "./sse-events.ts";
import { MAX_TOOL_ARGUMENTS, newToolCallId, toolCallEnd } from "./tool-input.ts";
import { UpstreamMalformed } from "./wire.ts";

/** One entry of a delta's `tool_calls`, as read off the wire. */
export interface ToolCallDelta {
  /** The upstream's `index`; `undefined` when the entry has none. */
  index: number | undefined;
  /** The call's id, if this entry carries a non-empty one. */
  id: string | undefined;
  /** The function's name, if this entry carries a non-empty one. */
  name: string | undefined;
  /** A piece of the arguments' JSON text, `""` when none. */
  arguments: string;
}

/** A call that came whole, in one piece (Workers AI's own format names no id and no index). */
export interface WholeToolCall {
  id: string | undefined;
  name: string | undefined;
  arguments: string;
}

/** A tool call being assembled. */
interface Call {
  id: string | undefined;
  name: string | undefined;
  /** The joined arguments so far, including any that came before the call could start. */
  joined: string;
  /** Position among started calls; -1 until the call has started (it needs a name). */
  index: number;
  ended: boolean;
}

/**
 * The part state of one delta stream. Each method emits the events its input makes and
 * throws `UpstreamMalformed` when the input breaks the protocol. The rules:
 *
 * - A call starts (`tool-call-start`) at the first delta that gave it a name; its id is the
 *   first non-empty id seen by then, or a new `call_...` one. Argument text that came before
 *   the start is sent as one delta right after it. Later ids and names are ignored (Qwen
 *   sends `id: ""` on every continuation, which reads as no id).
 * - An entry without an `index` belongs to the call with its id; with a new id it starts a
 *   new call; without an id it continues the last call. An index that is not a non-negative
 *   integer is refused by the reader (see `ToolCalls` in openai-chunk.ts).
 * - An entry with no id, no name and no arguments is nothing (Workers AI ends calls with
 *   such "null" entries) and is skipped.
 * - Deltas for a call that already ended are ignored: after `close` nothing changes a call.
 * - `close` ends reasoning and every call; a call that never got a name is malformed.
 */
export class DeltaParts {
  /** Calls by key: `i<index>` for an upstream index, `n<k>` for calls without one. */
  private readonly calls = new Map<string, Call>();
  private readonly order: Call[] = [];
  private started = 0;
  private reasoningCount = 0;
  private reasoningId: string | undefined;

  private readonly newId: () => string;

  constructor(newId: () => string = newToolCallId) {
    this.newId = newId;
  }

  /** A piece of reasoning text; opens a reasoning part if none is open. */
  reasoning(text: string | undefined, emit: Emit): void {
    if (!text) return;
    if (this.reasoningId === undefined) {
      this.reasoningId = `reasoning-${this.reasoningCount++}`;
      emit({ type: "reasoning-start", id: this.reasoningId });
    }
    emit({ type: "reasoning-delta", id: this.reasoningId, text });
  }

  /** A piece of answer text; it ends an open reasoning part first. */
  text(text: string | undefined, emit: Emit): void {
    if (!text) return;
    this.endReasoning(emit);
    emit({ type: "text", text });
  }

  /** One `tool_calls` entry of a delta. */
  toolCall(delta: ToolCallDelta, emit: Emit): void {
    if (delta.id === undefined && delta.name === undefined && delta.arguments === "") return;
    const call = this.find(delta);
    if (call.ended) return;
    call.id ??= delta.id;
    call.name ??= delta.name;
    this.append(call, delta.arguments, emit);
  }

  /** A call that came whole: it starts and ends at once. */
  wholeCall(whole: WholeToolCall, emit: Emit): void {
    const call = this.create(`n${this.order.length}`);
    call.id = whole.id;
    call.name = whole.name;
    this.append(call, whole.arguments, emit);
    this.end(call, emit);
  }

  /** The choice is over: ends the open reasoning part and every call not yet ended. */
  close(emit: Emit): void {
    this.endReasoning(emit);
    for (const call of this.order) this.end(call, emit);
  }

  private find(delta: ToolCallDelta): Call {
    if (delta.index !== undefined) {
      return this.calls.get(`i${delta.index}`) ?? this.create(`i${delta.index}`);
    }
    if (delta.id !== undefined) {
      const same = this.order.find((call) => call.id === delta.id);
      return same ?? this.create(`n${this.order.length}`);
    }
    return this.order.at(-1) ?? this.create(`n${this.order.length}`);
  }

  private create(key: string): Call {
    const call: Call = { id: undefined, name: undefined, joined: "", index: -1, ended: false };
    this.calls.set(key, call);
    this.order.push(call);
    return call;
  }

  private append(call: Call, text: string, emit: Emit): void {
    if (call.joined.length + text.length > MAX_TOOL_ARGUMENTS) {
      throw new UpstreamMalformed(`tool call arguments over ${MAX_TOOL_ARGUMENTS} characters`);
    }
    call.joined += text;
    if (call.index >= 0) {
      if (text && call.id !== undefined) {
        emit({ type: "tool-call-delta", id: call.id, index: call.index, arguments: text });
      }
      return;
    }
    if (call.name === undefined) return;
    this.endReasoning(emit);
    call.index = this.started++;
    call.id ??= this.newId();
    emit({ type: "tool-call-start", id: call.id, index: call.index, name: call.name });
    if (call.joined) {
      emit({ type: "tool-call-delta", id: call.id, index: call.index, arguments: call.joined });
    }
  }

  private end(call: Call, emit: Emit): void {
    if (call.ended) return;
    if (call.index < 0 || call.id === undefined || call.name === undefined) {
      const which = call.id ? ` (${call.id})` : "";
      throw new UpstreamMalformed(`a tool call${which} without a function name`);
    }
    call.ended = true;
    emit(toolCallEnd(call.id, call.index, call.name, call.joined));
  }

  private endReasoning(emit: Emit): void {
    if (this.reasoningId === undefined) return;
    emit({ type: "reasoning-end", id: this.reasoningId });
    this.reasoningId = undefined;
  }
}
