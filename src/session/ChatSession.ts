/**
 * The Durable Object of one chat session. It coordinates: the store keeps the history, the
 * event log numbers and batches events, an AnswerStep talks to the upstream, and the fan-out
 * gives every socket and SSE listener the same events.
 */
import { DurableObject } from "cloudflare:workers";
import { ChatListing } from "../directory/listing.ts";
import type { Env } from "../env.ts";
import { SluiceError, toSluiceError } from "../errors.ts";
import type {
  DeleteReason,
  SessionCreated,
  SessionEvent,
  SessionOptions,
  SessionSnapshot,
  ToolResult,
} from "../protocol.ts";
import { parseOnAbandon, parseSeq } from "../schema/query.ts";
import { type Extras, FAILED } from "./answer-end.ts";
import { AnswerRunner } from "./answer-runner.ts";
import {
  CALLER_HEADER,
  type Caller,
  CREATE_HEADER,
  type EventWire,
  type Outcome,
  outcome,
  parseCaller,
  unwrap,
} from "./calls.ts";
import { EventLog, type Unsequenced } from "./event-log.ts";
import { SessionExpiry } from "./expiry.ts";
import { FanOut, socketClient } from "./fanout.ts";
import { heartbeat } from "./heartbeat.ts";
import { recoverInterrupted } from "./recovery.ts";
import { describeSession, openAnswer, welcome, wipeSession } from "./session-clients.ts";
import { echoClose, type FrameHost, onSocketFrame } from "./socket-frames.ts";
import { SessionStore } from "./store.ts";
import { ToolWait } from "./tool-wait.ts";

/** Answered by the runtime itself, so keep-alive pings never wake a hibernating session. */
const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';

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
  /** What a socket's frames reach (socket-frames.ts). */
  private readonly frameHost: FrameHost;

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
    const host = {
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
      emit: (event: Unsequenced<SessionEvent>) => this.emit(event),
      isDeleted: () => this.deleted,
      retitle: (title: string) => this.retitle(title),
      remove: () => this.removeAll("deleted"),
    };
    this.answers = new AnswerRunner(host);
    this.frameHost = Object.assign(host, { answers: this.answers });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    recoverInterrupted(this.store, orphans, (event) => this.emit(event));
    this.log.flush();
  }

  /**
   * WebSocket upgrades, the one call RPC cannot make (the caller comes in CALLER_HEADER; with
   * CREATE_HEADER the upgrade creates the session first); everything else is a typed method.
   */
  override async fetch(request: Request): Promise<Response> {
    try {
      const caller = parseCaller(request.headers.get(CALLER_HEADER));
      const create = request.headers.get(CREATE_HEADER);
      if (create !== null) unwrap(await this.create(caller, parseOnAbandon(create)));
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
      this.store.create(caller.session, caller.principal, options, Date.now());
      this.authorize(caller);
      if (fresh) {
        // A new session: set to expire if never used (first, so the alarm commits with the
        // rows: after the await it cost a commit of its own), then listed for its owner.
        this.expiry.schedule();
        await this.chats.created();
      }
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
      return describeSession(this.store, this.log, caller.session, !!this.answers.running);
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
      return await openAnswer(this.fanout, wire, (attach) =>
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
      return await openAnswer(this.fanout, wire, (attach) =>
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
      welcome(this.log, this.answers.running, listener, caller.session, after);
      return listener.body;
    });
  }

  /** Another principal's session answers exactly like a missing one: ids are not probeable. */
  private authorize(caller: Caller): void {
    if (this.deleted || !this.store.isOwnedBy(caller.session, caller.principal)) {
      throw new SluiceError("session_not_found", "No session has this id.");
    }
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await onSocketFrame(this.frameHost, ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    echoClose(ws, code, reason);
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
    if (running) await heartbeat(this.env, this.chats, this.ctx.storage, running);
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

  private async retitle(title: string): Promise<{ session: string; title: string }> {
    const session = this.store.sessionId() ?? "";
    this.store.setTitle(title);
    await this.chats.renamed(title);
    this.fanout.broadcast({ type: "renamed", session, title });
    return { session, title };
  }

  /** Deletes the session for good (see `wipeSession`). Idempotent. */
  private async removeAll(reason: DeleteReason): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    const { answers, store, chats, fanout } = this;
    await wipeSession({ answers, store, chats, fanout, storage: this.ctx.storage }, reason);
  }

  /** After a delete, the same id may be created again (an AI SDK chat id, reused): start empty. */
  private reopen(): void {
    this.store = new SessionStore(this.ctx.storage);
    this.log = this.openLog(false);
    this.chats = new ChatListing(this.env, this.store);
    this.deleted = false;
  }

  private acceptSocket(caller: Caller, after: number | undefined): Response {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    // Kept with the socket, so both survive hibernation.
    server.serializeAttachment({ limitKey: caller.limitKey, expiresAt: caller.expiresAt });
    welcome(this.log, this.answers.running, socketClient(server), caller.session, after);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** A client left: with `onAbandon: cancel`, the last one leaving stops the answer. */
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
