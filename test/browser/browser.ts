// Launches the system's Chromium through playwright-core (never a downloaded browser) and opens
// pages that record uncaught errors, so a test can assert the page never threw.
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from "playwright-core";

/** The system browser (`apt-get install chromium`); CHROMIUM_PATH overrides it. */
const EXECUTABLE = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Quiet and offline apart from the pages under test: no QUIC, updates, sync or first-run UI. */
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: EXECUTABLE, args: ARGS });
}

/** A page in a context of its own (its own localStorage), with its uncaught errors collected. */
export interface TestPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and unhandled rejections of the page, as text. */
  errors: string[];
}

export async function openPage(
  browser: Browser,
  url: string,
  options: BrowserContextOptions = {},
): Promise<TestPage> {
  const context = await browser.newContext({ viewport: { width: 960, height: 720 }, ...options });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url);
  return { context, page, errors };
}

/**
 * Loads public/client.js into the page as `window.__lib`. A module script, not `import()` in
 * evaluate, which the test runner would rewrite; the page's CSP forbids inline scripts, so the
 * page's context must be opened with `bypassCSP: true`.
 */
export async function loadClientLibrary(page: Page): Promise<void> {
  await page.addScriptTag({
    type: "module",
    content: 'import * as lib from "/client.js"; window.__lib = lib;',
  });
  await page.waitForFunction(() => Reflect.has(window, "__lib"));
}

/** `t0 t1 … t<n-1> `: the demo model's exact answer to `/tokens n`. */
export function tokens(n: number, from = 0): string {
  return Array.from({ length: n - from }, (_, i) => `t${from + i} `).join("");
}

/**
 * Types a prompt into the demo page and sends it (once Send is enabled), then waits for its
 * answer to appear, so that later waits cannot match the previous answer.
 */
export async function ask(page: Page, prompt: string): Promise<void> {
  const answers = page.locator("li.message.assistant");
  const before = await answers.count();
  await page.fill("#prompt", prompt);
  await page.click("#send");
  await page.waitForFunction(
    (count) => document.querySelectorAll("li.message.assistant").length > count,
    before,
  );
}

/** The text of the demo page's last answer. */
export async function lastAnswerText(page: Page): Promise<string> {
  return (await page.locator("li.message.assistant .text").last().textContent()) ?? "";
}

/** Waits until the last answer's status (`data-status`) is `status`. */
export async function waitForAnswer(page: Page, status: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    (expected) =>
      [...document.querySelectorAll<HTMLElement>("li.message.assistant")].at(-1)?.dataset.status ===
      expected,
    status,
    { timeout },
  );
}

/** Waits until the last answer has at least `length` characters. */
export async function waitForText(page: Page, length: number): Promise<void> {
  await page.waitForFunction(
    (min) =>
      (document.querySelector("li.message.assistant:last-child .text")?.textContent?.length ?? 0) >=
      min,
    length,
    { timeout: 20_000 },
  );
}
