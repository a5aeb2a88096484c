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
import { newMessageId } from "../ids.ts";
import { countRequest, releaseSlot, renewSlot } from "../limits/limits.ts";
import type {
  DeleteReason,
  PromptRequest,
  SessionCreated,
  SessionEvent,
  SessionOptions,
  SessionSnapshot,
  ToolResult,
} from "../protocol.ts";
import { createProvider } from "../providers/index.ts";
import type { Provider } from "../providers/types.ts";
import { parseClientFrame } from "../schema/client-frame.ts";
import { parseListRequest, parseSeq } from "../schema/query.ts";
import { stallTimeout } from "../streams/stall-watchdog.ts";
import { policyOf } from "../tools-options.ts";
import { admitPrompt } from "../usage/admit.ts";
import { reportAnswer } from "../usage/answer-report.ts";
import { type AnswerContext, generationReport } from "../usage/generation-report.ts";
import { bestEffort } from "./best-effort.ts";
import {
  CALLER_HEADER,
  type Caller,
  type EventWire,
  type Outcome,
  outcome,
  parseCaller,
} from "./calls.ts";
import { buildContext, contextBudget, contextChars } from "./context.ts";
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
import { Generation } from "./generation.ts";
import { awaitedCalls, type PartEvent } from "./parts.ts";
import { recoverInterrupted } from "./recovery.ts";
import { SessionStore } from "./store.ts";
import { ToolWait } from "./tool-wait.ts";

/** Messages a session may hold (user and assistant); then it is full. */
export const MAX_SESSION_MESSAGES = 2_000;
/** While a generation runs, an alarm this often keeps the object from being evicted. */
const HEARTBEAT_MS = 30_000;
/** How long events stay replayable after they were written. README "Resume". */
export const RETENTION_MS = 15 * 60_000;
/** Answered by the runtime itself, so keep-alive pings never wake a hibernating session. */
const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';
const FAILED = "The relay failed during this answer; the text it stored so far is kept.";
/** How long a delete waits for the answer it cancelled to end before it wipes the storage. */
const SETTLE_MS = 5_000;

interface Running {
  run: Generation;
  /** Whose generation slot it holds. */
  limitKey: string;
  /** Sequence number of the generation's `start` event. */
  startSeq: number;
  /** Position of the assistant message it writes. */
  position: number;
  /** Set once the clients were sent its `done`. */
  ended: boolean;
  /** What its report at the end needs from its start. */
  report: AnswerContext;
  /** The client tools and options of the prompt, sent again by each continuation. */
  extras: Extras;
  /** True for a continuation after tool results (its message's earlier steps go upstream). */
  continuing: boolean;
}

/** What a prompt may carry besides its text. */
export type Extras = Omit<PromptRequest, "prompt">;

export class ChatSession extends DurableObject<Env> {
  private store: SessionStore;
  private log: EventLog;
  private chats: ChatListing;
  private readonly expiry: SessionExpiry;
  private readonly fanout: FanOut;
  /** Set once the session is deleted: its storage is gone, and it answers like a missing one. */
  private deleted = false;
  private generation: Running | undefined;
  /** True while a prompt waits for its generation slot, so a second prompt is still `busy`. */
  private starting = false;
  /** The answer waiting for client tool results, persisted in `meta`. */
  private readonly toolWait = new ToolWait(() => this.store);

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
      return this.cancel();
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
        this.startGeneration(prompt, caller.limitKey, attach, extras),
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
        this.receiveToolResults(results, caller.limitKey, attach),
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
      // Every frame counts against the client's request rate, as an HTTP request would.
      await countRequest(this.env, limitKey);
      if (this.deleted) throw new SluiceError("session_not_found", "No session has this id.");
      const frame = parseClientFrame(message, policyOf(this.env));
      switch (frame.type) {
        case "prompt": {
          const { tools, options } = frame;
          await this.startGeneration(frame.prompt, limitKey, undefined, { tools, options });
          break;
        }
        case "tool-results":
          await this.receiveToolResults(frame.results, limitKey);
          break;
        case "cancel":
          // Nothing running is not an error: the answer may have ended while the cancel travelled.
          this.cancel();
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
    const running = this.generation;
    if (!running) {
      if (await this.expiry.expired()) await this.removeAll("expired");
      return;
    }
    bestEffort("renewing the generation slot", () =>
      renewSlot(this.env, running.limitKey, running.run.messageId),
    );
    this.chats.streaming();
    await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
  }

  /** The event log over the current store; a failed timed write ends the answer it held. */
  private openLog(interrupted: boolean): EventLog {
    return new EventLog(this.store, interrupted, {
      onFlushError: (error) => {
        console.error("storing events failed", error);
        this.generation?.run.fail("internal", FAILED);
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
    while ((this.starting || this.generation) && Date.now() < deadline) {
      this.generation?.run.cancel();
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
      generating: this.generation !== undefined,
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
    const generating = this.generation !== undefined;
    client.send({ type: "session", session, lastSeq: this.log.lastSeq, generating });
    if (after !== undefined) this.log.replayTo(client, after);
    else if (this.generation) this.log.replayTo(client, this.generation.startSeq - 1);
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

  /**
   * Starts a generation, or throws: `busy` while one runs (the documented policy: refuse),
   * `session_full`, `rate_limited` when the client has too many answers streaming,
   * `quota_exceeded` when its principal used its tokens. Nothing is stored before all checks pass.
   */
  private async startGeneration(
    prompt: string,
    limitKey: string,
    attach?: (messageId: string) => void,
    extras: Extras = {},
  ): Promise<void> {
    if (this.deleted) throw new SluiceError("session_not_found", "No session has this id.");
    if (this.generation || this.starting) {
      throw new SluiceError(
        "busy",
        "An answer is already streaming in this session; wait for its done event or cancel it.",
      );
    }
    if (this.toolWait.current()) {
      throw new SluiceError(
        "busy",
        "The answer waits for tool results; send them (tool-results) or cancel it.",
      );
    }
    if (this.store.messageCount() + 2 > MAX_SESSION_MESSAGES) {
      throw new SluiceError(
        "session_full",
        `This session holds ${MAX_SESSION_MESSAGES} messages, its limit; start a new session.`,
      );
    }
    const arrivedAt = Date.now();
    const provider = createProvider(this.env);
    const messageId = newMessageId();
    const usageKey = await this.admit(limitKey, messageId);
    const userMessageId = newMessageId();
    let position: number;
    try {
      position = this.storeTurn(prompt, userMessageId, messageId);
    } catch (error) {
      // Nothing started: the sender gets the error, and the slot is free again.
      this.freeSlot(limitKey, messageId);
      throw error;
    }
    const running = this.running(new Generation(messageId), {
      extras,
      continuing: false,
      limitKey,
      position,
      provider,
      usageKey,
      startedAt: arrivedAt,
    });
    this.generation = running;
    const start: Unsequenced<SessionEvent> = { type: "start", messageId, userMessageId, prompt };
    // answer() settles every outcome itself; the catch is for what runs after it.
    this.answer(running, provider, start, attach).catch((error: unknown) =>
      console.error("after an answer", error),
    );
  }

  /**
   * Takes tool results for the waiting answer: each is stored in the answer's parts and
   * broadcast as `tool-result`; once every awaited call has one, the continuation starts as
   * the next step of the same message (a generation like a prompt's: slot, quota, `busy`).
   */
  private async receiveToolResults(
    results: readonly ToolResult[],
    limitKey: string,
    attach?: (messageId: string) => void,
  ): Promise<void> {
    if (this.deleted) throw new SluiceError("session_not_found", "No session has this id.");
    if (this.generation || this.starting) {
      throw new SluiceError(
        "no_tool_call_pending",
        "An answer is streaming; no tool results are awaited.",
      );
    }
    const { state, complete } = this.toolWait.accept(results);
    const message = this.toolWait.message(state);
    const usageKey = complete ? await this.admit(limitKey, state.messageId) : undefined;
    const { messageId, position } = state;
    attach?.(messageId);
    const { parts, events } = this.toolWait.record(state, message, results);
    for (const event of events) this.emit({ ...event, messageId });
    if (!complete) {
      this.toolWait.begin(state);
      this.log.flush();
      return;
    }
    this.toolWait.clear();
    this.store.reopenMessage(position);
    const provider = createProvider(this.env);
    const step = state.step + 1;
    const running = this.running(new Generation(messageId, step, parts), {
      extras: { tools: state.tools, options: state.options },
      continuing: true,
      limitKey,
      position,
      provider,
      usageKey,
      startedAt: Date.now(),
    });
    this.generation = running;
    this.answer(running, provider, { type: "step", messageId, step }).catch((error: unknown) =>
      console.error("after an answer", error),
    );
  }

  /**
   * Takes the caller's generation slot and checks its quota (`rate_limited`, `quota_exceeded`);
   * a second prompt meanwhile is `busy`. Returns the key its usage is counted under.
   */
  private async admit(limitKey: string, lease: string): Promise<string | undefined> {
    this.starting = true;
    try {
      return await admitPrompt(this.env, { id: this.store.owner() ?? "", limitKey }, lease);
    } finally {
      this.starting = false;
    }
  }

  /** A generation about to run, with what its end and its report need. */
  private running(
    run: Generation,
    from: Pick<Running, "extras" | "continuing" | "limitKey" | "position"> & {
      provider: Provider;
      usageKey: string | undefined;
      startedAt: number;
    },
  ): Running {
    const { provider, usageKey, startedAt, ...kept } = from;
    return {
      run,
      ...kept,
      // The generation's first event is the next one the log numbers.
      startSeq: this.log.lastSeq + 1,
      ended: false,
      report: {
        route: "session",
        session: this.store.sessionId(),
        principal: this.store.owner() ?? "",
        usageKey,
        provider: provider.name,
        // A prompt's chosen model is the one its log line and usage name.
        model: kept.extras?.options?.model ?? provider.model,
        startedAt,
        contextChars: 0,
      },
    };
  }

  /** Prunes expired events and stores the prompt with its (empty) answer; returns its position. */
  private storeTurn(prompt: string, userMessageId: string, messageId: string): number {
    const createdAt = Date.now();
    this.store.pruneEvents(createdAt - RETENTION_MS);
    return this.store.insertTurn(
      { id: userMessageId, role: "user", content: prompt, status: "complete", createdAt },
      messageId,
    );
  }

  /**
   * One answer from its `start` to its `done`. It owns its end: whatever throws, the clients
   * get an `error` and a `done`, what can be stored is, the slot is freed, and the session
   * takes the next prompt.
   */
  private async answer(
    running: Running,
    provider: Provider,
    start: Unsequenced<SessionEvent>,
    attach?: (messageId: string) => void,
  ): Promise<void> {
    const { run } = running;
    try {
      attach?.(run.messageId);
      // `start` and `step` open the step's parts (a `step-start`).
      run.assembler.apply(start);
      this.emit(start);
      bestEffort("setting the heartbeat alarm", () =>
        this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS),
      );
      this.chats.streaming();
      const context = buildContext(
        this.store.history(),
        this.env.SYSTEM_PROMPT,
        contextBudget(this.env.CONTEXT_BUDGET_CHARS),
        running.continuing ? run.messageId : undefined,
      );
      running.report.contextChars = contextChars(context);
      const stallMs = stallTimeout(this.env.STALL_TIMEOUT_MS);
      const { tools, options } = running.extras;
      const onEvent = (event: PartEvent) => {
        this.emit({ ...event, messageId: run.messageId });
        this.log.flushIfFull();
      };
      await run.run(provider, context, stallMs, onEvent, { tools, options });
      this.finishAnswer(running);
    } catch (error) {
      this.failAnswer(running, error);
    } finally {
      this.endGeneration(running);
    }
    // After an answer ended: per-answer hooks go here, one line each.
    this.chats.answered(run.outcome().content);
    this.ctx.waitUntil(reportAnswer(this.env, generationReport(running.report, run)));
  }

  /** Stores how the answer ended, then tells the clients. */
  private finishAnswer(running: Running): void {
    const { run } = running;
    const outcome = run.outcome();
    const awaited = outcome.status === "complete" ? awaitedCalls(outcome.parts ?? []) : [];
    // The client runs the tools: the step ends here, and the answer waits for their results.
    if (awaited.length > 0) outcome.finish = "tool_calls";
    this.store.finishMessage(running.position, outcome);
    if (awaited.length > 0) {
      const { messageId, step } = run;
      const { tools, options } = running.extras;
      const { position } = running;
      this.toolWait.begin({ messageId, position, step, awaited, results: [], tools, options });
    }
    if (run.error && outcome.status !== "cancelled") {
      this.emit({ type: "error", messageId: run.messageId, ...run.error });
    }
    this.emit({
      type: "done",
      messageId: run.messageId,
      status: outcome.status,
      finish: outcome.finish,
      usage: outcome.usage,
    });
    running.ended = true;
    this.log.flush();
  }

  /**
   * Something threw while the answer ran or ended: the clients get an `internal` error and a
   * `done` (unless they had theirs), and what can still be stored is. A message whose final
   * write fails stays `streaming` in storage, and the next start of the object closes it.
   */
  private failAnswer(running: Running, error: unknown): void {
    console.error("answer failed", error);
    const { run } = running;
    run.fail("internal", FAILED);
    if (!running.ended) {
      const outcome = run.outcome();
      const status = outcome.content === "" ? "error" : "incomplete";
      bestEffort("storing the answer", () =>
        this.store.finishMessage(running.position, { ...outcome, status, errorCode: "internal" }),
      );
      const { messageId } = run;
      bestEffort("sending the error", () =>
        this.emit({ type: "error", messageId, code: "internal", message: FAILED }),
      );
      bestEffort("sending done", () =>
        this.emit({
          type: "done",
          messageId,
          status,
          finish: outcome.finish,
          usage: outcome.usage,
        }),
      );
      running.ended = true;
    }
    bestEffort("storing the events", () => this.log.flush());
  }

  /** Frees what a generation held. Nothing here may throw: it runs on every outcome. */
  private endGeneration(running: Running): void {
    if (this.generation === running) this.generation = undefined;
    this.freeSlot(running.limitKey, running.run.messageId);
    // Nothing left to keep alive: the heartbeat gives way to the expiry alarm.
    bestEffort("scheduling the expiry", () => this.expiry.schedule());
  }

  private freeSlot(limitKey: string, messageId: string): void {
    bestEffort("releasing the generation slot", () => releaseSlot(this.env, limitKey, messageId));
  }

  /**
   * Cancels the generation in progress, or drops a wait for tool results (the answer keeps
   * its parts and becomes `cancelled`, with a `done` for its clients); false when neither.
   */
  private cancel(): boolean {
    this.generation?.run.cancel();
    if (this.generation) return true;
    const wait = this.toolWait.drop();
    if (!wait) return false;
    this.emit({ type: "done", messageId: wait.messageId, status: "cancelled" });
    this.log.flush();
    return true;
  }

  /** A client left: with `onAbandon: cancel`, the last one leaving stops the generation. */
  private onLeave(leaving?: WebSocket): void {
    if (!this.generation || this.fanout.count(leaving) > 0) return;
    if (this.store.options().onAbandon === "cancel") this.cancel();
  }

  /** Numbers an event and sends it to every client; the log writes it later, in a batch. */
  private emit(event: Unsequenced<SessionEvent>): SessionEvent {
    const sequenced = this.log.append(event);
    this.fanout.broadcast(sequenced);
    return sequenced;
  }
}
