// The client library on its own, in Chromium, against a relay that requires a token: the token
// travels as a WebSocket subprotocol, a Bearer header, or `?token=` for EventSource.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { launchBrowser, loadClientLibrary, openPage, tokens } from "./browser.ts";
import { SERVED } from "./global-setup.ts";

const TOKEN = "browser-test-token";

let relay: Relay;
let browser: Browser;

beforeAll(async () => {
  [relay, browser] = await Promise.all([
    startRelay({ DEMO_DELAY_MS: "2", AUTH_TOKENS: TOKEN }, SERVED),
    launchBrowser(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await relay?.dispose();
});

/** Runs one prompt through a fresh SluiceClient in the page; returns what it assembled. */
async function converse(page: Page, transport: string, token: string | undefined) {
  await loadClientLibrary(page);
  return page.evaluate(
    async ({ transport, token }) => {
      const { SluiceClient, Transcript } = Reflect.get(window, "__lib");
      const client = new SluiceClient({ transport, token });
      const transcript = new Transcript();
      const refusals: string[] = [];
      const done = new Promise<void>((resolve) => {
        client.on((event: { type: string; seq?: number; state?: string; code?: string }) => {
          if (event.type === "error" && event.seq === undefined) refusals.push(String(event.code));
          if (event.type === "session") void client.send("/tokens 25");
          if (event.seq !== undefined) transcript.apply(event);
          if (event.type === "done" || event.state === "closed") resolve();
        });
      });
      client.connect();
      await done;
      client.close();
      const last = transcript.messages.at(-1);
      return { refusals, text: last?.content, status: last?.status };
    },
    { transport, token },
  );
}

describe.each(["websocket", "sse"])("SluiceClient over %s", (transport) => {
  it("streams an answer with the token", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/`, { bypassCSP: true });
    const result = await converse(page, transport, TOKEN);
    expect(result).toEqual({ refusals: [], text: tokens(25), status: "complete" });
    expect(errors).toEqual([]);
    await context.close();
  });

  it("without a token stops at once and says why", async () => {
    const { page, context } = await openPage(browser, `${relay.url}/`, { bypassCSP: true });
    const result = await converse(page, transport, undefined);
    expect(result).toEqual({ refusals: ["unauthorized"], text: undefined, status: undefined });
    await context.close();
  });
});

describe("the demo page without the relay's token", () => {
  it("shows that it is refused instead of retrying forever", async () => {
    const { page, context } = await openPage(browser, `${relay.url}/`);
    await page.waitForSelector('#status[data-state="closed"]');
    expect(await page.locator("#notice").textContent()).toMatch(/token/i);
    await context.close();
  });
});
