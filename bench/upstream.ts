/**
 * A local OpenAI-compatible upstream for the overhead benchmark. The prompt says how many tokens
 * to send and how far apart; each token's text is the monotonic time at which it was written,
 * so whoever receives it can compute its latency. It runs in this process or in a child one.
 */
import { fork } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { now, sleep } from "./clock.ts";
import { isRecord } from "./wire-readers.ts";

/** What one stream sends. */
export interface Plan {
  tokens: number;
  /** Milliseconds between tokens; 0 sends them back to back. */
  intervalMs: number;
  /**
   * Milliseconds to hold the last token back (a slow tail), so the answer is still streaming
   * while a benchmark replays it; keep-alive comments go out meanwhile. Ends early when the
   * relay closes the request (a cancel).
   */
  holdMs?: number;
}

export interface Upstream {
  /** Base URL including /v1, as OPENAI_BASE_URL. */
  baseUrl: string;
  close(): Promise<void>;
}

/** Bounds on a plan, so no prompt can make the server loop for long. */
const MAX_TOKENS = 20_000;
const MAX_INTERVAL_MS = 1_000;
const MAX_HOLD_MS = 180_000;
/** Keep-alive comments while the tail is held: the relay's stall watchdog counts every byte. */
const KEEP_ALIVE_MS = 5_000;
const MAX_BODY = 64 * 1024;

/** Ends each stamp, so stamps still split if the relay ever joins chunks. */
const STAMP_END = "|";

/** The prompt that asks the upstream for `plan`. */
export function planPrompt(plan: Plan): string {
  const hold = plan.holdMs ? ` hold=${plan.holdMs}` : "";
  return `bench tokens=${plan.tokens} interval=${plan.intervalMs}${hold}`;
}

function parsePlan(text: string): Plan | undefined {
  const match = /^bench tokens=(\d{1,5}) interval=(\d{1,4})(?: hold=(\d{1,6}))?$/.exec(text);
  if (!match) return undefined;
  const tokens = Number(match[1]);
  const intervalMs = Number(match[2]);
  const holdMs = Number(match[3] ?? 0);
  const fits = tokens <= MAX_TOKENS && intervalMs <= MAX_INTERVAL_MS && holdMs <= MAX_HOLD_MS;
  return fits ? { tokens, intervalMs, holdMs } : undefined;
}

/** The emission times carried by a chunk's text (one per token it holds). */
export function readStamps(content: string): number[] {
  return content
    .split(STAMP_END)
    .filter((part) => part !== "")
    .map(Number)
    .filter(Number.isFinite);
}

/** The plan in the last message of a Chat Completions request body. */
function requestedPlan(body: string): Plan | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const messages = isRecord(value) ? value.messages : undefined;
  const last: unknown = Array.isArray(messages) ? messages.at(-1) : undefined;
  return isRecord(last) && typeof last.content === "string" ? parsePlan(last.content) : undefined;
}

function frame(delta: object, finish: string | null): string {
  const chunk = {
    id: "bench",
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** Waits `ms` before the last token, writing keep-alives, or until the response closes. */
async function holdTail(response: ServerResponse, ms: number): Promise<void> {
  const until = now() + ms;
  const closed = new Promise<void>((resolve) => response.once("close", resolve));
  while (!response.destroyed && now() < until) {
    await Promise.race([sleep(Math.min(KEEP_ALIVE_MS, until - now())), closed]);
    if (!response.destroyed) response.write(": keep-alive\n\n");
  }
}

async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
  let body = "";
  const decoder = new TextDecoder();
  for await (const part of request) {
    body += decoder.decode(part, { stream: true });
    if (body.length > MAX_BODY) break;
  }
  const plan = request.url === "/v1/chat/completions" ? requestedPlan(body) : undefined;
  if (!plan) {
    response.writeHead(400, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: { message: "expected a bench prompt" } }));
    return;
  }
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  response.write(frame({ role: "assistant", content: "" }, null));
  for (let index = 0; index < plan.tokens; index += 1) {
    if (response.destroyed) return;
    if (index === plan.tokens - 1 && plan.holdMs) await holdTail(response, plan.holdMs);
    if (response.destroyed) return;
    response.write(frame({ content: `${now().toFixed(4)}${STAMP_END}` }, null));
    if (plan.intervalMs > 0) await sleep(plan.intervalMs);
  }
  const usage = { prompt_tokens: 3, completion_tokens: plan.tokens };
  response.end(
    `${frame({}, "stop")}data: ${JSON.stringify({ id: "bench", choices: [], usage })}\n\ndata: [DONE]\n\n`,
  );
}

/** Starts the upstream in this process, on a random port of 127.0.0.1. */
export async function startStampedUpstream(): Promise<Upstream> {
  const server = createServer((request, response) => {
    answer(request, response).catch(() => response.destroy());
  });
  // Tokens are small writes that must leave at once, not wait for Nagle's algorithm.
  server.on("connection", (socket) => socket.setNoDelay(true));
  // Node closes idle keep-alive connections after 5 s; workerd may reuse one just as it closes,
  // fail to connect and retry (about 200 ms). Hosted APIs keep connections far longer.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return {
    baseUrl: `http://127.0.0.1:${address.port}/v1`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Where the upstream runs: in the load generator's process, or in a child process of its own. */
export type UpstreamPlace = "inline" | "process";

/** Starts the upstream `inline` or in a child `process` (see README: why a separate process). */
export async function startUpstream(place: UpstreamPlace): Promise<Upstream> {
  if (place === "inline") return startStampedUpstream();
  const entry = new URL("./upstream-child.ts", import.meta.url).pathname;
  const child = fork(entry, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let exited = false;
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the upstream process did not start")), 10_000);
    child.on("message", (message) => {
      if (isRecord(message) && typeof message.baseUrl === "string") {
        clearTimeout(timer);
        resolve(message.baseUrl);
      }
    });
    child.on("exit", (code) => {
      exited = true;
      reject(new Error(`the upstream process exited (${code})`));
    });
  });
  return {
    baseUrl,
    close: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.on("exit", () => resolve());
        child.kill();
      }),
  };
}
