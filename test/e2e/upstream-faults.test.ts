// Upstream faults, staged by a scripted chaos upstream: what the client sees, what is stored and
// how many upstream requests were made. Retries happen only before the first token, so the text
// a client assembles is always exactly one attempt's, never a mix and never twice.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AFTER_MALFORMED,
  type ChaosUpstream,
  startChaosUpstream,
} from "../helpers/chaos-upstream.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { type Frame, TestSocket } from "../helpers/socket.ts";

/** Small deadlines so every timeout case takes well under a second. */
const FAST = {
  CONNECT_TIMEOUT_MS: "500",
  FIRST_TOKEN_TIMEOUT_MS: "800",
  STALL_TIMEOUT_MS: "500",
  UPSTREAM_RETRY_BASE_MS: "20",
};
const TOKENS = ["The ", "answer ", "is ", "forty-two."];
const ANSWER = TOKENS.join("");

let chaos: ChaosUpstream;
let backup: ChaosUpstream;
/** PROVIDER openai at `chaos`, default retries. */
let openai: Relay;
/** PROVIDER anthropic at `chaos`, with a fallback of the same kind: only the model differs. */
let anthropic: Relay;
/** PROVIDER openai at `chaos`, FALLBACK_PROVIDER anthropic at `backup`. */
let withFallback: Relay;
/** PROVIDER openai at a port where nothing listens, one retry. */
let refused: Relay;

beforeAll(async () => {
  [chaos, backup] = await Promise.all([startChaosUpstream(), startChaosUpstream()]);
  const closedPort = await startChaosUpstream();
  await closedPort.close();
  [openai, anthropic, withFallback, refused] = await Promise.all([
    startRelay({
      ...FAST,
      PROVIDER: "openai",
      OPENAI_BASE_URL: chaos.baseUrl,
      OPENAI_API_KEY: SECRETS.openaiKey,
    }),
    startRelay({
      ...FAST,
      PROVIDER: "anthropic",
      MODEL: "claude-primary",
      ANTHROPIC_BASE_URL: chaos.baseUrl,
      ANTHROPIC_API_KEY: SECRETS.anthropicKey,
      FALLBACK_PROVIDER: "anthropic",
      FALLBACK_MODEL: "claude-fallback",
    }),
    startRelay({
      ...FAST,
      PROVIDER: "openai",
      OPENAI_BASE_URL: chaos.baseUrl,
      OPENAI_API_KEY: SECRETS.openaiKey,
      FALLBACK_PROVIDER: "anthropic",
      FALLBACK_MODEL: "claude-fallback",
      ANTHROPIC_BASE_URL: backup.baseUrl,
      ANTHROPIC_API_KEY: SECRETS.anthropicKey,
    }),
    startRelay({
      ...FAST,
      PROVIDER: "openai",
      OPENAI_BASE_URL: closedPort.baseUrl,
      OPENAI_API_KEY: SECRETS.openaiKey,
      UPSTREAM_RETRIES: "1",
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([openai, anthropic, withFallback, refused].map((relay) => relay?.dispose()));
  await Promise.all([chaos?.close(), backup?.close()]);
});
beforeEach(() => {
  chaos.script();
  backup.script();
});
afterEach(() => {
  // A request past the end of a script means the relay sent one more than the case allows.
  expect(chaos.unscripted + backup.unscripted).toBe(0);
});

interface Stored {
  role: string;
  content: string;
  status: string;
  errorCode?: string;
}

/** One prompt over a real WebSocket, to its `done`. */
interface Turn {
  /** Every frame of the answer, `start` to `done`. */
  frames: Frame[];
  /** The frame types in order, with the run of chunks folded into one "chunk*". */
  shape: string[];
  /** The chunks' text, assembled as a client would. */
  text: string;
  error: Frame | undefined;
  done: Frame;
  /** The assistant message as `GET /sessions/:id` stores it. */
  stored: Stored;
  /** Milliseconds from the prompt to `done`. */
  ms: number;
}

async function ask(relay: Relay, prompt = "What is the answer?"): Promise<Turn> {
  const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
  try {
    const session = String((await socket.waitFor("session")).session);
    const startedAt = Date.now();
    const { text, frames } = await socket.ask(prompt);
    const ms = Date.now() - startedAt;
    const response = await fetch(`${relay.url}/sessions/${session}`);
    const { messages } = (await response.json()) as { messages: Stored[] };
    const stored = messages.at(-1);
    if (!stored) throw new Error("no message stored");
    const done = frames.at(-1);
    if (done?.type !== "done") throw new Error("the answer did not end with done");
    const shape = frames
      .map((frame) => frame.type)
      .filter((type, i, types) => type !== "chunk" || types[i - 1] !== "chunk")
      .map((type) => (type === "chunk" ? "chunk*" : type));
    const error = frames.find((frame) => frame.type === "error");
    expect(JSON.stringify(frames)).not.toContain(SECRETS.openaiKey);
    expect(JSON.stringify(frames)).not.toContain(SECRETS.anthropicKey);
    return { frames, shape, text, error, done, stored, ms };
  } finally {
    await socket.close();
  }
}

/** The answer is exactly `text`, complete, with no error on the way. */
function expectComplete(turn: Turn, text = ANSWER): void {
  expect(turn.shape).toEqual(["start", "chunk*", "done"]);
  expect(turn.text).toBe(text);
  expect(turn.done).toMatchObject({ status: "complete", finish: expect.any(String) });
  expect(turn.stored).toMatchObject({ role: "assistant", content: text, status: "complete" });
  expect(turn.stored.errorCode).toBeUndefined();
}

/** The answer failed with `code` before any text: nothing shown, nothing stored. */
function expectFailed(turn: Turn, code: string): void {
  expect(turn.shape).toEqual(["start", "error", "done"]);
  expect(turn.error).toMatchObject({ code });
  expect(turn.done).toMatchObject({ status: "error" });
  expect(turn.stored).toMatchObject({ content: "", status: "error", errorCode: code });
}

/** The answer broke after `text` was shown: the partial answer is kept, marked incomplete. */
function expectIncomplete(turn: Turn, code: string, text: string): void {
  expect(turn.shape).toEqual(["start", "chunk*", "error", "done"]);
  expect(turn.text).toBe(text);
  expect(turn.error).toMatchObject({ code });
  expect(turn.done).toMatchObject({ status: "incomplete" });
  expect(turn.stored).toMatchObject({ content: text, status: "incomplete", errorCode: code });
}

describe("a rejected key", () => {
  it.each([401, 403])(
    "(HTTP %i) fails at once as upstream_auth, without a retry or the key",
    async (status) => {
      chaos.script({ status });
      const turn = await ask(openai);
      expectFailed(turn, "upstream_auth");
      expect(turn.error?.message).toBe(`The upstream rejected the API key (HTTP ${status})`);
      expect(chaos.requests).toHaveLength(1);
      expect(chaos.requests[0]?.headers.authorization).toBe(`Bearer ${SECRETS.openaiKey}`);
    },
  );
});

describe("retries before the first token", () => {
  it("waits out a 429's Retry-After (seconds), then streams the answer once", async () => {
    chaos.script({ status: 429, retryAfter: 1 }, { ok: TOKENS });
    const turn = await ask(openai);
    expectComplete(turn);
    expect(chaos.requests).toHaveLength(2);
    const [first, second] = chaos.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("does not wait for a Retry-After beyond 20 s: fails at once as upstream_rate_limited", async () => {
    chaos.script({ status: 429, retryAfter: 30 }, { ok: TOKENS });
    const turn = await ask(openai);
    expectFailed(turn, "upstream_rate_limited");
    expect(turn.error?.message).toBe(
      "The upstream is rate limiting (HTTP 429); Retry-After says 30 s, longer than the relay waits (20 s)",
    );
    expect(chaos.requests).toHaveLength(1);
    expect(turn.ms).toBeLessThan(2_000);
  });

  it("retries a 500, and the answer is exactly the successful attempt's", async () => {
    chaos.script({ status: 500 }, { ok: TOKENS });
    expectComplete(await ask(openai));
    expect(chaos.requests).toHaveLength(2);
  });

  it("gives up on a 503 after 1 + UPSTREAM_RETRIES (2) attempts, quoting the upstream without the key", async () => {
    chaos.script({ status: 503 }, { status: 503 }, { status: 503 }, { ok: TOKENS });
    const turn = await ask(openai);
    expectFailed(turn, "upstream_http");
    expect(turn.error?.message).toBe(
      "The upstream answered HTTP 503: chaos 503 for key Bearer [redacted] (3 attempts)",
    );
    expect(chaos.requests).toHaveLength(3);
  });

  it("does not retry another 4xx: the request itself is wrong", async () => {
    chaos.script({ status: 400 }, { ok: TOKENS });
    expectFailed(await ask(openai), "upstream_http");
    expect(chaos.requests).toHaveLength(1);
  });

  it("retries a connection reset before the first byte", async () => {
    chaos.script({ reset: true }, { ok: TOKENS });
    expectComplete(await ask(openai));
    expect(chaos.requests).toHaveLength(2);
  });

  it("retries a stream dropped after its headers but before any text", async () => {
    chaos.script({ ok: [], end: "drop" }, { ok: TOKENS });
    expectComplete(await ask(openai));
    expect(chaos.requests).toHaveLength(2);
  });

  it("retries an error object sent before any text", async () => {
    chaos.script({ ok: [], end: "error" }, { ok: TOKENS });
    expectComplete(await ask(openai));
    expect(chaos.requests).toHaveLength(2);
  });

  it("retries slow headers (CONNECT_TIMEOUT_MS) and closes the slow connection", async () => {
    chaos.script({ headersDelayMs: 3_000, ok: ["late"] }, { ok: TOKENS });
    expectComplete(await ask(openai));
    expect(chaos.requests).toHaveLength(2);
    await chaos.requests[0]?.closed;
  });

  it("fails with upstream_timeout when the headers never come in time", async () => {
    const slow = { headersDelayMs: 3_000, ok: ["late"] };
    chaos.script(slow, slow, slow);
    const turn = await ask(openai);
    expectFailed(turn, "upstream_timeout");
    expect(turn.error?.message).toBe(
      "The upstream openai/gpt-4o-mini sent no response headers within 0.5 s (3 attempts)",
    );
    expect(chaos.requests).toHaveLength(3);
  });

  it("reports a refused connection as upstream_unreachable after 1 + UPSTREAM_RETRIES (1) attempts", async () => {
    const turn = await ask(refused);
    expectFailed(turn, "upstream_unreachable");
    expect(turn.error?.message).toMatch(
      /^Could not connect to the upstream at 127\.0\.0\.1:\d+ \(2 attempts\)$/,
    );
  });

  it("stops a backoff wait at once on cancel, and never sends the retry", async () => {
    chaos.script({ status: 429, retryAfter: 1 }, { ok: TOKENS });
    const socket = await TestSocket.open(`${openai.wsUrl}/chat`);
    socket.send({ prompt: "cancel me" });
    await chaos.waitForRequests(1);
    const sentAt = Date.now();
    socket.send({ type: "cancel" });
    expect(await socket.waitFor("done")).toMatchObject({ status: "cancelled" });
    expect(Date.now() - sentAt).toBeLessThan(500);
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(chaos.requests).toHaveLength(1);
    expect(socket.frames.map((frame) => frame.type)).toEqual(["session", "start", "done"]);
    await socket.close();
  });
});

describe("timeouts after the headers", () => {
  it("fails headers-then-silence with upstream_timeout (FIRST_TOKEN_TIMEOUT_MS), without a retry", async () => {
    chaos.script({ ok: [], end: "stall" }, { ok: TOKENS });
    const turn = await ask(openai);
    expectFailed(turn, "upstream_timeout");
    expect(turn.error?.message).toBe("The upstream openai/gpt-4o-mini sent no text within 0.8 s");
    expect(chaos.requests).toHaveLength(1);
    await chaos.requests[0]?.closed;
  });

  it("does not count keep-alives as a first token", async () => {
    chaos.script({ ok: [], end: "keep-alive" });
    const turn = await ask(openai);
    expectFailed(turn, "upstream_timeout");
    expect(turn.ms).toBeLessThan(2_000);
    await chaos.requests[0]?.closed;
  });

  it("fails a stall after some text with upstream_stalled, keeping the partial answer", async () => {
    chaos.script({ ok: ["one ", "two "], end: "stall" }, { ok: TOKENS });
    expectIncomplete(await ask(openai), "upstream_stalled", "one two ");
    expect(chaos.requests).toHaveLength(1);
    await chaos.requests[0]?.closed;
  });
});

describe("failures after the first token are never retried", () => {
  it("keeps the partial answer of a connection dropped mid-stream as upstream_dropped", async () => {
    chaos.script({ ok: ["one ", "two "], end: "drop" }, { ok: TOKENS });
    expectIncomplete(await ask(openai), "upstream_dropped", "one two ");
    expect(chaos.requests).toHaveLength(1);
  });

  it("ends at a malformed JSON line as upstream_malformed and shows nothing after it", async () => {
    chaos.script({ ok: ["one ", "two "], end: "malformed" }, { ok: TOKENS });
    const turn = await ask(openai);
    expectIncomplete(turn, "upstream_malformed", "one two ");
    expect(turn.text).not.toContain(AFTER_MALFORMED[0]);
    expect(chaos.requests).toHaveLength(1);
  });

  it("treats a stream that ends with neither a finish reason nor [DONE] as upstream_dropped", async () => {
    chaos.script({ ok: TOKENS, end: "no-end" }, { ok: TOKENS });
    expectIncomplete(await ask(openai), "upstream_dropped", ANSWER);
    expect(chaos.requests).toHaveLength(1);
  });

  it("ends at an error object mid-stream as upstream_error with the upstream's message", async () => {
    chaos.script({ ok: ["one "], end: "error" }, { ok: TOKENS });
    const turn = await ask(openai);
    expectIncomplete(turn, "upstream_error", "one ");
    expect(turn.error?.message).toBe(
      "The upstream failed mid-stream: Upstream overloaded mid-stream",
    );
    expect(chaos.requests).toHaveLength(1);
  });

  it("does not retry a malformed stream even before the first token: the wire is wrong", async () => {
    chaos.script({ ok: [], end: "malformed" }, { ok: TOKENS });
    expectFailed(await ask(openai), "upstream_malformed");
    expect(chaos.requests).toHaveLength(1);
  });
});

describe("the Anthropic wire", () => {
  it("retries a 529 (overloaded)", async () => {
    chaos.script({ status: 529 }, { ok: TOKENS });
    expectComplete(await ask(anthropic));
    expect(chaos.requests.map((request) => request.path)).toEqual(["/v1/messages", "/v1/messages"]);
  });

  it("retries an overloaded_error event sent before any text", async () => {
    chaos.script({ ok: [], end: "error" }, { ok: TOKENS });
    expectComplete(await ask(anthropic));
    expect(chaos.requests).toHaveLength(2);
  });

  it("keeps the partial answer at an error event mid-stream", async () => {
    chaos.script({ ok: ["one "], end: "error" });
    const turn = await ask(anthropic);
    expectIncomplete(turn, "upstream_error", "one ");
    expect(turn.error?.message).toBe(
      "The upstream failed mid-stream: Overloaded (overloaded_error)",
    );
    expect(chaos.requests).toHaveLength(1);
  });

  it("treats a stream without message_stop or a stop reason as upstream_dropped", async () => {
    chaos.script({ ok: TOKENS, end: "no-end" });
    expectIncomplete(await ask(anthropic), "upstream_dropped", ANSWER);
    expect(chaos.requests).toHaveLength(1);
  });

  it("ends at a malformed event as upstream_malformed", async () => {
    chaos.script({ ok: ["one "], end: "malformed" });
    expectIncomplete(await ask(anthropic), "upstream_malformed", "one ");
  });

  it("falls back on a rejected key, but a fallback of the same kind shares the key: both fail", async () => {
    chaos.script({ status: 401 }, { status: 401 });
    const turn = await ask(anthropic);
    expectFailed(turn, "upstream_auth");
    expect(turn.error?.message).toBe(
      "The upstream rejected the API key (HTTP 401) (fallback anthropic/claude-fallback; the primary anthropic/claude-primary failed first: The upstream rejected the API key (HTTP 401))",
    );
    expect(chaos.requests.map((request) => request.body.model)).toEqual([
      "claude-primary",
      "claude-fallback",
    ]);
    for (const request of chaos.requests) {
      expect(request.headers["x-api-key"]).toBe(SECRETS.anthropicKey);
    }
  });
});

describe("the fallback provider", () => {
  it("answers after the primary's retries are exhausted, with FALLBACK_MODEL and its own vars", async () => {
    chaos.script({ status: 503 }, { status: 503 }, { status: 503 });
    backup.script({ ok: TOKENS });
    expectComplete(await ask(withFallback));
    expect(chaos.requests).toHaveLength(3);
    expect(backup.requests).toHaveLength(1);
    expect(backup.requests[0]).toMatchObject({
      path: "/v1/messages",
      body: { model: "claude-fallback" },
    });
    expect(backup.requests[0]?.headers["x-api-key"]).toBe(SECRETS.anthropicKey);
  });

  it("answers when the primary's key is rejected (no retry of the primary)", async () => {
    chaos.script({ status: 401 });
    backup.script({ ok: TOKENS });
    expectComplete(await ask(withFallback));
    expect(chaos.requests).toHaveLength(1);
    expect(backup.requests).toHaveLength(1);
  });

  it("answers when the primary sends no first token in time", async () => {
    chaos.script({ ok: [], end: "stall" });
    backup.script({ ok: TOKENS });
    expectComplete(await ask(withFallback));
    expect(chaos.requests).toHaveLength(1);
    expect(backup.requests).toHaveLength(1);
  });

  it("retries the fallback with the same policy", async () => {
    chaos.script({ status: 401 });
    backup.script({ status: 529 }, { reset: true }, { ok: TOKENS });
    expectComplete(await ask(withFallback));
    expect(backup.requests).toHaveLength(3);
  });

  it("is not tried after a 4xx client error of the primary", async () => {
    chaos.script({ status: 400 });
    backup.script({ ok: TOKENS });
    expectFailed(await ask(withFallback), "upstream_http");
    expect(backup.requests).toHaveLength(0);
  });

  it("is not tried after the first token: the partial answer is kept instead", async () => {
    chaos.script({ ok: ["one ", "two "], end: "drop" });
    backup.script({ ok: TOKENS });
    expectIncomplete(await ask(withFallback), "upstream_dropped", "one two ");
    expect(chaos.requests).toHaveLength(1);
    expect(backup.requests).toHaveLength(0);
  });

  it("reports the fallback's failure and the primary's when both fail", async () => {
    chaos.script({ status: 503 }, { status: 503 }, { status: 503 });
    backup.script({ status: 529 }, { status: 529 }, { status: 529 });
    const turn = await ask(withFallback);
    expectFailed(turn, "upstream_http");
    expect(turn.error?.message).toBe(
      "The upstream answered HTTP 529: chaos 529 for key [redacted] (3 attempts) (fallback anthropic/claude-fallback; the primary openai/gpt-4o-mini failed first: The upstream answered HTTP 503: chaos 503 for key Bearer [redacted] (3 attempts))",
    );
    expect(chaos.requests).toHaveLength(3);
    expect(backup.requests).toHaveLength(3);
  });
});
