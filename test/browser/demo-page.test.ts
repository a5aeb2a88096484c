// The demo page in real Chromium: served at / next to the Worker's routes, it streams answers,
// stops them, and keeps its session (and an answer in progress) across a reload.
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import {
  ask,
  lastAnswerText,
  launchBrowser,
  openPage,
  tokens,
  waitForAnswer,
  waitForText,
} from "./browser.ts";
import { SERVED } from "./global-setup.ts";

let relay: Relay;
let browser: Browser;

beforeAll(async () => {
  [relay, browser] = await Promise.all([
    startRelay({ DEMO_DELAY_MS: "5" }, SERVED),
    launchBrowser(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await relay?.dispose();
});

describe("static assets next to the Worker", () => {
  it("serves the page at /, its files, and leaves every other path to the Worker", async () => {
    const page = await fetch(`${relay.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain("<title>Sluice demo</title>");
    for (const file of ["/app.js", "/client.js", "/style.css"]) {
      expect((await fetch(`${relay.url}${file}`)).status, file).toBe(200);
    }
    const created = await fetch(`${relay.url}/sessions`, { method: "POST" });
    expect(created.status).toBe(201);
    const chat = await fetch(`${relay.url}/chat`);
    expect(chat.status).toBe(426);
    const missing = await fetch(`${relay.url}/no-such-page`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "not_found" } });
    // The build's own bookkeeping is not published.
    expect((await fetch(`${relay.url}/.gitignore`)).status).toBe(404);
  });
});

describe("the demo page", () => {
  it("streams an answer as text, then shows it complete", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/`);
    await page.waitForSelector('#status[data-state="open"]');
    await ask(page, "/tokens 80");
    await waitForAnswer(page, "complete");
    expect(await lastAnswerText(page)).toBe(tokens(80));
    expect(await page.locator("li.message.user .text").textContent()).toBe("/tokens 80");
    expect(await page.locator("li.message.assistant .meta").textContent()).toBe("80 tokens");
    expect(await page.locator("#stop").isDisabled()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("stops an answer: status cancelled, and no text after it", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/`);
    await ask(page, "/tokens 5000");
    await waitForText(page, 60);
    await page.click("#stop");
    await waitForAnswer(page, "cancelled");
    expect(await page.locator("li.message.assistant .meta").textContent()).toBe(
      "Stopped (cancelled)",
    );
    const stopped = await lastAnswerText(page);
    await page.waitForTimeout(300);
    expect(await lastAnswerText(page)).toBe(stopped);
    expect(tokens(5000).startsWith(stopped)).toBe(true);
    expect(stopped.length).toBeLessThan(tokens(5000).length);
    expect(await page.locator("#send").isDisabled()).toBe(false);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("keeps the session across a reload and resumes the answer in progress", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/`);
    await ask(page, "/tokens 20");
    await waitForAnswer(page, "complete");
    const session = await page.evaluate(() => localStorage.getItem("sluice.session"));
    expect(session).toMatch(/\S/);
    await ask(page, "/tokens 600");
    await waitForText(page, 100);
    await page.reload();
    // Still streaming after the reload: the page rejoined the answer, not just read the history.
    await waitForAnswer(page, "streaming");
    await waitForAnswer(page, "complete");
    const texts = await page.locator("li.message .text").allTextContents();
    expect(texts).toEqual(["/tokens 20", tokens(20), "/tokens 600", tokens(600)]);
    expect(await page.evaluate(() => localStorage.getItem("sluice.session"))).toBe(session);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("starts over when the stored session is unknown to the relay", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/`);
    // Once open, the page has stored its own new session: setting ours now cannot be overwritten.
    await page.waitForSelector('#status[data-state="open"]');
    await page.evaluate(() => localStorage.setItem("sluice.session", "s_forgotten"));
    await page.reload();
    await page.waitForSelector('#status[data-state="open"]');
    const session = await page.evaluate(() => localStorage.getItem("sluice.session"));
    expect(session).not.toBe("s_forgotten");
    await ask(page, "/tokens 3");
    await waitForAnswer(page, "complete");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("starts a new session with New chat", async () => {
    const { page, context } = await openPage(browser, `${relay.url}/`);
    await ask(page, "/tokens 3");
    await waitForAnswer(page, "complete");
    const first = await page.evaluate(() => localStorage.getItem("sluice.session"));
    await page.click("#new-chat");
    await page.waitForFunction((old) => {
      const now = localStorage.getItem("sluice.session");
      return now !== null && now !== old;
    }, first);
    expect(await page.locator("li.message").count()).toBe(0);
    await context.close();
  });

  it("on an open relay lists the chats this browser opened, and renames and deletes them by id", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/`);
    await ask(page, "A first   question");
    await waitForAnswer(page, "complete");
    const first = await page.evaluate(() => localStorage.getItem("sluice.session"));
    await page.click("#new-chat");
    await page.waitForFunction((old) => localStorage.getItem("sluice.session") !== old, first);
    await page.waitForSelector('#status[data-state="open"]');
    await ask(page, "A second question");
    await waitForAnswer(page, "complete");
    const titles = () => page.locator("#chats .chat-title").allTextContents();
    await page.waitForFunction(() => document.querySelectorAll("#chats .chat").length === 2);
    expect(await titles()).toEqual(["A second question", "A first question"]);
    expect(await page.locator("#chats-note").isVisible()).toBe(true);

    await page.getByRole("button", { name: "Rename A first question" }).click();
    await page.fill(".chat-title-input", "Renamed by id");
    await page.press(".chat-title-input", "Enter");
    await page.waitForFunction(() =>
      [...document.querySelectorAll("#chats .chat-title")].some(
        (e) => e.textContent === "Renamed by id",
      ),
    );
    const snapshot = await (await fetch(`${relay.url}/sessions/${first}`)).json();
    expect(snapshot).toMatchObject({ title: "Renamed by id" });

    await page.getByRole("button", { name: "Delete A second question" }).click();
    await page.waitForFunction((id) => localStorage.getItem("sluice.session") === id, first);
    await page.waitForFunction(() => document.querySelectorAll("#chats .chat").length === 1);
    expect(await titles()).toEqual(["Renamed by id"]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("looks right mid-conversation (the screenshot in docs/)", async () => {
    const { page, context } = await openPage(browser, `${relay.url}/`);
    await page.setViewportSize({ width: 960, height: 960 });
    await ask(page, "How do rivers shape valleys?");
    await waitForAnswer(page, "complete");
    await ask(page, "And what about glaciers?");
    await waitForText(page, 160);
    expect(await page.locator("#stop").isEnabled()).toBe(true);
    const path = process.env.UPDATE_SCREENSHOT
      ? fileURLToPath(new URL("./demo-page.png", import.meta.url))
      : fileURLToPath(new URL("../../test-results/demo-page.png", import.meta.url));
    mkdirSync(fileURLToPath(new URL(".", `file://${path}`)), { recursive: true });
    await page.screenshot({ path });
    await context.close();
  });
});
