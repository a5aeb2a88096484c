// An abrupt reset, as production does it (a deploy, a limit, a machine failure): the workerd
// process is killed with SIGKILL mid-answer and restarted on the same persisted state. What
// was streamed more than the documented bound before the kill is kept; every client that
// resumes gets the answer's `interrupted` error and its `done`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownProcesses } from "../../bench/proc.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { type Frame, TestSocket } from "../helpers/socket.ts";

/** docs/storage.md: a reset loses at most the last 2 s of an answer. */
const LOSS_BOUND_MS = 2_000;

let relay: Relay;
let dir: string;
let restarted: () => void = () => {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-reset-"));
  relay = await startRelay(
    { DEMO_DELAY_MS: "50" },
    { persist: dir, onRuntimeRestart: () => restarted() },
  );
});
afterAll(async () => {
  await relay.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Kills this test's workerd with SIGKILL and resolves once Miniflare has started another. */
async function killRuntime(): Promise<number> {
  const pids = ownProcesses("workerd");
  // This file's process started exactly one runtime; anything else is not ours to kill.
  expect(pids).toHaveLength(1);
  const back = new Promise<void>((resolve) => {
    restarted = resolve;
  });
  const killedAt = Date.now();
  process.kill(pids[0] ?? 0, "SIGKILL");
  await back;
  await relay.mf.ready;
  return killedAt;
}

describe("a runtime killed mid-answer", () => {
  it("keeps every chunk older than 2 s, and each resuming client gets interrupted and done", async () => {
    const client = await TestSocket.open(`${relay.wsUrl}/chat`);
    const session = String((await client.waitFor("session")).session);
    const received: Array<{ frame: Frame; at: number }> = [];
    client.ws.addEventListener("message", (event) => {
      received.push({ frame: JSON.parse(String(event.data)), at: Date.now() });
    });
    client.send({ prompt: "/tokens 400" });
    const start = await client.waitFor("start");
    const startedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const killedAt = await killRuntime();
    // The reset closed the client's socket, as a deploy would.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.closed).toBeDefined();
    const seen = received.filter(
      ({ frame, at }) => typeof frame.seq === "number" && at <= killedAt,
    );
    const chunks = seen.filter(({ frame }) => frame.type === "chunk");
    const lastSeq = Number(seen.at(-1)?.frame.seq);
    expect(chunks.length).toBeGreaterThan(40);
    expect(seen.some(({ frame }) => frame.type === "done")).toBe(false);

    const url = (await relay.mf.ready).origin;
    const history = async () => {
      const response = await fetch(`${url}/sessions/${session}`);
      return response.json() as Promise<{
        generating: boolean;
        messages: Array<{ role: string; content: string; status: string; errorCode?: string }>;
      }>;
    };
    const wsUrl = url.replace(/^http/, "ws");
    // Every number the client could have seen, the lost ones included.
    const afters = [lastSeq, Number(start.seq), 0, Math.floor((Number(start.seq) + lastSeq) / 2)];
    for (const after of afters) {
      const resumed = await TestSocket.open(`${wsUrl}/chat?session=${session}&after=${after}`);
      await resumed.waitFor("done");
      const events = resumed.frames.filter((frame) => typeof frame.seq === "number");
      expect(resumed.frames.some((frame) => frame.code === "resume_unavailable")).toBe(false);
      expect(events.slice(-2)).toMatchObject([
        { type: "error", code: "interrupted" },
        { type: "done", status: "incomplete" },
      ]);
      expect(Number(events.at(-2)?.seq)).toBeGreaterThan(lastSeq);
      await resumed.close();
    }

    const { messages, generating } = await history();
    expect(generating).toBe(false);
    const answer = messages.at(-1);
    expect(answer).toMatchObject({
      role: "assistant",
      status: "incomplete",
      errorCode: "interrupted",
    });
    const stored = answer?.content ?? "";
    const seenText = chunks.map(({ frame }) => String(frame.content)).join("");
    const olderThanBound = chunks
      .filter(({ at }) => at <= killedAt - LOSS_BOUND_MS)
      .map(({ frame }) => String(frame.content))
      .join("");
    console.log(
      `reset after ${killedAt - startedAt} ms: client had ${chunks.length} chunks, ` +
        `${stored.length} of its ${seenText.length} characters stored (${olderThanBound.length} older than 2 s)`,
    );
    expect(seenText.startsWith(stored)).toBe(true);
    expect(stored.length).toBeGreaterThanOrEqual(olderThanBound.length);
    expect(olderThanBound.length).toBeGreaterThan(0);
    await client.close().catch(() => {});
  }, 30_000);
});
