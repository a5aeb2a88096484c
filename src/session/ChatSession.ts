/**
 * The Durable Object of one chat session. It coordinates: the store keeps the history, the
 * event log numbers and batches events, a Generation talks to the upstream, and the fan-out
 * gives every socket and SSE listener the same events.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { SluiceError, toSluiceError } from "../errors.ts";
import { newMessageId } from "../ids.ts";
import { countRequest, releaseSlot, renewSlot } from "../limits/limits.ts";
import type { SessionEvent } from "../protocol.ts";
import { parseClientFrame, parseMessageBody, parseSeq, parseSessionBody } from "../protocol.ts";
import { createProvider } from "../providers/index.ts";
import { stallTimeout } from "../streams/stall-watchdog.ts";
import { admitPrompt } from "../usage/admit.ts";
import { reportAnswer } from "../usage/answer-report.ts";
import { type AnswerContext, generationReport } from "../usage/generation-report.ts";
import { buildContext, contextBudget } from "./context.ts";
import { EventLog, type Unsequenced } from "./event-log.ts";
import { type Client, FanOut, limitKeyOf, sendFrame, socketClient } from "./fanout.ts";
import { LIMIT_KEY_HEADER, PRINCIPAL_HEADER, SESSION_HEADER } from "./forward.ts";
import { Generation } from "./generation.ts";
import { recoverInterrupted } from "./recovery.ts";
import { SessionStore } from "./store.ts";

/** Messages a session may hold (user and assistant); then it is full. */
export const MAX_SESSION_MESSAGES = 2_000;
/** While a generation runs, an alarm this often keeps the object from being evicted. */
const HEARTBEAT_MS = 30_000;
/** How long events stay replayable after they were written. README "Resume". */
export const RETENTION_MS = 15 * 60_000;
/** Answered by the runtime itself, so keep-alive pings never wake a hibernating session. */
const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';

interface Running {
  run: Generation;
  /** Whose generation slot it holds. */
  limitKey: string;
  /** Sequence number of the generation's `start` event. */
  startSeq: number;
  /** What its report at the end needs from its start. */
  answer: AnswerContext;
}

export class ChatSession extends DurableObject<Env> {
  private readonly store: SessionStore;
  private readonly log: EventLog;
  private readonly fanout: FanOut;
  private generation: Running | undefined;
  /** True while a prompt waits for its generation slot, so a second prompt is still `busy`. */
  private starting = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new SessionStore(ctx.storage);
    const orphans = this.store.orphanedMessages();
    this.log = new EventLog(this.store, orphans.length > 0);
    this.fanout = new FanOut(
      () => ctx.getWebSockets(),
      () => this.onLeave(),
    );
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    recoverInterrupted(this.store, orphans, (event) => this.emit(event));
    this.log.flush();
  }

  /** Internal HTTP API; only the Worker calls it, through src/session/forward.ts. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const session = request.headers.get(SESSION_HEADER) ?? "";
    const principal = request.headers.get(PRINCIPAL_HEADER) ?? "";
    const limitKey = request.headers.get(LIMIT_KEY_HEADER) ?? "unknown";
    try {
      if (url.pathname === "/create") {
        this.store.create(session, principal, parseSessionBody(await request.text()));
        return Response.json({ session, ...this.store.options() }, { status: 201 });
      }
      // Another principal's session answers exactly like a missing one: ids are not probeable.
      if (this.store.sessionId() !== session || this.store.owner() !== principal) {
        throw new SluiceError("session_not_found", "No session has this id.");
      }
      const after = url.searchParams.get("after");
      switch (url.pathname) {
        case "/ws":
          return this.acceptSocket(
            session,
            limitKey,
            after === null ? undefined : parseSeq(after, "after"),
          );
        case "/messages":
          return await this.postMessage(parseMessageBody(await request.text()), limitKey);
        case "/events":
          return this.openEvents(after === null ? undefined : parseSeq(after, "Last-Event-ID"));
        case "/cancel":
          return Response.json({ cancelled: this.cancel() });
        case "/history":
          return Response.json(this.snapshot(session));
        default:
          throw new SluiceError("not_found", `No session operation ${url.pathname}.`);
      }
    } catch (error) {
      return toSluiceError(error).toResponse();
    }
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    try {
      const limitKey = limitKeyOf(ws);
      // Every frame counts against the client's request rate, as an HTTP request would.
      await countRequest(this.env, limitKey);
      const frame = parseClientFrame(message);
      switch (frame.type) {
        case "prompt":
          await this.startGeneration(frame.prompt, limitKey);
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

  override async alarm(): Promise<void> {
    if (!this.generation) return;
    void renewSlot(this.env, this.generation.limitKey, this.generation.run.messageId);
    await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
  }

  private snapshot(session: string) {
    return {
      session,
      ...this.store.options(),
      lastSeq: this.log.lastSeq,
      generating: this.generation !== undefined,
      messages: this.store.history(),
    };
  }

  private acceptSocket(session: string, limitKey: string, after: number | undefined): Response {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ limitKey });
    this.welcome(socketClient(server), session, after);
    return new Response(null, { status: 101, webSocket: client });
  }

  private openEvents(after: number | undefined): Response {
    const listener = this.fanout.openSse();
    this.welcome(listener, this.store.sessionId() ?? "", after);
    return listener.response;
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

  private async postMessage(prompt: string, limitKey: string): Promise<Response> {
    let response: Response | undefined;
    await this.startGeneration(prompt, limitKey, (messageId) => {
      response = this.fanout.openSse({ messageId }).response;
    });
    if (!response) throw new SluiceError("internal", "The generation did not start.");
    return response;
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
  ): Promise<void> {
    if (this.generation || this.starting) {
      throw new SluiceError(
        "busy",
        "An answer is already streaming in this session; wait for its done event or cancel it.",
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
    const principal = this.store.owner() ?? "";
    const messageId = newMessageId();
    let usageKey: string | undefined;
    this.starting = true;
    try {
      usageKey = await admitPrompt(this.env, { id: principal, limitKey }, messageId);
    } finally {
      this.starting = false;
    }
    const createdAt = Date.now();
    const userMessageId = newMessageId();
    this.store.pruneEvents(createdAt - RETENTION_MS);
    const position = this.store.insertTurn(
      { id: userMessageId, role: "user", content: prompt, status: "complete", createdAt },
      messageId,
    );
    const run = new Generation(messageId);
    attach?.(messageId);
    const start = this.emit({ type: "start", messageId, userMessageId, prompt });
    const context = buildContext(
      this.store.history(),
      this.env.SYSTEM_PROMPT,
      contextBudget(this.env.CONTEXT_BUDGET_CHARS),
    );
    const answer: AnswerContext = {
      route: "session",
      session: this.store.sessionId(),
      principal,
      usageKey,
      provider: provider.name,
      model: provider.model,
      startedAt: arrivedAt,
      contextChars: context.reduce((sum, message) => sum + message.content.length, 0),
    };
    this.generation = { run, limitKey, startSeq: start.seq, answer };
    void this.ctx.storage.setAlarm(createdAt + HEARTBEAT_MS);
    void run
      .run(provider, context, stallTimeout(this.env.STALL_TIMEOUT_MS), (content) =>
        this.emit({ type: "chunk", messageId, content }),
      )
      .then(() => this.finishGeneration(run, position));
  }

  /** Cancels the generation in progress; false when none runs. */
  private cancel(): boolean {
    this.generation?.run.cancel();
    return this.generation !== undefined;
  }

  /** A client left: with `onAbandon: cancel`, the last one leaving stops the generation. */
  private onLeave(leaving?: WebSocket): void {
    if (!this.generation || this.fanout.count(leaving) > 0) return;
    if (this.store.options().onAbandon === "cancel") this.cancel();
  }

  private finishGeneration(run: Generation, position: number): void {
    const outcome = run.outcome();
    this.store.finishMessage(position, outcome);
    const { messageId } = run;
    if (run.error && outcome.status !== "cancelled") {
      this.emit({ type: "error", messageId, ...run.error });
    }
    this.emit({
      type: "done",
      messageId,
      status: outcome.status,
      finish: outcome.finish,
      usage: outcome.usage,
    });
    this.log.flush();
    if (this.generation) {
      void releaseSlot(this.env, this.generation.limitKey, messageId);
      this.ctx.waitUntil(reportAnswer(this.env, generationReport(this.generation.answer, run)));
    }
    this.generation = undefined;
    // Nothing left to keep alive: an idle session must be free to hibernate.
    void this.ctx.storage.deleteAlarm();
  }

  private emit(event: Unsequenced<SessionEvent>): SessionEvent {
    const sequenced = this.log.append(event);
    this.fanout.broadcast(sequenced);
    return sequenced;
  }
}
