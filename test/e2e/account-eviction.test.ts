// A client's answer slots outlive its Account object's eviction: the runtime drops an object
// with nothing to do after 10 s (workerd here, Cloudflare in production), and a long answer
// gives its Account nothing to do between its admission and its end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";

const { tokenAlpha } = SECRETS;
const asToken = (token: string) => ["sluice", `sluice.token.${token}`];
/** Past the runtime's 10 s of inactivity, with a margin for a loaded machine. */
const PAST_EVICTION_MS = 12_000;
let relay: Relay;

beforeAll(async () => {
  relay = await startRelay({
    AUTH_TOKENS: tokenAlpha,
    MAX_CONCURRENT_GENERATIONS: "1",
    DEMO_DELAY_MS: "10",
  });
});
afterAll(() => relay.dispose());

describe("answer slots", () => {
  it("stay taken while a long answer runs past its Account's eviction", async () => {
    const long = await TestSocket.open(`${relay.wsUrl}/chat`, asToken(tokenAlpha));
    const other = await TestSocket.open(`${relay.wsUrl}/chat`, asToken(tokenAlpha));
    await Promise.all([long.waitFor("session"), other.waitFor("session")]);
    long.send({ prompt: "/tokens 3000" });
    await long.waitFor("start");
    await new Promise((resolve) => setTimeout(resolve, PAST_EVICTION_MS));
    expect(long.frames.some((frame) => frame.type === "done")).toBe(false);

    other.send({ prompt: "/tokens 3" });
    expect(await other.waitFor("error")).toMatchObject({ code: "rate_limited" });

    long.send({ type: "cancel" });
    expect(await long.waitFor("done")).toMatchObject({ status: "cancelled" });
    const from = other.frames.length;
    other.send({ prompt: "/tokens 3" });
    expect(await other.waitFor("done", from)).toMatchObject({ status: "complete" });
    await Promise.all([long.close(), other.close()]);
  }, 40_000);
});
