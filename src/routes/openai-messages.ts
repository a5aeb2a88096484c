/**
 * The schema of a Chat Completions conversation (`messages`, with assistant `tool_calls` and
 * `tool` messages) and its reading into the one message vocabulary sent upstream.
 */
import * as v from "valibot";
import type { ChatMessage, ContextPart, ToolInput } from "../providers/types.ts";
import { keyed, object, record } from "../schema/fields.ts";
import { isRecord } from "../schema/json-object.ts";

/** Messages in one request: a stateless request carries its whole conversation. */
export const MAX_MESSAGES = 1_000;

const PART_MESSAGE = 'must be a text part ({"type":"text","text":"..."}).';
const CONTENT_MESSAGE = "must be a string or an array of text parts.";

/** A message's content: a string, or an array of text parts (joined). */
const content = v.union(
  [
    v.string(CONTENT_MESSAGE),
    v.pipe(
      v.array(
        object(
          { type: v.literal("text", PART_MESSAGE), text: v.string(PART_MESSAGE) },
          PART_MESSAGE,
        ),
        CONTENT_MESSAGE,
      ),
      v.transform((parts) => parts.map((part) => part.text).join("")),
    ),
  ],
  CONTENT_MESSAGE,
);

const NAME_MESSAGE = "must be a string.";
const nonEmpty = v.pipe(v.string(NAME_MESSAGE), v.nonEmpty(NAME_MESSAGE));
const CALL_MESSAGE = 'must be {"id", "type": "function", "function": {"name", "arguments"}}.';

/** An assistant message's tool call; arguments are kept as the text sent. */
const toolCall = object(
  {
    type: v.optional(v.literal("function", CALL_MESSAGE)),
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

const ROLE_MESSAGE = 'must be "system", "developer", "user", "assistant" or "tool".';

const assistant = v.pipe(
  keyed(
    {
      role: v.literal("assistant"),
      // An assistant message that only calls tools has `content: null`, as OpenAI sends it.
      content: v.nullish(content),
      tool_calls: v.nullish(v.array(toolCall, "must be an array of tool calls.")),
    },
    "must be an object.",
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { content: text, tool_calls: calls } = dataset.value;
    if ((text === null || text === undefined) && (calls ?? []).length === 0) {
      const at: v.ObjectPathItem = {
        type: "object",
        origin: "value",
        input: dataset.value,
        key: "content",
        value: text,
      };
      addIssue({ message: CONTENT_MESSAGE, path: [at] });
    }
  }),
);

const message = v.pipe(
  record('must be an object with "role" and "content".'),
  v.variant(
    "role",
    [
      keyed({ role: v.picklist(["system", "developer", "user"]), content }, "must be an object."),
      assistant,
      keyed(
        {
          role: v.literal("tool"),
          tool_call_id: v.string("must name a tool call of an earlier assistant message."),
          content,
        },
        "must be an object.",
      ),
    ],
    ROLE_MESSAGE,
  ),
);

type Message = v.InferOutput<typeof message>;

const NOT_MESSAGES = "must be a non-empty array.";

/** `messages`: at most 1,000, one of them the user's; a `tool` message answers an earlier call. */
export const messagesSchema = v.pipe(
  v.array(message, NOT_MESSAGES),
  v.check((messages) => messages.length > 0, NOT_MESSAGES),
  v.check(
    (messages) => messages.length <= MAX_MESSAGES,
    (issue) => `holds ${issue.input.length} messages; the limit is ${MAX_MESSAGES}.`,
  ),
  v.check(
    (messages) => messages.some((entry) => entry.role === "user"),
    "must contain a user message.",
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const calls = new Set<string>();
    for (const [index, entry] of dataset.value.entries()) {
      if (entry.role === "assistant") for (const call of entry.tool_calls ?? []) calls.add(call.id);
      if (entry.role !== "tool" || calls.has(entry.tool_call_id)) continue;
      const at: v.ArrayPathItem = {
        type: "array",
        origin: "value",
        input: dataset.value,
        key: index,
        value: entry,
      };
      const id: v.ObjectPathItem = {
        type: "object",
        origin: "value",
        input: entry,
        key: "tool_call_id",
        value: entry.tool_call_id,
      };
      addIssue({
        message: "must name a tool call of an earlier assistant message.",
        path: [at, id],
      });
      return;
    }
  }),
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

/** Checked messages in the one vocabulary (`developer` is `system`; a tool message names its tool). */
export function chatMessages(messages: Message[]): ChatMessage[] {
  const names = new Map<string, string>();
  return messages.map((entry): ChatMessage => {
    if (entry.role === "tool") {
      const name = names.get(entry.tool_call_id);
      const reply: ChatMessage = {
        role: "tool",
        content: entry.content,
        toolCallId: entry.tool_call_id,
      };
      if (name !== undefined) reply.toolName = name;
      return reply;
    }
    if (entry.role !== "assistant") {
      // Newer OpenAI clients send `developer` where older ones sent `system`.
      return { role: entry.role === "developer" ? "system" : entry.role, content: entry.content };
    }
    const calls = (entry.tool_calls ?? []).map(
      (call): ContextPart => ({
        type: "tool-call",
        id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
        input: argsInput(call.function.arguments),
      }),
    );
    const said = entry.content ?? "";
    const answer: ChatMessage = { role: "assistant", content: said };
    if (calls.length > 0) {
      for (const call of entry.tool_calls ?? []) names.set(call.id, call.function.name);
      const texts: ContextPart[] = said === "" ? [] : [{ type: "text", text: said }];
      answer.parts = [...texts, ...calls];
    }
    return answer;
  });
}
