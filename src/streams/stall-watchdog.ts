/** Fires when a stream shows no life for too long: every `poke()` restarts the countdown. */
import { numberSetting } from "../config.ts";

export class StallWatchdog {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastPoke = 0;

  constructor(
    private readonly ms: number,
    private readonly onStall: () => void,
  ) {}

  /**
   * (Re)starts the countdown; call it on every sign of life. It only notes the time: a
   * `clearTimeout` + `setTimeout` per body chunk was about 3 % of workerd's CPU in the relay's
   * profile (bench/README.md), so one timer checks the time when it fires instead.
   */
  poke(): void {
    this.lastPoke = Date.now();
    this.timer ??= setTimeout(this.check, this.ms);
  }

  /** Stops watching; the timer must not keep an idle object awake. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stalls if the last poke is `ms` old, else waits out the rest of the countdown. */
  private readonly check = () => {
    const left = this.lastPoke + this.ms - Date.now();
    if (left > 0) {
      this.timer = setTimeout(this.check, left);
      return;
    }
    this.timer = undefined;
    this.onStall();
  };
}

/** STALL_TIMEOUT_MS as milliseconds: default 60 s, any positive integer accepted. */
export function stallTimeout(value: string | undefined): number {
  return numberSetting("STALL_TIMEOUT_MS", value, {
    default: 60_000,
    min: 1,
    integer: true,
    unit: "milliseconds",
    invalid: "default",
  });
}
