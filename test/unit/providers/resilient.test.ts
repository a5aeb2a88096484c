import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../../src/errors.ts";
import { SluiceError } from "../../../src/errors.ts";
import { resilient } from "../../../src/providers/resilient.ts";
import type { RetryPolicy } from "../../../src/providers/retry-policy.ts";
import { UpstreamFailure } from "../../../src/providers/retry-policy.ts";
import type { Provider, UpstreamEvent, UpstreamEvents } from "../../../src/providers/types.ts";
import { collectEvents } from "./support.ts";

const POLICY: RetryPolicy = { retries: 2, baseDelayMs: 1, connectMs: 1_000, firstTokenMs: 1_000 };

/**
 * What one call of a scripted provider does: reject with an error, stream events, `hang` (a
 * `stream()` that never settles and ignores its signal, like a binding without abort), or
 * `silent` (a stream that never sends and ignores its signal).
 */
type Attempt = Error | UpstreamEvent[] | "hang" | "silent";

interface Scripted extends Provider {
  calls: number;
}

function scripted(name: string, ...attempts: Attempt[]): Scripted {
  const provider: Scripted = {
    name,
    model: `${name}-model`,
    calls: 0,
    async stream({ onActivity }) {
      const attempt = attempts[provider.calls++];
      if (attempt === undefined) throw new Error(`${name}: unscripted call ${provider.calls}`);
      if (attempt === "hang") return new Promise<never>(() => {});
      if (attempt instanceof Error) throw attempt;
      const events = attempt === "silent" ? [] : [...attempt];
      return {
        async next() {
          if (attempt === "silent") return new Promise<never>(() => {});
          const event = events.shift();
          if (event) onActivity?.();
          return event;
        },
        cancel() {
          events.length = 0;
        },
      } satisfies UpstreamEvents;
    },
  };
  return provider;
}

const text = (value: string): UpstreamEvent => ({ type: "text", text: value });
const usage: UpstreamEvent = { type: "usage", usage: { inputTokens: 3, outputTokens: 2 } };
const finish: UpstreamEvent = { type: "finish", reason: "stop" };
const errorEvent = (code: "upstream_dropped" | "upstream_error"): UpstreamEvent => ({
  type: "error",
  code,
  message: `${code} event`,
});
const http = (status: number, code: ErrorCode = "upstream_http") =>
  new UpstreamFailure(code, `HTTP ${status}`, { httpStatus: status });

function run(provider: Provider, signal = new AbortController().signal, onActivity?: () => void) {
  return provider.stream({ messages: [{ role: "user", content: "hi" }], signal, onActivity });
}

async function failureOf(pending: Promise<unknown>): Promise<SluiceError> {
  try {
    await pending;
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error("the stream started");
}

describe("resilient", () => {
  it("passes a first attempt through unchanged, with the usage that came before the text", async () => {
    const primary = scripted("p", [usage, text("a"), text("b"), finish]);
    const events = await collectEvents(await run(resilient(primary, undefined, POLICY)));
    expect(events).toEqual([usage, text("a"), text("b"), finish]);
    expect(primary.calls).toBe(1);
  });

  it("commits an answer that finishes without any text", async () => {
    const events = await collectEvents(
      await run(resilient(scripted("p", [finish]), undefined, POLICY)),
    );
    expect(events).toEqual([finish]);
  });

  it("retries a failure before the first text and shows nothing of the failed attempt", async () => {
    const primary = scripted("p", [usage, errorEvent("upstream_dropped")], http(503), [
      text("ok"),
      finish,
    ]);
    const events = await collectEvents(await run(resilient(primary, undefined, POLICY)));
    expect(events).toEqual([text("ok"), finish]);
    expect(primary.calls).toBe(3);
  });

  it("never retries after the first text: a later error passes through", async () => {
    const primary = scripted("p", [text("partial"), errorEvent("upstream_error")], [text("x")]);
    const events = await collectEvents(await run(resilient(primary, undefined, POLICY)));
    expect(events).toEqual([text("partial"), errorEvent("upstream_error")]);
    expect(primary.calls).toBe(1);
  });

  it("gives up after 1 + retries attempts and says how many", async () => {
    const primary = scripted("p", http(500), http(502), http(503), [text("never")]);
    const error = await failureOf(run(resilient(primary, undefined, POLICY)));
    expect(error).toMatchObject({ code: "upstream_http", message: "HTTP 503 (3 attempts)" });
    expect(primary.calls).toBe(3);
  });

  it("rejects what is not retryable at once, unchanged", async () => {
    const rejected = http(401, "upstream_auth");
    const primary = scripted("p", rejected);
    expect(await failureOf(run(resilient(primary, undefined, POLICY)))).toBe(rejected);
    expect(primary.calls).toBe(1);
  });

  it("lets a bug through without retrying it", async () => {
    const bug = new TypeError("bug");
    const primary = scripted("p", bug, [text("never")]);
    await expect(run(resilient(primary, scripted("f"), POLICY))).rejects.toBe(bug);
    expect(primary.calls).toBe(1);
  });

  it("waits a Retry-After instead of the backoff", async () => {
    const limited = new UpstreamFailure("upstream_rate_limited", "429", { retryAfterMs: 120 });
    const primary = scripted("p", limited, [text("ok"), finish]);
    const started = Date.now();
    await collectEvents(await run(resilient(primary, undefined, POLICY)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  it("stops a backoff wait the moment the caller aborts, with the caller's reason", async () => {
    const limited = new UpstreamFailure("upstream_rate_limited", "429", { retryAfterMs: 10_000 });
    const primary = scripted("p", limited, [text("never")]);
    const controller = new AbortController();
    const reason = new Error("cancelled");
    const pending = run(
      resilient(primary, scripted("f", [text("never")]), POLICY),
      controller.signal,
    );
    setTimeout(() => controller.abort(reason), 20);
    const started = Date.now();
    await expect(pending).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(200);
    expect(primary.calls).toBe(1);
  });

  it("times out a stream() that never settles (connect), and retries it", async () => {
    const primary = scripted("p", "hang", "hang", [text("ok"), finish]);
    const policy = { ...POLICY, connectMs: 30 };
    const events = await collectEvents(await run(resilient(primary, undefined, policy)));
    expect(events).toEqual([text("ok"), finish]);
    expect(primary.calls).toBe(3);
  });

  it("fails a connect timeout with upstream_timeout once the retries are used", async () => {
    const primary = scripted("p", "hang", "hang");
    const error = await failureOf(
      run(resilient(primary, undefined, { ...POLICY, retries: 1, connectMs: 30 })),
    );
    expect(error).toMatchObject({
      code: "upstream_timeout",
      message: "The upstream p/p-model sent no response headers within 0.03 s (2 attempts)",
    });
  });

  it("fails a stream with no first text in time, without a retry, even if it ignores its signal", async () => {
    const primary = scripted("p", "silent", [text("never")]);
    const error = await failureOf(
      run(resilient(primary, undefined, { ...POLICY, firstTokenMs: 40 })),
    );
    expect(error).toMatchObject({
      code: "upstream_timeout",
      message: "The upstream p/p-model sent no text within 0.04 s",
    });
    expect(primary.calls).toBe(1);
  });

  it.each<[string, UpstreamEvent]>([
    ["the start of a reasoning part", { type: "reasoning-start", id: "reasoning-0" }],
    ["the start of a tool call", { type: "tool-call-start", id: "call_1", index: 0, name: "f" }],
  ])("commits at %s: a later error passes through, with no retry", async (_, first) => {
    const primary = scripted(
      "p",
      [first, errorEvent("upstream_dropped")],
      [text("retried"), finish],
    );
    const events = await collectEvents(await run(resilient(primary, undefined, POLICY)));
    expect(events).toEqual([first, errorEvent("upstream_dropped")]);
    expect(primary.calls).toBe(1);
  });

  it("reports activity only once the attempt committed", async () => {
    let pokes = 0;
    const primary = scripted("p", [usage, text("a"), text("b"), finish]);
    const stream = await run(resilient(primary, undefined, POLICY), undefined, () => pokes++);
    expect(pokes).toBe(0);
    await collectEvents(stream);
    expect(pokes).toBe(2);
  });

  describe("with a fallback", () => {
    it("answers with the fallback once the primary's retries are used", async () => {
      const primary = scripted("p", http(503), http(503), http(503));
      const fallback = scripted("f", http(503), [text("from f"), finish]);
      const events = await collectEvents(await run(resilient(primary, fallback, POLICY)));
      expect(events).toEqual([text("from f"), finish]);
      expect([primary.calls, fallback.calls]).toEqual([3, 2]);
    });

    it("answers with the fallback when the primary's key is rejected", async () => {
      const primary = scripted("p", http(401, "upstream_auth"));
      const fallback = scripted("f", [text("from f"), finish]);
      await collectEvents(await run(resilient(primary, fallback, POLICY)));
      expect([primary.calls, fallback.calls]).toEqual([1, 1]);
    });

    it("is not tried after a 4xx client error", async () => {
      const primary = scripted("p", http(400));
      const fallback = scripted("f", [text("never")]);
      expect(await failureOf(run(resilient(primary, fallback, POLICY)))).toMatchObject({
        code: "upstream_http",
        message: "HTTP 400",
      });
      expect(fallback.calls).toBe(0);
    });

    it("is not tried after the first text", async () => {
      const primary = scripted("p", [text("a"), errorEvent("upstream_dropped")]);
      const fallback = scripted("f", [text("never")]);
      const events = await collectEvents(await run(resilient(primary, fallback, POLICY)));
      expect(events.at(-1)).toEqual(errorEvent("upstream_dropped"));
      expect(fallback.calls).toBe(0);
    });

    it("reports the fallback's error, quoting the primary's, when both fail", async () => {
      const primary = scripted("p", http(401, "upstream_auth"));
      const fallback = scripted("f", new UpstreamFailure("upstream_malformed", "not SSE"));
      expect(await failureOf(run(resilient(primary, fallback, POLICY)))).toMatchObject({
        code: "upstream_malformed",
        message: "not SSE (fallback f/f-model; the primary p/p-model failed first: HTTP 401)",
      });
    });

    it("takes the primary's name and model", () => {
      const provider = resilient(scripted("p"), scripted("f"), POLICY);
      expect([provider.name, provider.model]).toEqual(["p", "p-model"]);
    });
  });
});
