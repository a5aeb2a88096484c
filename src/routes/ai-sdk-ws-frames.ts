/**
 * The client frames of the AI SDK's `WebSocketChatTransport` (`ai` 7,
 * `WebSocketChatTransportRequest`), and the one function that turns a raw frame into a typed
 * request or a typed error. It accepts what `safeValidateWebSocketChatTransportRequest`
 * accepts; the chat part of a `send` is read by `parseChatRequest`, as for `POST /api/chat`.
 */
import * as v from "valibot";
import { SluiceError, toSluiceError } from "../errors.ts";
import { integerIn, keyed, object, text } from "../schema/fields.ts";
import { parseWith, whole } from "../schema/issues.ts";
import { isRecord, readJsonObject } from "../schema/json-object.ts";
import { parseRequestOptions } from "../schema/options.ts";
import { parseToolDefinitions } from "../schema/tools.ts";
import type { ResumePoint } from "../streams/ui-chunk-sequence.ts";
import type { OptionPolicy } from "../tools-options.ts";
import {
  CHAT_BODY_CHARS,
  type ChatRequest,
  parseChatId,
  readChatRequest,
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

const REQUEST_ID_MESSAGE = `must be a string of 1 to ${REQUEST_ID_CHARS} characters.`;
const requestIdField = keyed(
  {
    requestId: v.pipe(
      v.string(REQUEST_ID_MESSAGE),
      v.check((id) => id !== "" && id.length <= REQUEST_ID_CHARS, REQUEST_ID_MESSAGE),
    ),
  },
  "must be an object.",
);

const HEADERS_MESSAGE = '"headers" must be an object of strings.';
const SEQUENCE_MESSAGE = "must be a whole number of 0 or more.";
const sequence = integerIn(0, undefined, SEQUENCE_MESSAGE);

function isHeaders(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every((header) => typeof header === "string");
}

/** What a `send` or `resume` has besides its type: `headers` (strings) and `body` (an object). */
const carried = keyed(
  {
    type: v.picklist(
      ["send", "resume", "abort"],
      whole('"type" must be "send", "resume" or "abort".'),
    ),
    headers: v.optional(v.custom<Record<string, string>>(isHeaders, whole(HEADERS_MESSAGE))),
    body: v.optional(
      object(
        {
          lastSequence: v.optional(sequence),
          messageId: v.optional(text()),
          tools: v.optional(v.unknown()),
          options: v.optional(v.unknown()),
        },
        "must be an object.",
      ),
    ),
    lastSequence: v.optional(sequence),
  },
  "must be an object.",
);

/** The `authorization` header of a frame's `headers`, whatever its case. */
function authorizationOf(headers: Record<string, string>): string | undefined {
  const name = Object.keys(headers).find((key) => key.toLowerCase() === "authorization");
  return name === undefined ? undefined : headers[name];
}

/**
 * Where a resume starts. The protocol's `lastSequence` keeps the chunks' positions; the stock
 * transport always leaves it out, so `body.lastSequence` (set through
 * `prepareReconnectToStreamRequest` or `reconnectToStream({ body })`) is read too, and its
 * chunks are renumbered from 0, which is all that transport accepts.
 */
function resumePoint(frame: number | undefined, body: number | undefined): ResumePoint | undefined {
  if (frame !== undefined) return { after: frame, renumber: false };
  if (body !== undefined) return { after: body, renumber: true };
  return undefined;
}

function readRequest(
  value: Record<string, unknown>,
  requestId: string,
  policy: OptionPolicy | undefined,
): WsChatRequest {
  const frame = parseWith(carried, value, "invalid_request");
  if (frame.type === "abort") return { type: "abort", requestId };
  const { headers, body } = frame;
  if (headers === undefined) throw new SluiceError("invalid_request", HEADERS_MESSAGE);
  if (body === undefined) throw new SluiceError("invalid_request", '"body" must be an object.');
  const authorization = authorizationOf(headers);
  if (frame.type === "resume") {
    const chatId = parseChatId(value.id);
    const from = resumePoint(frame.lastSequence, body.lastSequence);
    return { type: "resume", requestId, chatId, authorization, from, messageId: body.messageId };
  }
  // The frame is a superset of POST /api/chat's body: one reader for both keeps them alike.
  const chat: ChatRequest = readChatRequest(value, policy);
  // The transport carries the page's `body` as a field of its own: tools and options are there.
  const tools = parseToolDefinitions(body.tools, "body.tools");
  const options = parseRequestOptions(body.options, "body.options", policy);
  if (tools !== undefined) chat.tools = tools;
  if (options !== undefined) chat.options = options;
  return { type: "send", requestId, chat, authorization };
}

/** Turns a raw frame into a request, or into the error to send back and the id to send it to. */
export function parseWsChatFrame(raw: string | ArrayBuffer, policy?: OptionPolicy): ParsedFrame {
  let requestId = "";
  try {
    const value = readJsonObject(raw, CHAT_BODY_CHARS, "frame");
    requestId = parseWith(requestIdField, value, "invalid_request").requestId;
    return { ok: true, request: readRequest(value, requestId, policy) };
  } catch (error) {
    return { ok: false, requestId, error: toSluiceError(error) };
  }
}
