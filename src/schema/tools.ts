/** Schemas of client tools: their definitions (any protocol's shape) and the results a client sends. */
import * as v from "valibot";
import { TOOL_LIMITS, type ToolDefinition, type ToolResult } from "../tools-options.ts";
import { checkedBy, keyed, matching, object, oneOf, record, text } from "./fields.ts";
import { coded, indexStep, parseWith, pathStep } from "./issues.ts";

const NAME_MESSAGE = "must match /^[A-Za-z0-9_-]{1,64}$/.";

/** A tool name both OpenAI and Anthropic accept. */
export const toolName = matching(/^[A-Za-z0-9_-]{1,64}$/, NAME_MESSAGE);

const SCHEMA_MESSAGE = 'must be a JSON Schema object with "type": "object".';

/** A tool's input schema: a JSON Schema object, sent upstream unchanged. */
export const inputSchema = v.pipe(
  record(SCHEMA_MESSAGE),
  checkedBy<Record<string, unknown>>(
    keyed(
      {
        type: oneOf(["object"]),
        properties: v.optional(record("must be an object.")),
      },
      SCHEMA_MESSAGE,
    ),
  ),
);

const definition = object(
  { name: toolName, description: v.optional(text()), inputSchema },
  "must be an object.",
);

const jsonChars = (value: unknown) => JSON.stringify(value)?.length ?? 0;

/**
 * A list of tool definitions, each read by `entry` (our shape, or a protocol's mapped onto it):
 * at most 128, 64 KiB of JSON in all, names unique. `nameKeys` is where a name sits in an entry.
 */
export function toolList<const S extends v.GenericSchema<unknown, ToolDefinition>>(
  entry: S,
  message: string,
  nameKeys: readonly string[] = ["name"],
) {
  return v.pipe(
    v.array(entry, message),
    v.check(
      (tools) => tools.length <= TOOL_LIMITS.tools,
      (issue) => `has ${issue.input.length} tools; the most is ${TOOL_LIMITS.tools}.`,
    ),
    v.check(
      (tools) => jsonChars(tools) <= TOOL_LIMITS.definitionChars,
      (issue) =>
        `is ${jsonChars(issue.input)} characters as JSON; the most is ${TOOL_LIMITS.definitionChars}.`,
    ),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const tools = dataset.value;
      const seen = new Set<string>();
      for (const [index, tool] of tools.entries()) {
        if (seen.has(tool.name)) {
          addIssue({
            message: `repeats the tool name "${tool.name}".`,
            path: [indexStep(index), ...nameKeys.map((key) => pathStep(key))],
          });
          return;
        }
        seen.add(tool.name);
      }
    }),
  );
}

const definitions = toolList(definition, "must be an array of tool definitions.");

/**
 * Checks a request's tool definitions (`field` names them in errors): an array of at most 128
 * `{name, description?, inputSchema}` with unique names, 64 KiB in all. `undefined` passes.
 */
export function parseToolDefinitions(value: unknown, field: string): ToolDefinition[] | undefined {
  if (value === undefined) return undefined;
  return parseWith(definitions, value, "invalid_tools", field);
}

const RESULT_MESSAGE = 'must be an object with a "toolCallId" string.';
const ID_MESSAGE = "must be a non-empty string.";

const result = v.pipe(
  object(
    {
      toolCallId: matching(/./, ID_MESSAGE),
      output: v.optional(v.unknown()),
      errorText: v.optional(text()),
    },
    RESULT_MESSAGE,
  ),
  v.check(
    (entry) => (entry.output === undefined) !== (entry.errorText === undefined),
    'must have exactly one of "output" and "errorText".',
  ),
  v.check(
    (entry) => jsonChars(entry.errorText ?? entry.output) <= TOOL_LIMITS.resultChars,
    (issue) =>
      coded(
        "tool_input_too_large",
        `is ${jsonChars(issue.input.errorText ?? issue.input.output)} characters as JSON; the most is ${TOOL_LIMITS.resultChars}.`,
      ),
  ),
  v.transform(
    ({ toolCallId, output, errorText }): ToolResult =>
      errorText === undefined ? { toolCallId, output } : { toolCallId, errorText },
  ),
);

const NOT_RESULTS = "must be a non-empty array of tool results.";
const results = v.pipe(
  v.array(result, NOT_RESULTS),
  v.check((list) => list.length > 0, NOT_RESULTS),
);

/**
 * Checks a list of tool results (`field` names them): each `{toolCallId, output}` or
 * `{toolCallId, errorText}`, at most 64 KiB of JSON each (`tool_input_too_large`).
 */
export function parseToolResults(value: unknown, field: string): ToolResult[] {
  return parseWith(results, value, "invalid_request", field);
}
