// The seed protocol from a page of another origin: a hand-written client of a dozen lines, on
// its own port, talks to the relay's /chat over a plain WebSocket and shows chunks and done; and
// the same page renames and deletes a chat with fetch, through Chromium's CORS preflight.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { launchBrowser, openPage, tokens } from "./browser.ts";
import { SERVED } from "./global-setup.ts";

/** The whole client: connect, send a prompt, append each chunk, show done. */
function barePage(relayPort: string): string {
  return `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Bare client</title>
<pre id="answer"></pre><p id="state">connecting</p>
<script>
  const answer = document.getElementById("answer");
  const state = document.getElementById("state");
  const ws = new WebSocket("ws://localhost:${relayPort}/chat");
  ws.onopen = () => ws.send(JSON.stringify({ prompt: "/tokens 30" }));
  ws.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === "chunk") answer.textContent += frame.content;
    if (frame.type === "done") state.textContent = "done: " + frame.status;
  };
  ws.onerror = () => { state.textContent = "socket error"; };
</script></html>`;
}

let relay: Relay;
let browser: Browser;
let site: Server;
let siteUrl: string;

beforeAll(async () => {
  [relay, browser] = await Promise.all([
    startRelay({ DEMO_DELAY_MS: "5" }, SERVED),
    launchBrowser(),
  ]);
  const page = barePage(new URL(relay.url).port);
  site = createServer((_, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(page);
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await relay?.dispose();
});

describe("a bare page on another origin", () => {
  it("streams the chunks over ws://localhost and shows done", async () => {
    const { page, context, errors } = await openPage(browser, siteUrl);
    await page.waitForFunction(
      () => document.getElementById("state")?.textContent !== "connecting",
    );
    await page.waitForFunction(() =>
      document.getElementById("state")?.textContent?.startsWith("done"),
    );
    expect(await page.locator("#state").textContent()).toBe("done: complete");
    expect(await page.locator("#answer").textContent()).toBe(tokens(30));
    expect(errors).toEqual([]);
    await context.close();
  });

  it("renames and deletes a chat over cross-origin fetch (PATCH and DELETE pass the preflight)", async () => {
    const { page, context, errors } = await openPage(browser, siteUrl);
    const relayUrl = relay.url.replace("127.0.0.1", "localhost");
    const seen = await page.evaluate(async (base) => {
      const json = { "content-type": "application/json" };
      const { session } = await (await fetch(`${base}/sessions`, { method: "POST" })).json();
      const renamed = await fetch(`${base}/sessions/${session}`, {
        method: "PATCH",
        headers: json,
        body: JSON.stringify({ title: "From another origin" }),
      });
      const deleted = await fetch(`${base}/sessions/${session}`, { method: "DELETE" });
      const after = await fetch(`${base}/sessions/${session}`);
      return [renamed.status, (await renamed.json()).title, deleted.status, after.status];
    }, relayUrl);
    expect(seen).toEqual([200, "From another origin", 204, 404]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
