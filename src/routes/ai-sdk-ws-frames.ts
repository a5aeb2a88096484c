/**
 * The client frames of the AI SDK's `WebSocketChatTransport` (`ai` 7,
 * `WebSocketChatTransportRequest`), and the one function that turns a raw frame into a typed
 * request or a typed error. It accepts what `safeValidateWebSocketChatTransportRequest`
 * accepts; the chat part of a `send` is read by `parseChatRequest`, as for `POST /api/chat`.
 */
import { SluiceError, toSluiceError } from "../errors.ts";
import { isObject, type JsonObject } from "../providers/wire.ts";
import type { ResumePoint } from "../streams/ui-chunk-sequence.ts";
import { type OptionPolicy, parseRequestOptions, parseToolDefinitions } from "../tools-options.ts";
import {
  CHAT_BODY_CHARS,
  type ChatRequest,
  parseChatId,
  parseChatRequest,
} from "./ai-sdk-request.ts";

/** Characters in a `requestId`; the transport's own ids have 16. */
const REQUEST_ID_CHARS = 128;

/** What the client sends, parsed. */
export type WsChatRequest =
  /** Ask the chat's last user message; the answer streams back under `requestId`. */
  | {
      type: "send";
      /** The client's name for the request; every response to it carries it. */
      requestId: string;
      /** The chat id, the prompt and the trigger, as `POST /api/chat` reads them. */
      chat: ChatRequest;
      /** `headers.authorization`, checked against the socket's own token. */
      authorization: string | undefined;
    }
  /** Follow the answer in progress in chat `chatId`: from its start, or after `from`. */
  | {
      type: "resume";
      requestId: string;
      /** The chat id (`id`), checked like `POST /api/chat`'s. */
      chatId: string;
      authorization: string | undefined;
      /** After which chunk to resume; none replays the answer from its start. */
      from: ResumePoint | undefined;
      /** `body.messageId`: resume only if the answer in progress is this message. */
      messageId: string | undefined;
    }
  /** Stop request `requestId`: its chat's answer is cancelled. */
  | { type: "abort"; requestId: string };

/** A frame as a request, or the error to answer it with (`requestId` "" when none was readable). */
export type ParsedFrame =
  | { ok: true; request: WsChatRequest }
  | { ok: false; requestId: string; error: SluiceError };

function invalid(message: string): SluiceError {
  return new SluiceError("invalid_request", message);
}

function readObjectFrame(raw: string | ArrayBuffer): { text: string; value: JsonObject } {
  if (typeof raw !== "string") throw invalid("Binary frames are not supported; send JSON text.");
  if (raw.length > CHAT_BODY_CHARS) {
    throw new SluiceError(
      "frame_too_large",
      `Frames are limited to ${CHAT_BODY_CHARS} characters.`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new SluiceError("invalid_json", "The frame is not valid JSON.");
  }
  if (!isObject(value)) throw invalid("The frame must be a JSON object.");
  return { text: raw, value };
}

/** The `authorization` header of a frame's `headers`, which must be an object of strings. */
function readAuthorization(frame: JsonObject): string | undefined {
  const { headers } = frame;
  if (!isObject(headers) || !Object.values(headers).every((value) => typeof value === "string")) {
    throw invalid('"headers" must be an object of strings.');
  }
  const name = Object.keys(headers).find((key) => key.toLowerCase() === "authorization");
  const value = name === undefined ? undefined : headers[name];
  return typeof value === "string" ? value : undefined;
}

function readBody(frame: JsonObject): JsonObject {
  if (!isObject(frame.body)) throw invalid('"body" must be an object.');
  return frame.body;
}

function readSequence(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`"${field}" must be a whole number of 0 or more.`);
  }
  return value;
}

/**
 * Where a resume starts. The protocol's `lastSequence` keeps the chunks' positions; the stock
 * transport always leaves it out, so `body.lastSequence` (set through
 * `prepareReconnectToStreamRequest` or `reconnectToStream({ body })`) is read too, and its
 * chunks are renumbered from 0, which is all that transport accepts.
 */
function readResumePoint(frame: JsonObject, body: JsonObject): ResumePoint | undefined {
  if (frame.lastSequence !== undefined) {
    return { after: readSequence(frame.lastSequence, "lastSequence"), renumber: false };
  }
  if (body.lastSequence !== undefined) {
    return { after: readSequence(body.lastSequence, "body.lastSequence"), renumber: true };
  }
  return undefined;
}

function readRequest(
  text: string,
  frame: JsonObject,
  requestId: string,
  policy: OptionPolicy | undefined,
): WsChatRequest {
  switch (frame.type) {
    case "abort":
      return { type: "abort", requestId };
    case "send": {
      const authorization = readAuthorization(frame);
      const body = readBody(frame);
      // The frame is a superset of POST /api/chat's body: one reader for both keeps them alike.
      const chat = parseChatRequest(text, policy);
      // The transport carries the page's `body` as a field of its own: tools and options are there.
      const tools = parseToolDefinitions(body.tools, "body.tools");
      const options = parseRequestOptions(body.options, "body.options", policy);
      if (tools !== undefined) chat.tools = tools;
      if (options !== undefined) chat.options = options;
      return { type: "send", requestId, chat, authorization };
    }
    case "resume": {
      const authorization = readAuthorization(frame);
      const body = readBody(frame);
      const chatId = parseChatId(frame.id);
      const from = readResumePoint(frame, body);
      if (body.messageId !== undefined && typeof body.messageId !== "string") {
        throw invalid('"body.messageId" must be a string.');
      }
      return { type: "resume", requestId, chatId, authorization, from, messageId: body.messageId };
    }
    default:
      throw invalid('"type" must be "send", "resume" or "abort".');
  }
}

/** Turns a raw frame into a request, or into the error to send back and the id to send it to. */
export function parseWsChatFrame(raw: string | ArrayBuffer, policy?: OptionPolicy): ParsedFrame {
  let requestId = "";
  try {
    const { text, value } = readObjectFrame(raw);
    const id = value.requestId;
    if (typeof id !== "string" || id === "" || id.length > REQUEST_ID_CHARS) {
      throw invalid(`"requestId" must be a string of 1 to ${REQUEST_ID_CHARS} characters.`);
    }
    requestId = id;
    return { ok: true, request: readRequest(text, value, requestId, policy) };
  } catch (error) {
    return { ok: false, requestId, error: toSluiceError(error) };
  }
}
