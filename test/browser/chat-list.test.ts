// The demo page's chat list in Chromium, against a relay with a token: chats listed newest
// first, renamed (the open chat over its WebSocket, another over HTTP), switched, deleted.
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { ask, launchBrowser, loadClientLibrary, openPage, waitForAnswer } from "./browser.ts";
import { SERVED } from "./global-setup.ts";

const TOKEN = "chat-list-token";

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

/** Waits until the sidebar's titles, top to bottom, are `expected`. */
async function waitForTitles(page: Page, expected: string[]): Promise<void> {
  await page.waitForFunction(
    (want) =>
      JSON.stringify(
        [...document.querySelectorAll("#chats .chat-title")].map((e) => e.textContent),
      ) === JSON.stringify(want),
    expected,
  );
}

/** The relay's own list for the token. */
async function listed(): Promise<Array<{ session: string; title: string | null }>> {
  const response = await fetch(`${relay.url}/sessions`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return ((await response.json()) as { chats: Array<{ session: string; title: string | null }> })
    .chats;
}

function current(page: Page): Promise<string | null> {
  return page.evaluate(() => localStorage.getItem("sluice.session"));
}

async function newChat(page: Page, prompt: string): Promise<void> {
  const before = await current(page);
  await page.click("#new-chat");
  await page.waitForFunction((old) => {
    const now = localStorage.getItem("sluice.session");
    return now !== null && now !== old;
  }, before);
  await page.waitForSelector('#status[data-state="open"]');
  await ask(page, prompt);
  await waitForAnswer(page, "complete");
}

async function rename(page: Page, from: string, to: string): Promise<void> {
  await page.getByRole("button", { name: `Rename ${from}` }).click();
  await page.fill(".chat-title-input", to);
  await page.press(".chat-title-input", "Enter");
}

describe("the demo page's chat list", () => {
  it("lists, renames, switches and deletes chats", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/#token=${TOKEN}`);
    // The token left the address bar; the page kept it.
    expect(new URL(page.url()).hash).toBe("");
    await page.waitForSelector('#status[data-state="open"]');
    await waitForTitles(page, ["New chat"]);
    await ask(page, "Plan a weekend trip to Lisbon");
    await waitForAnswer(page, "complete");
    await waitForTitles(page, ["Plan a weekend trip to Lisbon"]);
    const lisbon = await current(page);
    await newChat(page, "/tokens 5");
    const tokens = await current(page);
    await newChat(page, "How do rivers shape valleys?");
    const rivers = await current(page);
    await waitForTitles(page, [
      "How do rivers shape valleys?",
      "/tokens 5",
      "Plan a weekend trip to Lisbon",
    ]);
    expect(await page.locator('#chats .chat[aria-current="true"] .chat-title').textContent()).toBe(
      "How do rivers shape valleys?",
    );

    // The open chat is renamed over its WebSocket, another one over HTTP.
    await rename(page, "How do rivers shape valleys?", "Rivers and valleys");
    await waitForTitles(page, ["Rivers and valleys", "/tokens 5", "Plan a weekend trip to Lisbon"]);
    await rename(page, "Plan a weekend trip to Lisbon", "  Lisbon   weekend ");
    await waitForTitles(page, ["Rivers and valleys", "/tokens 5", "Lisbon weekend"]);
    expect((await listed()).map((chat) => chat.title)).toEqual([
      "Rivers and valleys",
      "/tokens 5",
      "Lisbon weekend",
    ]);

    // Switching shows that chat's history.
    await page.locator("#chats .chat-open", { hasText: "Lisbon weekend" }).click();
    await page.waitForFunction(() =>
      document.querySelector("li.message.user .text")?.textContent?.includes("Lisbon"),
    );
    expect(await current(page)).toBe(lisbon);
    expect(await page.locator("li.message").count()).toBe(2);
    expect(await page.locator('#chats .chat[aria-current="true"] .chat-title').textContent()).toBe(
      "Lisbon weekend",
    );
    await page.waitForSelector('#status[data-state="open"]');
    const path = process.env.UPDATE_SCREENSHOT
      ? fileURLToPath(new URL("./chat-list.png", import.meta.url))
      : fileURLToPath(new URL("../../test-results/chat-list.png", import.meta.url));
    mkdirSync(fileURLToPath(new URL(".", `file://${path}`)), { recursive: true });
    await page.screenshot({ path });

    // Deleting another chat leaves this one open.
    await page.getByRole("button", { name: "Delete /tokens 5" }).click();
    await waitForTitles(page, ["Rivers and valleys", "Lisbon weekend"]);
    expect((await listed()).map((chat) => chat.session)).not.toContain(tokens);
    expect(await current(page)).toBe(lisbon);

    // Deleting the open chat (over its WebSocket) moves to a neighbour.
    await page.getByRole("button", { name: "Delete Lisbon weekend" }).click();
    await waitForTitles(page, ["Rivers and valleys"]);
    await page.waitForFunction((id) => localStorage.getItem("sluice.session") === id, rivers);
    await page.waitForFunction(() =>
      document.querySelector("li.message.user .text")?.textContent?.includes("rivers"),
    );
    expect((await listed()).map((chat) => chat.session)).toEqual([rivers]);
    const gone = await fetch(`${relay.url}/sessions/${lisbon}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(gone.status).toBe(404);
    expect(await page.locator("#chats-note").isHidden()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe("SluiceClient and SluiceChats in the page", () => {
  it("rename and delete over SSE (HTTP) and list over HTTP", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/`, { bypassCSP: true });
    await loadClientLibrary(page);
    const result = await page.evaluate(async (token) => {
      const { SluiceClient, SluiceChats } = Reflect.get(window, "__lib");
      const client = new SluiceClient({ transport: "sse", token });
      const events: string[] = [];
      const welcomed = new Promise<void>((resolve) => {
        client.on((event: { type: string; title?: string; reason?: string }) => {
          if (event.type === "session") resolve();
          if (event.type === "renamed") events.push(`renamed:${event.title}`);
          if (event.type === "deleted") events.push(`deleted:${event.reason}`);
          if (event.type === "state") events.push(`state:${(event as { state?: string }).state}`);
        });
      });
      client.connect();
      await welcomed;
      const session = client.session;
      await client.rename(" From SSE ");
      const chats = new SluiceChats({ token });
      const page = await chats.list({ limit: 100 });
      const listedTitle = page.chats.find(
        (chat: { session: string }) => chat.session === session,
      )?.title;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await client.delete();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = await chats.list({ limit: 100 });
      const still = after.chats.some((chat: { session: string }) => chat.session === session);
      let refusal = "";
      try {
        await new SluiceChats({}).list();
      } catch (error) {
        refusal = String((error as { code?: string }).code);
      }
      return { listedTitle, events, still, state: client.state, refusal };
    }, TOKEN);
    expect(result.listedTitle).toBe("From SSE");
    expect(result.events).toContain("renamed:From SSE");
    expect(result.events).toContain("deleted:deleted");
    expect(result.events.at(-1)).toBe("state:closed");
    expect(result.still).toBe(false);
    expect(result.state).toBe("closed");
    expect(result.refusal).toBe("unauthorized");
    expect(errors).toEqual([]);
    await context.close();
  });
});
