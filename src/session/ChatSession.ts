/**
 * The Durable Object of one chat session. It coordinates: the store keeps the history, the
 * event log numbers and batches events, a Generation talks to the upstream, and the fan-out
 * gives every socket and SSE listener the same events.
 */
import { DurableObject } from "cloudflare:workers";
import { CLOSE_TOKEN_EXPIRED, isExpired } from "../auth.ts";
import { ChatListing, sessionTitle } from "../directory/listing.ts";
import type { Env } from "../env.ts";
import { SluiceError, toSluiceError } from "../errors.ts";
import { countRequest } from "../limits/limits.ts";
import type {
  DeleteReason,
  SessionCreated,
  SessionEvent,
  SessionOptions,
  SessionSnapshot,
  ToolResult,
} from "../protocol.ts";
import { parseClientFrame, parseListRequest, parseSeq } from "../protocol.ts";
import { policyOf } from "../tools-options.ts";
import { type Extras, FAILED } from "./answer-end.ts";
import { AnswerRunner } from "./answer-runner.ts";
import {
  CALLER_HEADER,
  type Caller,
  type EventWire,
  type Outcome,
  outcome,
  parseCaller,
} from "./calls.ts";
import { EventLog, type Unsequenced } from "./event-log.ts";
import { SessionExpiry } from "./expiry.ts";
import {
  CLOSE_SESSION_GONE,
  type Client,
  expiresAtOf,
  FanOut,
  limitKeyOf,
  sendFrame,
  socketClient,
} from "./fanout.ts";
import { recoverInterrupted } from "./recovery.ts";
import { SessionStore } from "./store.ts";
import { ToolWait } from "./tool-wait.ts";

export type { Extras } from "./answer-end.ts";
export { MAX_SESSION_MESSAGES, RETENTION_MS } from "./answer-start.ts";

/** Answered by the runtime itself, so keep-alive pings never wake a hibernating session. */
const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';
/** How long a delete waits for the answer it cancelled to end before it wipes the storage. */
const SETTLE_MS = 5_000;

export class ChatSession extends DurableObject<Env> {
  private store: SessionStore;
  private log: EventLog;
  private chats: ChatListing;
  private readonly expiry: SessionExpiry;
  private readonly fanout: FanOut;
  /** Set once the session is deleted: its storage is gone, and it answers like a missing one. */
  private deleted = false;
  /** The answer waiting for client tool results, persisted in `meta`. */
  private readonly toolWait = new ToolWait(() => this.store);
  /** The answer in progress, from its start to its end. */
  private readonly answers: AnswerRunner;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new SessionStore(ctx.storage);
    const orphans = this.store.orphanedMessages();
    this.log = this.openLog(orphans.length > 0);
    this.chats = new ChatListing(env, this.store);
    this.expiry = new SessionExpiry(env, ctx.storage, () => this.store);
    this.fanout = new FanOut(
      () => ctx.getWebSockets(),
      () => this.onLeave(),
    );
    const session = this;
    this.answers = new AnswerRunner({
      // Read at each use: tests swap the env of a live instance.
      get env() {
        return session.env;
      },
      ctx,
      store: () => this.store,
      log: () => this.log,
      chats: () => this.chats,
      expiry: this.expiry,
      toolWait: this.toolWait,
      emit: (event) => this.emit(event),
      isDeleted: () => this.deleted,
    });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    recoverInterrupted(this.store, orphans, (event) => this.emit(event));
    this.log.flush();
  }

  /**
   * WebSocket upgrades, the one call RPC cannot make (the caller comes in CALLER_HEADER);
   * everything else is a typed method below.
   */
  override async fetch(request: Request): Promise<Response> {
    try {
      const caller = parseCaller(request.headers.get(CALLER_HEADER));
      this.authorize(caller);
      const after = new URL(request.url).searchParams.get("after");
      return this.acceptSocket(caller, after === null ? undefined : parseSeq(after, "after"));
    } catch (error) {
      return toSluiceError(error).toResponse();
    }
  }

  /** Makes this object the session `caller.session`, owned by the caller (idempotent). */
  create(caller: Caller, options: SessionOptions): Promise<Outcome<SessionCreated>> {
    return outcome(async () => {
      if (this.deleted) this.reopen();
      const fresh = this.store.sessionId() === undefined;
      this.store.create(caller.session, caller.principal, options);
      this.authorize(caller);
      if (fresh) await this.onCreated();
      return { session: caller.session, ...this.store.options() };
    });
  }

  /** Renames the session; every client of it gets `renamed`. */
  rename(caller: Caller, title: string): Promise<Outcome<{ session: string; title: string }>> {
    return outcome(() => {
      this.authorize(caller);
      return this.retitle(title);
    });
  }

  /** Deletes the session and everything it stored (see `removeAll`). */
  remove(caller: Caller): Promise<Outcome<void>> {
    return outcome(() => {
      this.authorize(caller);
      return this.removeAll("deleted");
    });
  }

  /** The session as `GET /sessions/:id` shows it: options, position, history. */
  snapshot(caller: Caller): Promise<Outcome<SessionSnapshot>> {
    return outcome(() => {
      this.authorize(caller);
      return this.describe(caller.session);
    });
  }

  /** Cancels the answer in progress; false when none runs. */
  cancelAnswer(caller: Caller): Promise<Outcome<boolean>> {
    return outcome(() => {
      this.authorize(caller);
      return this.answers.cancel();
    });
  }

  /** Asks `prompt` and returns that answer's events as they stream, ending after its `done`. */
  ask(
    caller: Caller,
    prompt: string,
    wire: EventWire,
    extras: Extras = {},
  ): Promise<Outcome<ReadableStream<Uint8Array>>> {
    return outcome(async () => {
      this.authorize(caller);
      return await this.openAnswer(wire, (attach) =>
        this.answers.startPrompt(prompt, { limitKey: caller.limitKey, attach }, extras),
      );
    });
  }

  /**
   * Records tool results for the answer that waits for them and returns that answer's events
   * from here, ending after its next `done` (the continuation's, once every awaited call has
   * a result). Refused with `no_tool_call_pending`, `tool_call_unknown` or
   * `tool_result_duplicate`, changing nothing.
   */
  submitToolResults(
    caller: Caller,
    results: ToolResult[],
    wire: EventWire,
  ): Promise<Outcome<ReadableStream<Uint8Array>>> {
    return outcome(async () => {
      this.authorize(caller);
      return await this.openAnswer(wire, (attach) =>
        this.answers.continueWithResults(results, { limitKey: caller.limitKey, attach }),
      );
    });
  }

  /**
   * Every event of the session, live: after `after` when it resumes, else the answer in
   * progress from its start. The first frame is the `session` welcome.
   */
  follow(
    caller: Caller,
    after: number | undefined,
    wire: EventWire,
  ): Promise<Outcome<ReadableStream<Uint8Array>>> {
    return outcome(() => {
      this.authorize(caller);
      const listener = this.fanout.openSse({ wire });
      this.welcome(listener, caller.session, after);
      return listener.body;
    });
  }

  /** Another principal's session answers exactly like a missing one: ids are not probeable. */
  private authorize(caller: Caller): void {
    if (
      this.deleted ||
      this.store.sessionId() !== caller.session ||
      this.store.owner() !== caller.principal
    ) {
      throw new SluiceError("session_not_found", "No session has this id.");
    }
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    try {
      // A JWT bounds what its socket may do: after expiry nothing is done, the socket closes,
      // and answers in progress run on for the client to resume with a fresh token.
      if (isExpired({ expiresAt: expiresAtOf(ws) })) {
        const message =
          "The token expired; reconnect with a fresh one and resume from your last seq.";
        sendFrame(ws, { type: "error", code: "token_expired", message });
        ws.close(CLOSE_TOKEN_EXPIRED, "token_expired");
        return;
      }
      const limitKey = limitKeyOf(ws);
      // Every frame counts against the client's request rate, as an HTTP request would. A
      // prompt's count is part of its admission, which runs beside its upstream request.
      const counted = countRequest(this.env, limitKey);
      counted.catch(() => {});
      const frame = await this.readFrame(message, counted);
      if (frame.type !== "prompt") await counted;
      if (this.deleted) throw new SluiceError("session_not_found", "No session has this id.");
      switch (frame.type) {
        case "prompt": {
          const { tools, options } = frame;
          await this.answers.startPrompt(frame.prompt, { limitKey, counted }, { tools, options });
          break;
        }
        case "tool-results":
          await this.answers.continueWithResults(frame.results, { limitKey });
          break;
        case "cancel":
          // Nothing running is not an error: the answer may have ended while the cancel travelled.
          this.answers.cancel();
          break;
        case "resume":
          this.log.replayTo(socketClient(ws), frame.after);
          break;
        case "history":
          sendFrame(ws, {
            type: "history",
            session: this.store.sessionId() ?? "",
            messages: this.store.history(),
          });
          break;
        case "ping":
          sendFrame(ws, { type: "pong" });
          break;
        case "rename":
          await this.retitle(frame.title);
          break;
        case "delete":
          await this.removeAll("deleted");
          break;
        case "list": {
          const page = await this.chats.list(parseListRequest(frame.limit, frame.cursor));
          sendFrame(ws, { type: "chats", ...page });
          break;
        }
      }
    } catch (error) {
      const { code, message: text, retryAfter, resetAt } = toSluiceError(error);
      sendFrame(ws, { type: "error", code, message: text, retryAfter, resetAt });
    }
  }

  /** The frame `message` holds; a malformed one still counts (its rate refusal comes first). */
  private async readFrame(message: string | ArrayBuffer, counted: Promise<void>) {
    try {
      return parseClientFrame(message, policyOf(this.env));
    } catch (error) {
      await counted;
      throw error;
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed by the runtime.
    }
    this.onLeave(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.onLeave(ws);
  }

  /** Storage rows this instance has written: the benchmark and the storage-cost test read it. */
  stats(): { rowsWritten: number; lastSeq: number } {
    return { rowsWritten: this.store.rowsWritten, lastSeq: this.log.lastSeq };
  }

  /** The one alarm: a heartbeat while an answer streams, else the session's expiry. */
  override async alarm(): Promise<void> {
    if (this.deleted) return;
    const running = this.answers.running;
    if (running) await this.answers.heartbeat(running);
    else if (await this.expiry.expired()) await this.removeAll("expired");
  }

  /** The event log over the current store; a failed timed write ends the answer it held. */
  private openLog(interrupted: boolean): EventLog {
    return new EventLog(this.store, interrupted, {
      onFlushError: (error) => {
        console.error("storing events failed", error);
        this.answers.running?.run.fail("internal", FAILED);
      },
    });
  }

  /** A new session: listed for its owner, and set to expire if it is never used. */
  private async onCreated(): Promise<void> {
    this.store.markCreated(Date.now());
    await this.chats.created();
    this.expiry.schedule();
  }

  private async retitle(title: string): Promise<{ session: string; title: string }> {
    const session = this.store.sessionId() ?? "";
    this.store.setTitle(title);
    await this.chats.renamed(title);
    this.fanout.broadcast({ type: "renamed", session, title });
    return { session, title };
  }

  /**
   * Deletes the session for good: the answer in progress is cancelled and allowed to end, every
   * client gets `deleted` (sockets then close with 4004, SSE streams end), the chat leaves its
   * owner's list, and all storage and the alarm are wiped. Idempotent.
   */
  private async removeAll(reason: DeleteReason): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    const deadline = Date.now() + SETTLE_MS;
    while (this.answers.busy && Date.now() < deadline) {
      this.answers.running?.run.cancel();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const session = this.store.sessionId() ?? "";
    await this.chats.removed();
    this.fanout.closeAll(
      { type: "deleted", session, reason },
      CLOSE_SESSION_GONE,
      `session_${reason}`,
    );
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /** After a delete, the same id may be created again (an AI SDK chat id, reused): start empty. */
  private reopen(): void {
    this.store = new SessionStore(this.ctx.storage);
    this.log = this.openLog(false);
    this.chats = new ChatListing(this.env, this.store);
    this.deleted = false;
  }

  private describe(session: string): SessionSnapshot {
    return {
      session,
      ...this.store.options(),
      lastSeq: this.log.lastSeq,
      generating: this.answers.running !== undefined,
      title: sessionTitle(this.store),
      messages: this.store.history(),
    };
  }

  private acceptSocket(caller: Caller, after: number | undefined): Response {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    // Kept with the socket, so both survive hibernation.
    server.serializeAttachment({ limitKey: caller.limitKey, expiresAt: caller.expiresAt });
    this.welcome(socketClient(server), caller.session, after);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Greets a new client and brings it up to date: the events after `after` when it resumes,
   * else the answer in progress from its start (a late joiner). Then it is live like the rest.
   */
  private welcome(client: Client, session: string, after: number | undefined): void {
    const running = this.answers.running;
    client.send({ type: "session", session, lastSeq: this.log.lastSeq, generating: !!running });
    if (after !== undefined) this.log.replayTo(client, after);
    else if (running) this.log.replayTo(client, running.startSeq - 1);
  }

  /** The events of the answer `start` begins or continues, on `wire`, ending after its `done`. */
  private async openAnswer(
    wire: EventWire,
    start: (attach: (messageId: string) => void) => Promise<void>,
  ): Promise<ReadableStream<Uint8Array>> {
    let body: ReadableStream<Uint8Array> | undefined;
    await start((messageId) => {
      body = this.fanout.openSse({ messageId, wire }).body;
    });
    if (!body) throw new SluiceError("internal", "The generation did not start.");
    return body;
  }

  /** A client left: with `onAbandon: cancel`, the last one leaving stops the generation. */
  private onLeave(leaving?: WebSocket): void {
    if (!this.answers.running || this.fanout.count(leaving) > 0) return;
    if (this.store.options().onAbandon === "cancel") this.answers.cancel();
  }

  /** Numbers an event and sends it to every client; the log writes it later, in a batch. */
  private emit(event: Unsequenced<SessionEvent>): SessionEvent {
    const sequenced = this.log.append(event);
    this.fanout.broadcast(sequenced);
    return sequenced;
  }
}
