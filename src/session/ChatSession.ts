/**
 * The Durable Object of one chat session. It coordinates: the store keeps the history, the
 * event log numbers and batches events, a Generation talks to the upstream, and every socket
 * and SSE listener gets the same events.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { SluiceError, toSluiceError } from "../errors.ts";
import { newMessageId } from "../ids.ts";
import type { ConnectionFrame, ServerEvent, SessionEvent } from "../protocol.ts";
import { parseClientFrame, parseMessageBody } from "../protocol.ts";
import { createProvider } from "../providers/index.ts";
import { buildContext } from "./context.ts";
import { EventLog, type Unsequenced } from "./event-log.ts";
import { Generation } from "./generation.ts";
import { SseListener } from "./sse-listener.ts";
import { SessionStore } from "./store.ts";

/** The header by which the Worker tells the object which session it is. */
export const SESSION_HEADER = "x-sluice-session";
/** While a generation runs, an alarm this often keeps the object from being evicted. */
const HEARTBEAT_MS = 30_000;

function send(ws: WebSocket, frame: ServerEvent): void {
  try {
    ws.send(JSON.stringify(frame));
  } catch {
    // The socket is closing; its close handler cleans up.
  }
}

export class ChatSession extends DurableObject<Env> {
  private readonly store: SessionStore;
  private readonly log: EventLog;
  private readonly listeners = new Set<SseListener>();
  private generation: { run: Generation; startSeq: number } | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new SessionStore(ctx.storage);
    this.log = new EventLog(this.store);
    this.recoverOrphans();
  }

  /** Internal HTTP API; only the Worker calls it (see src/session/forward.ts). */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const session = request.headers.get(SESSION_HEADER) ?? "";
    try {
      if (url.pathname === "/create") {
        this.store.create(session);
        return Response.json({ session }, { status: 201 });
      }
      if (this.store.sessionId() !== session) {
        throw new SluiceError("session_not_found", "No session has this id.");
      }
      switch (url.pathname) {
        case "/ws":
          return this.acceptSocket(session, url);
        case "/messages":
          return this.postMessage(parseMessageBody(await request.text()));
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
      const frame = parseClientFrame(message);
      switch (frame.type) {
        case "prompt":
          this.startGeneration(frame.prompt);
          break;
        case "cancel":
          // Nothing running is not an error: the answer may have ended while the cancel travelled.
          this.generation?.run.cancel();
          break;
        case "resume":
          this.replay(ws, frame.after);
          break;
        case "history":
          send(ws, {
            type: "history",
            session: this.store.sessionId() ?? "",
            messages: this.store.history(),
          });
          break;
      }
    } catch (error) {
      const { code, message: text } = toSluiceError(error);
      send(ws, { type: "error", code, message: text } satisfies ConnectionFrame);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed by the runtime.
    }
  }

  override async alarm(): Promise<void> {
    if (this.generation) await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
  }

  private snapshot(session: string) {
    return {
      session,
      lastSeq: this.log.lastSeq,
      generating: this.generation !== undefined,
      messages: this.store.history(),
    };
  }

  private acceptSocket(session: string, url: URL): Response {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    send(server, {
      type: "session",
      session,
      lastSeq: this.log.lastSeq,
      generating: this.generation !== undefined,
    });
    const after = url.searchParams.get("after");
    if (after !== null) {
      this.replay(server, Number(after));
    } else if (this.generation) {
      // A late joiner sees the answer in progress from its start, then live.
      this.replay(server, this.generation.startSeq - 1);
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends the events after `after`, or tells the client they are gone (never leaves it waiting). */
  private replay(ws: WebSocket, after: number): void {
    if (!this.log.canReplayFrom(after)) {
      const message = `Events after ${after} are no longer kept; load the history instead.`;
      send(ws, { type: "error", code: "resume_unavailable", message });
      return;
    }
    for (const event of this.log.after(after)) send(ws, event);
  }

  private postMessage(prompt: string): Response {
    let listener: SseListener | undefined;
    this.startGeneration(prompt, (messageId) => {
      listener = new SseListener({ messageId, onClose: (done) => this.listeners.delete(done) });
      this.listeners.add(listener);
    });
    if (!listener) throw new SluiceError("internal", "The generation did not start.");
    return listener.response;
  }

  /** Starts a generation, or throws `busy` while one runs (the documented policy: refuse). */
  private startGeneration(prompt: string, attach?: (messageId: string) => void): void {
    if (this.generation) {
      throw new SluiceError(
        "busy",
        "An answer is already streaming in this session; wait for its done event or cancel it.",
      );
    }
    const provider = createProvider(this.env);
    const createdAt = Date.now();
    const userMessageId = newMessageId();
    const messageId = newMessageId();
    this.store.insertTurn(
      { id: userMessageId, role: "user", content: prompt, status: "complete", createdAt },
      messageId,
    );
    const run = new Generation(messageId, userMessageId);
    attach?.(messageId);
    const start = this.emit({ type: "start", messageId, userMessageId, prompt });
    this.generation = { run, startSeq: start.seq };
    void this.ctx.storage.setAlarm(createdAt + HEARTBEAT_MS);
    const context = buildContext(this.store.history(), this.env.SYSTEM_PROMPT);
    void run
      .run(provider, context, (content) => this.emit({ type: "chunk", messageId, content }))
      .then(() => this.finishGeneration(run));
  }

  private finishGeneration(run: Generation): void {
    const outcome = run.outcome();
    this.store.finishMessage(run.messageId, outcome);
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
    this.generation = undefined;
  }

  /** After a restart or eviction no generation is running: close the answers left streaming. */
  private recoverOrphans(): void {
    for (const messageId of this.store.orphanedMessageIds()) {
      const content = this.log
        .after(0)
        .map((event) =>
          event.type === "chunk" && event.messageId === messageId ? event.content : "",
        )
        .join("");
      this.store.finishMessage(messageId, {
        content,
        status: "incomplete",
        errorCode: "interrupted",
      });
      const message = "The relay restarted during this answer; the text up to the restart is kept.";
      this.emit({ type: "error", messageId, code: "interrupted", message });
      this.emit({ type: "done", messageId, status: "incomplete" });
    }
    this.log.flush();
  }

  private emit(event: Unsequenced<SessionEvent>): SessionEvent {
    const sequenced = this.log.append(event);
    for (const ws of this.ctx.getWebSockets()) send(ws, sequenced);
    for (const listener of this.listeners) listener.send(sequenced);
    return sequenced;
  }
}
