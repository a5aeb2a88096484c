/**
 * Retries, pre-token timeouts and the fallback provider, wrapped around any provider. A call is
 * tried again only before its first part reaches the session, so an answer is never duplicated:
 * each attempt's events are held until it commits (see `commits`).
 */
import { SluiceError } from "../errors.ts";
import type { RetryPolicy, TimeoutPhase } from "./retry-policy.ts";
import {
  allowsFallback,
  MAX_RETRY_AFTER_MS,
  retryDelay,
  UpstreamFailure,
  waitsTooLong,
} from "./retry-policy.ts";
import type { Provider, UpstreamEvent, UpstreamEvents, UpstreamRequest } from "./types.ts";
import { DROPPED_MESSAGE } from "./wire.ts";

/**
 * A provider that answers with `primary`, trying it again after a failure before its first
 * part as `policy` allows, then with `fallback` (same policy) if the failure permits one (see
 * `allowsFallback`). `stream()` resolves once an attempt committed; from then on its events
 * pass through unchanged, a mid-stream failure included (the session keeps the partial answer).
 * When both fail, the error is the fallback's, and its message quotes the primary's.
 * `onActivity` is only called after the commit: before it, the deadlines of `policy` govern.
 */
export function resilient(
  primary: Provider,
  fallback: Provider | undefined,
  policy: RetryPolicy,
): Provider {
  return {
    name: primary.name,
    model: primary.model,
    // The primary's: a request it refuses never reaches the fallback either.
    checkOptions: (tools, options) => primary.checkOptions?.(tools, options),
    async stream(call) {
      try {
        return await withRetries(primary, call, policy);
      } catch (error) {
        if (!fallback || !usable(error, call) || !allowsFallback(error)) throw error;
        console.warn(`${failed(primary, error)}; falling back to ${label(fallback)}`);
        if (call.report) {
          call.report.fallback = true;
          call.report.retries += 1;
        }
        try {
          // The request's model names one of the primary's; the fallback keeps FALLBACK_MODEL.
          return await withRetries(fallback, withoutModel(call), policy);
        } catch (second) {
          if (!usable(second, call)) throw second;
          const first = `the primary ${label(primary)} failed first: ${error.message}`;
          const message = `${second.message} (fallback ${label(fallback)}; ${first})`;
          throw new SluiceError(second.code, message);
        }
      }
    },
  };
}

/** Attempts of `provider` until one commits, the rules say stop, or the caller aborts. */
async function withRetries(
  provider: Provider,
  call: UpstreamRequest,
  policy: RetryPolicy,
): Promise<UpstreamEvents> {
  for (let retry = 1; ; retry++) {
    try {
      const events = await attempt(provider, call, policy);
      if (call.report) {
        call.report.provider = provider.name;
        call.report.model = provider.model;
      }
      return events;
    } catch (error) {
      if (!usable(error, call)) throw error;
      const delay = retryDelay(error, retry, policy);
      if (delay === undefined) throw finalError(error, retry);
      console.warn(`${failed(provider, error)}; retry ${retry} in ${delay} ms`);
      await sleep(delay, call.signal);
      if (call.report) call.report.retries += 1;
    }
  }
}

/**
 * One call of `provider` under the connect and first-token deadlines. Resolves with events
 * that replay the held ones and then read on; rejects with the attempt's error.
 */
async function attempt(
  provider: Provider,
  call: UpstreamRequest,
  policy: RetryPolicy,
): Promise<UpstreamEvents> {
  const deadline = new AbortController();
  const signal = AbortSignal.any([call.signal, deadline.signal]);
  const expire = (ms: number, phase: TimeoutPhase, what: string) =>
    setTimeout(() => {
      const message = `The upstream ${label(provider)} sent ${what} within ${seconds(ms)}`;
      deadline.abort(new UpstreamFailure("upstream_timeout", message, { phase }));
    }, ms);
  const connect = expire(policy.connectMs, "connect", "no response headers");
  const firstToken = expire(policy.firstTokenMs, "first-token", "no text");
  let committed = false;
  try {
    const { tools, options, openaiPassThrough } = call;
    const started = provider.stream({
      messages: call.messages,
      // Tools, options and pass-through fields go to every attempt, the fallback's too.
      ...(tools === undefined ? {} : { tools }),
      ...(options === undefined ? {} : { options }),
      ...(openaiPassThrough === undefined ? {} : { openaiPassThrough }),
      signal,
      onActivity: () => {
        if (committed) call.onActivity?.();
      },
    });
    // Events that arrive after the abort are not wanted any more.
    const events = await untilAborted(started, signal, (late) => late.cancel());
    clearTimeout(connect);
    const held: UpstreamEvent[] = [];
    for (;;) {
      const event = await untilAborted(events.next(), signal, noop).catch((error: unknown) => {
        events.cancel();
        throw error;
      });
      if (event === undefined) throw new UpstreamFailure("upstream_dropped", DROPPED_MESSAGE);
      if (event.type === "error") throw new UpstreamFailure(event.code, event.message);
      held.push(event);
      if (commits(event)) break;
    }
    committed = true;
    return replayThen(held, events);
  } finally {
    clearTimeout(connect);
    clearTimeout(firstToken);
  }
}

/**
 * Whether `event` commits an attempt: the first piece of the answer a client could be shown
 * (text, or the start of a reasoning part or a tool call), or its finish. A reasoning model
 * has then answered within the first-token deadline, and a retry after it would show the
 * same reasoning twice.
 */
function commits(event: UpstreamEvent): boolean {
  return (
    event.type === "text" ||
    event.type === "reasoning-start" ||
    event.type === "tool-call-start" ||
    event.type === "finish"
  );
}

/**
 * `held`, then `events` themselves: after the replay each `next()` is the provider's own, with
 * no stream in between (a `ReadableStream` here cost about 7 µs per event in workerd; see
 * `UpstreamEvents`).
 */
function replayThen(held: UpstreamEvent[], events: UpstreamEvents): UpstreamEvents {
  let replayed = 0;
  return {
    next: () => (replayed < held.length ? Promise.resolve(held[replayed++]) : events.next()),
    cancel(reason) {
      replayed = held.length;
      events.cancel(reason);
    },
  };
}

/**
 * `pending`, or a rejection with the signal's reason as soon as it fires (a provider may ignore
 * its signal, as the Workers AI binding does). `late` gets a value that arrives after the abort.
 */
function untilAborted<T>(
  pending: Promise<T>,
  signal: AbortSignal,
  late: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener("abort", stop);
        if (signal.aborted) late(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", stop);
        reject(signal.aborted ? signal.reason : error);
      },
    );
  });
}

/** Waits `ms`, or rejects with the signal's reason the moment it fires: a cancel never waits. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      resolve();
    }, ms);
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  });
}

/**
 * Whether `error` is an upstream failure the retry rules judge. A cancel (the caller's own
 * signal) and bugs (anything not a SluiceError) pass through untouched.
 */
function usable(error: unknown, call: UpstreamRequest): error is SluiceError {
  return !call.signal.aborted && error instanceof SluiceError;
}

/** The error a provider gives up with, saying how many attempts it took or why it did not wait. */
function finalError(error: SluiceError, attempts: number): SluiceError {
  const cap = seconds(MAX_RETRY_AFTER_MS);
  let message = error.message;
  if (waitsTooLong(error)) message += `, longer than the relay waits (${cap})`;
  if (attempts > 1) message += ` (${attempts} attempts)`;
  if (message === error.message) return error;
  const detail = error instanceof UpstreamFailure ? error.detail : {};
  return new UpstreamFailure(error.code, message, detail);
}

/**
 * One log line for a failed attempt. Operators see a primary that fails even when every user
 * gets an answer. Messages never hold a key (see `fetchUpstream`), so they are safe to log.
 */
function failed(provider: Provider, error: SluiceError): string {
  return `upstream ${label(provider)} failed with ${error.code}: ${error.message}`;
}

function label(provider: Provider): string {
  return `${provider.name}/${provider.model}`;
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

function noop(): void {}

/** `call` without its `options.model`. */
function withoutModel(call: UpstreamRequest): UpstreamRequest {
  if (call.options?.model === undefined) return call;
  const { model: _model, ...options } = call.options;
  return { ...call, options };
}
