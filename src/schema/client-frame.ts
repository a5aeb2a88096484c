/** The schema of what a WebSocket client sends on `/chat`, and the one parser of its frames. */
import * as v from "valibot";
import { SluiceError } from "../errors.ts";
import { type ClientFrame, LIMITS, type OptionPolicy } from "../protocol.ts";
import { keyed, text } from "./fields.ts";
import { parseWith } from "./issues.ts";
import { readJsonObject } from "./json-object.ts";
import { parseRequestOptions } from "./options.ts";
import { promptText, titleText } from "./prompt.ts";
import { listLimit, seqNumber } from "./query.ts";
import { parseToolDefinitions, parseToolResults } from "./tools.ts";

const FRAME_TYPES = "prompt, tool-results, cancel, resume, history, ping, rename, delete or list";

const bare = <const T extends string>(type: T) => v.object({ type: v.literal(type) });

// Tools, options and results have codes and limits of their own: their parsers read them next.
const frame = v.variant(
  "type",
  [
    keyed(
      {
        type: v.optional(v.literal("prompt")),
        prompt: promptText,
        tools: v.optional(v.unknown()),
        options: v.optional(v.unknown()),
      },
      "must be an object.",
    ),
    v.object({ type: v.literal("tool-results"), results: v.optional(v.unknown()) }),
    bare("cancel"),
    bare("history"),
    bare("ping"),
    bare("delete"),
    keyed({ type: v.literal("rename"), title: titleText }, "must be an object."),
    keyed(
      { type: v.literal("list"), limit: v.optional(listLimit), cursor: v.optional(text()) },
      "must be an object.",
    ),
    keyed({ type: v.literal("resume"), after: seqNumber }, "must be an object."),
  ],
  (issue) =>
    `is ${JSON.stringify(issue.input)?.slice(0, 40)}, not a frame type; expected ${FRAME_TYPES}.`,
);

/**
 * Turns a raw WebSocket frame into a typed client frame, or throws the error to send back.
 * `policy` bounds a prompt's options (allowed models, output cap).
 */
export function parseClientFrame(raw: string | ArrayBuffer, policy?: OptionPolicy): ClientFrame {
  const value = readJsonObject(raw, LIMITS.toolResultsChars, "frame");
  if (value.type !== "tool-results" && typeof raw === "string" && raw.length > LIMITS.frameChars) {
    throw new SluiceError(
      "frame_too_large",
      `Frames are limited to ${LIMITS.frameChars} characters (tool-results: ${LIMITS.toolResultsChars}).`,
    );
  }
  const parsed = parseWith(frame, value, "invalid_request");
  switch (parsed.type) {
    case undefined:
    case "prompt": {
      const prompt: ClientFrame = { type: "prompt", prompt: parsed.prompt };
      const tools = parseToolDefinitions(parsed.tools, "tools");
      const options = parseRequestOptions(parsed.options, "options", policy);
      if (tools !== undefined) prompt.tools = tools;
      if (options !== undefined) prompt.options = options;
      return prompt;
    }
    case "tool-results":
      return { type: "tool-results", results: parseToolResults(parsed.results, "results") };
    case "rename":
      return { type: "rename", title: parsed.title };
    case "list": {
      const list: ClientFrame = { type: "list" };
      if (parsed.limit !== undefined) list.limit = parsed.limit;
      if (parsed.cursor !== undefined) list.cursor = parsed.cursor;
      return list;
    }
    case "resume":
      return { type: "resume", after: parsed.after };
    default:
      return { type: parsed.type };
  }
}
