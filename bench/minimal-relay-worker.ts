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
 *
 * Started with its limits (bench/minimal-relay.ts, the `limited` contender), it also makes
 * the calls Sluice makes for each chat to enforce per-client limits, with Sluice's own Account
 * class and a rate-limit binding: the chat listed in the client's account when its socket
 * opens, the prompt counted and admitted (answer slot, streaming mark) beside the upstream
 * request, its first chunk held until both answered, and the answer ended in the account
 * (slot freed, chat row, usage row) after `done`. What that relay pays over the bare one is
 * what those calls alone cost, with no other relay work.
 */
import { DurableObject } from "cloudflare:workers";
import type { Account } from "../src/account/Account.ts";
import { DEFAULT_CONCURRENT, LEASE_TTL_MS } from "../src/limits/limits.ts";
import { isRecord } from "./wire-readers.ts";

export { Account } from "../src/account/Account.ts";

interface MinimalEnv {
  RELAY: DurableObjectNamespace<MinimalRelay>;
  /** The upstream's base URL, /v1 included. */
  UPSTREAM_URL: string;
  /** Set for the `limited` relay, with the rate limiter and MAX_CONCURRENT_GENERATIONS. */
  ACCOUNTS?: DurableObjectNamespace<Account>;
  REQUEST_LIMITER?: RateLimit;
  MAX_CONCURRENT_GENERATIONS?: string;
}

/** Sluice's: the subprotocol a client's token arrives in. */
const TOKEN_PROTOCOL = "sluice.token.";
/** Carries the client's key (its token, or ANONYMOUS) from the Worker to its object. */
const KEY_HEADER = "x-minimal-key";
/** The one key of every client that sends no token. */
const ANONYMOUS = "anonymous";

/** The client's key: its token from the subprotocol Sluice reads it from, else one for all. */
function clientKey(request: Request): string {
  const offered = request.headers.get("sec-websocket-protocol")?.split(",") ?? [];
  const token = offered
    .map((protocol) => protocol.trim())
    .find((p) => p.startsWith(TOKEN_PROTOCOL));
  return token === undefined ? ANONYMOUS : token.slice(TOKEN_PROTOCOL.length);
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
    const key = request.headers.get(KEY_HEADER) ?? ANONYMOUS;
    // As Sluice lists a new session in its owner's account before its welcome.
    await this.account(key)?.created(this.ctx.id.toString(), Date.now());
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ key });
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
    const key = String((ws.deserializeAttachment() as { key?: unknown } | null)?.key ?? ANONYMOUS);
    const lease = crypto.randomUUID();
    try {
      await this.relay(ws, prompt, key, lease);
      ws.send(JSON.stringify({ type: "done", status: "complete" }));
    } catch (error) {
      // The client counts it as a failed stream; once the socket is gone there is no one to tell.
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: "done", status: "error", message: String(error) }));
      }
    } finally {
      // As Sluice's end: the slot freed (a refused one held none), the chat row, the usage row.
      const at = Date.now();
      const summary = { title: null, messages: 2, preview: "", at };
      const usage = { at, provider: "openai", model: "bench", inputTokens: 1, outputTokens: 1 };
      await this.account(key)
        ?.ended({
          lease,
          chat: { session: this.ctx.id.toString(), summary },
          usage: { ...usage, reasoningTokens: 0 },
        })
        .catch(() => {});
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

  /** The client's account, for the `limited` relay; undefined for the bare one. */
  private account(key: string): DurableObjectStub<Account> | undefined {
    return this.env.ACCOUNTS?.get(this.env.ACCOUNTS.idFromName(key));
  }

  /**
   * The `limited` relay's admission, started beside the upstream request as Sluice's is: the
   * request counted, a slot taken (with the chat's streaming mark). Rejects when refused.
   */
  private async admit(key: string, lease: string): Promise<void> {
    const account = this.account(key);
    if (!account) return;
    const [counted, admission] = await Promise.all([
      this.env.REQUEST_LIMITER?.limit({ key }),
      account.admit({
        lease,
        limit: Number(this.env.MAX_CONCURRENT_GENERATIONS ?? DEFAULT_CONCURRENT),
        ttlMs: LEASE_TTL_MS,
        mark: { session: this.ctx.id.toString(), title: null },
      }),
    ]);
    if (counted && !counted.success) throw new Error("rate_limited");
    if (!admission.admitted) throw new Error(`refused: ${admission.over}`);
  }

  private async relay(ws: WebSocket, prompt: string, key: string, lease: string): Promise<void> {
    const request = fetch(`${this.env.UPSTREAM_URL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer bench" },
      body: JSON.stringify({
        model: "bench",
        stream: true,
        messages: [{ role: "user", content: prompt }],
      }),
    });
    // The upstream request leaves first; the first chunk waits for the admission.
    let admitted: Promise<void> | undefined = this.admit(key, lease);
    admitted.catch(() => {});
    const response = await request;
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
        if (content === undefined) continue;
        if (admitted) {
          await admitted;
          admitted = undefined;
        }
        ws.send(JSON.stringify({ type: "chunk", content }));
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
    const headers = new Headers(request.headers);
    headers.set(KEY_HEADER, clientKey(request));
    return env.RELAY.get(env.RELAY.newUniqueId()).fetch(new Request(request, { headers }));
  },
} satisfies ExportedHandler<MinimalEnv>;
