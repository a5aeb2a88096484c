/**
 * How a session starts an answer: the checks that need no other object, the turn it stores,
 * and admission (request rate, answer slot, quota) run beside the upstream's connect.
 * docs/architecture.md "How it works" step 2 has the order and the cost of a refusal.
 */
import type { StreamingMark } from "../directory/chat-list.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { releaseSlot } from "../limits/limits.ts";
import type { StoredMessage } from "../protocol.ts";
import type { Provider } from "../providers/types.ts";
import { admitPrompt } from "../usage/admit.ts";
import type { Running } from "./answer-end.ts";
import type { AnswerStep } from "./answer-step.ts";
import { contextBudget, contextOf } from "./context.ts";
import type { SessionStore } from "./store.ts";

/** Messages a session may hold (user and assistant); then it is full. */
export const MAX_SESSION_MESSAGES = 2_000;
/** How long events stay replayable after they were written. README "Resume". */
export const RETENTION_MS = 15 * 60_000;

/** The refusals a prompt gets from the session alone, before anything leaves it. */
export function checkLocally(
  store: SessionStore,
  state: { deleted: boolean; busy: boolean; waitingForTools: boolean },
): void {
  if (state.deleted) throw new SluiceError("session_not_found", "No session has this id.");
  if (state.busy) {
    throw new SluiceError(
      "busy",
      "An answer is already streaming in this session; wait for its done event or cancel it.",
    );
  }
  if (state.waitingForTools) {
    throw new SluiceError(
      "busy",
      "The answer waits for tool results; send them (tool-results) or cancel it.",
    );
  }
  if (store.messageCount() + 2 > MAX_SESSION_MESSAGES) {
    throw new SluiceError(
      "session_full",
      `This session holds ${MAX_SESSION_MESSAGES} messages, its limit; start a new session.`,
    );
  }
}

/**
 * Admits a prompt: its request count (`counted`, already asked; undefined when the caller
 * counted it), an answer slot and the quota (one call to the client's account, which also sets
 * the session's streaming `mark`), all at once. Resolves with the usage key;
 * on a refusal (`rate_limited`, `quota_exceeded`, `config_error`) no slot is held.
 */
export async function admit(
  env: Env,
  caller: { id: string; limitKey: string },
  lease: string,
  counted: Promise<void> | undefined,
  mark: StreamingMark | undefined,
): Promise<string | undefined> {
  const [count, admitted] = await Promise.allSettled([
    counted,
    admitPrompt(env, caller, lease, mark),
  ]);
  if (count.status === "rejected") {
    if (admitted.status === "fulfilled") await releaseSlot(env, caller.limitKey, lease);
    throw count.reason;
  }
  if (admitted.status === "rejected") throw admitted.reason;
  return admitted.value;
}

/** The user message of a prompt, as `storePrompt` stores it. */
export function userMessage(id: string, prompt: string, createdAt: number): StoredMessage {
  return { id, role: "user", content: prompt, parts: [], status: "complete", createdAt };
}

/**
 * Stores a prompt with its (empty) answer, after pruning expired events; one transaction, so
 * one commit. Returns the answer's position.
 */
export function storePrompt(store: SessionStore, user: StoredMessage, messageId: string): number {
  return store.transaction(() => {
    store.pruneEvents(user.createdAt - RETENTION_MS);
    return store.insertPrompt(user, messageId);
  });
}

/** The history newest first, after `user` (a prompt not stored yet). */
export function* withPrompt(user: StoredMessage, store: SessionStore): Generator<StoredMessage> {
  yield user;
  yield* store.newestFirst();
}

/**
 * The conversation sent upstream from the history, newest first (see `buildContext`), with the
 * env's budget: only the messages within it are read.
 */
export function conversation(
  env: Pick<Env, "SYSTEM_PROMPT" | "CONTEXT_BUDGET_CHARS">,
  newestFirst: Iterable<StoredMessage>,
  continuing: string | undefined,
) {
  return contextOf(
    newestFirst,
    env.SYSTEM_PROMPT,
    contextBudget(env.CONTEXT_BUDGET_CHARS),
    continuing,
  );
}

/**
 * An answer about to run, with what its end and its report need; its first event is the
 * one after `lastSeq`.
 */
export function preparedRunning(
  store: SessionStore,
  lastSeq: number,
  run: AnswerStep,
  provider: Provider,
  usageKey: string | undefined,
  startedAt: number,
  kept: Pick<Running, "extras" | "continuing" | "limitKey" | "position">,
): Running {
  return {
    run,
    ...kept,
    startSeq: lastSeq + 1,
    ended: false,
    report: {
      route: "session",
      session: store.sessionId(),
      principal: store.owner() ?? "",
      usageKey,
      provider: provider.name,
      // A prompt's chosen model is the one its log line and usage name.
      model: kept.extras?.options?.model ?? provider.model,
      startedAt,
      contextChars: 0,
    },
  };
}
