/** UTC calendar arithmetic for usage: days are numbered from the Unix epoch, months reset on the 1st. */

const DAY_MS = 86_400_000;

/** The UTC day `at` falls in, as days since 1970-01-01. */
export function dayNumber(at: number): number {
  return Math.floor(at / DAY_MS);
}

/** `day` (a day number) as `YYYY-MM-DD`. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The day number of the first day of the UTC month `at` falls in. */
export function monthStartDay(at: number): number {
  const date = new Date(at);
  return dayNumber(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
}

/** The next UTC midnight after `at`, in milliseconds: when a daily quota resets. */
export function nextDayStart(at: number): number {
  return (dayNumber(at) + 1) * DAY_MS;
}

/** The start of the next UTC month after `at`, in milliseconds: when a monthly quota resets. */
export function nextMonthStart(at: number): number {
  const date = new Date(at);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}
