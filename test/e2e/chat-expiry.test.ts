// Expiry with a short SESSION_TTL_DAYS: idle sessions leave the list and their storage by their
// own alarm; one answering meanwhile stays, and expires after its answer like the rest.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { TestSocket } from "../helpers/socket.ts";
import { rowsMentioning } from "../helpers/stored.ts";

const TOKEN = "expiry-test-token";
const TTL_MS = 1_500;
const AUTH = { authorization: `Bearer ${TOKEN}` };

let relay: Relay;
let persisted: string;

beforeAll(async () => {
  persisted = mkdtempSync(join(tmpdir(), "sluice-expiry-"));
  relay = await startRelay(
    {
      AUTH_TOKENS: TOKEN,
      // Fractional days: 1.5 s.
      SESSION_TTL_DAYS: String(TTL_MS / 86_400_000),
      DEMO_DELAY_MS: "2",
    },
    { persist: persisted },
  );
});
afterAll(async () => {
  await relay?.dispose();
  if (persisted) rmSync(persisted, { recursive: true, force: true });
});

async function create(): Promise<string> {
  const response = await fetch(`${relay.url}/sessions`, { method: "POST", headers: AUTH });
  expect(response.status).toBe(201);
  return ((await response.json()) as { session: string }).session;
}

async function listed(): Promise<Array<{ session: string; streaming: boolean }>> {
  const response = await fetch(`${relay.url}/sessions?limit=100`, { headers: AUTH });
  expect(response.status).toBe(200);
  return ((await response.json()) as { chats: Array<{ session: string; streaming: boolean }> })
    .chats;
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("SESSION_TTL_DAYS", () => {
  it("deletes idle sessions and their storage; an active one stays until it is idle too", async () => {
    const neverUsed = await create();
    const answered = await create();
    const answer = await fetch(`${relay.url}/sessions/${answered}/messages`, {
      method: "POST",
      headers: { ...AUTH, "content-type": "application/json" },
      body: JSON.stringify({ content: "/tokens 3" }),
    });
    await answer.text();
    // About 4 s of answer at 2 ms a token: longer than the TTL.
    const active = await TestSocket.open(`${relay.wsUrl}/chat`, [
      "sluice",
      `sluice.token.${TOKEN}`,
    ]);
    const { session: busy } = await active.waitFor("session");
    active.send({ prompt: "/tokens 2000" });
    await active.waitFor("chunk");
    expect((await listed()).map((chat) => chat.session)).toEqual(
      expect.arrayContaining([neverUsed, answered, busy]),
    );
    expect(rowsMentioning(persisted, neverUsed)).toBeGreaterThan(0);

    await waitFor(async () => {
      const sessions = (await listed()).map((chat) => chat.session);
      return !sessions.includes(neverUsed) && !sessions.includes(answered);
    }, 10_000);
    for (const gone of [neverUsed, answered]) {
      expect(rowsMentioning(persisted, gone), gone).toBe(0);
      const response = await fetch(`${relay.url}/sessions/${gone}`, { headers: AUTH });
      expect(response.status).toBe(404);
    }
    // The answering session is still there, streaming, with its socket open.
    expect(active.frames.some((frame) => frame.type === "done")).toBe(false);
    expect(await listed()).toEqual([expect.objectContaining({ session: busy, streaming: true })]);
    expect(rowsMentioning(persisted, String(busy))).toBeGreaterThan(0);

    // Once its answer ended it is idle, and goes the same way: its socket is told why.
    await active.waitFor("done", 0, 20_000);
    await waitFor(async () => active.closed !== undefined, 10_000);
    expect(active.closed).toEqual({ code: 4004, reason: "session_expired" });
    expect(active.frames.at(-1)).toEqual({ type: "deleted", session: busy, reason: "expired" });
    expect(await listed()).toEqual([]);
    expect(rowsMentioning(persisted, String(busy))).toBe(0);
  }, 40_000);
});
