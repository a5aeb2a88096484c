/**
 * One client socket of `GET /api/chat/ws`. It carries the requests of the AI SDK's
 * `WebSocketChatTransport` side by side: each is one stream from one chat's session object
 * (`/messages` to ask, `/events` to resume), read into numbered UI chunks. The socket only
 * reads; answers belong to their sessions, so a closed socket never ends one.
 */
import { authenticate, CLOSE_TOKEN_EXPIRED, isExpired, type Principal } from "../auth.ts";
import type { Env } from "../env.ts";
import { SluiceError, toSluiceError } from "../errors.ts";
import { countRequest } from "../limits/limits.ts";
import { activeAnswer, cancelSession } from "../session/answers.ts";
import { CLOSE_SLOW_CONSUMER, WS_BUFFER_LIMIT } from "../session/fanout.ts";
import type { AnswerEvent } from "../streams/answer-events.ts";
import type { AnswerSource } from "../streams/answer-source.ts";
import { type ChunkSink, chunkSequencer } from "../streams/ui-chunk-sequence.ts";
import { policyOf } from "../tools-options.ts";
import { chatAnswer } from "./ai-sdk.ts";
import { chatSession } from "./ai-sdk-request.ts";
import { parseWsChatFrame, type WsChatRequest } from "./ai-sdk-ws-frames.ts";
import { errorResponse, type WsChatResponse } from "./ai-sdk-ws-wire.ts";

type Sequencer = (event: AnswerEvent, sink: ChunkSink) => void;

/** A request between its frame and its `end`. */
interface Pending {
  /** The chat's session, once known. */
  session: string | undefined;
  /** The answer, once it streams; cancelling it stops this request's reading only. */
  reader: AnswerSource | undefined;
  /** The client sent `abort`: nothing more is sent for it. */
  aborted: boolean;
}

/**
 * A frame's own `authorization` header must name the caller the socket was opened by: a socket
 * is one caller (its sessions, its rate limits), so a frame may confirm it but never switch it.
 */
async function checkFrameToken(env: Env, socketCaller: Principal, header: string | undefined) {
  if (header === undefined) return;
  if (!/^Bearer\s+\S+$/i.test(header)) {
    throw new SluiceError(
      "unauthorized",
      'A frame\'s "authorization" header must be "Bearer <token>".',
    );
  }
  const caller = await authenticate(
    new Request("https://frame.invalid/", { headers: { authorization: header } }),
    env,
  );
  if (caller.id !== socketCaller.id) {
    throw new SluiceError(
      "unauthorized",
      "The frame's token is not the one this socket was opened with; open a new socket to change tokens.",
    );
  }
}

/** Serves the transport's protocol on `ws` (accepted) for `principal`, until the socket closes. */
export function serveChatSocket(ws: WebSocket, env: Env, principal: Principal): void {
  const socket = new ChatSocket(ws, env, principal);
  ws.addEventListener("message", (event) => void socket.receive(event.data));
  ws.addEventListener("close", () => socket.close());
  ws.addEventListener("error", () => socket.close());
}

class ChatSocket {
  private readonly requests = new Map<string, Pending>();
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly env: Env,
    private readonly principal: Principal,
  ) {}

  async receive(raw: string | ArrayBuffer): Promise<void> {
    const parsed = parseWsChatFrame(raw, policyOf(this.env));
    if (isExpired(this.principal)) {
      return this.expire(parsed.ok ? parsed.request.requestId : parsed.requestId);
    }
    if (!parsed.ok) return this.refuse(parsed.requestId, parsed.error);
    const { request } = parsed;
    // Aborts are never counted or refused: they are how a client sheds load.
    if (request.type === "abort") return this.abort(request.requestId);
    const { requestId } = request;
    if (this.requests.has(requestId)) {
      const message = "This requestId is already in use on this socket.";
      return this.reply(errorResponse(requestId, new SluiceError("invalid_request", message)));
    }
    // Registered before the first await, so an abort right behind the frame finds it.
    const pending: Pending = { session: undefined, reader: undefined, aborted: false };
    this.requests.set(requestId, pending);
    try {
      await countRequest(this.env, this.principal.limitKey);
      await this.serve(request, pending);
    } catch (error) {
      const failure = toSluiceError(error);
      if (failure.code === "internal")
        console.error("AI SDK socket request failed:", String(error));
      if (!pending.aborted) this.reply(errorResponse(requestId, failure));
    } finally {
      this.requests.delete(requestId);
    }
  }

  /** A frame that is not a request still counts against the client's rate, then gets its error. */
  private async refuse(requestId: string, error: SluiceError): Promise<void> {
    try {
      await countRequest(this.env, this.principal.limitKey);
      this.reply(errorResponse(requestId, error));
    } catch (limited) {
      this.reply(errorResponse(requestId, toSluiceError(limited)));
    }
  }

  /**
   * The socket's JWT has expired: the frame is answered with `token_expired` and not served,
   * and the socket closes. Its requests stop reading; their answers run on in their sessions,
   * and the transport resumes them on a socket opened with a fresh token.
   */
  private expire(requestId: string): void {
    const message = "The token expired; reconnect with a fresh one to go on.";
    this.reply(errorResponse(requestId, new SluiceError("token_expired", message)));
    this.shutdown(CLOSE_TOKEN_EXPIRED, "token_expired");
  }

  /** The client closed (or lost) the socket. */
  close(): void {
    this.shutdown(1000, "closed");
  }

  /** Stops reading every request; their answers run on, and a new socket can resume them. */
  private shutdown(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const pending of this.requests.values()) void pending.reader?.cancel().catch(() => {});
    try {
      this.ws.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  private async serve(request: Exclude<WsChatRequest, { type: "abort" }>, pending: Pending) {
    await checkFrameToken(this.env, this.principal, request.authorization);
    const chatId = request.type === "send" ? request.chat.chatId : request.chatId;
    const session = await chatSession(chatId, this.principal);
    pending.session = session;
    if (pending.aborted || this.closed) return;
    if (request.type === "send") {
      const answer = await chatAnswer(this.env, this.principal, session, request.chat);
      if (this.attach(pending, answer)) {
        await this.relay(request.requestId, pending, chunkSequencer());
      }
      return;
    }
    await this.resume(request, pending, session);
  }

  /** `resume`: the answer in progress, from its start or after a resume point; else `no-active`. */
  private async resume(
    request: Extract<WsChatRequest, { type: "resume" }>,
    pending: Pending,
    session: string,
  ) {
    const { requestId } = request;
    const answer = await activeAnswer(this.env, this.principal, session);
    if (!answer) return this.reply({ type: "no-active", requestId });
    if (!this.attach(pending, answer)) return;
    const first = await answer.read();
    if (pending.aborted || this.closed) return;
    // With `body.messageId`, a resume point never lands in an answer that began after it.
    const opening = first?.[0];
    const moved =
      opening?.type === "start" &&
      request.messageId !== undefined &&
      opening.messageId !== request.messageId;
    if (first === undefined || moved) {
      await answer.cancel().catch(() => {});
      return this.reply({ type: "no-active", requestId });
    }
    this.reply({ type: "start", requestId });
    await this.relay(requestId, pending, chunkSequencer(request.from), first);
  }

  /** Gives the request its reader; false (and the reader stopped) if it is already over. */
  private attach(pending: Pending, reader: AnswerSource): boolean {
    pending.reader = reader;
    if (this.closed) void reader.cancel().catch(() => {});
    else if (pending.aborted) void this.stop(pending);
    return !this.closed && !pending.aborted;
  }

  /** Sends the answer's chunks, numbered, then `end`. */
  private async relay(
    requestId: string,
    pending: Pending,
    sequence: Sequencer,
    first?: AnswerEvent[],
  ) {
    const reader = pending.reader;
    if (!reader) return;
    const sink: ChunkSink = (number, chunk) =>
      this.reply({ type: "chunk", requestId, sequence: number, chunk });
    let events = first ?? (await reader.read());
    while (events !== undefined) {
      for (const event of events) {
        if (pending.aborted || this.closed) return;
        sequence(event, sink);
      }
      events = await reader.read();
    }
    if (!pending.aborted) this.reply({ type: "end", requestId });
  }

  /** `abort`: cancels the chat's answer (its session stores it as cancelled), then stops reading. */
  private abort(requestId: string): void {
    const pending = this.requests.get(requestId);
    // An unknown id is not an error: the request may have ended while the abort travelled.
    if (!pending || pending.aborted) return;
    pending.aborted = true;
    if (pending.reader) void this.stop(pending);
  }

  private async stop(pending: Pending): Promise<void> {
    try {
      if (pending.session) await cancelSession(this.env, this.principal, pending.session);
    } catch (error) {
      console.error("AI SDK socket abort failed:", String(error));
    }
    await pending.reader?.cancel().catch(() => {});
  }

  private reply(response: WsChatResponse): void {
    if (this.closed) return;
    try {
      if (this.ws.bufferedAmount > WS_BUFFER_LIMIT) {
        // Bounded like a session's own sockets: the client resumes each chat on a new socket.
        this.shutdown(CLOSE_SLOW_CONSUMER, "slow_consumer");
        return;
      }
      this.ws.send(JSON.stringify(response satisfies WsChatResponse));
    } catch {
      // The socket is closing; its close event stops every request.
    }
  }
}
