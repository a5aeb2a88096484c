/** Fires when a stream shows no life for too long: every `poke()` restarts the countdown. */

export class StallWatchdog {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ms: number,
    private readonly onStall: () => void,
  ) {}

  /** (Re)starts the countdown; call it on every sign of life. */
  poke(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(this.onStall, this.ms);
  }

  /** Stops watching; the timer must not keep an idle object awake. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** STALL_TIMEOUT_MS as milliseconds: default 60 s, any positive integer accepted. */
export function stallTimeout(value: string | undefined): number {
  const ms = Number(value);
  return Number.isSafeInteger(ms) && ms > 0 ? ms : 60_000;
}
