// A stateless answer read from a provider: its events in order, its end, and a cancel that
// aborts the upstream call.
import { describe, expect, it } from "vitest";
import type { Provider, UpstreamEvent } from "../../../src/providers/types.ts";
import type { AnswerEvent } from "../../../src/streams/answer-events.ts";
import type { AnswerSource } from "../../../src/streams/answer-source.ts";
import { type EndedAnswer, providerAnswer } from "../../../src/streams/provider-answer.ts";

/** A provider that sends `script`, then waits for its signal when `hang` is set. */
function scripted(script: UpstreamEvent[], hang = false) {
  const seen: { signal?: AbortSignal; cancelled: boolean } = { cancelled: false };
  const provider: Provider = {
    name: "test",
    model: "m",
    async stream({ signal }) {
      seen.signal = signal;
      let index = 0;
      return {
        async next() {
          if (index < script.length) return script[index++];
          if (!hang) return undefined;
          await new Promise((resolve) => signal.addEventListener("abort", resolve));
          return undefined;
        },
        cancel() {
          seen.cancelled = true;
        },
      };
    },
  };
  return { provider, seen };
}

async function readAll(source: AnswerSource): Promise<AnswerEvent[]> {
  const events: AnswerEvent[] = [];
  for (let batch = await source.read(); batch; batch = await source.read()) events.push(...batch);
  return events;
}

describe("providerAnswer", () => {
  it("starts, relays text and parts under step-0 ids, and ends with finish and usage", async () => {
    const usage = { inputTokens: 3, outputTokens: 2 };
    const { provider } = scripted([
      { type: "reasoning-start", id: "reasoning-0" },
      { type: "reasoning-delta", id: "reasoning-0", text: "hm" },
      { type: "reasoning-end", id: "reasoning-0" },
      { type: "text", text: "hi" },
      { type: "usage", usage },
      { type: "finish", reason: "stop" },
    ]);
    let ended: EndedAnswer | undefined;
    const answer = await providerAnswer({
      provider,
      messages: [{ role: "user", content: "q" }],
      messageId: "msg_1",
      stallMs: 60_000,
      onClose: (end) => {
        ended = end;
      },
    });
    expect(await readAll(answer)).toEqual([
      { type: "start", messageId: "msg_1" },
      { type: "reasoning-start", id: "s0-reasoning-0" },
      { type: "reasoning-delta", id: "s0-reasoning-0", text: "hm" },
      {
        type: "reasoning-end",
        id: "s0-reasoning-0",
        signature: undefined,
        redactedData: undefined,
      },
      { type: "text", text: "hi" },
      { type: "end", status: "complete", finish: "stop", usage },
    ]);
    expect(ended).toMatchObject({ status: "complete", answerChars: 2 });
    expect(await answer.read()).toBeUndefined();
  });

  it("aborts the upstream call when cancelled, and ends as cancelled", async () => {
    const { provider, seen } = scripted([{ type: "text", text: "partial" }], true);
    let ended: EndedAnswer | undefined;
    const answer = await providerAnswer({
      provider,
      messages: [{ role: "user", content: "q" }],
      messageId: "msg_2",
      stallMs: 60_000,
      onClose: (end) => {
        ended = end;
      },
    });
    expect(await answer.read()).toEqual([{ type: "start", messageId: "msg_2" }]);
    expect(await answer.read()).toEqual([{ type: "text", text: "partial" }]);
    await answer.cancel("gone");
    expect(seen.signal?.aborted).toBe(true);
    expect(seen.cancelled).toBe(true);
    expect(ended?.status).toBe("cancelled");
    expect(await answer.read()).toBeUndefined();
  });
});
