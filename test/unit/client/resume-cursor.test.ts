// Where the client resumes: after the last event it delivered, or as a joiner when it has none.
import { describe, expect, it } from "vitest";
import { ResumeCursor } from "../../../src/client/resume-cursor.ts";

describe("ResumeCursor", () => {
  it("joins first, then resumes after the last event it accepted", () => {
    const cursor = new ResumeCursor();
    expect(cursor.next()).toBeUndefined();
    cursor.welcome({ lastSeq: 40, generating: true });
    expect([41, 42, 42, 41, 43].map((seq) => cursor.accept(seq))).toEqual([
      true,
      true,
      false,
      false,
      true,
    ]);
    expect(cursor.next()).toBe(43);
  });

  it("after joining an idle session, resumes from its lastSeq: older events are history", () => {
    const cursor = new ResumeCursor();
    cursor.next();
    cursor.welcome({ lastSeq: 120, generating: false });
    expect(cursor.next()).toBe(120);
    expect(cursor.accept(120)).toBe(false);
    expect(cursor.accept(121)).toBe(true);
  });

  it("does not skip ahead on the welcome of a resume, whose replay follows it", () => {
    const cursor = new ResumeCursor();
    cursor.next();
    cursor.accept(5);
    expect(cursor.next()).toBe(5);
    cursor.welcome({ lastSeq: 9, generating: false });
    expect([6, 7, 8, 9].every((seq) => cursor.accept(seq))).toBe(true);
  });

  it("joins again when the relay no longer has the events it would resume after", () => {
    const cursor = new ResumeCursor();
    cursor.next();
    cursor.accept(7);
    cursor.lost();
    expect(cursor.next()).toBeUndefined();
    // The rejoin replays the answer in progress from its start: what was seen stays skipped.
    cursor.welcome({ lastSeq: 300, generating: true });
    expect(cursor.accept(7)).toBe(false);
    expect(cursor.accept(298)).toBe(true);
  });
});
