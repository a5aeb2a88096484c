// A WebSocket client for tests: collects every frame and waits for the ones a test expects.
import { record } from "./record.ts";

export type Frame = Record<string, unknown> & { type: string };

export class TestSocket {
  readonly frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      record(String(event.data));
      this.frames.push(JSON.parse(String(event.data)));
      this.wake();
    });
    ws.addEventListener("close", (event) => {
      record(`close ${event.code} ${event.reason}`);
      this.closed = { code: event.code, reason: event.reason };
      this.wake();
    });
  }

  static open(url: string, protocols?: string | string[]): Promise<TestSocket> {
    const ws = new WebSocket(url, protocols);
    return new Promise((resolve, reject) => {
      ws.addEventListener("open", () => resolve(new TestSocket(ws)), { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), {
        once: true,
      });
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first frame from index `from` on that matches, waiting up to `ms`. */
  async next(match: (frame: Frame) => boolean, from = 0, ms = 10_000): Promise<Frame> {
    let found: Frame | undefined;
    await this.until(() => {
      found = this.frames.slice(from).find(match);
      return found !== undefined;
    }, ms);
    if (!found) throw new Error("unreachable: until() returned without a match");
    return found;
  }

  /** Waits until `check()` holds, re-checking on every frame; fails on close or after `ms`. */
  async until(check: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (check()) return;
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) before a match`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for a frame of `type` after index `from`. */
  waitFor(type: string, from = 0, ms?: number): Promise<Frame> {
    return this.next((frame) => frame.type === type, from, ms);
  }

  /** Sends a prompt and resolves with the chunks' text and every frame of that answer. */
  async ask(prompt: string): Promise<{ text: string; frames: Frame[] }> {
    const from = this.frames.length;
    this.send({ prompt });
    await this.waitFor("done", from);
    const frames = this.frames.slice(from);
    const text = frames
      .filter((frame) => frame.type === "chunk")
      .map((frame) => String(frame.content))
      .join("");
    return { text, frames };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.ws.close();
    return this.next(() => false, 0, 5_000).then(
      () => undefined,
      () => undefined,
    );
  }
}
