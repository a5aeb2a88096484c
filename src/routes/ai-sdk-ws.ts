/**
 * `GET /api/chat/ws`: the server side of the AI SDK's `WebSocketChatTransport`, which
 * multiplexes the UI message streams of several chats over one socket. Each chat is a Sluice
 * session, as on `POST /api/chat`.
 *
 * The Worker holds the client's socket and, per request, reads one stream from that chat's
 * session object. A per-connection Durable Object could hibernate an idle socket, but it would
 * have to stay awake (billed by wall-clock duration) through every answer it relays, and add a
 * hop and a billed request per frame; a Worker is billed for CPU only, which an idle socket
 * does not use. The sessions hibernate between answers either way. What the Worker cannot do
 * is survive an edge restart: the socket closes, the answers run on in their sessions, and the
 * transport resumes them (README "AI SDK WebSocket transport").
 */
import { WS_PROTOCOL } from "../auth.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { serveChatSocket } from "./ai-sdk-ws-socket.ts";
import type { RouteRequest } from "./sessions.ts";

/**
 * Accepts the upgrade (the guard has already checked the origin and the token, from the
 * `sluice.token.<token>` subprotocol or `?token=`) and serves the transport's protocol on it.
 */
export function openChatSocket(request: RouteRequest, env: Env): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new SluiceError(
      "upgrade_required",
      "/api/chat/ws is a WebSocket endpoint for the AI SDK's WebSocketChatTransport; connect with ws://.",
    );
  }
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  serveChatSocket(server, env, request.principal);
  // A browser that offered subprotocols must get one back or it drops the socket: `sluice`, never the token.
  const offered = request.headers.get("sec-websocket-protocol")?.split(",") ?? [];
  const headers = offered.some((protocol) => protocol.trim() === WS_PROTOCOL)
    ? { "sec-websocket-protocol": WS_PROTOCOL }
    : undefined;
  return new Response(null, { status: 101, webSocket: client, headers });
}
