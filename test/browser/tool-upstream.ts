// A local OpenAI-compatible upstream for the client-tool round trips: its first answer is a
// reasoning part and a `get_weather` call, its second uses the tool's result; every request
// it received is kept, so a test can read what the relay sent back upstream.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The call the model makes, and what the answer after it says. */
export const WEATHER_CALL = { id: "call_weather_1", name: "get_weather", city: "Paris" } as const;
export const FIRST_REASONING = "The user wants the weather, so I will call get_weather.";
export const FINAL_TEXT = "It is sunny in Paris, 18 degrees.";

export interface ToolUpstream {
  /** Base URL including /v1, as OPENAI_BASE_URL. */
  baseUrl: string;
  /** Every request body received, in order (the upstream serves one test file at a time). */
  requests: Record<string, unknown>[];
  close(): Promise<void>;
}

function chunk(delta: object, finish: string | null = null): string {
  const body = {
    id: "c1",
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

const usage = (completion: number) =>
  `data: ${JSON.stringify({ id: "c1", choices: [], usage: { prompt_tokens: 20, completion_tokens: completion } })}\n\n`;

/** The first answer: reasoning in two deltas, then the call with its arguments split mid-JSON. */
function callFrames(): string[] {
  const args = JSON.stringify({ city: WEATHER_CALL.city });
  const [head, tail] = [args.slice(0, 7), args.slice(7)];
  const [r1, r2] = [FIRST_REASONING.slice(0, 20), FIRST_REASONING.slice(20)];
  return [
    chunk({ role: "assistant", content: "" }),
    chunk({ reasoning_content: r1 }),
    chunk({ reasoning_content: r2 }),
    chunk({
      tool_calls: [
        {
          index: 0,
          id: WEATHER_CALL.id,
          type: "function",
          function: { name: WEATHER_CALL.name, arguments: head },
        },
      ],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: tail } }] }),
    chunk({}, "tool_calls"),
    usage(12),
    "data: [DONE]\n\n",
  ];
}

/** Any later answer: the final text, word by word. */
function textFrames(): string[] {
  const words = FINAL_TEXT.split(/(?<= )/);
  return [
    chunk({ role: "assistant", content: "" }),
    ...words.map((word) => chunk({ content: word })),
    chunk({}, "stop"),
    usage(words.length),
    "data: [DONE]\n\n",
  ];
}

/** Whether the request's messages hold a `tool` message (a result sent back upstream). */
export function carriesToolResult(request: Record<string, unknown>): boolean {
  const { messages } = request;
  return Array.isArray(messages) && messages.some((m) => m?.role === "tool");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the upstream on 127.0.0.1; `delayMs` between frames lets a page see the stream live. */
export async function startToolUpstream(delayMs = 20): Promise<ToolUpstream> {
  const requests: Record<string, unknown>[] = [];

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const part of req) raw += part;
    const body: unknown = JSON.parse(raw);
    const request: Record<string, unknown> =
      typeof body === "object" && body !== null ? { ...body } : {};
    requests.push(request);
    // A conversation that already holds a tool result gets the final text; any other, the call.
    const frames = carriesToolResult(request) ? textFrames() : callFrames();
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    for (const frame of frames) {
      if (res.destroyed) return;
      res.write(frame);
      await sleep(delayMs);
    }
    res.end();
  }

  const server = createServer((req, res) => {
    answer(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
