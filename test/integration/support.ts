// Helpers for tests inside workerd: real WebSockets to the Worker under test, and waiting.
import { SELF } from "cloudflare:test";

export const BASE = "http://sluice.test";

export interface WorkerSocket {
  ws: WebSocket;
  frames: Array<Record<string, unknown>>;
  session: string;
}

/** Resolves with `read()` once it is neither undefined nor false, polling every 5 ms. */
export async function until<T>(read: () => T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Opens `/chat` (with `query`), collects every frame, and waits for the `session` frame. */
export async function openSocket(query = ""): Promise<WorkerSocket> {
  const response = await SELF.fetch(`${BASE}/chat${query}`, { headers: { upgrade: "websocket" } });
  const ws = response.webSocket;
  if (!ws) throw new Error(`no WebSocket (HTTP ${response.status})`);
  const frames: Array<Record<string, unknown>> = [];
  ws.addEventListener("message", (event) => {
    frames.push(JSON.parse(String(event.data)));
  });
  ws.accept();
  const session = await until(() => frames.find((frame) => frame.type === "session")?.session);
  return { ws, frames, session: String(session) };
}
