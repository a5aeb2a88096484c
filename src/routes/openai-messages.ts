/**
 * The schema of a Chat Completions conversation (`messages`, with assistant `tool_calls` and
 * `tool` messages) and its reading into the one message vocabulary sent upstream.
 */
import * as v from "valibot";
import { SluiceError } from "../errors.ts";
import type { ChatMessage, ContextPart, ToolInput } from "../providers/types.ts";
import { keyed, matching, object, oneOf, record } from "../schema/fields.ts";
import { parseWith, pathStep } from "../schema/issues.ts";
import { isRecord } from "../schema/json-object.ts";

/** Messages in one request: a stateless request carries its whole conversation. */
export const MAX_MESSAGES = 1_000;

const PART_MESSAGE = 'must be a text part ({"type":"text","text":"..."}).';
const CONTENT_MESSAGE = "must be a string or an array of text parts.";

/** A message's content: a string, or an array of text parts (joined). */
const content = v.pipe(
  v.unknown(),
  v.transform((given) => (typeof given === "string" ? [{ type: "text", text: given }] : given)),
  v.array(
    object(
      { type: v.picklist(["text"], PART_MESSAGE), text: v.string(PART_MESSAGE) },
      PART_MESSAGE,
    ),
    CONTENT_MESSAGE,
  ),
  v.transform((parts) => parts.map((part) => part.text).join("")),
);

const nonEmpty = matching(/./, "must be a string.");
const CALL_MESSAGE = 'must be {"id", "type": "function", "function": {"name", "arguments"}}.';

/** An assistant message's tool call; arguments are kept as the text sent. */
const toolCall = object(
  {
    type: v.optional(v.picklist(["function"], CALL_MESSAGE)),
    id: nonEmpty,
    function: object(
      {
        name: nonEmpty,
        arguments: v.nullish(v.string("must be JSON text."), ""),
      },
      'must be {"name", "arguments"}.',
    ),
  },
  CALL_MESSAGE,
);

const role = keyed(
  {
    role: oneOf(["system", "developer", "user", "assistant", "tool"]),
  },
  "must be an object.",
);

const said = keyed({ content }, "must be an object.");

const TOOL_ID_MESSAGE = "must name a tool call of an earlier assistant message.";
const toolReply = keyed({ tool_call_id: v.string(TOOL_ID_MESSAGE), content }, "must be an object.");

const assistant = v.pipe(
  v.object({
    // An assistant message that only calls tools has `content: null`, as OpenAI sends it.
    content: v.nullish(content),
    tool_calls: v.nullish(v.array(toolCall, "must be an array of tool calls.")),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { content: text, tool_calls: calls } = dataset.value;
    if ((text === null || text === undefined) && (calls ?? []).length === 0) {
      addIssue({ message: CONTENT_MESSAGE, path: [pathStep("content")] });
    }
  }),
);

const NOT_MESSAGES = "must be a non-empty array.";

const list = v.pipe(
  v.array(record('must be an object with "role" and "content".'), NOT_MESSAGES),
  v.check((messages) => messages.length > 0, NOT_MESSAGES),
  v.check(
    (messages) => messages.length <= MAX_MESSAGES,
    (issue) => `holds ${issue.input.length} messages; the limit is ${MAX_MESSAGES}.`,
  ),
);

/** The parsed arguments; text that is not a JSON object goes upstream as `{}` plus its text. */
function argsInput(args: string): ToolInput {
  if (args.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(args);
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}

const invalid = (message: string) => new SluiceError("invalid_request", message);

/**
 * `messages`, checked, in the one vocabulary: at most 1,000, one of them the user's; `developer`
 * is `system`; a `tool` message answers a call of an earlier assistant message, and names its tool.
 */
export function parseMessages(value: unknown): ChatMessage[] {
  const names = new Map<string, string>();
  const messages = parseWith(list, value, "invalid_request", "messages").map(
    (entry, index): ChatMessage => {
      const at = `messages[${index}]`;
      const kind = parseWith(role, entry, "invalid_request", at).role;
      if (kind === "tool") {
        const reply = parseWith(toolReply, entry, "invalid_request", at);
        const name = names.get(reply.tool_call_id);
        if (name === undefined) throw invalid(`"${at}.tool_call_id" ${TOOL_ID_MESSAGE}`);
        return {
          role: "tool",
          content: reply.content,
          toolCallId: reply.tool_call_id,
          toolName: name,
        };
      }
      if (kind !== "assistant") {
        // Newer OpenAI clients send `developer` where older ones sent `system`.
        const text = parseWith(said, entry, "invalid_request", at).content;
        return { role: kind === "developer" ? "system" : kind, content: text };
      }
      const answer = parseWith(assistant, entry, "invalid_request", at);
      const calls = (answer.tool_calls ?? []).map((call): ContextPart => {
        names.set(call.id, call.function.name);
        const { name, arguments: args } = call.function;
        return { type: "tool-call", id: call.id, name, arguments: args, input: argsInput(args) };
      });
      const text = answer.content ?? "";
      const message: ChatMessage = { role: "assistant", content: text };
      if (calls.length > 0) {
        const texts: ContextPart[] = text === "" ? [] : [{ type: "text", text }];
        message.parts = [...texts, ...calls];
      }
      return message;
    },
  );
  if (!messages.some((message) => message.role === "user")) {
    throw invalid('"messages" must contain a user message.');
  }
  return messages;
}
