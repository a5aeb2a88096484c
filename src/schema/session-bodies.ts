/** The parsers of the HTTP bodies of the `/sessions` routes. */
import { LIMITS, type OptionPolicy, type PromptRequest, type SessionOptions } from "../protocol.ts";
import type { ToolResult } from "../tools-options.ts";
import { readJsonObject } from "./json-object.ts";
import { parseRequestOptions } from "./options.ts";
import { checkPrompt, parseTitle } from "./prompt.ts";
import { parseOnAbandon } from "./query.ts";
import { parseToolDefinitions, parseToolResults } from "./tools.ts";

const body = (text: string, limit: number = LIMITS.frameChars) =>
  readJsonObject(text, limit, "body");

/** Parses the optional body of `POST /sessions`: empty, or `{"onAbandon": ...}`. */
export function parseSessionBody(text: string): SessionOptions {
  if (text.trim() === "") return parseOnAbandon(undefined);
  return parseOnAbandon(body(text).onAbandon);
}

/** Parses the body of `POST /sessions/:id/messages` with its tools and options: `{"content", "tools"?, "options"?}`. */
export function parseMessageRequest(text: string, policy?: OptionPolicy): PromptRequest {
  const value = body(text);
  const request: PromptRequest = { prompt: checkPrompt(value.content, "content") };
  const tools = parseToolDefinitions(value.tools, "tools");
  const options = parseRequestOptions(value.options, "options", policy);
  if (tools !== undefined) request.tools = tools;
  if (options !== undefined) request.options = options;
  return request;
}

/** Parses the body of `POST /sessions/:id/tool-results`: `{"results": [...]}`. */
export function parseToolResultsBody(text: string): ToolResult[] {
  return parseToolResults(body(text, LIMITS.toolResultsChars).results, "results");
}

/** Parses the body of `PATCH /sessions/:id`: `{"title": "..."}`. */
export function parseRenameBody(text: string): string {
  return parseTitle(body(text).title);
}
