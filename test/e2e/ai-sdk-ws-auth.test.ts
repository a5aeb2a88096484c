// /api/chat/ws with AUTH_TOKENS set: the token comes in the handshake (subprotocol or query),
// a chat of another token is out of reach, and a frame's own header can only confirm the token.
import type { UIMessage, WebSocketChatTransport } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { tryUpgrade } from "../helpers/upgrade.ts";
import {
  ask,
  assemble,
  chatTransport,
  demoTokens,
  failureOf,
  newSession,
  RecordingWebSocket,
  readAll,
  storedMessages,
  textOf,
  userMessage,
} from "../helpers/ws-chat.ts";

const { tokenAlpha, tokenBeta } = SECRETS;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
let relay: Relay;

beforeAll(async () => {
  relay = await startRelay({ AUTH_TOKENS: `${tokenAlpha},${tokenBeta}`, DEMO_DELAY_MS: "2" });
});
afterAll(() => relay.dispose());

/** Tries a WebSocket upgrade of `path` on the relay, to read a refusal. */
function upgrade(path: string, headers: Record<string, string> = {}) {
  return tryUpgrade(`${relay.url}${path}`, headers);
}

/** Asks `text` in `chatId` with per-request frame headers, as `sendMessage(…, { headers })` does. */
function askWith(
  transport: WebSocketChatTransport<UIMessage>,
  chatId: string,
  headers: Record<string, string>,
) {
  return transport.sendMessages({
    chatId,
    messages: [userMessage("/tokens 1")],
    trigger: "submit-message",
    messageId: undefined,
    abortSignal: undefined,
    headers,
  });
}

describe("/api/chat/ws with AUTH_TOKENS", () => {
  it("takes the token from the subprotocol or the query string", async () => {
    const session = await newSession(relay, bearer(tokenAlpha));
    const viaProtocol = chatTransport(relay, {
      protocols: ["sluice", `sluice.token.${tokenAlpha}`],
    });
    expect(
      textOf(await assemble(await readAll(await ask(viaProtocol, session, "/tokens 2")))),
    ).toBe("t0 t1 ");
    const viaQuery = chatTransport(relay, { params: { token: tokenAlpha } });
    expect(textOf(await assemble(await readAll(await ask(viaQuery, session, "/tokens 3"))))).toBe(
      "t0 t1 t2 ",
    );
    const stored = await storedMessages(relay, session, bearer(tokenAlpha));
    expect(stored.map((m) => m.content)).toEqual(["/tokens 2", "t0 t1 ", "/tokens 3", "t0 t1 t2 "]);
    viaProtocol.close();
    viaQuery.close();
  });

  it("refuses an upgrade without a valid token", async () => {
    for (const refused of [
      await upgrade("/api/chat/ws"),
      await upgrade("/api/chat/ws?token=tok-wrong"),
      await upgrade("/api/chat/ws", { "sec-websocket-protocol": "sluice, sluice.token.nope" }),
    ]) {
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "unauthorized" } });
    }
    const anonymous = chatTransport(relay);
    await expect(ask(anonymous, "any-chat", "/tokens 1")).rejects.toThrow(/WebSocket chat network/);
    anonymous.close();
  });

  it("keeps another token's session out of reach, and the same chat name apart", async () => {
    const session = await newSession(relay, bearer(tokenAlpha));
    const beta = chatTransport(relay, { params: { token: tokenBeta } });
    expect(await failureOf(await ask(beta, session, "/tokens 1"))).toBe(
      "session_not_found: No session has this id.",
    );
    // Resuming it looks exactly like a chat with nothing streaming: ids are not probeable.
    expect(await beta.reconnectToStream({ chatId: session })).toBeNull();
    expect(await storedMessages(relay, session, bearer(tokenAlpha))).toEqual([]);

    // A chat id that is not a session id names a different session for each token.
    const alpha = chatTransport(relay, { params: { token: tokenAlpha } });
    const answers = await Promise.all(
      [alpha, beta].map(async (transport) =>
        textOf(await assemble(await readAll(await ask(transport, "same-name", "/tokens 40")))),
      ),
    );
    expect(answers).toEqual([demoTokens(40), demoTokens(40)]);
    alpha.close();
    beta.close();
  });

  it("lets a frame's authorization header confirm the socket's token, never switch it", async () => {
    const opened = RecordingWebSocket.opened;
    const transport = chatTransport(relay, {
      params: { token: tokenAlpha },
      headers: bearer(tokenAlpha),
    });
    expect(textOf(await assemble(await readAll(await ask(transport, "framed", "/tokens 1"))))).toBe(
      "t0 ",
    );
    const failures = [
      await failureOf(await askWith(transport, "framed", bearer(tokenBeta))),
      await failureOf(await askWith(transport, "framed", bearer("tok-wrong"))),
      await failureOf(await askWith(transport, "framed", { authorization: `Basic ${tokenAlpha}` })),
    ];
    expect(failures).toEqual([
      "unauthorized: The frame's token is not the one this socket was opened with; open a new socket to change tokens.",
      "unauthorized: The token is not valid.",
      'unauthorized: A frame\'s "authorization" header must be "Bearer <token>".',
    ]);
    // Refused frames leave the socket as it was: the next request on it is answered.
    expect(textOf(await assemble(await readAll(await ask(transport, "framed", "/tokens 2"))))).toBe(
      "t0 t1 ",
    );
    expect(RecordingWebSocket.opened - opened).toBe(1);
    transport.close();
  });
});
