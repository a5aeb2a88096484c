// Inside workerd, against the real Durable Object: a failure at any step after an answer
// started ends it with `error` then `done`, frees its slot, and the session takes the next
// prompt. Each fault is injected into the live instance's helpers with runInDurableObject.
import { runInDurableObject, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AnswerEnd } from "../../src/account/Account.ts";
import type { ChatSession } from "../../src/session/ChatSession.ts";
import { EventLog } from "../../src/session/event-log.ts";
import { FanOut } from "../../src/session/fanout.ts";
import { SessionStore } from "../../src/session/store.ts";
import { BASE, openSocket, until } from "./support.ts";

type Frame = Record<string, unknown>;

/** The instance's helpers, found by class rather than by their private field names. */
interface Parts {
  store: SessionStore;
  log: EventLog;
  fanout: FanOut;
}

function partOf<T>(instance: object, type: abstract new (...args: never[]) => T): T {
  const found = Object.values(instance).find((value) => value instanceof type);
  if (!(found instanceof type)) throw new Error(`no ${type.name} in the instance`);
  return found;
}

/** Undoes every injection, so the next prompt meets a healthy instance. */
const restores: Array<() => void> = [];

/** Wraps `object[name]` so its first `times` calls (or those `when` picks) throw. */
function failing<O extends object, K extends keyof O>(
  object: O,
  name: K,
  options: { times?: number; when?: (...args: never[]) => boolean } = {},
): void {
  const original = object[name];
  if (typeof original !== "function") throw new Error(`${String(name)} is not a method`);
  let left = options.times ?? 1;
  const wrapped = (...args: never[]) => {
    if (left > 0 && (options.when?.(...args) ?? true)) {
      left -= 1;
      throw new Error(`injected: ${String(name)}`);
    }
    return Reflect.apply(original, object, args);
  };
  const own = Object.hasOwn(object, name);
  Reflect.set(object, name, wrapped);
  restores.push(() =>
    own ? Reflect.set(object, name, original) : Reflect.deleteProperty(object, name),
  );
}

type ReleaseMode = "pass" | "throw" | "reject";

/**
 * Puts a recording ACCOUNTS in front of the real one, for this instance only: each slot freed
 * (`release`, or the end of an answer, `ended`) is counted, and in `throw` / `reject` mode
 * fails instead of freeing the slot.
 */
function recordReleases(instance: ChatSession, failWith: ReleaseMode): string[] {
  const released: string[] = [];
  let mode = failWith;
  restores.push(() => {
    mode = "pass";
  });
  const accounts = env.ACCOUNTS;
  if (!accounts) throw new Error("the tests need the ACCOUNTS binding of wrangler.toml");
  const freeing = (lease: string, free: () => Promise<void>) => {
    released.push(lease);
    if (mode === "throw") throw new Error("injected: release");
    if (mode === "reject") return Promise.reject(new Error("injected: release"));
    return free();
  };
  const recording = {
    idFromName: (name: string) => accounts.idFromName(name),
    get: (id: DurableObjectId) => {
      const real = accounts.get(id);
      return new Proxy(real, {
        get(target, name) {
          if (name === "release") {
            return (lease: string) => freeing(lease, () => target.release(lease));
          }
          if (name === "ended") {
            return (end: AnswerEnd) => freeing(end.lease, () => target.ended(end));
          }
          return Reflect.get(target, name);
        },
      });
    },
  };
  const recorded = { ...Reflect.get(instance, "env"), ACCOUNTS: recording };
  Reflect.set(instance, "env", recorded);
  restores.push(() => Reflect.set(instance, "env", recorded));
  return released;
}

/** A Workers AI binding that fails: at the call (`sync`), or in the stream it returned. */
function failingAi(how: "sync" | "rejects" | "mid-stream") {
  return {
    run(): Promise<unknown> {
      if (how === "sync") throw new TypeError("injected: AI.run");
      if (how === "rejects") return Promise.reject(new TypeError("injected: AI.run"));
      const encoder = new TextEncoder();
      return Promise.resolve(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.enqueue(
              encoder.encode(`data: ${JSON.stringify({ response: "half " })}\n\n`),
            );
            controller.error(new TypeError("injected: stream"));
          },
        }),
      );
    },
  };
}

function useAi(instance: ChatSession, how: "sync" | "rejects" | "mid-stream"): void {
  const current = Reflect.get(instance, "env");
  Reflect.set(instance, "env", { ...current, PROVIDER: "workers-ai", AI: failingAi(how) });
}

const isChunk = (...args: never[]) => {
  const [event]: unknown[] = args;
  return typeof event === "object" && event !== null && Reflect.get(event, "type") === "chunk";
};
const holdsDone = (...args: never[]) => {
  const [events]: unknown[] = args;
  return Array.isArray(events) && events.some((event) => event?.type === "done");
};

interface Case {
  name: string;
  inject: (parts: Parts, instance: ChatSession) => void;
  /** What the clients are told at the end: an error then done (default), or a clean done. */
  ends?: "error" | "complete";
  /** The error's code (default `internal`; a provider's failure keeps its own). */
  code?: string;
  /** `release` mode of the recording limiter (default: pass). */
  release?: ReleaseMode;
}

const CASES: Case[] = [
  {
    name: "storing the finished answer throws once",
    inject: ({ store }) => failing(store, "finishMessage"),
  },
  {
    name: "storing the finished answer throws every time",
    inject: ({ store }) => failing(store, "finishMessage", { times: 1_000 }),
  },
  {
    name: "an event-batch write throws mid-answer",
    inject: ({ store }) => failing(store, "appendEvents"),
  },
  {
    name: "the event log's flush throws mid-answer",
    inject: ({ log }) => failing(log, "flushIfFull"),
  },
  {
    name: "every event-batch write throws",
    inject: ({ store }) => failing(store, "appendEvents", { times: 1_000 }),
  },
  {
    // Read before the start (a failure there waits for the start) and again after it.
    name: "reading the history for the context throws, before and after the start",
    inject: ({ store }) => failing(store, "newestFirst", { times: 2 }),
  },
  {
    name: "the broadcast of the start event throws",
    inject: ({ fanout }) => failing(fanout, "broadcast"),
  },
  {
    name: "the broadcast of a chunk throws (the encoder or a client)",
    inject: ({ fanout }) => failing(fanout, "broadcast", { when: isChunk }),
  },
  {
    name: "the broadcast of done throws",
    inject: ({ fanout }) =>
      failing(fanout, "broadcast", {
        when: (...args: never[]) => {
          const [event]: unknown[] = args;
          return (
            typeof event === "object" && event !== null && Reflect.get(event, "type") === "done"
          );
        },
      }),
  },
  {
    name: "the provider throws synchronously (the AI binding's call)",
    inject: (_parts, instance) => useAi(instance, "sync"),
    code: "upstream_error",
  },
  {
    name: "the provider rejects",
    inject: (_parts, instance) => useAi(instance, "rejects"),
    code: "upstream_error",
  },
  {
    name: "the provider's stream fails mid-answer",
    inject: (_parts, instance) => useAi(instance, "mid-stream"),
    code: "upstream_dropped",
  },
  // The answer itself is whole in these: the clients get a clean done, the next prompt still works.
  {
    name: "releasing the slot throws",
    release: "throw",
    inject: () => {},
    ends: "complete",
  },
  {
    name: "releasing the slot rejects",
    release: "reject",
    inject: () => {},
    ends: "complete",
  },
  {
    name: "deleting the heartbeat alarm throws",
    inject: (_parts, instance) => {
      const storage = Reflect.get(instance, "ctx").storage;
      failing(storage, "deleteAlarm");
    },
    ends: "complete",
  },
  {
    name: "writing the last batch (with done) throws: done was sent, the batch is kept",
    inject: ({ store }) => failing(store, "appendEvents", { when: holdsDone }),
    ends: "complete",
  },
];

function stub(session: string): DurableObjectStub<ChatSession> {
  return env.SESSIONS.get(env.SESSIONS.idFromName(session));
}

/** The seq-bearing frames from `from` on, once a `done` arrived. */
async function answerFrames(frames: Frame[], from: number): Promise<Frame[]> {
  await until(() => frames.slice(from).some((frame) => frame.type === "done"));
  return frames.slice(from).filter((frame) => typeof frame.seq === "number");
}

describe("a failure after an answer started", () => {
  it.each(CASES)(
    "$name: the clients get error then done, the slot is freed, the next prompt is accepted",
    async (test) => {
      const { ws, frames, session } = await openSocket();
      const released = await runInDurableObject(stub(session), (instance: ChatSession) => {
        const parts = {
          store: partOf(instance, SessionStore),
          log: partOf(instance, EventLog),
          fanout: partOf(instance, FanOut),
        };
        const list = recordReleases(instance, test.release ?? "pass");
        test.inject(parts, instance);
        return list;
      });
      // Over 200 events, so a batch is written while the answer streams.
      ws.send(JSON.stringify({ prompt: "/tokens 300" }));
      const first = await answerFrames(frames, 0);
      const [error, done] = first.slice(-2);
      if (test.ends === "complete") {
        expect(done).toMatchObject({ type: "done", status: "complete" });
        expect(first.filter((frame) => frame.type === "error")).toEqual([]);
      } else {
        expect(error).toMatchObject({ type: "error", code: test.code ?? "internal" });
        expect(done).toMatchObject({ type: "done" });
        expect(["error", "incomplete"]).toContain(done?.status);
      }
      expect(first.filter((frame) => frame.type === "done")).toHaveLength(1);

      // The next prompt is accepted (not busy) and runs to a clean end on a healthy instance.
      await runInDurableObject(stub(session), () => {
        for (const restore of restores.splice(0).reverse()) restore();
      });
      const from = frames.length;
      ws.send(JSON.stringify({ prompt: "/tokens 3" }));
      const second = await answerFrames(frames, from);
      expect(frames.slice(from).filter((frame) => frame.type === "error")).toEqual([]);
      // (The context joins this prompt to the first when that one has no answer stored.)
      const types = second.map((frame) => frame.type);
      expect([types[0], types.at(-1), new Set(types.slice(1, -1))]).toEqual([
        "start",
        "done",
        new Set(["chunk"]),
      ]);
      expect(second.at(-1)).toMatchObject({ status: "complete" });

      // Each answer's slot was released exactly once (the first one's attempt may have failed).
      const ids = [first[0]?.messageId, second[0]?.messageId].filter((id) => id !== undefined);
      expect(released.filter((lease) => ids.includes(lease))).toHaveLength(
        ids.length === 2 ? 2 : 1,
      );

      const response = await SELF.fetch(`${BASE}/sessions/${session}`);
      const history = await response.json<{ generating: boolean }>();
      expect(history.generating).toBe(false);
      ws.close();
    },
  );
});
