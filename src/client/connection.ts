/**
 * One live connection to a session, over a WebSocket or an EventSource. It only delivers checked
 * frames and reports when it dropped; reconnecting and resuming are the client's job, so both
 * transports share one policy.
 */
import type { ClientFrame, ServerEvent, SessionEvent } from "../protocol.ts";
import { parseServerEvent } from "./parse.ts";

/** What a connection reports to its owner. */
export interface ConnectionHandlers {
  onEvent(event: ServerEvent): void;
  /** The connection ended without {@link Connection.close} being called. */
  onDrop(): void;
}

/** A connection the client can send on (WebSocket only) and close. */
export interface Connection {
  /** Sends a frame; false when this connection cannot (not open, or SSE, which is one-way). */
  send(frame: ClientFrame): boolean;
  /** Closes without reporting a drop. */
  close(): void;
}

/** The exact text the relay answers without waking the session (see ChatSession). */
const PING = '{"type":"ping"}';

/**
 * Opens a WebSocket. While open it pings every `pingIntervalMs` and drops a socket that has heard
 * nothing for two intervals: a vanished network often never fires `close` on its own.
 */
export function openWebSocket(
  url: string,
  handlers: ConnectionHandlers,
  pingIntervalMs: number,
  token?: string,
): Connection {
  // Browsers cannot set headers on a socket: the token travels as a subprotocol the relay
  // accepts by answering `sluice` (it never echoes the token).
  const ws = new WebSocket(url, token === undefined ? [] : ["sluice", `sluice.token.${token}`]);
  let ended = false;
  let heardAt = Date.now();
  const end = (): boolean => {
    if (ended) return false;
    ended = true;
    if (heartbeat !== undefined) clearInterval(heartbeat);
    return true;
  };
  const beat = () => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - heardAt <= 2 * pingIntervalMs) return ws.send(PING);
    ws.close();
    if (end()) handlers.onDrop();
  };
  const heartbeat = pingIntervalMs > 0 ? setInterval(beat, pingIntervalMs) : undefined;
  ws.addEventListener("message", (message) => {
    heardAt = Date.now();
    if (ended || typeof message.data !== "string") return;
    const event = parseServerEvent(message.data);
    if (event) handlers.onEvent(event);
  });
  ws.addEventListener("open", () => {
    heardAt = Date.now();
  });
  // `error` is always followed by `close`, so only `close` reports the drop.
  ws.addEventListener("close", () => {
    if (end()) handlers.onDrop();
  });
  return {
    send(frame) {
      if (ended || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(frame));
      return true;
    },
    close() {
      end();
      ws.close(1000);
    },
  };
}

/** Every session event type: the compiler checks the keys, so a new event cannot be left out. */
const SESSION_EVENTS: Record<SessionEvent["type"], true> = {
  start: true,
  chunk: true,
  "reasoning-start": true,
  "reasoning-delta": true,
  "reasoning-end": true,
  "tool-call-start": true,
  "tool-call-delta": true,
  "tool-call": true,
  "tool-call-error": true,
  "tool-result": true,
  step: true,
  error: true,
  done: true,
};

/** Event names of the `/sessions/:id/events` stream (the frame types it can carry). */
const SSE_EVENTS = ["session", "renamed", "deleted", ...Object.keys(SESSION_EVENTS)];

/**
 * Opens an EventSource. On any failure it is closed rather than left to the browser's own retry,
 * which has a fixed delay and gives up for good on an HTTP error: the client's backoff and
 * `?after=` resume cover both cases.
 */
export function openEventSource(url: string, handlers: ConnectionHandlers): Connection {
  const source = new EventSource(url);
  let ended = false;
  const onFrame = (event: Event) => {
    // The relay's `event: error` frames and the EventSource's own failures share the name;
    // only frames are MessageEvents.
    if (!(event instanceof MessageEvent)) {
      source.close();
      if (!ended) handlers.onDrop();
      ended = true;
      return;
    }
    if (ended || typeof event.data !== "string") return;
    const parsed = parseServerEvent(event.data);
    if (parsed) handlers.onEvent(parsed);
  };
  for (const name of SSE_EVENTS) source.addEventListener(name, onFrame);
  return {
    send: () => false,
    close() {
      ended = true;
      source.close();
    },
  };
}
