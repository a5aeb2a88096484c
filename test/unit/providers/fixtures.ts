/** The recorded upstream streams of test/fixtures, with index.json's expectations for each. */
import alibabaToolCall from "../../fixtures/alibaba-qwen3-max-tool-call.sse?raw";
import anthropicHaikuToolUse from "../../fixtures/anthropic-haiku45-tool-use.sse?raw";
import anthropicOverloaded from "../../fixtures/anthropic-overloaded-error.sse?raw";
import anthropicToolUse from "../../fixtures/anthropic-sonnet4-tool-use.sse?raw";
import anthropicThinking from "../../fixtures/anthropic-sonnet45-thinking.sse?raw";
import azurePromptFilter from "../../fixtures/azure-gpt5-nano-prompt-filter.sse?raw";
import deepseekLength from "../../fixtures/deepseek-chat-length.sse?raw";
import groq from "../../fixtures/groq-llama33-x-groq.sse?raw";
import index from "../../fixtures/index.json";
import openaiParallelToolCalls from "../../fixtures/openai-gpt4o-parallel-tool-calls.sse?raw";
import openaiToolCall from "../../fixtures/openai-gpt4o-tool-call.sse?raw";
import openaiModeration from "../../fixtures/openai-gpt5-moderation-trailer.sse?raw";
import openaiUsage from "../../fixtures/openai-gpt41-nano-usage.sse?raw";
import openrouterError from "../../fixtures/openrouter-midstream-error.sse?raw";
import xaiReasoningTool from "../../fixtures/xai-grok3-mini-reasoning-tool.sse?raw";

/** Each fixture's text by file name; a test checks this covers every entry of index.json. */
export const BODIES: Readonly<Record<string, string>> = {
  "alibaba-qwen3-max-tool-call.sse": alibabaToolCall,
  "anthropic-haiku45-tool-use.sse": anthropicHaikuToolUse,
  "anthropic-overloaded-error.sse": anthropicOverloaded,
  "anthropic-sonnet45-thinking.sse": anthropicThinking,
  "anthropic-sonnet4-tool-use.sse": anthropicToolUse,
  "azure-gpt5-nano-prompt-filter.sse": azurePromptFilter,
  "deepseek-chat-length.sse": deepseekLength,
  "groq-llama33-x-groq.sse": groq,
  "openai-gpt41-nano-usage.sse": openaiUsage,
  "openai-gpt4o-parallel-tool-calls.sse": openaiParallelToolCalls,
  "openai-gpt4o-tool-call.sse": openaiToolCall,
  "openai-gpt5-moderation-trailer.sse": openaiModeration,
  "openrouter-midstream-error.sse": openrouterError,
  "xai-grok3-mini-reasoning-tool.sse": xaiReasoningTool,
};

/** index.json, typed by TypeScript from the file itself. */
export const FIXTURES = index;

export type Fixture = (typeof index)[number];

/** The fixture's bytes, as they came over the wire. */
export function fixtureBytes(file: string): Uint8Array {
  const body = BODIES[file];
  if (body === undefined) throw new Error(`no body loaded for ${file}`);
  return new TextEncoder().encode(body);
}

/** JSON string values of tool-call argument pieces: `"arguments": "..."` and `"partial_json": "..."`. */
const ARGUMENT_STRING = /"(?:arguments|partial_json)"\s*:\s*"((?:[^"\\]|\\.)*)"/g;

/**
 * Where the fixture carries tool-call argument text: the byte range [start, end) of each
 * non-empty argument string's contents, for cutting the stream inside argument JSON.
 */
export function argumentRanges(file: string): [number, number][] {
  const text = new TextDecoder().decode(fixtureBytes(file));
  const encoder = new TextEncoder();
  const ranges: [number, number][] = [];
  for (const match of text.matchAll(ARGUMENT_STRING)) {
    const value = match[1] ?? "";
    if (value === "") continue;
    const start = encoder.encode(
      text.slice(0, match.index + match[0].length - value.length - 1),
    ).length;
    ranges.push([start, start + encoder.encode(value).length]);
  }
  return ranges;
}
