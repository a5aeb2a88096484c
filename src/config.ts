/** The one reader of numeric Wrangler vars: bounds, the default, and one message format. */
import { SluiceError } from "./errors.ts";

/** What a numeric var may hold and what a value outside that does. */
export interface NumberRule {
  /** Used when the var is unset or blank; without one such a var reads as `undefined`. */
  default?: number | undefined;
  /** Smallest value accepted. */
  min?: number | undefined;
  /** Largest value accepted. */
  max?: number | undefined;
  /** Only whole numbers (safe integers) are accepted. */
  integer?: boolean | undefined;
  /** What the number counts, for the message: "tokens", "milliseconds". */
  unit?: string | undefined;
  /**
   * What a value that is not accepted does: `error` throws `config_error` (a setting whose
   * silent replacement would surprise, such as a cap or a quota); `default` warns once per
   * isolate and uses the default (a tuning knob the relay works without).
   */
  invalid: "error" | "default";
}

/** Vars already warned about in this isolate: a bad value is read on every prompt. */
const warned = new Set<string>();

/**
 * The var `name`, whose text is `value`, as a number under `rule`. The text is trimmed and
 * read with `Number` (so `1e3` and `0x10` count, as they always did). The message names the
 * var and says what it must be, e.g. "MAX_OUTPUT_TOKENS must be a positive whole number.";
 * the warning adds "; using 30." in place of the full stop. Neither repeats the value.
 */
export function numberSetting(
  name: string,
  value: string | undefined,
  rule: NumberRule & { default: number },
): number;
export function numberSetting(
  name: string,
  value: string | undefined,
  rule: NumberRule,
): number | undefined;
export function numberSetting(
  name: string,
  value: string | undefined,
  rule: NumberRule,
): number | undefined {
  const text = value?.trim();
  if (!text) return rule.default;
  const number = Number(text);
  if (accepts(rule, number)) return number;
  const must = `${name} must be ${describe(rule)}`;
  if (rule.invalid === "error") throw new SluiceError("config_error", `${must}.`);
  if (!warned.has(name)) {
    warned.add(name);
    console.warn(`${must}; using ${rule.default ?? "none"}.`);
  }
  return rule.default;
}

function accepts(rule: NumberRule, number: number): boolean {
  if (rule.integer ? !Number.isSafeInteger(number) : !Number.isFinite(number)) return false;
  if (rule.min !== undefined && number < rule.min) return false;
  return rule.max === undefined || number <= rule.max;
}

/** "a positive whole number of tokens", "a whole number of milliseconds from 0 to 600000". */
export function describe(rule: NumberRule): string {
  const kind = `${rule.integer ? "whole number" : "number"}${rule.unit ? ` of ${rule.unit}` : ""}`;
  const { min, max } = rule;
  if (max !== undefined) return `a ${kind} from ${min ?? "any"} to ${max}`;
  if (min === undefined) return `a ${kind}`;
  if (min === 0) return `a non-negative ${kind}`;
  if (min === 1 && rule.integer) return `a positive ${kind}`;
  return `a ${kind} of at least ${min}`;
}
