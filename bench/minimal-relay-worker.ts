/**
 * The minimal relay the issue-11 benchmarks measure Sluice against; bundled by
 * bench/minimal-relay.ts, never deployed. A Worker hands each `/chat` WebSocket to a Durable
 * Object of its own, which on `{"prompt"}` fetches the OpenAI-compatible upstream, parses each
 * SSE `data:` line with JSON.parse and sends one `{"type":"chunk","content"}` frame per delta,
 * then `{"type":"done","status":"complete"}`. Nothing else: no storage, no limits, no auth, no
 * resume. It speaks the seed protocol of Sluice's `/chat`, so the same clients read both.
 *
 * It also serves the floor of the routes benchmark (bench/routes.ts): `GET /floor/stream?n=`
 * passes a Durable Object's stream of `n` frames (one per read, as a relay that keeps up
 * delivers them) through to the client, as Sluice's native and `/api/chat` routes do;
 * `GET /floor/ws?n=` is a WebSocket whose Worker reads that stream and sends each frame as
 * its own message, as `/api/chat/ws` must; `GET /floor/ws?n=&send=last` reads the same and
 * sends only the last frame, which splits that cost into reading and sending. What the second
 * costs over the first is what the runtime charges for one message per frame, with no relay
 * work at all.
 */
import { DurableObject } from "cloudflare:workers";
import { isRecord } from "./wire-readers.ts";

interface MinimalEnv {
  RELAY: DurableObjectNamespace<MinimalRelay>;
  /** The upstream's base URL, /v1 included. */
  UPSTREAM_URL: string;
}

/** The subprotocol Sluice picks when a client offers it next to its token; echoed alike. */
const WS_PROTOCOL = "sluice";

/** The delta text of one Chat Completions chunk, if it has any. */
function deltaOf(data: string): string | undefined {
  const chunk: unknown = JSON.parse(data);
  const choices = isRecord(chunk) ? chunk.choices : undefined;
  const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
  const delta = isRecord(choice) ? choice.delta : undefined;
  const content = isRecord(delta) ? delta.content : undefined;
  return typeof content === "string" && content !== "" ? content : undefined;
}

/** One per connection: relays the answers to the prompts of its one socket. */
export class MinimalRelay extends DurableObject<MinimalEnv> {
  override async fetch(request: Request): Promise<Response> {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    // The bench clients wait for this frame before they ask, as they do on Sluice's /chat.
    server.send(JSON.stringify({ type: "session", session: this.ctx.id.toString() }));
    const offered = request.headers.get("sec-websocket-protocol")?.split(",") ?? [];
    const headers = offered.some((protocol) => protocol.trim() === WS_PROTOCOL)
      ? { "sec-websocket-protocol": WS_PROTOCOL }
      : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const frame: unknown = typeof message === "string" ? JSON.parse(message) : undefined;
    const prompt = isRecord(frame) ? frame.prompt : undefined;
    if (typeof prompt !== "string") return;
    try {
      await this.relay(ws, prompt);
      ws.send(JSON.stringify({ type: "done", status: "complete" }));
    } catch (error) {
      // The client counts it as a failed stream; once the socket is gone there is no one to tell.
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: "done", status: "error", message: String(error) }));
      }
    }
  }

  /** `n` frames the size of an AI SDK WebSocket chunk, one per read of the stream. */
  floorFrames(n: number): ReadableStream<Uint8Array> {
    const encoder = new TextEncoder();
    let sequence = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (sequence === n) return controller.close();
          const chunk = { type: "text-delta", id: "text-1", delta: "tok " };
          const frame = { type: "chunk", requestId: "floor", sequence, chunk };
          controller.enqueue(encoder.encode(`${JSON.stringify(frame)}\n`));
          sequence += 1;
        },
      },
      { highWaterMark: 0 },
    );
  }

  private async relay(ws: WebSocket, prompt: string): Promise<void> {
    const response = await fetch(`${this.env.UPSTREAM_URL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer bench" },
      body: JSON.stringify({
        model: "bench",
        stream: true,
        messages: [{ role: "user", content: prompt }],
      }),
    });
    if (!response.ok || !response.body) throw new Error(`upstream ${response.status}`);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") return;
        const content = deltaOf(data);
        if (content !== undefined) ws.send(JSON.stringify({ type: "chunk", content }));
      }
    }
  }
}

/** The floor's frames, from a Durable Object as Sluice's routes get them from a session. */
function floorStream(env: MinimalEnv, url: URL): Promise<ReadableStream<Uint8Array>> {
  const n = Number(url.searchParams.get("n") ?? "0");
  return env.RELAY.get(env.RELAY.idFromName("floor")).floorFrames(n);
}

/** Sends every line of `stream` (or, with `lastOnly`, its last) as its own message on `ws`. */
async function sendLines(
  ws: WebSocket,
  stream: ReadableStream<Uint8Array>,
  lastOnly: boolean,
): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let partial = "";
  let last = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const lines = (partial + decoder.decode(value, { stream: true })).split("\n");
    partial = lines.pop() ?? "";
    if (lastOnly) last = lines[lines.length - 1] ?? last;
    else for (const line of lines) ws.send(line);
  }
  if (lastOnly) ws.send(last);
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/floor/stream") {
      return new Response(await floorStream(env, url), {
        headers: { "content-type": "text/plain" },
      });
    }
    if (url.pathname === "/floor/ws") {
      const { 0: client, 1: server } = new WebSocketPair();
      server.accept();
      // Any message starts the frames, so the client's clock starts with the request.
      server.addEventListener("message", () => {
        floorStream(env, url)
          .then((stream) => sendLines(server, stream, url.searchParams.get("send") === "last"))
          .catch((error: unknown) => server.close(1011, String(error).slice(0, 100)));
      });
      return new Response(null, { status: 101, webSocket: client });
    }
    if (url.pathname !== "/chat") return new Response("not found", { status: 404 });
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("upgrade required", { status: 426 });
    }
    return env.RELAY.get(env.RELAY.newUniqueId()).fetch(request);
  },
} satisfies ExportedHandler<MinimalEnv>;
