// The AI SDK's own WebSocketChatTransport pointed at a relay's /api/chat/ws, every frame it
// receives recorded for the secrets scan, and the small readers the tests share.
import {
  readUIMessageStream,
  type UIMessage,
  type UIMessageChunk,
  WebSocketChatTransport,
  type WebSocketChatTransportInitOptions,
} from "ai";
import { record } from "./record.ts";
import type { Relay } from "./relay.ts";

type TransportOptions = Partial<WebSocketChatTransportInitOptions<UIMessage>>;
type SocketLike = InstanceType<NonNullable<TransportOptions["webSocket"]>>;

/**
 * Node's global WebSocket, wrapped to record every frame it receives for the secrets scan (the
 * transport reads its socket through `on*` handlers only, so it sees the same socket).
 */
export class RecordingWebSocket implements SocketLike {
  /** Sockets opened so far, to tell how many a transport used. */
  static opened = 0;
  onopen: SocketLike["onopen"] = null;
  onmessage: SocketLike["onmessage"] = null;
  onerror: SocketLike["onerror"] = null;
  onclose: SocketLike["onclose"] = null;
  private readonly ws: WebSocket;

  constructor(url: string | URL, protocols?: string | string[]) {
    RecordingWebSocket.opened += 1;
    this.ws = new WebSocket(url, protocols);
    this.ws.onopen = (event) => this.onopen?.(event);
    this.ws.onerror = (event) => this.onerror?.(event);
    this.ws.onmessage = (event) => {
      record(String(event.data));
      this.onmessage?.(event);
    };
    this.ws.onclose = (event) => {
      record(`close ${event.code} ${event.reason}`);
      this.onclose?.(event);
    };
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(data: string | Uint8Array | ArrayBuffer): void {
    this.ws.send(data);
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }
}

/** A transport on `relay`'s /api/chat/ws; its socket opens with the first request. */
export function chatTransport(relay: Relay, options: TransportOptions = {}) {
  return new WebSocketChatTransport<UIMessage>({
    url: `${relay.url}/api/chat/ws`,
    webSocket: RecordingWebSocket,
    ...options,
  });
}

let counter = 0;

/** A user message of `text`, with a fresh id. */
export function userMessage(text: string): UIMessage {
  counter += 1;
  return { id: `user-${counter}`, role: "user", parts: [{ type: "text", text }] };
}

/** Asks `text` in chat `chatId` through `transport`, as `useChat`'s sendMessage does. */
export function ask(
  transport: WebSocketChatTransport<UIMessage>,
  chatId: string,
  text: string,
  abortSignal?: AbortSignal,
): Promise<ReadableStream<UIMessageChunk>> {
  return transport.sendMessages({
    chatId,
    messages: [userMessage(text)],
    trigger: "submit-message",
    messageId: undefined,
    abortSignal,
  });
}

/** `reconnectToStream` that must find an answer in progress. */
export async function resume(
  transport: WebSocketChatTransport<UIMessage>,
  options: { chatId: string; body?: object },
): Promise<ReadableStream<UIMessageChunk>> {
  const stream = await transport.reconnectToStream(options);
  if (!stream) throw new Error(`nothing to resume in chat ${options.chatId}`);
  return stream;
}

/** Every chunk of a stream, read to its end. */
export async function readAll(stream: ReadableStream<UIMessageChunk>): Promise<UIMessageChunk[]> {
  const chunks: UIMessageChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** The message the SDK assembles from `chunks`, read as one stream. */
export async function assemble(chunks: UIMessageChunk[]): Promise<UIMessage | undefined> {
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ stream, terminateOnError: true })) {
    last = message;
  }
  return last;
}

/** The message's text parts, joined. */
export function textOf(message: UIMessage | undefined): string {
  return (message?.parts ?? []).map((part) => (part.type === "text" ? part.text : "")).join("");
}

/** What the demo model answers to `/tokens n`. */
export function demoTokens(n: number): string {
  return Array.from({ length: n }, (_, i) => `t${i} `).join("");
}

/** The message id a `start` chunk names, if `chunk` is one. */
export function startedMessageId(chunk: UIMessageChunk | undefined): string | undefined {
  return chunk?.type === "start" ? chunk.messageId : undefined;
}

/** The message of a failed request: the transport errors its stream with the `errorText`. */
export async function failureOf(stream: ReadableStream<UIMessageChunk>): Promise<string> {
  try {
    await readAll(stream);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error("the stream ended without an error");
}

export interface StoredMessage {
  id: string;
  role: string;
  content: string;
  status: string;
}

/** A new session's id, which as a chat id names that session. */
export async function newSession(relay: Relay, headers: HeadersInit = {}): Promise<string> {
  const response = await fetch(`${relay.url}/sessions`, { method: "POST", headers });
  const body = await response.text();
  record(body);
  const { session } = JSON.parse(body) as { session: string };
  return session;
}

/** The stored history of `session`. */
export async function storedMessages(
  relay: Relay,
  session: string,
  headers: HeadersInit = {},
): Promise<StoredMessage[]> {
  const response = await fetch(`${relay.url}/sessions/${session}`, { headers });
  const body = await response.text();
  record(body);
  const { messages } = JSON.parse(body) as { messages: StoredMessage[] };
  return messages;
}

/** Polls `check` every 20 ms until it holds, or fails after `ms`. */
export async function eventually(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
