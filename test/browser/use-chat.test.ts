// Issue 12, "Must show" 3: a client-side tool round trip in real Chromium with useChat from
// @ai-sdk/react and DefaultChatTransport, on a page of another origin, against the relay set
// up as `npm run dev` (wrangler.toml) but with PROVIDER=openai and a local scripted upstream.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { launchBrowser, openPage } from "./browser.ts";
import { SERVED } from "./global-setup.ts";
import { type StaticServer, startStaticServer } from "./static-server.ts";
import {
  FINAL_TEXT,
  FIRST_REASONING,
  startToolUpstream,
  type ToolUpstream,
  WEATHER_CALL,
} from "./tool-upstream.ts";
import { WEATHER } from "./use-chat/weather.ts";

const PAGE = fileURLToPath(new URL("./use-chat/page.tsx", import.meta.url));
const HTML =
  '<!doctype html><meta charset="utf-8"><title>useChat</title><div id="root"></div><script type="module" src="/page.js"></script>';

let relay: Relay;
let browser: Browser;
let upstream: ToolUpstream;
let site: StaticServer;

/** The page's bundle: React and the AI SDK for the browser, as an app's build would make it. */
async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [PAGE],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error("esbuild wrote no bundle for the useChat page.");
  return output.text;
}

beforeAll(async () => {
  let script: string;
  [script, upstream, browser] = await Promise.all([
    bundlePage(),
    startToolUpstream(),
    launchBrowser(),
  ]);
  site = await startStaticServer({
    "/": { type: "text/html", body: HTML },
    "/page.js": { type: "text/javascript", body: script },
  });
  relay = await startRelay(
    {
      PROVIDER: "openai",
      OPENAI_BASE_URL: upstream.baseUrl,
      OPENAI_API_KEY: SECRETS.openaiKey,
      MODEL: "gpt-test",
      // Exactly the page's origin, as a deployment lists its frontend.
      ALLOWED_ORIGINS: site.url,
    },
    SERVED,
  );
});
afterAll(async () => {
  await browser?.close();
  await relay?.dispose();
  await site?.close();
  await upstream?.close();
});

interface PageState {
  status: string;
  error: string | undefined;
  messages: { id: string; role: string; parts: Record<string, unknown>[] }[];
  ran: { toolCallId: string; toolName: string; input: unknown }[];
  streamed: number[];
}

describe("useChat with a client-side tool", () => {
  it("runs the model's call in the page, streams the continuation, and stores every part", async () => {
    const created = await fetch(`${relay.url}/sessions`, { method: "POST" });
    const { session } = await created.json();
    const query = new URLSearchParams({ relay: relay.url, chat: session });
    const { page, context, errors } = await openPage(browser, `${site.url}/?${query}`);
    await page.click("#ask");
    await page
      .waitForFunction(
        (text) => {
          const state: PageState | undefined = Reflect.get(window, "__chat");
          const last = state?.messages.at(-1);
          return state?.status === "ready" && last?.parts.some((part) => part.text === text);
        },
        FINAL_TEXT,
        { timeout: 20_000 },
      )
      .catch(async (error: unknown) => {
        // What the page had when it gave up says more than the timeout.
        const seen = await page.evaluate(() => JSON.stringify(Reflect.get(window, "__chat")));
        throw new Error(`${String(error)}\nThe page's chat: ${seen}`);
      });
    const state: PageState = await page.evaluate(() => Reflect.get(window, "__chat"));
    expect(state.error).toBeUndefined();

    // The page ran the call the model made, once, with the model's input.
    expect(state.ran).toEqual([
      { toolCallId: WEATHER_CALL.id, toolName: WEATHER_CALL.name, input: { city: "Paris" } },
    ]);
    // The continuation streamed: the page rendered its text at several lengths before the end.
    expect(state.streamed.filter((length) => length < FINAL_TEXT.length).length).toBeGreaterThan(1);
    // One answer in the page: the call, its output, and the continuation's text after it.
    expect(state.messages.map((message) => message.role)).toEqual(["user", "assistant"]);
    const answer = state.messages[1]?.parts ?? [];
    expect(answer.filter((part) => part.type !== "step-start")).toMatchObject([
      { type: "reasoning", text: FIRST_REASONING },
      {
        type: `tool-${WEATHER_CALL.name}`,
        toolCallId: WEATHER_CALL.id,
        state: "output-available",
        input: { city: "Paris" },
        output: WEATHER,
      },
      { type: "text", text: FINAL_TEXT },
    ]);

    // The upstream got the tool with the question, then the call and its result in its own format.
    expect(upstream.requests).toHaveLength(2);
    const [first, second] = upstream.requests;
    expect(first?.tools).toMatchObject([
      { type: "function", function: { name: "get_weather", parameters: { type: "object" } } },
    ]);
    const messages = Array.isArray(second?.messages) ? second.messages : [];
    const call = messages.find((message) => message.role === "assistant");
    expect(call?.tool_calls).toMatchObject([
      {
        id: WEATHER_CALL.id,
        type: "function",
        function: { name: WEATHER_CALL.name, arguments: expect.any(String) },
      },
    ]);
    expect(JSON.parse(call.tool_calls[0].function.arguments)).toEqual({ city: "Paris" });
    const result = messages.find((message) => message.role === "tool");
    expect(result).toMatchObject({ role: "tool", tool_call_id: WEATHER_CALL.id });
    expect(JSON.parse(result.content)).toEqual(WEATHER);
    expect(messages.indexOf(result)).toBe(messages.indexOf(call) + 1);

    // The session's history holds the same answer as parts, and its text as `content`.
    const snapshot = await (await fetch(`${relay.url}/sessions/${session}`)).json();
    expect(snapshot.messages.map((message: { role: string }) => message.role)).toEqual([
      "user",
      "assistant",
    ]);
    const stored = snapshot.messages[1];
    expect(stored).toMatchObject({ status: "complete", content: FINAL_TEXT });
    expect(stored.parts).toEqual([
      { type: "step-start" },
      { type: "reasoning", text: FIRST_REASONING },
      {
        type: "tool-call",
        toolCallId: WEATHER_CALL.id,
        toolName: WEATHER_CALL.name,
        state: "output-available",
        input: { city: "Paris" },
        output: WEATHER,
      },
      { type: "step-start" },
      { type: "text", text: FINAL_TEXT },
    ]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
