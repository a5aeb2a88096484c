/**
 * Session expiry: a session idle for SESSION_TTL_DAYS is deleted by its own alarm (the one
 * alarm a Durable Object has, which is also the heartbeat while an answer streams), so no
 * sweep ever visits all sessions. Idle means no new prompt: reading or connecting does not
 * count. docs/chats.md "Expiry".
 */
import { numberSetting } from "../config.ts";
import type { Env } from "../env.ts";
import type { SessionStore } from "./store.ts";

/** Days a session may stay idle when SESSION_TTL_DAYS is not set. */
export const DEFAULT_TTL_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * The idle time after which a session is deleted, in milliseconds; undefined when expiry is off
 * (`0`). Fractional days are allowed (tests use a few seconds); an unreadable value is warned
 * about once and the default is used.
 */
export function sessionTtlMs(env: Pick<Env, "SESSION_TTL_DAYS">): number | undefined {
  const days = numberSetting("SESSION_TTL_DAYS", env.SESSION_TTL_DAYS, {
    default: DEFAULT_TTL_DAYS,
    min: 0,
    unit: "days",
    invalid: "default",
  });
  return days === 0 ? undefined : Math.max(1, Math.round(days * DAY_MS));
}

/**
 * When an idle session whose last prompt came at `lastActivity` expires; the alarm is set to
 * it. Undefined when expiry is off.
 */
export function expiresAt(
  env: Pick<Env, "SESSION_TTL_DAYS">,
  lastActivity: number,
): number | undefined {
  const ttl = sessionTtlMs(env);
  return ttl === undefined ? undefined : lastActivity + ttl;
}

/** One session's expiry, kept in its alarm whenever no answer streams. */
export class SessionExpiry {
  constructor(
    private readonly env: Pick<Env, "SESSION_TTL_DAYS">,
    private readonly storage: DurableObjectStorage,
    private readonly store: () => SessionStore,
  ) {}

  /** When the session expires if nothing happens: its last prompt (else creation) plus the TTL. */
  due(): number | undefined {
    const store = this.store();
    const last = store.lastActivity() ?? store.createdAt();
    return last === undefined ? undefined : expiresAt(this.env, last);
  }

  /** Points the alarm at the expiry (or clears it when expiry is off); failures are logged. */
  schedule(): void {
    const due = this.due();
    const set = due === undefined ? this.storage.deleteAlarm() : this.storage.setAlarm(due);
    set.catch((error: unknown) => console.error("session expiry alarm not set:", String(error)));
  }

  /**
   * After an answer: moves the alarm (a commit of its own) only when none is pending or the
   * pending one is later than the expiry. An earlier one (the expiry set before, or a long
   * answer's heartbeat) fires and re-arms itself at the due time (`expired`).
   */
  ensure(): void {
    this.storage
      .getAlarm()
      .then((pending) => {
        const due = this.due();
        if (pending === null || (due !== undefined && pending > due)) this.schedule();
      })
      .catch((error: unknown) => console.error("session expiry alarm not read:", String(error)));
  }

  /** On an idle alarm: true when the session is due for deletion, else the alarm is re-armed. */
  async expired(): Promise<boolean> {
    const due = this.due();
    if (due === undefined) return false;
    if (Date.now() >= due) return true;
    await this.storage.setAlarm(due);
    return false;
  }
}
