/** The relay's HTTP routes as the client uses them, with its JSON errors turned into exceptions. */
import type { ErrorCode } from "../errors.ts";
import type { ChatPage, RequestOptions, ToolDefinition, ToolResult } from "../protocol.ts";
import { parseChatPage, parseSnapshot, type SessionSnapshot } from "./parse.ts";

/** A request the relay refused (its `{"error": {code, message}}` body), or could not be sent. */
export class RelayError extends Error {
  /** The relay's error code, or `network` when no answer came back. */
  readonly code: ErrorCode | "network";
  /** The HTTP status, or 0 when no answer came back. */
  readonly status: number;

  constructor(code: ErrorCode | "network", message: string, status: number) {
    super(message);
    this.name = "RelayError";
    this.code = code;
    this.status = status;
  }
}

/**
 * The access token: a fixed string, or a function asked before each connection and each HTTP
 * request (e.g. a short-lived JWT from the app's backend; cache it there until shortly before
 * its `exp`). A socket the relay closes with 4401 (`token_expired`) reconnects with the next one.
 */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

/** The token to send now; a function that throws rejects with RelayError `network` (retried). */
export async function currentToken(source: TokenSource | undefined): Promise<string | undefined> {
  if (typeof source !== "function") return source;
  try {
    return await source();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RelayError("network", `Could not get a token: ${reason}`, 0);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** The RelayError a failed response stands for, whatever its body holds. */
async function failure(response: Response): Promise<RelayError> {
  const body: unknown = await response.json().catch(() => undefined);
  const error = isRecord(body) && isRecord(body.error) ? body.error : {};
  const code = typeof error.code === "string" ? error.code : "internal";
  const message =
    typeof error.message === "string" ? error.message : `HTTP ${response.status} from the relay.`;
  // The relay owns the codes and may be newer than this client; see parse.ts.
  return new RelayError(code as ErrorCode, message, response.status);
}

/** The session routes of one relay, called with its token (a Bearer header) when there is one. */
export class RelayHttp {
  constructor(
    private readonly base: URL,
    private readonly token?: TokenSource,
  ) {}

  /** An absolute URL of the relay. */
  url(path: string): string {
    return new URL(path, this.base).toString();
  }

  /** `POST /sessions`: a new session's id. */
  async createSession(): Promise<string> {
    const body: unknown = await (await this.fetch("/sessions", { method: "POST" })).json();
    if (isRecord(body) && typeof body.session === "string") return body.session;
    throw new RelayError("internal", "The relay sent no session id.", 201);
  }

  /** `GET /sessions/:id`: the history and state of a session. */
  async snapshot(session: string): Promise<SessionSnapshot> {
    const snapshot = parseSnapshot(await (await this.fetch(`/sessions/${session}`)).json());
    if (!snapshot) throw new RelayError("internal", "The relay sent an unreadable history.", 200);
    return snapshot;
  }

  /** `POST /sessions/:id/messages`, leaving its stream: the answer comes on the events stream. */
  async postMessage(
    session: string,
    prompt: string,
    extras: { tools?: ToolDefinition[]; options?: RequestOptions } = {},
  ): Promise<void> {
    const response = await this.fetch(`/sessions/${session}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ content: prompt, ...extras }),
    });
    await response.body?.cancel();
  }

  /** `POST /sessions/:id/tool-results`; the continuation's events come over the event stream. */
  async postToolResults(session: string, results: ToolResult[]): Promise<void> {
    const response = await this.fetch(`/sessions/${session}/tool-results`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ results }),
    });
    await response.body?.cancel();
  }

  /** `GET /sessions`: a page of the caller's chats. */
  async list(limit?: number, cursor?: string): Promise<ChatPage> {
    const query = new URLSearchParams();
    if (limit !== undefined) query.set("limit", String(limit));
    if (cursor !== undefined) query.set("cursor", cursor);
    const search = query.toString();
    const page = parseChatPage(
      await (await this.fetch(`/sessions${search ? `?${search}` : ""}`)).json(),
    );
    if (!page) throw new RelayError("internal", "The relay sent an unreadable chat list.", 200);
    return page;
  }

  /** `PATCH /sessions/:id`: the title as the relay stored it. */
  async rename(session: string, title: string): Promise<string> {
    const response = await this.fetch(`/sessions/${session}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title }),
    });
    const body: unknown = await response.json();
    return isRecord(body) && typeof body.title === "string" ? body.title : title;
  }

  /** `DELETE /sessions/:id` (idempotent). */
  async remove(session: string): Promise<void> {
    await this.fetch(`/sessions/${session}`, { method: "DELETE" });
  }

  /** `POST /sessions/:id/cancel`. */
  async cancel(session: string): Promise<void> {
    await this.fetch(`/sessions/${session}/cancel`, { method: "POST" });
  }

  /** Sends a request; returns the response if it succeeded, else throws RelayError. */
  private async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const token = await currentToken(this.token);
    if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
    let response: Response;
    try {
      response = await fetch(this.url(path), { ...init, headers });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RelayError("network", `The relay could not be reached: ${reason}`, 0);
    }
    if (!response.ok) throw await failure(response);
    return response;
  }
}
