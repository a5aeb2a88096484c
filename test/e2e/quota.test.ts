// MAX_OUTPUT_TOKENS_PER_DAY: once a user's answers reach it, every protocol refuses new
// prompts with quota_exceeded and the time of the next UTC midnight; an answer already
// streaming runs to its end; another user is still served.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { record } from "../helpers/record.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { usageAfter } from "../helpers/usage.ts";

const { tokenAlpha, tokenBeta } = SECRETS;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const asToken = (token: string) => ["sluice", `sluice.token.${token}`];
const QUOTA = 50;
let relay: Relay;

beforeAll(async () => {
  relay = await startRelay({
    AUTH_TOKENS: [tokenAlpha, tokenBeta].join(","),
    MAX_OUTPUT_TOKENS_PER_DAY: String(QUOTA),
    DEMO_DELAY_MS: "4",
  });
});
afterAll(() => relay.dispose());

/** The next UTC midnight, and the seconds until it. */
function nextReset(): { resetAt: string; seconds: number } {
  const now = new Date();
  const reset = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return { resetAt: new Date(reset).toISOString(), seconds: (reset - now.getTime()) / 1000 };
}

/** Retry-After is the whole seconds until the reset, give or take the test's own time. */
function expectRetryAfter(value: unknown): void {
  const { seconds } = nextReset();
  expect(Number(value)).toBeGreaterThanOrEqual(Math.floor(seconds) - 5);
  expect(Number(value)).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
}

async function expectHttpRefusal(response: Response, openai = false): Promise<void> {
  const text = await response.text();
  record(text);
  expect(response.status).toBe(429);
  expectRetryAfter(response.headers.get("retry-after"));
  const { error } = JSON.parse(text) as { error: Record<string, unknown> };
  expect(error.code).toBe("quota_exceeded");
  expect(String(error.message)).toContain(nextReset().resetAt);
  if (!openai) expect(error.resetAt).toBe(nextReset().resetAt);
}

const user = (text: string) => ({ id: "u1", role: "user", parts: [{ type: "text", text }] });

describe("a daily output-token quota", () => {
  it("refuses new prompts on every protocol once reached, without cutting the answer in progress", async () => {
    const long = await TestSocket.open(`${relay.wsUrl}/chat`, asToken(tokenAlpha));
    const short = await TestSocket.open(`${relay.wsUrl}/chat`, asToken(tokenAlpha));
    const { session } = await short.waitFor("session");
    await long.waitFor("session");

    // A long answer starts under the quota; a short one then takes the user past it.
    long.send({ prompt: "/tokens 400" });
    await long.waitFor("start");
    const { frames } = await short.ask("/tokens 60");
    expect(frames.filter((frame) => frame.type === "chunk")).toHaveLength(60);
    const usage = await usageAfter(relay, tokenAlpha, 1);
    expect(usage.today.outputTokens).toBe(60);
    expect(usage.quota.outputTokensPerDay).toBe(QUOTA);
    expect(long.frames.some((frame) => frame.type === "done")).toBe(false);

    // The seed socket protocol: an error frame with retryAfter and resetAt; nothing stored.
    const from = short.frames.length;
    short.send({ prompt: "/tokens 3" });
    const refusal = await short.waitFor("error", from);
    expect(refusal).toMatchObject({ code: "quota_exceeded", resetAt: nextReset().resetAt });
    expectRetryAfter(refusal.retryAfter);
    expect(short.frames.slice(from).some((frame) => frame.type === "start")).toBe(false);

    // POST /sessions/:id/messages
    await expectHttpRefusal(
      await fetch(`${relay.url}/sessions/${session}/messages`, {
        method: "POST",
        headers: { ...bearer(tokenAlpha), "content-type": "application/json" },
        body: JSON.stringify({ content: "hello" }),
      }),
    );

    // POST /api/chat (AI SDK UI message stream)
    await expectHttpRefusal(
      await fetch(`${relay.url}/api/chat`, {
        method: "POST",
        headers: bearer(tokenAlpha),
        body: JSON.stringify({ id: "quotaChat01", messages: [user("hello")] }),
      }),
    );

    // GET /api/chat/ws: the transport's error frame, whose errorText leads with the code.
    const ws = await TestSocket.open(`${relay.wsUrl}/api/chat/ws`, asToken(tokenAlpha));
    ws.send({
      type: "send",
      requestId: "r1",
      id: "quotaChat02",
      trigger: "submit-message",
      messages: [user("hello")],
      headers: {},
      body: {},
    });
    const wsError = await ws.waitFor("error");
    expect(wsError).toMatchObject({ requestId: "r1" });
    expect(String(wsError.errorText)).toMatch(/^quota_exceeded: /);
    expect(String(wsError.errorText)).toContain(nextReset().resetAt);
    await ws.close();

    // POST /v1/chat/completions, stateless and in a session, streaming or not.
    for (const extra of [{}, { stream: true }, { sluice_session: session }]) {
      await expectHttpRefusal(
        await fetch(`${relay.url}/v1/chat/completions`, {
          method: "POST",
          headers: { ...bearer(tokenAlpha), "content-type": "application/json" },
          body: JSON.stringify({
            model: "any",
            messages: [{ role: "user", content: "hi" }],
            ...extra,
          }),
        }),
        true,
      );
    }

    // The answer that was streaming all along ends complete, every token of it.
    const done = await long.waitFor("done", 0, 15_000);
    expect(done).toMatchObject({ status: "complete", usage: { outputTokens: 400 } });
    expect(long.frames.filter((frame) => frame.type === "chunk")).toHaveLength(400);
    expect((await usageAfter(relay, tokenAlpha, 2)).today.outputTokens).toBe(460);

    // Another user has their own quota.
    const other = await TestSocket.open(`${relay.wsUrl}/chat`, asToken(tokenBeta));
    await other.waitFor("session");
    expect((await other.ask("/tokens 3")).text).toBe("t0 t1 t2 ");
    await Promise.all([long.close(), short.close(), other.close()]);
  });
});
