/** The Anthropic Messages stream read into our events: content blocks become parts. */
import * as v from "valibot";
import type { Emit, EventTransform } from "./sse-events.ts";
import { MAX_TOOL_ARGUMENTS, toolCallEnd } from "./tool-input.ts";
import type { JsonObject } from "./wire.ts";
import {
  AnyObject,
  Count,
  droppedEvent,
  isIndex,
  lenient,
  malformedEvent,
  nested,
  nonEmpty,
  parseObject,
  readWith,
  Text,
  UpstreamMalformed,
  upstreamErrorEvent,
} from "./wire.ts";

/** A block `index`, read as given; checked (`blockIndex`) only where the event needs one. */
const Index = lenient(v.custom<number>(isIndex));

/** The fields of each event type we read; any other field, or a field of the wrong type, is ignored. */
const MessageStart = v.object({
  message: nested(v.object({ usage: nested(v.object({ input_tokens: Count })) })),
});
const BlockStart = v.object({
  index: Index,
  content_block: nested(
    v.object({
      type: Text,
      text: Text,
      thinking: Text,
      signature: Text,
      data: Text,
      id: Text,
      name: Text,
      input: AnyObject,
    }),
  ),
});
const BlockDelta = v.object({
  index: Index,
  delta: nested(
    v.object({ type: Text, text: Text, thinking: Text, signature: Text, partial_json: Text }),
  ),
});
const BlockStop = v.object({ index: Index });
const MessageDelta = v.object({
  usage: nested(v.object({ input_tokens: Count, output_tokens: Count })),
  delta: nested(v.object({ stop_reason: Text })),
});
const ErrorEvent = v.object({ error: nested(v.object({ message: Text, type: Text })) });

/** A content block the stream has started and not yet stopped. */
type Block =
  | { kind: "text" }
  | { kind: "thinking"; id: string; signature: string }
  | { kind: "redacted"; id: string; data: string }
  | { kind: "tool"; id: string; index: number; name: string; joined: string; initial: string }
  /** Blocks we do not relay (server tools and their results, types added later). */
  | { kind: "other" };

/**
 * Parsed SSE messages of a Messages stream to our events. The JSON `type` decides, not the SSE
 * `event:` line, which some proxies drop. Content blocks become parts:
 * - `text` blocks: each `text_delta` is answer text (as before, even for a block never started).
 * - `thinking`: a reasoning part; `thinking_delta` its text, `signature_delta` its `signature`
 *   (on `reasoning-end`). `redacted_thinking`: a reasoning part with no text, its `data` as
 *   `redactedData` on the end.
 * - `tool_use`: a tool call with the block's `id` and `name`; `input_json_delta.partial_json`
 *   its arguments, parsed at `content_block_stop` (none at all means `{}`; a start `input`
 *   that is not empty counts when no delta came).
 * - anything else (`server_tool_use`, search results, block types added later): skipped.
 * A thinking, signature or input delta whose block never started (or is of another kind) is
 * `upstream_malformed`: it cannot be shown as part of anything. So is a `tool_use` start
 * without an id or a name.
 * One `usage` event comes at `message_delta`, with input tokens from it if present, else
 * from `message_start`. `finish` is held until `message_stop` so it is the last event, like
 * the OpenAI transform; blocks still open then are ended first. An `error` event ends the
 * stream, leaving open parts open. `ping` and event types added after this was written are
 * skipped, as Anthropic's versioning policy asks of clients.
 * A stream that closes without `message_stop` is `upstream_dropped`, unless it already gave a
 * stop reason (lenient, as for OpenAI's missing `[DONE]`: the answer is complete by then).
 */
export function anthropicEvents(): EventTransform {
  let inputTokens: number | undefined;
  let stopReason: string | undefined;
  let ended = false;
  const blocks = new Map<number, Block>();
  let reasoningCount = 0;
  let toolCount = 0;

  const stopBlock = (index: number, emit: Emit) => {
    const block = blocks.get(index);
    blocks.delete(index);
    if (block?.kind === "thinking") {
      emit({
        type: "reasoning-end",
        id: block.id,
        ...(block.signature ? { signature: block.signature } : {}),
      });
    } else if (block?.kind === "redacted") {
      emit({ type: "reasoning-end", id: block.id, redactedData: block.data });
    } else if (block?.kind === "tool") {
      const { id, index: position, name } = block;
      if (block.joined === "" && block.initial !== "") {
        block.joined = block.initial;
        emit({ type: "tool-call-delta", id, index: position, arguments: block.initial });
      }
      emit(toolCallEnd(id, position, name, block.joined));
    }
  };
  const stopAll = (emit: Emit) => {
    for (const index of [...blocks.keys()].sort((a, b) => a - b)) stopBlock(index, emit);
  };

  const startBlock = (event: JsonObject, emit: Emit) => {
    const start = readWith(BlockStart, event);
    const index = blockIndex(start.index, "content_block_start");
    const content = start.content_block;
    switch (content?.type) {
      case "text": {
        blocks.set(index, { kind: "text" });
        const text = content.text;
        if (text) emit({ type: "text", text });
        break;
      }
      case "thinking": {
        const id = `reasoning-${reasoningCount++}`;
        blocks.set(index, {
          kind: "thinking",
          id,
          signature: content.signature ?? "",
        });
        emit({ type: "reasoning-start", id });
        const text = content.thinking;
        if (text) emit({ type: "reasoning-delta", id, text });
        break;
      }
      case "redacted_thinking": {
        const id = `reasoning-${reasoningCount++}`;
        blocks.set(index, { kind: "redacted", id, data: content.data ?? "" });
        emit({ type: "reasoning-start", id });
        break;
      }
      case "tool_use": {
        const id = nonEmpty(content.id);
        const name = nonEmpty(content.name);
        if (id === undefined || name === undefined) {
          throw new UpstreamMalformed("a tool_use block without an id or a name");
        }
        const input = content.input;
        const initial = input && Object.keys(input).length > 0 ? JSON.stringify(input) : "";
        const position = toolCount++;
        blocks.set(index, { kind: "tool", id, index: position, name, joined: "", initial });
        emit({ type: "tool-call-start", id, index: position, name });
        break;
      }
      default:
        blocks.set(index, { kind: "other" });
    }
  };

  const blockDelta = (event: JsonObject, emit: Emit) => {
    const said = readWith(BlockDelta, event);
    const delta = said.delta;
    const kind = delta?.type;
    if (kind === "text_delta") {
      const text = delta?.text;
      if (text) emit({ type: "text", text });
      return;
    }
    if (kind !== "thinking_delta" && kind !== "signature_delta" && kind !== "input_json_delta") {
      return;
    }
    const index = blockIndex(said.index, "content_block_delta");
    const block = blocks.get(index);
    if (kind === "input_json_delta") {
      if (block?.kind !== "tool") throw notStarted(kind, index);
      const piece = delta?.partial_json ?? "";
      if (block.joined.length + piece.length > MAX_TOOL_ARGUMENTS) {
        throw new UpstreamMalformed(`tool call arguments over ${MAX_TOOL_ARGUMENTS} characters`);
      }
      block.joined += piece;
      if (piece)
        emit({ type: "tool-call-delta", id: block.id, index: block.index, arguments: piece });
      return;
    }
    if (block?.kind !== "thinking") throw notStarted(kind, index);
    if (kind === "signature_delta") {
      block.signature += delta?.signature ?? "";
      return;
    }
    const text = delta?.thinking;
    if (text) emit({ type: "reasoning-delta", id: block.id, text });
  };

  return {
    message(message, emit) {
      if (ended || message.data.trim() === "") return;
      try {
        const event = parseObject(message.data);
        if (!event) throw new UpstreamMalformed("an event that is not a JSON object");
        switch (typeof event.type === "string" ? event.type : message.event) {
          case "message_start":
            inputTokens = readWith(MessageStart, event).message?.usage?.input_tokens ?? undefined;
            break;
          case "content_block_start":
            startBlock(event, emit);
            break;
          case "content_block_delta":
            blockDelta(event, emit);
            break;
          case "content_block_stop":
            stopBlock(blockIndex(readWith(BlockStop, event).index, "content_block_stop"), emit);
            break;
          case "message_delta": {
            const said = readWith(MessageDelta, event);
            const outputTokens = said.usage?.output_tokens;
            if (outputTokens != null) {
              const input = said.usage?.input_tokens ?? inputTokens ?? 0;
              emit({ type: "usage", usage: { inputTokens: input, outputTokens } });
            }
            stopReason = said.delta?.stop_reason ?? stopReason;
            break;
          }
          case "message_stop":
            ended = true;
            stopAll(emit);
            emit({ type: "finish", reason: stopReason ?? "end_turn" });
            break;
          case "error": {
            ended = true;
            const error = readWith(ErrorEvent, event).error;
            const text = error?.message ?? undefined;
            const kind = error?.type ?? undefined;
            emit(upstreamErrorEvent(text && kind ? `${text} (${kind})` : (text ?? kind)));
            break;
          }
        }
      } catch (error) {
        if (!(error instanceof UpstreamMalformed)) throw error;
        ended = true;
        emit(malformedEvent(error.what));
      }
    },
    end(emit) {
      if (ended) return;
      ended = true;
      if (!stopReason) return emit(droppedEvent());
      stopAll(emit);
      emit({ type: "finish", reason: stopReason });
    },
  };
}

/** The block `index` of a content block event of type `type`; one without an index is malformed. */
function blockIndex(index: number | null | undefined, type: string): number {
  if (index != null) return index;
  throw new UpstreamMalformed(`a ${type} event without a block index`);
}

function notStarted(kind: string, index: number): UpstreamMalformed {
  return new UpstreamMalformed(
    `${kind} for block ${index}, which is not an open block of its kind`,
  );
}
