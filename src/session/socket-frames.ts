/** A session's WebSocket frames, each handled as the protocol says (docs/protocol.md). */
import { CLOSE_TOKEN_EXPIRED, isExpired } from "../auth.ts";
import type { ChatListing } from "../directory/listing.ts";
import type { Env } from "../env.ts";
import { SluiceError, toSluiceError } from "../errors.ts";
import { countRequest } from "../limits/limits.ts";
import { parseClientFrame } from "../schema/client-frame.ts";
import { parseListRequest } from "../schema/query.ts";
import { policyOf } from "../tools-options.ts";
import type { AnswerRunner } from "./answer-runner.ts";
import type { EventLog } from "./event-log.ts";
import { expiresAtOf, limitKeyOf, sendFrame, socketClient } from "./fanout.ts";
import type { SessionStore } from "./store.ts";

/** What a frame can reach of its session. */
export interface FrameHost {
  readonly env: Env;
  readonly answers: AnswerRunner;
  log(): EventLog;
  store(): SessionStore;
  chats(): ChatListing;
  isDeleted(): boolean;
  retitle(title: string): Promise<unknown>;
  remove(): Promise<void>;
}

/**
 * Handles one frame of a session's WebSocket: the seed protocol's prompt, tool results,
 * cancel, resume, history, ping, rename, delete and list. Every failure becomes an `error`
 * frame and the socket stays open.
 */
export async function onSocketFrame(
  host: FrameHost,
  ws: WebSocket,
  message: string | ArrayBuffer,
): Promise<void> {
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
    const counted = countRequest(host.env, limitKey);
    counted.catch(() => {});
    const frame = await readFrame(host, message, counted);
    if (frame.type !== "prompt") await counted;
    if (host.isDeleted()) throw new SluiceError("session_not_found", "No session has this id.");
    switch (frame.type) {
      case "prompt": {
        const { tools, options } = frame;
        await host.answers.startPrompt(frame.prompt, { limitKey, counted }, { tools, options });
        break;
      }
      case "tool-results":
        await host.answers.continueWithResults(frame.results, { limitKey });
        break;
      case "cancel":
        // Nothing running is not an error: the answer may have ended while the cancel travelled.
        host.answers.cancel();
        break;
      case "resume":
        host.log().replayTo(socketClient(ws), frame.after);
        break;
      case "history":
        sendFrame(ws, {
          type: "history",
          session: host.store().sessionId() ?? "",
          messages: host.store().history(),
        });
        break;
      case "ping":
        sendFrame(ws, { type: "pong" });
        break;
      case "rename":
        await host.retitle(frame.title);
        break;
      case "delete":
        await host.remove();
        break;
      case "list": {
        const page = await host.chats().list(parseListRequest(frame.limit, frame.cursor));
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
async function readFrame(host: FrameHost, message: string | ArrayBuffer, counted: Promise<void>) {
  try {
    return parseClientFrame(message, policyOf(host.env));
  } catch (error) {
    await counted;
    throw error;
  }
}

/** Answers a client's close (1005 and 1006 are not codes a close may carry: 1000 instead). */
export function echoClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  } catch {
    // Already closed by the runtime.
  }
}
