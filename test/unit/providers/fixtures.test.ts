import { describe, expect, it } from "vitest";
import {
  isInsideCharacter,
  rechunk,
  rechunkInside,
  splitOffsets,
  streamPieces,
} from "../../helpers/rechunk.ts";
import { sweep } from "../../helpers/sweep.ts";
import type { Fixture } from "./fixtures.ts";
import { argumentRanges, BODIES, FIXTURES, fixtureBytes } from "./fixtures.ts";
import type { Outcome } from "./support.ts";
import { replay, summarize, transformFor } from "./support.ts";

const SEEDS = Array.from({ length: sweep(5, 20) }, (_, i) => i + 1);

/** The largest fixtures are cut into ~6,000 pieces per seed; workerd needs ~0.4 s for each run. */
const REPLAY_TIMEOUT_MS = 60_000;

/** Checks an outcome against index.json's entry for the fixture. */
function expectRecorded(outcome: Outcome, fixture: Fixture): void {
  expect(outcome.text).toBe(fixture.expected_text);
  expect(outcome.reasoning).toBe(fixture.expected_reasoning);
  expect(
    outcome.toolCalls.map(({ id, name, arguments: args }) => ({ id, name, arguments: args })),
  ).toEqual(fixture.expected_tool_calls);
  for (const [i, call] of outcome.toolCalls.entries()) {
    const recorded = fixture.expected_tool_calls[i]?.arguments ?? "";
    expect(call.invalid).toBeUndefined();
    expect(call.input).toEqual(recorded.trim() === "" ? {} : JSON.parse(recorded));
  }
  expect(outcome.finish).toBe(fixture.finish);
  expect(outcome.usage).toEqual(
    fixture.usage
      ? { inputTokens: fixture.usage.input_tokens, outputTokens: fixture.usage.output_tokens }
      : null,
  );
  if (fixture.error) {
    expect(outcome.error?.code).toBe("upstream_error");
    expect(outcome.error?.message).toContain(fixture.error.message);
  } else {
    expect(outcome.error).toBeUndefined();
  }
}

async function outcomeOf(fixture: Fixture, body: ReadableStream<Uint8Array>): Promise<Outcome> {
  return summarize(await replay(body, transformFor(fixture.provider)));
}

it("every fixture listed in index.json has its recorded body loaded", () => {
  expect(FIXTURES.map((fixture) => fixture.file).sort()).toEqual(Object.keys(BODIES).sort());
});

describe.each(FIXTURES)("the $file fixture", (fixture) => {
  const bytes = fixtureBytes(fixture.file);
  const inside = argumentRanges(fixture.file);

  it("replayed in one piece gives the recorded text, reasoning, tool calls, finish, usage and error", async () => {
    expectRecorded(await outcomeOf(fixture, streamPieces(bytes, [])), fixture);
  });

  it(
    `gives the same result however the network cut it (${SEEDS.length} seeds)`,
    async () => {
      for (const seed of SEEDS) {
        expectRecorded(await outcomeOf(fixture, rechunk(bytes, seed)), fixture);
      }
    },
    REPLAY_TIMEOUT_MS,
  );

  it(
    `gives the same result with every multi-byte character and every argument JSON string cut (${SEEDS.length} seeds)`,
    async () => {
      for (const seed of SEEDS) {
        expectRecorded(await outcomeOf(fixture, rechunkInside(bytes, seed, inside)), fixture);
      }
    },
    REPLAY_TIMEOUT_MS,
  );
});

describe("the argument split", () => {
  const withCalls = FIXTURES.filter((fixture) => fixture.expected_tool_calls.length > 0);

  it("is exercised: OpenAI-compatible and Anthropic fixtures stream tool calls", () => {
    expect(new Set(withCalls.map((fixture) => fixture.provider))).toEqual(
      new Set(["openai", "anthropic"]),
    );
  });

  it("really cuts inside every piece of argument JSON", () => {
    for (const fixture of withCalls) {
      const bytes = fixtureBytes(fixture.file);
      const ranges = argumentRanges(fixture.file);
      expect(ranges.length, fixture.file).toBeGreaterThan(0);
      // The ranges hold exactly the argument text, JSON-escaped, and nothing else.
      const pieces = ranges.map(([start, end]): unknown =>
        JSON.parse(`"${new TextDecoder().decode(bytes.slice(start, end))}"`),
      );
      expect(pieces.join("")).toBe(
        fixture.expected_tool_calls.map((call) => call.arguments).join(""),
      );
      for (const seed of SEEDS.slice(0, 3)) {
        const cuts = splitOffsets(bytes, seed, { inside: ranges });
        for (const [start, end] of ranges.filter(([start, end]) => end - start >= 2)) {
          expect(cuts.some((cut) => cut > start && cut < end)).toBe(true);
        }
      }
    }
  });
});

describe("the multi-byte split", () => {
  const nonAscii = FIXTURES.filter((fixture) => /[\u0080-\uffff]/.test(fixture.expected_text));

  it("is exercised: some fixtures have non-ASCII answer text", () => {
    expect(nonAscii.map((fixture) => fixture.provider)).toEqual(
      expect.arrayContaining(["openai", "anthropic"]),
    );
  });

  it("really cuts inside every multi-byte character", () => {
    for (const fixture of nonAscii) {
      const bytes = fixtureBytes(fixture.file);
      const inside = splitOffsets(bytes, 7, { insideCharacters: true }).filter((offset) =>
        isInsideCharacter(bytes, offset),
      );
      const characters = bytes.filter((byte) => byte >= 0xc0).length;
      expect(characters).toBeGreaterThan(0);
      // One forced cut per character, plus any random cut that also landed inside one.
      expect(inside.length).toBeGreaterThanOrEqual(characters);
    }
  });
});
