// A short-lived JWT from a function: the client asks it before each connection and request,
// so once a token expires the relay's 4401 close (WebSocket) or 401 (HTTP) is followed by a
// fresh token instead of the client stopping for good.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE, claimsFor, ISSUER, mint, nowS } from "../helpers/jwt.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { launchBrowser, loadClientLibrary, openPage, tokens } from "./browser.ts";
import { SERVED } from "./global-setup.ts";

/** Each token minted here is accepted for about 3 s more: expired 27 s ago, in the 30 s tolerance. */
const SHORT_LIVED_MS = 3_000;

let relay: Relay;
let browser: Browser;

beforeAll(async () => {
  [relay, browser] = await Promise.all([
    startRelay(
      {
        DEMO_DELAY_MS: "2",
        AUTH_JWT_SECRET: SECRETS.jwtSecret,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
      },
      SERVED,
    ),
    launchBrowser(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await relay?.dispose();
});

/** Loads the client into the page with a token function backed by `mintToken` in Node. */
async function clientWithTokenFunction(page: Page, transport: string): Promise<void> {
  await loadClientLibrary(page);
  await page.evaluate((transport) => {
    const { SluiceClient } = Reflect.get(window, "__lib");
    const mintToken: () => Promise<string> = Reflect.get(window, "mintToken");
    const client = new SluiceClient({ transport, token: () => mintToken(), pingIntervalMs: 0 });
    const seen: Array<{ type: string; code?: string; status?: string; content?: string }> = [];
    client.on((event: { type: string }) => seen.push(event));
    Reflect.set(window, "__client", client);
    Reflect.set(window, "__seen", seen);
    client.connect();
  }, transport);
}

/** Sends `prompt` (retrying while the client reconnects) and resolves with its answer's text. */
function ask(page: Page, prompt: string): Promise<string> {
  return page.evaluate(async (prompt) => {
    const client = Reflect.get(window, "__client");
    const seen: Array<{ type: string; content?: string }> = Reflect.get(window, "__seen");
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const from = seen.length;
      if (
        client.state === "open" &&
        (await client.send(prompt).then(
          () => true,
          () => false,
        ))
      ) {
        for (let wait = 0; wait < 100; wait += 1) {
          const sent = seen.slice(from);
          const started = sent.findIndex((event) => event.type === "start");
          if (started !== -1 && sent.slice(started).some((event) => event.type === "done")) {
            const answer = sent.slice(started);
            return answer.map((event) => (event.type === "chunk" ? event.content : "")).join("");
          }
          // Refused (token_expired closes the socket): send again once it reopens.
          if (sent.some((event) => event.type === "error" && !("seq" in event))) break;
          await sleep(50);
        }
      }
      await sleep(100);
    }
    throw new Error(`no answer to ${prompt}`);
  }, prompt);
}

describe.each(["websocket", "sse"])("SluiceClient with a token function over %s", (transport) => {
  it("gets a fresh token after the first expires and goes on answering", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/`, { bypassCSP: true });
    let minted = 0;
    await page.exposeFunction("mintToken", () => {
      minted += 1;
      return mint({ ...claimsFor(`refresher-${transport}`), exp: nowS() - 27 }, "hs256");
    });
    await clientWithTokenFunction(page, transport);
    expect(await ask(page, "/tokens 5")).toBe(tokens(5));
    const before = minted;
    await new Promise((resolve) => setTimeout(resolve, SHORT_LIVED_MS + 1_000));
    expect(await ask(page, "/tokens 7")).toBe(tokens(7));
    expect(minted).toBeGreaterThan(before);
    const refusals = await page.evaluate(() =>
      Reflect.get(window, "__seen")
        .filter(
          (event: { type: string; seq?: number }) =>
            event.type === "error" && event.seq === undefined,
        )
        .map((event: { code: string }) => event.code),
    );
    // The socket's next frame after expiry is refused once; HTTP asks the function per request.
    expect(refusals).toEqual(transport === "websocket" ? ["token_expired"] : []);
    expect(await page.evaluate(() => Reflect.get(window, "__client").state)).toBe("open");
    expect(errors).toEqual([]);
    await context.close();
  });
});
