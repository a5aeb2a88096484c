// Real local HTTP servers that speak the OpenAI Chat Completions and Anthropic Messages
// streaming wire formats, so the relay is tested against sockets, not mocks.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type UpstreamKind = "openai" | "anthropic";

/** What the server answers next. */
export interface Script {
  tokens: string[];
  /** Milliseconds between tokens. */
  delayMs?: number;
  /** When set, the server sends the first token, then waits for this before the rest. */
  gate?: Promise<void>;
  /** Answer with this status and a JSON error instead of a stream. */
  status?: number;
  /** Stop after this many tokens and destroy the connection (a dropped upstream). */
  dropAfter?: number;
  /** Send only this many tokens, then keep the connection open silently (a stalled upstream). */
  stallAfter?: number;
  /** Reasoning sent before the tokens (OpenAI `reasoning_content`; Anthropic a thinking block signed `sig-1`). */
  reasoning?: string;
  /** Tool calls sent after the tokens; the finish is then `tool_calls` / `tool_use`. */
  toolCalls?: Array<{ id: string; name: string; arguments: string }>;
  /** The script of the next request, once this one was answered. */
  next?: Script;
}

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

export interface Upstream {
  /** Base URL including /v1, as OPENAI_BASE_URL or ANTHROPIC_BASE_URL. */
  baseUrl: string;
  requests: RecordedRequest[];
  script: Script;
  /** Resolves when the current response's connection closes (finished or aborted by the relay). */
  closed: () => Promise<{ at: number; finished: boolean }>;
  /** How many tokens the current response has written. */
  sent: () => number;
  close(): Promise<void>;
}

function openaiFrames(script: Script) {
  const { tokens } = script;
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const calls = script.toolCalls ?? [];
  return {
    head:
      chunk({ role: "assistant", content: "" }, null) +
      (script.reasoning ? chunk({ reasoning_content: script.reasoning }, null) : ""),
    token: (text: string) => chunk({ content: text }, null),
    tail:
      calls
        .map(
          (call, index) =>
            chunk(
              {
                tool_calls: [
                  {
                    index,
                    id: call.id,
                    type: "function",
                    function: { name: call.name, arguments: "" },
                  },
                ],
              },
              null,
            ) + chunk({ tool_calls: [{ index, function: { arguments: call.arguments } }] }, null),
        )
        .join("") +
      chunk({}, calls.length > 0 ? "tool_calls" : "stop") +
      `data: ${JSON.stringify({ id: "c1", choices: [], usage: { prompt_tokens: 11, completion_tokens: tokens.length } })}\n\n` +
      "data: [DONE]\n\n",
  };
}

function anthropicFrames(script: Script) {
  const { tokens } = script;
  const event = (type: string, data: object) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  // The text block's index: after the thinking block, when there is one.
  const text = script.reasoning ? 1 : 0;
  const calls = script.toolCalls ?? [];
  const thinking = script.reasoning
    ? event("content_block_start", {
        index: 0,
        content_block: { type: "thinking", thinking: "" },
      }) +
      event("content_block_delta", {
        index: 0,
        delta: { type: "thinking_delta", thinking: script.reasoning },
      }) +
      event("content_block_delta", {
        index: 0,
        delta: { type: "signature_delta", signature: "sig-1" },
      }) +
      event("content_block_stop", { index: 0 })
    : "";
  return {
    head:
      event("message_start", {
        message: { id: "m1", role: "assistant", usage: { input_tokens: 11, output_tokens: 1 } },
      }) +
      thinking +
      event("content_block_start", { index: text, content_block: { type: "text", text: "" } }) +
      event("ping", {}),
    token: (chunk: string) =>
      event("content_block_delta", { index: text, delta: { type: "text_delta", text: chunk } }),
    tail:
      event("content_block_stop", { index: text }) +
      calls
        .map(
          (call, i) =>
            event("content_block_start", {
              index: text + 1 + i,
              content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
            }) +
            event("content_block_delta", {
              index: text + 1 + i,
              delta: { type: "input_json_delta", partial_json: call.arguments },
            }) +
            event("content_block_stop", { index: text + 1 + i }),
        )
        .join("") +
      event("message_delta", {
        delta: { stop_reason: calls.length > 0 ? "tool_use" : "end_turn" },
        usage: { output_tokens: tokens.length },
      }) +
      event("message_stop", {}),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startUpstream(kind: UpstreamKind, script: Script): Promise<Upstream> {
  const requests: RecordedRequest[] = [];
  let closed = Promise.resolve({ at: 0, finished: true });
  let sent = 0;
  const upstream: Upstream = {
    baseUrl: "",
    requests,
    script,
    closed: () => closed,
    sent: () => sent,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const part of req) raw += part;
    requests.push({ path: req.url ?? "", headers: req.headers, body: JSON.parse(raw) });
    const current = upstream.script;
    if (current.next) upstream.script = current.next;
    sent = 0;
    let finished = false;
    closed = new Promise((resolve) => res.on("close", () => resolve({ at: Date.now(), finished })));
    if (current.status) {
      res.writeHead(current.status, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: { type: "test_error", message: `status ${current.status}` } }),
      );
      return;
    }
    const frames = kind === "openai" ? openaiFrames(current) : anthropicFrames(current);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(frames.head);
    for (const [index, token] of current.tokens.entries()) {
      if (res.destroyed) return;
      if (current.dropAfter === index) {
        res.destroy();
        return;
      }
      if (current.stallAfter === index) return;
      res.write(frames.token(token));
      sent += 1;
      if (index === 0 && current.gate) await current.gate;
      if (current.delayMs) await sleep(current.delayMs);
    }
    finished = true;
    res.end(frames.tail);
  }

  const server = createServer((req, res) => {
    answer(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  upstream.baseUrl = `http://127.0.0.1:${port}/v1`;
  return upstream;
}
