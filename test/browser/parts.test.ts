// Issue 12, "Must show" 7: the demo page shows an answer's parts, live and from the history:
// its reasoning collapsed under "Reasoning", and each tool call with its name, input and
// result (the page runs the demo's `weather` tool itself, with a canned result).
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { ask, launchBrowser, openPage, waitForAnswer } from "./browser.ts";
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

/** What the page shows of each message's parts, in order: enough to compare two renderings. */
function shownParts(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>("li.message")].map((item) => ({
      role: item.classList.contains("user") ? "user" : "assistant",
      status: item.dataset.status,
      parts: [...item.querySelectorAll<HTMLElement>(".parts > *")].map((part) => {
        const kind = part.dataset.part;
        if (kind === "reasoning") {
          const open = part instanceof HTMLDetailsElement && part.open;
          const summary = part.querySelector("summary")?.textContent;
          const text = part.querySelector(".reasoning-text")?.textContent;
          return { kind, open, summary, text };
        }
        if (kind === "tool-call") {
          return {
            kind,
            state: part.dataset.state,
            name: part.querySelector(".tool-name")?.textContent,
            input: part.querySelector(".tool-input")?.textContent,
            output: part.querySelector<HTMLElement>(".tool-output")?.hidden
              ? null
              : part.querySelector(".tool-output")?.textContent,
          };
        }
        return { kind, text: part.textContent };
      }),
    })),
  );
}

describe("the demo page shows an answer's parts", () => {
  it("streams the reasoning first, collapsed, then the answer", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/`);
    await ask(page, "How do rivers shape valleys?");
    // Live: the reasoning part is on the page while the answer still streams.
    await page.waitForSelector('li.message.assistant[data-status="streaming"] details.reasoning');
    await waitForAnswer(page, "complete");
    const [question, answer] = await shownParts(page);
    expect(question).toEqual({
      role: "user",
      status: "complete",
      parts: [{ kind: "text", text: "How do rivers shape valleys?" }],
    });
    expect(answer?.parts).toEqual([
      { kind: "reasoning", open: false, summary: "Reasoning", text: expect.stringMatching(/\S/) },
      { kind: "text", text: expect.stringMatching(/\S/) },
    ]);
    // Collapsed: the reasoning takes no room until opened, and opens on a click.
    const reasoning = page.locator("details.reasoning .reasoning-text");
    expect(await reasoning.isVisible()).toBe(false);
    await page.click("details.reasoning summary");
    expect(await reasoning.isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("runs the demo's tool call, shows its name, input and result, and the answer after it", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/`);
    const sent: string[] = [];
    page.on("websocket", (socket) =>
      socket.on("framesent", ({ payload }) => sent.push(String(payload))),
    );
    await page.reload();
    await ask(page, "/tool weather Paris");
    await page.waitForSelector('.tool-call[data-state="output-available"]');
    await waitForAnswer(page, "complete");
    await page.waitForFunction(() => document.querySelector(".tool-call ~ .text") !== null);
    await waitForAnswer(page, "complete");
    const live = await shownParts(page);
    const answer = live[1];
    expect(answer?.parts).toEqual([
      {
        kind: "reasoning",
        open: false,
        summary: "Reasoning",
        text: expect.stringMatching(/weather/),
      },
      {
        kind: "tool-call",
        state: "output-available",
        name: "weather",
        input: '{"query":"Paris"}',
        output: expect.stringContaining('"forecast": "sunny"'),
      },
      { kind: "text", text: expect.stringMatching(/\S/) },
    ]);

    // The prompt offered the page's tool; the result went back as a tool-results frame.
    const frames = sent.map((payload) => JSON.parse(payload));
    expect(frames).toContainEqual({
      type: "prompt",
      prompt: "/tool weather Paris",
      tools: [expect.objectContaining({ name: "weather", inputSchema: expect.any(Object) })],
    });
    expect(frames.filter((frame) => frame.type === "tool-results")).toHaveLength(1);

    // The session holds the result the page sent, and a reload shows the same parts from it.
    const session = await page.evaluate(() => localStorage.getItem("sluice.session"));
    const snapshot = await (await fetch(`${relay.url}/sessions/${session}`)).json();
    const stored = snapshot.messages[1];
    expect(stored.parts).toContainEqual(
      expect.objectContaining({
        type: "tool-call",
        toolName: "weather",
        state: "output-available",
        input: { query: "Paris" },
        output: expect.objectContaining({ city: "Paris", forecast: "sunny" }),
      }),
    );
    await page.reload();
    await page.waitForFunction(() => document.querySelector(".tool-call ~ .text") !== null);
    expect(await shownParts(page)).toEqual(live);
    // Answered once: the reload found nothing waiting, so nothing was sent twice.
    expect(await page.locator("#notice").isHidden()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("answers a tool it does not have with an error result, and shows input that is not JSON", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/`);
    await ask(page, "/tool lookup rivers");
    await page.waitForFunction(() => document.querySelector(".tool-call ~ .text") !== null);
    await waitForAnswer(page, "complete");
    const [, answer] = await shownParts(page);
    expect(answer?.parts.slice(1)).toEqual([
      {
        kind: "tool-call",
        state: "output-error",
        name: "lookup",
        input: '{"query":"rivers"}',
        output: "The demo page has no tool named lookup.",
      },
      { kind: "text", text: expect.stringContaining("The lookup tool failed") },
    ]);
    // Arguments that are not a JSON object: shown as sent, and nothing is run or awaited.
    await ask(page, "/tool weather {bad");
    await waitForAnswer(page, "complete");
    const [, , , invalid] = await shownParts(page);
    expect(invalid?.parts[1]).toEqual({
      kind: "tool-call",
      state: "input-error",
      name: "weather",
      input: "{bad",
      output: null,
    });
    expect(await page.locator(".tool-call .tool-state").allTextContents()).toEqual([
      " · failed",
      " · invalid input",
    ]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("answers a call that waits in the history when it opens the session", async () => {
    // Asked over HTTP with no page open: the answer ends with finish tool_calls and waits.
    const { session } = await (await fetch(`${relay.url}/sessions`, { method: "POST" })).json();
    const asked = await fetch(`${relay.url}/sessions/${session}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ content: "/tool weather Lyon" }),
    });
    expect(await asked.text()).toContain("tool_calls");
    const { page, context, errors } = await openPage(browser, `${relay.url}/`);
    // Once open, the page has stored its own new session: setting ours now cannot be overwritten.
    await page.waitForSelector('#status[data-state="open"]');
    await page.evaluate((id) => localStorage.setItem("sluice.session", id), session);
    await page.reload();
    await page.waitForFunction(() => document.querySelector(".tool-call ~ .text") !== null);
    await waitForAnswer(page, "complete");
    const [, answer] = await shownParts(page);
    expect(answer?.parts[1]).toMatchObject({
      kind: "tool-call",
      state: "output-available",
      output: expect.stringContaining('"city": "Lyon"'),
    });
    expect(errors).toEqual([]);
    await context.close();
  });

  it("looks right with reasoning and a tool call (test/browser/parts.png)", async () => {
    const { page, context } = await openPage(browser, `${relay.url}/`);
    // Tall enough for both answers: a prose answer with its reasoning opened, then a tool call.
    await page.setViewportSize({ width: 960, height: 1400 });
    await ask(page, "How do glaciers carve fjords?");
    await waitForAnswer(page, "complete");
    await page.locator("details.reasoning summary").click();
    await ask(page, "/tool weather Paris");
    await page.waitForFunction(() => document.querySelector(".tool-call ~ .text") !== null);
    await waitForAnswer(page, "complete");
    const path = process.env.UPDATE_SCREENSHOT
      ? fileURLToPath(new URL("./parts.png", import.meta.url))
      : fileURLToPath(new URL("../../test-results/parts.png", import.meta.url));
    mkdirSync(fileURLToPath(new URL(".", `file://${path}`)), { recursive: true });
    await page.screenshot({ path });
    await context.close();
  });
});
