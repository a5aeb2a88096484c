// chunkSequencer: UI chunks numbered by their position in the message, and resumes after any.
import { describe, expect, it } from "vitest";
import type { AnswerEvent } from "../../../src/streams/answer-events.ts";
import { chunkSequencer, type ResumePoint } from "../../../src/streams/ui-chunk-sequence.ts";

const ANSWER: AnswerEvent[] = [
  { type: "start", messageId: "msg_1" },
  { type: "text", text: "a" },
  { type: "text", text: "b" },
  { type: "end", status: "complete", finish: "stop" },
];
// start, start-step | text-start, text-delta | text-delta | text-end, finish-step, finish
const TYPES = [
  "start",
  "start-step",
  "text-start",
  "text-delta",
  "text-delta",
  "text-end",
  "finish-step",
  "finish",
];

function numbered(from?: ResumePoint): [number, string][] {
  const sequence = chunkSequencer(from);
  const seen: [number, string][] = [];
  for (const event of ANSWER) sequence(event, (n, chunk) => seen.push([n, chunk.type]));
  return seen;
}

describe("chunkSequencer", () => {
  it("numbers every chunk from 0 with no gaps", () => {
    expect(numbered()).toEqual(TYPES.map((type, n) => [n, type]));
  });

  it.each(TYPES.map((_, after) => after - 1))(
    "resumes after position %i with the same numbers",
    (after) => {
      expect(numbered({ after, renumber: false })).toEqual(
        TYPES.map((type, n): [number, string] => [n, type]).slice(after + 1),
      );
    },
  );

  it.each(TYPES.map((_, after) => after - 1))(
    "resumes after position %i counting anew from 0 when asked",
    (after) => {
      expect(numbered({ after, renumber: true })).toEqual(
        TYPES.slice(after + 1).map((type, n): [number, string] => [n, type]),
      );
    },
  );

  it("gives nothing after the last chunk", () => {
    expect(numbered({ after: TYPES.length - 1, renumber: false })).toEqual([]);
  });
});
