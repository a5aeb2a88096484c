/**
 * One `/chat` WebSocket (Sluice's, or the minimal relay's: both speak the seed protocol) that
 * asks prompts one after another and times each answer's first token, for the time-to-first-token
 * benchmark: the first prompt lands in a new session, the next ones in an existing one.
 */
import { now } from "./clock.ts";
import { openSocket } from "./route-clients.ts";
import { readStamps } from "./upstream.ts";
import { parseRecord, readChatFrame } from "./wire-readers.ts";

/** One answer on the socket. */
export interface AskedAnswer {
  /** Prompt sent to the first token received, ms (NaN when none came). */
  firstTokenMs: number;
  /**
   * Prompt sent to the upstream writing its first token, ms (the token's stamp; the upstream
   * writes it as soon as the request arrived), so the time splits at the upstream.
   */
  toUpstreamMs: number;
  error: string | undefined;
}

export class ChatSocket {
  private onFrame: (data: unknown, receivedAt: number) => void = () => {};
  private readonly ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener("message", (event) => this.onFrame(event.data, now()));
    ws.addEventListener("close", () => this.onFrame(undefined, now()));
  }

  /** Opens `/chat` on `relay` and waits for the `session` frame (a new session). */
  static async open(relay: string, timeoutMs: number): Promise<ChatSocket> {
    const ws = await openSocket(`${relay.replace(/^http/, "ws")}/chat`, undefined, timeoutMs);
    const socket = new ChatSocket(ws);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no session frame")), timeoutMs);
      socket.onFrame = (data) => {
        clearTimeout(timer);
        if (parseRecord(data)?.type === "session") resolve();
        else reject(new Error("no session frame"));
      };
    });
    return socket;
  }

  /** Sends `prompt`, reads its answer to `done`; times the first token. */
  ask(prompt: string, timeoutMs: number): Promise<AskedAnswer> {
    return new Promise((resolve) => {
      const answer: AskedAnswer = {
        firstTokenMs: Number.NaN,
        toUpstreamMs: Number.NaN,
        error: undefined,
      };
      const end = (error?: string) => {
        clearTimeout(timer);
        this.onFrame = () => {};
        answer.error ??= error;
        resolve(answer);
      };
      const timer = setTimeout(() => end("timeout"), timeoutMs);
      const sentAt = now();
      this.onFrame = (data, receivedAt) => {
        if (data === undefined) return end("closed");
        const reading = readChatFrame(data);
        const [stamp] = reading.text ? readStamps(reading.text) : [];
        if (stamp !== undefined && Number.isNaN(answer.firstTokenMs)) {
          answer.firstTokenMs = receivedAt - sentAt;
          answer.toUpstreamMs = stamp - sentAt;
        }
        if (reading.error !== undefined) answer.error ??= reading.error;
        // Every answer ends with `done`; a refused prompt gets an error without a messageId.
        const frame = parseRecord(data);
        if (frame?.type === "done" || (frame?.type === "error" && frame.messageId === undefined)) {
          end();
        }
      };
      this.ws.send(JSON.stringify({ prompt }));
    });
  }

  close(): void {
    this.ws.close();
  }
}
