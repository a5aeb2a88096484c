// A short answer leaves the session's alarm where it was: the expiry set at creation stays,
// and no heartbeat is set, since every move of the alarm is a commit of its own.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openSocket, until } from "./support.ts";

function alarmOf(session: string): Promise<number | null> {
  const stub = env.SESSIONS.get(env.SESSIONS.idFromName(session));
  return runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
}

describe("the alarm around a short answer", () => {
  it("is neither moved at its start nor at its end", async () => {
    const { ws, frames, session } = await openSocket();
    const before = await alarmOf(session);
    expect(before).not.toBeNull();
    ws.send(JSON.stringify({ prompt: "/tokens 3" }));
    await until(() => frames.some((frame) => frame.type === "done"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await alarmOf(session)).toBe(before);
    ws.close();
  });
});
