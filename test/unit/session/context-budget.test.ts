// A prompt's context reads the history newest first and stops at the budget: a long chat
// costs the rows its context holds, not every row it ever stored.
import { describe, expect, it } from "vitest";
import type { StoredMessage } from "../../../src/protocol.ts";
import { buildContext, contextOf } from "../../../src/session/context.ts";

const message = (index: number, chars: number): StoredMessage => ({
  id: `m${index}`,
  role: index % 2 === 0 ? "user" : "assistant",
  content: String(index % 10).repeat(chars),
  status: "complete",
  createdAt: index,
});

/** 201 messages of 100 characters, oldest first, users' and answers in turn, the last a user's. */
const HISTORY = Array.from({ length: 201 }, (_, index) => message(index, 100));

/** `items` newest first, counting how many a reader took. */
function counted(items: readonly StoredMessage[]) {
  const read = { count: 0 };
  function* newestFirst() {
    for (let i = items.length - 1; i >= 0; i -= 1) {
      read.count += 1;
      yield items[i] as StoredMessage;
    }
  }
  return { read, newestFirst: newestFirst() };
}

describe("contextOf", () => {
  it.each([
    // budget, messages kept, messages read (the kept ones and the one that did not fit)
    [1_000, 9, 11],
    [5_000, 49, 51],
    [30_000, 201, 201],
    // The latest prompt always goes, even alone over budget.
    [10, 1, 2],
  ])("with a budget of %i chars keeps %i messages and reads %i", (budget, kept, read) => {
    const source = counted(HISTORY);
    const context = contextOf(source.newestFirst, undefined, budget);
    // A context starts with a user turn, so an assistant message at the cut is dropped too.
    expect(context.length).toBe(kept);
    expect(source.read.count).toBe(read);
  });

  it("builds what buildContext builds from the same history oldest first", () => {
    for (const budget of [1, 350, 1_000, 7_777, 50_000]) {
      const { newestFirst } = counted(HISTORY);
      expect(contextOf(newestFirst, "sys", budget)).toEqual(buildContext(HISTORY, "sys", budget));
    }
  });
});
