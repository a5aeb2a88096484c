// Issue 12, "Must show" 3, second half: the same client-tool round trip over Sluice's own
// protocols with its browser client (public/client.js) in Chromium: the prompt carries the
// tool, the page answers the call, the continuation streams, the history holds every part.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessagePart } from "../../src/protocol.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { launchBrowser, loadClientLibrary, openPage } from "./browser.ts";
import { SERVED } from "./global-setup.ts";
import {
  FINAL_TEXT,
  FIRST_REASONING,
  startToolUpstream,
  type ToolUpstream,
  WEATHER_CALL,
} from "./tool-upstream.ts";
import { WEATHER, WEATHER_TOOL } from "./use-chat/weather.ts";

let relay: Relay;
let browser: Browser;
let upstream: ToolUpstream;

beforeAll(async () => {
  upstream = await startToolUpstream();
  [relay, browser] = await Promise.all([
    startRelay(
      {
        PROVIDER: "openai",
        OPENAI_BASE_URL: upstream.baseUrl,
        OPENAI_API_KEY: SECRETS.openaiKey,
        MODEL: "gpt-test",
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

/** What the page's client saw and assembled. */
interface RoundTrip {
  session: string;
  events: string[];
  refusals: string[];
  ran: { toolCallId: string; toolName: string; input: unknown }[];
  message: { content: string; status: string; finish?: string; parts?: MessagePart[] };
}

/** One prompt with the weather tool through a fresh SluiceClient; the page runs the calls. */
async function roundTrip(page: Page, transport: string): Promise<RoundTrip> {
  await loadClientLibrary(page);
  return page.evaluate(
    async ({ transport, tool, weather }) => {
      const { SluiceClient, Transcript } = Reflect.get(window, "__lib");
      const client = new SluiceClient({ transport });
      const transcript = new Transcript();
      const events: string[] = [];
      const refusals: string[] = [];
      const ran: RoundTrip["ran"] = [];
      await new Promise<void>((resolve) => {
        client.on((event: Record<string, unknown> & { type: string }) => {
          if (event.type === "session") void client.send("Weather in Paris?", { tools: [tool] });
          if (event.type === "error" && event.seq === undefined) refusals.push(String(event.code));
          if (event.seq === undefined) return;
          events.push(event.type);
          const message = transcript.apply(event);
          if (event.type !== "done") return;
          if (event.finish !== "tool_calls") return resolve();
          const waiting = message.parts.filter(
            (part: MessagePart) => part.type === "tool-call" && part.state === "input-available",
          );
          for (const { toolCallId, toolName, input } of waiting)
            ran.push({ toolCallId, toolName, input });
          void client.submitToolResults(
            waiting.map(({ toolCallId }: { toolCallId: string }) => ({
              toolCallId,
              output: weather,
            })),
          );
        });
        client.connect();
        // Gives up well before the test does, so a failure shows what the client had.
        setTimeout(resolve, 15_000);
      });
      client.close();
      return {
        session: client.session,
        events,
        refusals,
        ran,
        message: transcript.messages.at(-1),
      };
    },
    { transport, tool: WEATHER_TOOL, weather: WEATHER },
  );
}

const ANSWER_PARTS: MessagePart[] = [
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
];

describe.each(["websocket", "sse"])("SluiceClient with a client-side tool over %s", (transport) => {
  it("answers the model's call and streams the continuation into the same answer", async () => {
    const before = upstream.requests.length;
    const { page, context, errors } = await openPage(browser, `${relay.url}/`, { bypassCSP: true });
    const result = await roundTrip(page, transport);
    expect(result.refusals).toEqual([]);
    expect(result.ran).toEqual([
      { toolCallId: WEATHER_CALL.id, toolName: WEATHER_CALL.name, input: { city: "Paris" } },
    ]);
    // Every part streamed as its own events, the result was broadcast, then the second step.
    const order = [
      "start",
      "reasoning-start",
      "tool-call-start",
      "tool-call",
      "done",
      "tool-result",
      "step",
      "chunk",
      "done",
    ];
    const kept = result.events.filter((type) => order.includes(type));
    expect(kept.filter((type, i) => type !== kept[i - 1])).toEqual(order);
    expect(result.events.at(-1)).toBe("done");
    expect(result.message).toMatchObject({
      content: FINAL_TEXT,
      status: "complete",
      finish: "stop",
    });
    expect(result.message.parts).toEqual(ANSWER_PARTS);

    // The second upstream request carries the call and its result as OpenAI's `tool` message.
    const sent = upstream.requests.slice(before);
    expect(sent).toHaveLength(2);
    expect(sent[0]?.tools).toMatchObject([{ type: "function", function: { name: "get_weather" } }]);
    const messages = Array.isArray(sent[1]?.messages) ? sent[1].messages : [];
    const result2 = messages.find((message) => message.role === "tool");
    expect(result2).toMatchObject({ tool_call_id: WEATHER_CALL.id });
    expect(JSON.parse(result2.content)).toEqual(WEATHER);

    // The history holds the same parts.
    const snapshot = await (await fetch(`${relay.url}/sessions/${result.session}`)).json();
    expect(snapshot.messages[1]).toMatchObject({ content: FINAL_TEXT, parts: ANSWER_PARTS });
    expect(errors).toEqual([]);
    await context.close();
  });
});
