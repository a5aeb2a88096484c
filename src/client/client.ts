/**
 * The browser client: one session over WebSocket or SSE, reconnecting with backoff and resuming
 * after the last sequence number it delivered, so a listener sees every event exactly once.
 */
import type { RequestOptions, ServerEvent, ToolDefinition, ToolResult } from "../protocol.ts";

/** What a prompt may carry besides its text: client tools the model may call, and options. */
export interface SendExtras {
  tools?: ToolDefinition[];
  options?: RequestOptions;
}

import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
import { type Connection, openEventSource, openWebSocket } from "./connection.ts";
import { onOnline, pageAddress } from "./environment.ts";
import { type ClientListener, type ConnectionState, Listeners } from "./events.ts";
import { currentToken, RelayError, RelayHttp, type TokenSource } from "./http.ts";
import type { SessionSnapshot } from "./parse.ts";
import { ResumeCursor } from "./resume-cursor.ts";

/** Options of {@link SluiceClient}. */
export interface SluiceClientOptions {
  /** The relay's base URL, e.g. `https://sluice.example.workers.dev`; defaults to the page's origin. */
  url?: string;
  /** `websocket` (default), or `sse`: an EventSource for events and HTTP POSTs for the rest. */
  transport?: "websocket" | "sse";
  /** A session to join, e.g. one kept in localStorage; a new one is created when left out. */
  session?: string;
  /** Reconnect delays; see {@link backoffDelay}. */
  backoff?: BackoffOptions;
  /**
   * The relay's access token, when it has AUTH_TOKENS set: a Bearer header over HTTP, a
   * subprotocol on a WebSocket, and `?token=` for EventSource (which cannot send headers).
   * A function is asked again before each connection and request: give one for short-lived
   * JWTs, and a socket closed for an expired token (4401) reconnects with a fresh one.
   */
  token?: TokenSource;
  /** Milliseconds between WebSocket keep-alive pings (default 25000; 0 for none). */
  pingIntervalMs?: number;
}

/** Refusals that retrying cannot change: the client closes and reports them. */
const FINAL = ["session_not_found", "unauthorized", "origin_not_allowed"] as const;

function isFinal(code: string): code is (typeof FINAL)[number] {
  return FINAL.some((final) => final === code);
}

/** A client of one Sluice session. Call {@link SluiceClient.connect} to start. */
export class SluiceClient {
  private readonly http: RelayHttp;
  private readonly listeners = new Listeners();
  private sessionId: string | undefined;
  private readonly cursor = new ResumeCursor();
  private connection: Connection | undefined;
  private welcomed = false;
  private attempt = 0;
  /** Counts connections, so a callback of a replaced one does nothing. */
  private epoch = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private current: ConnectionState = "closed";
  private stopListening = () => {};

  constructor(private readonly options: SluiceClientOptions = {}) {
    this.http = new RelayHttp(new URL(options.url ?? pageAddress()), options.token);
    this.sessionId = options.session;
  }

  /** The session id once known: keep it (e.g. in localStorage) to rejoin after a reload. */
  get session(): string | undefined {
    return this.sessionId;
  }

  /** The last sequence number delivered; reconnects resume after it. */
  get lastSeq(): number {
    return this.cursor.lastSeq;
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Adds a listener; returns a function that removes it. */
  on(listener: ClientListener): () => void {
    return this.listeners.add(listener);
  }

  /** Connects, and keeps reconnecting until {@link close}. */
  connect(): void {
    if (this.current !== "closed") return;
    // Skips the rest of the backoff wait: the drop was probably the network, and it is back.
    this.stopListening = onOnline(() => {
      if (this.current === "reconnecting") this.reconnect();
    });
    this.setState("connecting");
    void this.open();
  }

  /**
   * Sends a prompt. Rejects with RelayError when it could not be handed over (not connected, or
   * refused over HTTP); over a WebSocket the session's refusals (e.g. `busy`) arrive as `error` events.
   */
  async send(prompt: string, extras: SendExtras = {}): Promise<void> {
    if (this.options.transport !== "sse") {
      if (this.connection?.send({ type: "prompt", prompt, ...extras })) return;
      throw new RelayError("network", "Not connected; the client is reconnecting.", 0);
    }
    await this.http.postMessage(this.requireSession(), prompt, extras);
  }

  /**
   * Sends results for the tool calls the answer waits for (its `done` had finish
   * `tool_calls`); once every awaited call has one, the answer continues as the same message.
   * Refusals (`tool_call_unknown`, `tool_result_duplicate`, `no_tool_call_pending`) arrive as
   * `error` events over a WebSocket, as RelayError over HTTP.
   */
  async submitToolResults(results: ToolResult[]): Promise<void> {
    if (this.options.transport !== "sse") {
      if (this.connection?.send({ type: "tool-results", results })) return;
      throw new RelayError("network", "Not connected; the client is reconnecting.", 0);
    }
    await this.http.postToolResults(this.requireSession(), results);
  }

  /** Stops the answer in progress, if any; its `done` event has status `cancelled`. */
  async cancel(): Promise<void> {
    if (this.connection?.send({ type: "cancel" })) return;
    await this.http.cancel(this.requireSession());
  }

  /**
   * Renames the session (trimmed, at most 120 characters); every client of it gets a `renamed`
   * event. Over a WebSocket a refusal arrives as an `error` event, over SSE it rejects.
   */
  async rename(title: string): Promise<void> {
    if (this.connection?.send({ type: "rename", title })) return;
    await this.http.rename(this.requireSession(), title);
  }

  /**
   * Deletes the session and everything it stored: every client of it gets a `deleted` event
   * and closes. To delete a chat this client is not connected to, use {@link SluiceChats}.
   */
  async delete(): Promise<void> {
    if (this.connection?.send({ type: "delete" })) return;
    await this.http.remove(this.requireSession());
  }

  /** The stored history and state of the session (`GET /sessions/:id`). */
  history(): Promise<SessionSnapshot> {
    return this.http.snapshot(this.requireSession());
  }

  /** Drops the connection and reconnects at once, resuming: a "retry now" button, or a test. */
  reconnect(): void {
    if (this.current === "closed") return;
    this.stopTimer();
    this.connection?.close();
    this.connection = undefined;
    this.setState("reconnecting");
    void this.open();
  }

  /** Closes for good; no more events are delivered. */
  close(): void {
    this.epoch += 1;
    this.stopTimer();
    this.stopListening();
    this.connection?.close();
    this.connection = undefined;
    this.setState("closed");
  }

  private async open(): Promise<void> {
    const epoch = ++this.epoch;
    this.welcomed = false;
    const sse = this.options.transport === "sse";
    if (this.sessionId === undefined) {
      // Created over HTTP for both transports (not by `/chat`): a refusal then comes with a reason.
      const created = await this.http.createSession().catch((error: unknown) => error);
      if (epoch !== this.epoch) return;
      if (typeof created !== "string") return this.failed(created);
      this.sessionId = created;
    }
    const handlers = {
      onEvent: (event: ServerEvent) => this.receive(event),
      onDrop: () => void this.dropped(epoch),
    };
    const token = await currentToken(this.options.token).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    if (epoch !== this.epoch) return;
    if ("error" in token) return this.failed(token.error);
    const query = new URLSearchParams();
    if (!sse) query.set("session", this.sessionId);
    if (sse && token.value !== undefined) query.set("token", token.value);
    const after = this.cursor.next();
    if (after !== undefined) query.set("after", String(after));
    const path = sse ? `/sessions/${this.sessionId}/events` : "/chat";
    const search = query.toString();
    const url = this.http.url(search === "" ? path : `${path}?${search}`);
    const interval = this.options.pingIntervalMs ?? 25_000;
    this.connection = sse
      ? openEventSource(url, handlers)
      : openWebSocket(url.replace(/^http/, "ws"), handlers, interval, token.value);
  }

  private receive(frame: ServerEvent): void {
    switch (frame.type) {
      case "session":
        this.sessionId = frame.session;
        this.welcomed = true;
        this.attempt = 0;
        this.cursor.welcome(frame);
        this.setState("open");
        this.listeners.emit(frame);
        return;
      case "error":
        if ("seq" in frame) break;
        this.listeners.emit(frame);
        // The events after our seq were pruned: rejoin, which replays the answer in progress,
        // and the listener reloads the history for the rest.
        if (frame.code === "resume_unavailable") {
          this.cursor.lost();
          this.reconnect();
        }
        return;
      case "renamed":
        this.listeners.emit(frame);
        return;
      case "deleted":
        this.listeners.emit(frame);
        this.close();
        return;
      case "history":
      case "chats":
      case "pong":
        return;
    }
    if (this.cursor.accept(frame.seq)) this.listeners.emit(frame);
  }

  private async dropped(epoch: number): Promise<void> {
    this.connection = undefined;
    // A connection refused before its welcome says nothing of why; the HTTP route does.
    const why = this.welcomed
      ? undefined
      : await this.history().then(
          () => undefined,
          (e) => e,
        );
    if (epoch === this.epoch) this.failed(why);
  }

  /** Gives up when the relay refuses this client for good; otherwise retries after a backoff. */
  private failed(error: unknown): void {
    if (error instanceof RelayError && isFinal(error.code)) {
      this.listeners.emit({ type: "error", code: error.code, message: error.message });
      this.close();
    } else {
      this.retry();
    }
  }

  private retry(): void {
    if (this.current === "closed") return;
    const delayMs = backoffDelay(this.attempt, this.options.backoff ?? DEFAULT_BACKOFF);
    this.attempt += 1;
    this.setState("reconnecting", delayMs);
    this.timer = setTimeout(() => void this.open(), delayMs);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private setState(state: ConnectionState, delayMs?: number): void {
    this.current = state;
    this.listeners.emit({ type: "state", state, attempt: this.attempt, delayMs });
  }

  private requireSession(): string {
    if (this.sessionId !== undefined) return this.sessionId;
    throw new RelayError("network", "No session yet; wait for the connection to open.", 0);
  }
}
