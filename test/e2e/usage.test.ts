// Usage per principal: exact under concurrency, GET /usage and its bad inputs, the log line
// and data point of every answer, open mode, and the health route.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { record } from "../helpers/record.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { answerLines, usageAfter, usageOf } from "../helpers/usage.ts";

const { tokenAlpha, tokenBeta } = SECRETS;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const asToken = (token: string) => ["sluice", `sluice.token.${token}`];

/** The data points the fake METRICS dataset logged so far. */
function dataPoints(
  relay: Relay,
): Array<{ indexes: string[]; blobs: string[]; doubles: number[] }> {
  return relay.logs
    .filter((line) => line.startsWith("metrics-datapoint "))
    .map((line) => JSON.parse(line.slice("metrics-datapoint ".length)));
}

let relay: Relay;

beforeAll(async () => {
  relay = await startRelay({
    AUTH_TOKENS: [tokenAlpha, tokenBeta].join(","),
    MAX_CONCURRENT_GENERATIONS: "10",
    DEMO_DELAY_MS: "1",
  });
});
afterAll(() => relay.dispose());

describe("usage under concurrency", () => {
  it("50 answers across 5 sessions of one user, finishing concurrently, add up exactly", async () => {
    const sockets = await Promise.all(
      [0, 1, 2, 3, 4].map(() => TestSocket.open(`${relay.wsUrl}/chat`, asToken(tokenAlpha))),
    );
    await Promise.all(sockets.map((socket) => socket.waitFor("session")));
    const dones = await Promise.all(
      sockets.map(async (socket, s) => {
        const usages: Array<{ inputTokens: number; outputTokens: number }> = [];
        for (let i = 0; i < 10; i += 1) {
          const { frames } = await socket.ask(`/tokens ${3 + s * 10 + i}`);
          const done = frames.find((frame) => frame.type === "done");
          expect(done).toMatchObject({ status: "complete" });
          usages.push(done?.usage as { inputTokens: number; outputTokens: number });
        }
        return usages;
      }),
    );
    const expectedOutput = dones.flat().reduce((sum, usage) => sum + usage.outputTokens, 0);
    const expectedInput = dones.flat().reduce((sum, usage) => sum + usage.inputTokens, 0);
    // 5 sessions x (3..12, 13..22, ...): sum of 3..52.
    expect(expectedOutput).toBe(((3 + 52) * 50) / 2);

    const usage = await usageAfter(relay, tokenAlpha, 50);
    expect(usage.today).toMatchObject({
      answers: 50,
      outputTokens: expectedOutput,
      inputTokens: expectedInput,
      reasoningTokens: 0,
    });
    expect(usage.period).toMatchObject({ days: 30, answers: 50, outputTokens: expectedOutput });
    expect(usage.month).toMatchObject({ answers: 50, outputTokens: expectedOutput });
    expect(usage.models).toEqual([
      {
        provider: "demo",
        model: "sluice-demo",
        answers: 50,
        inputTokens: expectedInput,
        outputTokens: expectedOutput,
        reasoningTokens: 0,
      },
    ]);
    // Another user's ledger is their own.
    expect((await usageOf(relay, tokenBeta)).today.answers).toBe(0);
    await Promise.all(sockets.map((socket) => socket.close()));
  });
});

describe("GET /usage", () => {
  it("has the documented shape", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const usage = await usageOf(relay, tokenBeta, "?days=7");
    expect(Object.keys(usage).sort()).toEqual(
      ["daily", "models", "month", "period", "quota", "today"].sort(),
    );
    expect(usage.today.date).toBe(today);
    expect(usage.period).toMatchObject({ to: today, days: 7 });
    expect(usage.month.from).toBe(`${today.slice(0, 8)}01`);
    expect(usage.quota).toMatchObject({ outputTokensPerDay: null, outputTokensPerMonth: null });
    expect(Date.parse(String(usage.quota.dayResetsAt))).toBeGreaterThan(Date.now());
  });

  it.each([
    ["?days=0", 400, "invalid_request"],
    ["?days=91", 400, "invalid_request"],
    ["?days=seven", 400, "invalid_request"],
    ["?from=2026-01-01", 400, "invalid_request"],
  ])("%s gets %i %s", async (query, status, code) => {
    const response = await fetch(`${relay.url}/usage${query}`, { headers: bearer(tokenBeta) });
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it("needs a token, and only GET", async () => {
    const anonymous = await fetch(`${relay.url}/usage`);
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
    const post = await fetch(`${relay.url}/usage`, { method: "POST", headers: bearer(tokenBeta) });
    expect(post.status).toBe(405);
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe(
      "method_not_allowed",
    );
  });
});

describe("the operator's view", () => {
  it("logs one JSON line and writes one data point per answer, with no prompt, answer or token", async () => {
    const prompt = "tell me about the purple-walrus-4417 please";
    const socket = await TestSocket.open(`${relay.wsUrl}/chat`, asToken(tokenBeta));
    const { session } = await socket.waitFor("session");
    const { frames, text } = await socket.ask(prompt);
    const done = frames.find((frame) => frame.type === "done");
    const messageId = String(done?.messageId);
    const usage = done?.usage as { inputTokens: number; outputTokens: number };
    await usageAfter(relay, tokenBeta, 1);

    const lines = answerLines(relay).filter((line) => line.messageId === messageId);
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(Object.keys(line ?? {}).sort()).toEqual(
      [
        "event",
        "route",
        "session",
        "messageId",
        "principal",
        "provider",
        "model",
        "status",
        "errorCode",
        "ttftMs",
        "durationMs",
        "inputTokens",
        "outputTokens",
        "reasoningTokens",
        "usageEstimated",
        "retries",
        "fallback",
      ].sort(),
    );
    expect(line).toMatchObject({
      event: "sluice.answer",
      route: "session",
      provider: "demo",
      model: "sluice-demo",
      status: "complete",
      errorCode: null,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      reasoningTokens: 0,
      usageEstimated: false,
      retries: 0,
      fallback: false,
    });
    expect(line?.session).toMatch(/^[0-9a-f]{16}$/);
    expect(line?.session).not.toBe(session);
    expect(line?.principal).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof line?.ttftMs).toBe("number");
    expect(Number(line?.durationMs)).toBeGreaterThanOrEqual(Number(line?.ttftMs));

    const points = dataPoints(relay).filter((point) => point.indexes[0] === line?.principal);
    expect(points).toHaveLength(1);
    expect(points[0]).toEqual({
      indexes: [line?.principal],
      blobs: ["demo", "sluice-demo", "complete", "", "session"],
      doubles: [
        1,
        line?.ttftMs,
        line?.durationMs,
        line?.inputTokens,
        line?.outputTokens,
        0,
        0,
        0,
        0,
      ],
    });

    const logs = relay.logs.join("\n");
    expect(logs).not.toContain("purple-walrus-4417");
    expect(text.length).toBeGreaterThan(20);
    expect(logs).not.toContain(text.trim());
    expect(logs).not.toContain(String(session));
    for (const secret of Object.values(SECRETS)) expect(logs).not.toContain(secret);
    await socket.close();
  });

  it("GET /health answers without a token or a Durable Object, naming the provider only", async () => {
    const response = await fetch(`${relay.url}/health`);
    const body = await response.text();
    record(body);
    expect(response.status).toBe(200);
    expect(JSON.parse(body)).toEqual({ ok: true, provider: "demo", model: "sluice-demo" });
    const post = await fetch(`${relay.url}/health`, { method: "POST" });
    expect(post.status).toBe(405);
    await post.body?.cancel();
  });
});

describe("open mode", () => {
  let open: Relay;
  beforeAll(async () => {
    open = await startRelay({ MAX_OUTPUT_TOKENS_PER_DAY: "20", PROVIDER: "demo" });
  });
  afterAll(() => open.dispose());

  it("GET /usage says an identity is required; quotas count per client IP", async () => {
    const response = await fetch(`${open.url}/usage`);
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("identity_required");
    expect(body.error.message).toContain("AUTH_TOKENS");

    const socket = await TestSocket.open(`${open.wsUrl}/chat`);
    await socket.waitFor("session");
    const { frames } = await socket.ask("/tokens 25");
    expect(frames.filter((frame) => frame.type === "chunk")).toHaveLength(25);
    // The ledger is written just after `done`; the next prompt of this IP is then refused.
    let refusal: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !refusal; i += 1) {
      const from = socket.frames.length;
      socket.send({ prompt: "/tokens 1" });
      const frame = await socket.next((f) => f.type === "error" || f.type === "done", from);
      if (frame.type === "error") refusal = frame;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(refusal).toMatchObject({ code: "quota_exceeded" });
    await socket.close();

    const health = await fetch(`${open.url}/health`);
    expect(await health.json()).toEqual({ ok: true, provider: "demo", model: "sluice-demo" });
  });
});
