/**
 * The minimal relay the issue-11 benchmarks measure Sluice against; bundled by
 * bench/minimal-relay.ts, never deployed. A Worker hands each `/chat` WebSocket to a Durable
 * Object of its own, which on `{"prompt"}` fetches the OpenAI-compatible upstream, parses each
 * SSE `data:` line with JSON.parse and sends one `{"type":"chunk","content"}` frame per delta,
 * then `{"type":"done","status":"complete"}`. Nothing else: no storage, no limits, no auth, no
 * resume. It speaks the seed protocol of Sluice's `/chat`, so the same clients read both.
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

export default {
  fetch(request, env) {
    if (new URL(request.url).pathname !== "/chat")
      return new Response("not found", { status: 404 });
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("upgrade required", { status: 426 });
    }
    return env.RELAY.get(env.RELAY.newUniqueId()).fetch(request);
  },
} satisfies ExportedHandler<MinimalEnv>;
