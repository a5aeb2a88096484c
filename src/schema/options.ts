/** The schema of a request's options, bounded by the deployment's policy (models, output cap). */
import * as v from "valibot";
import type { OptionPolicy, RequestOptions, ToolChoice } from "../tools-options.ts";
import { TOOL_LIMITS } from "../tools-options.ts";
import { integerIn, listed, numberIn, oneOf, onlyKeys, record } from "./fields.ts";
import { coded, parseWith } from "./issues.ts";
import { isRecord } from "./json-object.ts";
import { toolName } from "./tools.ts";

const STOP_MESSAGE = `must be a string or up to ${TOOL_LIMITS.stops} non-empty strings.`;
const stop = v.pipe(
  v.unknown(),
  v.transform((stops) => (typeof stops === "string" ? [stops] : stops)),
  v.custom<string[]>(
    (stops) => Array.isArray(stops) && stops.every((s) => typeof s === "string"),
    STOP_MESSAGE,
  ),
  v.check(
    (stops) =>
      stops.length > 0 && stops.length <= TOOL_LIMITS.stops && stops.every((s) => s !== ""),
    STOP_MESSAGE,
  ),
);

const mode = v.picklist(["auto", "none", "required"]);
const named = v.object({ name: toolName });
const toolChoice = v.pipe(
  v.custom<ToolChoice>(
    (choice) => v.is(mode, choice) || (isRecord(choice) && v.is(named, choice)),
    'must be "auto", "none", "required" or {"name": "<tool>"}.',
  ),
  v.transform(
    (choice): ToolChoice => (typeof choice === "string" ? choice : { name: choice.name }),
  ),
);

function optionsSchema(policy: OptionPolicy) {
  const allowed = policy.models.length > 0 ? policy.models.join(", ") : "none (set ALLOWED_MODELS)";
  const entries = {
    model: v.optional(
      v.picklist(policy.models, (issue) =>
        coded(
          "model_not_allowed",
          `${JSON.stringify(issue.input)?.slice(0, 80)} is not allowed; allowed: ${allowed}.`,
        ),
      ),
    ),
    temperature: v.optional(numberIn(0, 2)),
    top_p: v.optional(numberIn(0, 1)),
    max_tokens: v.optional(integerIn(1, policy.maxOutputTokens)),
    stop: v.optional(stop),
    seed: v.optional(integerIn(Number.MIN_SAFE_INTEGER, undefined, "must be an integer.")),
    reasoning_effort: v.optional(oneOf(["low", "medium", "high"])),
    thinking_budget: v.optional(integerIn(1024, policy.maxOutputTokens)),
    tool_choice: v.optional(toolChoice),
  };
  const expected = listed(Object.keys(entries));
  return v.pipe(
    record("must be an object."),
    onlyKeys(entries, () => `is not an option; expected ${expected}.`),
    v.object(entries),
  );
}

/**
 * Checks a request's options (`field` names them in errors) against the deployment's policy:
 * unknown keys and values out of bounds are `invalid_option`, a model not allowed is
 * `model_not_allowed`. `undefined` passes; without a policy, `model` is refused.
 */
export function parseRequestOptions(
  value: unknown,
  field: string,
  policy: OptionPolicy = { models: [] },
): RequestOptions | undefined {
  if (value === undefined) return undefined;
  const options: RequestOptions = parseWith(optionsSchema(policy), value, "invalid_option", field);
  return options;
}
