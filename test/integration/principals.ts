// Requests as named principals, inside workerd: the Worker's own handler called with
// AUTH_TOKENS set, so two static tokens are two users (the workers project itself runs open).
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Account } from "../../src/account/Account.ts";
import worker from "../../src/index.ts";
import { BASE, until } from "./support.ts";

/** The users of these tests, by their tokens. */
export const TOKENS = { alice: "token-alice", bob: "token-bob", carol: "token-carol" } as const;
export type User = keyof typeof TOKENS;

const withTokens = { ...env, AUTH_TOKENS: Object.values(TOKENS).join(",") };

/** Calls the Worker as `user` (a Bearer token), or open when `user` is undefined. */
export function call(
  user: User | undefined,
  path: string,
  init: RequestInit<IncomingRequestCfProperties> = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (user) headers.set("authorization", `Bearer ${TOKENS[user]}`);
  const request = new Request<unknown, IncomingRequestCfProperties>(`${BASE}${path}`, {
    ...init,
    headers,
  });
  return worker.fetch(request, user ? withTokens : env, createExecutionContext());
}

/** Calls with a JSON body. */
export function send(user: User | undefined, method: string, path: string, body: unknown) {
  return call(user, path, {
    method,
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A new session of `user`. */
export async function createChat(user: User | undefined): Promise<string> {
  const response = await call(user, "/sessions", { method: "POST" });
  if (response.status !== 201) throw new Error(`create: HTTP ${response.status}`);
  return (await response.json<{ session: string }>()).session;
}

/** Asks `prompt` over HTTP and reads the answer's SSE stream to its end. */
export async function askHttp(user: User | undefined, session: string, prompt: string) {
  const response = await send(user, "POST", `/sessions/${session}/messages`, { content: prompt });
  if (response.status !== 200) throw new Error(`ask: HTTP ${response.status}`);
  return response.text();
}

/** `user`'s principal id, as src/auth.ts derives it from the token. */
export async function principalOf(user: User): Promise<string> {
  const bytes = new TextEncoder().encode(TOKENS[user]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `tok_${hex.slice(0, 32)}`;
}

/** `user`'s Account (which holds its chat list). */
export async function directoryOf(user: User): Promise<DurableObjectStub<Account>> {
  const accounts = env.ACCOUNTS;
  if (!accounts) throw new Error("no ACCOUNTS binding");
  return accounts.get(accounts.idFromName(await principalOf(user)));
}

/** A socket on `/chat` as `user`, collecting frames, once welcomed. */
export async function socketAs(user: User | undefined, query = "") {
  const response = await call(user, `/chat${query}`, { headers: { upgrade: "websocket" } });
  const ws = response.webSocket;
  if (!ws) throw new Error(`no WebSocket (HTTP ${response.status})`);
  const frames: Array<Record<string, unknown>> = [];
  let closed: { code: number; reason: string } | undefined;
  ws.addEventListener("message", (event) => {
    frames.push(JSON.parse(String(event.data)));
  });
  ws.addEventListener("close", (event) => {
    closed = { code: event.code, reason: event.reason };
  });
  ws.accept();
  const session = String(await until(() => frames.find((f) => f.type === "session")?.session));
  return { ws, frames, session, closed: () => closed };
}

/** Resolves with `read()`'s value once it is neither undefined nor false, retrying every 10 ms. */
export async function eventually<T>(
  read: () => Promise<T | undefined | false>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
