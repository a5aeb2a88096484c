/** The schema of what a WebSocket client sends on `/chat`, and the one parser of its frames. */
import * as v from "valibot";
import { SluiceError } from "../errors.ts";
import { type ClientFrame, LIMITS, type OptionPolicy } from "../protocol.ts";
import { listed, text } from "./fields.ts";
import { parseWith } from "./issues.ts";
import { readJsonObject } from "./json-object.ts";
import { parseRequestOptions } from "./options.ts";
import { checkPrompt, parseTitle } from "./prompt.ts";
import { listLimit, seqNumber } from "./query.ts";
import { parseToolDefinitions, parseToolResults } from "./tools.ts";

const FRAME_TYPES = [
  "prompt",
  "tool-results",
  "cancel",
  "resume",
  "history",
  "ping",
  "rename",
  "delete",
  "list",
] as const;
const EXPECTED = listed(FRAME_TYPES);

// Each frame's fields are read by their own parsers below: tools, options and results have
// codes and limits of their own.
const frameType = v.object({
  type: v.optional(
    v.picklist(
      FRAME_TYPES,
      (issue) =>
        `is ${JSON.stringify(issue.input)?.slice(0, 40)}, not a frame type; expected ${EXPECTED}.`,
    ),
    "prompt",
  ),
});

const list = v.object({ limit: v.optional(listLimit), cursor: v.optional(text()) });

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
  const { type } = parseWith(frameType, value, "invalid_request");
  switch (type) {
    case "prompt": {
      const frame: ClientFrame = { type, prompt: checkPrompt(value.prompt, "prompt") };
      const tools = parseToolDefinitions(value.tools, "tools");
      const options = parseRequestOptions(value.options, "options", policy);
      if (tools !== undefined) frame.tools = tools;
      if (options !== undefined) frame.options = options;
      return frame;
    }
    case "tool-results":
      return { type, results: parseToolResults(value.results, "results") };
    case "rename":
      return { type, title: parseTitle(value.title) };
    case "list": {
      const { limit, cursor } = parseWith(list, value, "invalid_request");
      const frame: ClientFrame = { type };
      if (limit !== undefined) frame.limit = limit;
      if (cursor !== undefined) frame.cursor = cursor;
      return frame;
    }
    case "resume":
      return { type, after: parseWith(seqNumber, value.after, "invalid_request", "after") };
    default:
      return { type };
  }
}
