/**
 * Fan-out: every WebSocket and SSE listener of a session gets the same events. Each listener's
 * buffer is bounded; one that falls too far behind is closed with `slow_consumer` and resumes.
 */
import type { ServerEvent } from "../protocol.ts";
import { SseListener, type SseListenerOptions } from "./sse-listener.ts";

/** Bytes a WebSocket may have queued and unsent before it is dropped as too slow. */
export const WS_BUFFER_LIMIT = 4 * 1024 * 1024;
/** Close code for a socket dropped for reading too slowly (application range 4000-4999). */
export const CLOSE_SLOW_CONSUMER = 4008;
/** Close code for the sockets of a session that was deleted or expired (docs/chats.md). */
export const CLOSE_SESSION_GONE = 4004;

/** Anything that takes frames: a socket (wrapped) or an SSE listener. */
export interface Client {
  send(frame: ServerEvent): void;
  /** Sends a replay of missed events; SSE listeners let the reader pull it (sse-listener.ts). */
  replay?(frames: readonly ServerEvent[]): void;
}

/** A socket as a Client. */
export function socketClient(ws: WebSocket): Client {
  return { send: (frame) => sendFrame(ws, frame) };
}

/** The rate-limit key a socket was accepted with; it survives hibernation as an attachment. */
export function limitKeyOf(ws: WebSocket): string {
  const attachment: unknown = ws.deserializeAttachment();
  if (typeof attachment === "object" && attachment !== null && "limitKey" in attachment) {
    return String(attachment.limitKey);
  }
  return "unknown";
}

/** When the token a socket was accepted with stops being accepted (ms), if it expires at all. */
export function expiresAtOf(ws: WebSocket): number | undefined {
  const attachment: unknown = ws.deserializeAttachment();
  if (typeof attachment === "object" && attachment !== null && "expiresAt" in attachment) {
    return typeof attachment.expiresAt === "number" ? attachment.expiresAt : undefined;
  }
  return undefined;
}

/**
 * Sends one frame to a socket, unless the socket is closing or hopelessly behind. `json` is the
 * frame already stringified, so a broadcast stringifies once for all its clients.
 */
export function sendFrame(ws: WebSocket, frame: ServerEvent, json?: string): void {
  try {
    if (ws.bufferedAmount > WS_BUFFER_LIMIT) {
      const message = "The client read too slowly; reconnect with ?after=<last seq>.";
      ws.send(JSON.stringify({ type: "error", code: "slow_consumer", message }));
      ws.close(CLOSE_SLOW_CONSUMER, "slow_consumer");
      return;
    }
    ws.send(json ?? JSON.stringify(frame));
  } catch {
    // The socket is already closing; the runtime calls webSocketClose for it.
  }
}

export class FanOut {
  private readonly sse = new Set<SseListener>();

  constructor(
    private readonly sockets: () => WebSocket[],
    private readonly onLeave: () => void,
  ) {}

  /** Sends an event to every socket and SSE listener. */
  broadcast(event: ServerEvent): void {
    const json = JSON.stringify(event);
    for (const ws of this.sockets()) sendFrame(ws, event, json);
    for (const listener of this.sse) listener.send(event, json);
  }

  /** Opens an SSE listener that receives every broadcast until it closes. */
  openSse(options: Omit<SseListenerOptions, "onClose"> = {}): SseListener {
    const listener = new SseListener({
      ...options,
      onClose: (closed) => {
        this.sse.delete(closed);
        this.onLeave();
      },
    });
    this.sse.add(listener);
    return listener;
  }

  /** Sends `frame` to every client, then ends them all: sockets with `code` and `reason`. */
  closeAll(frame: ServerEvent, code: number, reason: string): void {
    this.broadcast(frame);
    for (const ws of this.sockets()) {
      try {
        ws.close(code, reason);
      } catch {
        // Already closing.
      }
    }
    for (const listener of [...this.sse]) listener.close();
  }

  /** How many clients are attached, leaving out `leaving` (a socket being closed). */
  count(leaving?: WebSocket): number {
    const sockets = this.sockets().filter((ws) => ws !== leaving);
    return sockets.length + this.sse.size;
  }
}
