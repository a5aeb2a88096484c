/**
 * A session's answers from start to end: at most one runs at a time. A prompt's upstream
 * request is made first; admission (request rate, slot, quota) runs beside its connect, and
 * only an admitted answer is stored and shown (docs/architecture.md "How it works").
 */
import type { ChatListing } from "../directory/listing.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { newMessageId } from "../ids.ts";
import { releaseSlot } from "../limits/limits.ts";
import type { SessionEvent, StoredMessage, ToolResult } from "../protocol.ts";
import { createProvider } from "../providers/index.ts";
import type { Provider } from "../providers/types.ts";
import { stallTimeout } from "../streams/stall-watchdog.ts";
import {
  type EndHost,
  type Extras,
  failAnswer,
  finishAnswer,
  type Running,
  settleAnswer,
} from "./answer-end.ts";
import {
  admit,
  checkLocally,
  conversation,
  preparedRunning,
  storePrompt,
  userMessage,
  withPrompt,
} from "./answer-start.ts";
import { AnswerStep } from "./answer-step.ts";
import { bestEffort } from "./best-effort.ts";
import { contextChars } from "./context.ts";
import type { Unsequenced } from "./event-log.ts";
import type { SessionExpiry } from "./expiry.ts";
import { armHeartbeat } from "./heartbeat.ts";
import type { PartEvent } from "./parts.ts";

/** What the answers of a session use of it. */
export interface AnswerHost extends EndHost {
  readonly env: Env;
  readonly ctx: DurableObjectState;
  chats(): ChatListing;
  readonly expiry: SessionExpiry;
  isDeleted(): boolean;
}

/** Who asks, and where the events of its answer go. */
export interface Asker {
  limitKey: string;
  /** The request count of the frame that asks, already under way (WebSocket prompts). */
  counted?: Promise<void> | undefined;
  attach?: ((messageId: string) => void) | undefined;
}

export class AnswerRunner {
  private current: Running | undefined;
  /** True while a prompt is being admitted, so a second prompt is still `busy`. */
  private starting = false;
  /**
   * Set by a refused admission, cleared by an admitted one: while set, a prompt is admitted
   * before its upstream request, so a client over its limits cannot make upstream calls.
   */
  private cautious = false;

  constructor(private readonly host: AnswerHost) {}

  /** The answer in progress, if any. */
  get running(): Running | undefined {
    return this.current;
  }

  /** True while an answer runs or a prompt is being admitted. */
  get busy(): boolean {
    return this.current !== undefined || this.starting;
  }

  /**
   * Starts an answer to `prompt`, or throws: `busy`, `session_full`, then `rate_limited` or
   * `quota_exceeded` from admission. Nothing is stored and no client sees the answer before
   * every check passed; a refused prompt's upstream request is aborted.
   */
  async startPrompt(prompt: string, asker: Asker, extras: Extras = {}): Promise<void> {
    const { host } = this;
    const store = host.store();
    checkLocally(store, {
      deleted: host.isDeleted(),
      busy: this.busy,
      waitingForTools: host.toolWait.current() !== undefined,
    });
    const arrivedAt = Date.now();
    const provider = createProvider(host.env);
    provider.checkOptions?.(extras.tools, extras.options);
    const messageId = newMessageId();
    const user = userMessage(newMessageId(), prompt, arrivedAt);
    const run = new AnswerStep(messageId);
    // Cautious after a refusal: admitted first, so a refused client makes no upstream call.
    // A history that cannot be read is read again after the start, which a failure then ends.
    const context = this.cautious ? undefined : this.earlyContext(user);
    if (context) run.begin(provider, context, this.stallMs(), extras);
    const usageKey = await this.admitted(asker, messageId, prompt, () => run.cancel());
    let position: number;
    try {
      position = storePrompt(host.store(), user, messageId);
    } catch (error) {
      // Nothing started: the sender gets the error, the request stops, the slot is free again.
      run.cancel();
      bestEffort("releasing the answer slot", () =>
        releaseSlot(host.env, asker.limitKey, messageId),
      );
      throw error;
    }
    const running = preparedRunning(
      this.host.store(),
      this.host.log().lastSeq,
      run,
      provider,
      usageKey,
      arrivedAt,
      {
        extras,
        continuing: false,
        limitKey: asker.limitKey,
        position,
      },
    );
    running.upstream = context ? undefined : () => this.sendUpstream(running, provider);
    if (context) running.report.contextChars = contextChars(context);
    const start = { type: "start", messageId, userMessageId: user.id, prompt } as const;
    this.launch(running, start, asker.attach);
  }

  /**
   * Takes tool results for the waiting answer: each is stored in the answer's parts and
   * broadcast as `tool-result`; once every awaited call has one, the continuation starts as
   * the next step of the same message (an answer like a prompt's: slot, quota, `busy`).
   */
  async continueWithResults(results: readonly ToolResult[], asker: Asker): Promise<void> {
    const { host } = this;
    if (host.isDeleted()) throw new SluiceError("session_not_found", "No session has this id.");
    if (this.busy) {
      throw new SluiceError(
        "no_tool_call_pending",
        "An answer is streaming; no tool results are awaited.",
      );
    }
    const { state, complete } = host.toolWait.accept(results);
    const message = host.toolWait.message(state);
    const usageKey = complete ? await this.admitted(asker, state.messageId, undefined) : undefined;
    const { messageId, position } = state;
    asker.attach?.(messageId);
    const { parts, events } = host.toolWait.record(state, message, results);
    for (const event of events) host.emit({ ...event, messageId });
    if (!complete) {
      host.toolWait.begin(state);
      host.log().flush();
      return;
    }
    host.toolWait.clear();
    host.store().reopenMessage(position);
    const provider = createProvider(host.env);
    const step = state.step + 1;
    const run = new AnswerStep(messageId, step, parts);
    const extras = { tools: state.tools, options: state.options };
    const running = preparedRunning(
      this.host.store(),
      this.host.log().lastSeq,
      run,
      provider,
      usageKey,
      Date.now(),
      {
        extras,
        continuing: true,
        limitKey: asker.limitKey,
        position,
      },
    );
    running.upstream = () => this.sendUpstream(running, provider);
    this.launch(running, { type: "step", messageId, step });
  }

  /** Cancels the answer in progress or its wait for tool results (`done`); false if none. */
  cancel(): boolean {
    const { host } = this;
    this.current?.run.cancel();
    if (this.current) return true;
    const wait = host.toolWait.drop();
    if (!wait) return false;
    host.emit({ type: "done", messageId: wait.messageId, status: "cancelled" });
    host.log().flush();
    return true;
  }

  /**
   * Admission, `starting` meanwhile (the streaming mark of the chat list rides on it; `prompt`
   * titles a first answer); a refusal runs `onRefused` and makes it cautious.
   */
  private async admitted(
    asker: Asker,
    lease: string,
    prompt: string | undefined,
    onRefused?: () => void,
  ): Promise<string | undefined> {
    this.starting = true;
    try {
      const owner = { id: this.host.store().owner() ?? "", limitKey: asker.limitKey };
      const mark = this.host.chats().markAt(asker.limitKey, prompt);
      const usageKey = await admit(this.host.env, owner, lease, asker.counted, mark);
      this.cautious = false;
      return usageKey;
    } catch (error) {
      onRefused?.();
      this.cautious = true;
      throw error;
    } finally {
      this.starting = false;
    }
  }

  /** The context of a prompt before its start, or undefined when the history cannot be read. */
  private earlyContext(user: StoredMessage) {
    try {
      return conversation(this.host.env, withPrompt(user, this.host.store()), undefined);
    } catch {
      return undefined;
    }
  }

  /** Builds the step's context from the stored history and sends it upstream. */
  private sendUpstream(running: Running, provider: Provider): void {
    const { run } = running;
    const context = conversation(
      this.host.env,
      this.host.store().newestFirst(),
      running.continuing ? run.messageId : undefined,
    );
    running.report.contextChars = contextChars(context);
    run.begin(provider, context, this.stallMs(), running.extras);
  }

  private stallMs(): number {
    return stallTimeout(this.host.env.STALL_TIMEOUT_MS);
  }

  /** Makes `running` the session's answer and runs it to its end. */
  private launch(
    running: Running,
    start: Unsequenced<SessionEvent>,
    attach?: (messageId: string) => void,
  ): void {
    this.current = running;
    // answer() settles every outcome itself; the catch is for what runs after it.
    this.answer(running, start, attach).catch((error: unknown) =>
      console.error("after an answer", error),
    );
  }

  /**
   * One answer from its `start` to its `done`. It owns its end: whatever throws, the clients
   * get an `error` and a `done`, what can be stored is, the slot is freed, and the session
   * takes the next prompt.
   */
  private async answer(
    running: Running,
    start: Unsequenced<SessionEvent>,
    attach?: (messageId: string) => void,
  ): Promise<void> {
    const { host } = this;
    const { run } = running;
    try {
      attach?.(run.messageId);
      // `start` and `step` open the step's parts (a `step-start`).
      run.assembler.apply(start);
      host.emit(start);
      running.stopHeartbeat = armHeartbeat(host.ctx.storage);
      running.upstream?.();
      const onEvent = (event: PartEvent) => {
        host.emit({ ...event, messageId: run.messageId });
        host.log().flushIfFull();
      };
      await run.run(onEvent);
      finishAnswer(host, running);
    } catch (error) {
      failAnswer(host, running, error);
    } finally {
      this.end(running);
    }
    settleAnswer(this.host, running);
  }

  /** Frees what an answer held in the session. Nothing here may throw: it runs on every outcome. */
  private end(running: Running): void {
    if (this.current === running) this.current = undefined;
    running.stopHeartbeat?.();
    // Nothing left to keep alive: the heartbeat gives way to the expiry alarm.
    bestEffort("scheduling the expiry", () => this.host.expiry.ensure());
  }
}
