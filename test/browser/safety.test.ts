// Model output is text, never markup: an upstream that answers with HTML and script tags is
// shown literally, live and from the history after a reload, and nothing in it runs.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { startUpstream, type Upstream } from "../helpers/upstreams.ts";
import { ask, lastAnswerText, launchBrowser, openPage, waitForAnswer } from "./browser.ts";
import { SERVED } from "./global-setup.ts";

const HOSTILE = [
  "<script>window.__pwned=1</script>",
  "<b>x</b>",
  '<img src="x" onerror="window.__pwned=2">',
  "&lt;i&gt;",
];

let upstream: Upstream;
let relay: Relay;
let browser: Browser;

beforeAll(async () => {
  upstream = await startUpstream("openai", { tokens: HOSTILE });
  [relay, browser] = await Promise.all([
    startRelay(
      {
        PROVIDER: "openai",
        OPENAI_BASE_URL: upstream.baseUrl,
        OPENAI_API_KEY: "sk-browser-test",
      },
      SERVED,
    ),
    launchBrowser(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await relay?.dispose();
  await upstream?.close();
});

describe("an answer made of HTML", () => {
  it("shows as literal text and runs nothing, live and after a reload", async () => {
    const { page, context, errors } = await openPage(browser, `${relay.url}/`);
    await ask(page, "<i>say something dangerous</i>");
    await waitForAnswer(page, "complete");
    for (const phase of ["live", "reloaded"]) {
      expect(await lastAnswerText(page), phase).toBe(HOSTILE.join(""));
      expect(await page.locator("li.message.user .text").textContent(), phase).toBe(
        "<i>say something dangerous</i>",
      );
      const injected = page.locator(".messages script, .messages b, .messages img, .messages i");
      expect(await injected.count(), phase).toBe(0);
      expect(await page.evaluate(() => Reflect.get(window, "__pwned")), phase).toBeUndefined();
      expect(await page.getByText("<b>x</b>", { exact: false }).isVisible(), phase).toBe(true);
      await page.reload();
      await waitForAnswer(page, "complete");
    }
    expect(errors).toEqual([]);
    await context.close();
  });
});
