/**
 * Sluice's browser client: import this file alone (no dependencies) to stream a session's
 * answers over WebSocket or SSE, with reconnects that resume exactly where they left off.
 *
 * @example
 * const client = new SluiceClient({ session: localStorage.getItem("session") ?? undefined });
 * const transcript = new Transcript();
 * client.on((event) => {
 *   if (event.type === "session") localStorage.setItem("session", event.session);
 *   if ("seq" in event) render(transcript.apply(event));
 * });
 * client.connect();
 * await client.send("Hello");
 */
export { titleFromPrompt } from "../directory/chat-text.ts";
export type {
  ChatPage,
  ChatSummary,
  ClientFrame,
  MessagePart,
  RequestOptions,
  ServerEvent,
  SessionEvent,
  StoredMessage,
  ToolDefinition,
  ToolResult,
} from "../protocol.ts";
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
export { SluiceChats, type SluiceChatsOptions } from "./chats.ts";
export { type SendExtras, SluiceClient, type SluiceClientOptions } from "./client.ts";
export type { ClientEvent, ClientListener, ConnectionState } from "./events.ts";
export { RelayError, type TokenSource } from "./http.ts";
export { parseChatPage, parseServerEvent, type SessionSnapshot } from "./parse.ts";
export { PartsAssembler, partsText } from "./parts.ts";
export { type ChatMessage, Transcript } from "./transcript.ts";
