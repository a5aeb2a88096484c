/**
 * The `sequence` numbers of the AI SDK's WebSocket transport, for one answer: each UI chunk is
 * numbered by its position in the UI message, so a number means the same chunk on every
 * connection and a resume can start right after any of them.
 */
import type { AnswerEvent } from "./answer-events.ts";
import { type UIChunk, uiChunkEncoder } from "./ui-message-wire.ts";

/** Takes each numbered chunk as it is made. */
export type ChunkSink = (sequence: number, chunk: UIChunk) => void;

/** Where a resume picks up: after the chunk at position `after`. */
export interface ResumePoint {
  after: number;
  /**
   * Number what follows from 0 instead of by position: the transport checks that every
   * response starts at 0, so a resume point it carried (in `body`) needs its chunks counted anew.
   */
  renumber: boolean;
}

/**
 * Numbers one answer's chunks, event by event, handing each to `sink`. The message's chunks
 * are numbered from its `start` chunk (0), one by one with no gaps, as the transport
 * requires; each session event gives a fixed list of chunks (see `uiChunkEncoder`), so
 * position p is always the same chunk of the same session event, however many times the
 * answer is replayed. With `from`, the chunks up to `from.after` are left out.
 */
export function chunkSequencer(from?: ResumePoint): (event: AnswerEvent, sink: ChunkSink) => void {
  const encode = uiChunkEncoder();
  let position = -1;
  return (event, sink) => {
    for (const chunk of encode(event)) {
      position += 1;
      if (from === undefined) sink(position, chunk);
      else if (position > from.after) {
        sink(from.renumber ? position - from.after - 1 : position, chunk);
      }
    }
  };
}
