// A real network drop mid-answer, over both transports: the demo page shows that it is
// reconnecting, resumes after the last sequence number it saw, and ends with the exact text,
// every event delivered once.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { ask, lastAnswerText, launchBrowser, openPage, tokens, waitForAnswer } from "./browser.ts";
import { type CuttableProxy, startCuttableProxy } from "./cuttable-proxy.ts";
import { SERVED } from "./global-setup.ts";

let relay: Relay;
let proxy: CuttableProxy;
let browser: Browser;

beforeAll(async () => {
  // 200 tokens at 10 ms: a two-second answer, so the drops land while it streams.
  [relay, browser] = await Promise.all([
    startRelay({ DEMO_DELAY_MS: "10" }, SERVED),
    launchBrowser(),
  ]);
  proxy = await startCuttableProxy(relay.url);
});
afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await relay?.dispose();
});

/** Records, in the page, the seq of every event the client delivers. */
function recordSeqs(page: Page): Promise<void> {
  return page.evaluate(() => {
    const seqs: number[] = [];
    Object.assign(window, { __seqs: seqs });
    const hook = Reflect.get(window, "__sluice");
    hook.client.on((event: { seq?: number }) => {
      if (typeof event.seq === "number") seqs.push(event.seq);
    });
  });
}

/** Waits until the last answer has `length` characters or more. */
function waitForLength(page: Page, length: number): Promise<unknown> {
  return page.waitForFunction(
    (min) =>
      (document.querySelector("li.message.assistant .text")?.textContent?.length ?? 0) >= min,
    length,
  );
}

describe.each(["websocket", "sse"])("over %s", (transport) => {
  it("a connection cut twice mid-answer recovers the full text, each event once", async () => {
    const { page, context, errors } = await openPage(
      browser,
      `${proxy.url}/?transport=${transport}`,
    );
    await page.waitForSelector('#status[data-state="open"]');
    await recordSeqs(page);
    await ask(page, "/tokens 200");
    for (const length of [60, 400]) {
      await waitForLength(page, length);
      const before = proxy.accepted();
      // Down for a moment: the first retries are refused, so the page must back off and retry.
      proxy.cut({ down: true });
      await page.waitForSelector('#status[data-state="reconnecting"]');
      await page.waitForTimeout(300);
      proxy.restore();
      await page.waitForSelector('#status[data-state="open"]');
      expect(proxy.accepted()).toBeGreaterThan(before);
    }
    await waitForAnswer(page, "complete");
    expect(await lastAnswerText(page)).toBe(tokens(200));
    // start, 200 chunks, done: consecutive numbers, none repeated, none missing.
    const seqs: number[] = await page.evaluate(() => Reflect.get(window, "__seqs"));
    expect(seqs).toHaveLength(202);
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] ?? 0) + i));
    expect(errors).toEqual([]);
    await context.close();
  });
});
