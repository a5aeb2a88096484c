/**
 * The conversation, tools and options of a UpstreamRequest in each upstream's request
 * format: Chat Completions (OpenAI-compatible servers, Workers AI) and Anthropic Messages.
 */
import { SluiceError } from "../errors.ts";
import type { RequestOptions, ToolChoice, ToolDefinition } from "../tools-options.ts";
import type { ChatMessage } from "./types.ts";

/** The smaller of MAX_OUTPUT_TOKENS and the request's `max_tokens`, either may be unset. */
export function outputTokens(
  cap: number | undefined,
  options: RequestOptions | undefined,
): number | undefined {
  const asked = options?.max_tokens;
  if (cap === undefined) return asked;
  return asked === undefined ? cap : Math.min(cap, asked);
}

/**
 * Chat Completions messages: assistant tool calls as `tool_calls` (the stored arguments
 * text), results as `tool` messages; reasoning is not echoed, since most compatible servers
 * reject it in a request.
 */
export function chatCompletionsMessages(messages: readonly ChatMessage[]): unknown[] {
  return messages.map((message) => {
    if (message.role === "tool") {
      return { role: "tool", tool_call_id: message.toolCallId ?? "", content: message.content };
    }
    const calls = (message.parts ?? []).flatMap((part) =>
      part.type === "tool-call"
        ? [
            {
              id: part.id,
              type: "function",
              function: { name: part.name, arguments: part.arguments },
            },
          ]
        : [],
    );
    if (message.role !== "assistant" || calls.length === 0) {
      return { role: message.role, content: message.content };
    }
    return {
      role: "assistant",
      content: message.content === "" ? null : message.content,
      tool_calls: calls,
    };
  });
}

/** Tools in the Chat Completions shape. */
export function chatCompletionsTools(tools: readonly ToolDefinition[]): unknown[] {
  return tools.map((tool) => ({
    type: "function",
    function: {
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters: tool.inputSchema,
    },
  }));
}

function chatCompletionsChoice(choice: ToolChoice): unknown {
  return typeof choice === "string"
    ? choice
    : { type: "function", function: { name: choice.name } };
}

/**
 * The Chat Completions fields of tools and options (not the output cap, whose field name
 * depends on the server). `thinking_budget` is Anthropic's: refused here, never dropped.
 */
export function chatCompletionsOptions(
  tools: readonly ToolDefinition[] | undefined,
  options: RequestOptions | undefined,
): Record<string, unknown> {
  if (options?.thinking_budget !== undefined) {
    throw new SluiceError(
      "invalid_option",
      '"options.thinking_budget" is for Anthropic; use "reasoning_effort".',
    );
  }
  const body: Record<string, unknown> = {};
  if (tools && tools.length > 0) body.tools = chatCompletionsTools(tools);
  if (options?.tool_choice !== undefined)
    body.tool_choice = chatCompletionsChoice(options.tool_choice);
  if (options?.temperature !== undefined) body.temperature = options.temperature;
  if (options?.top_p !== undefined) body.top_p = options.top_p;
  if (options?.stop !== undefined) body.stop = options.stop;
  if (options?.seed !== undefined) body.seed = options.seed;
  if (options?.reasoning_effort !== undefined) body.reasoning_effort = options.reasoning_effort;
  return body;
}

type AnthropicBlock = Record<string, unknown>;

/**
 * Anthropic turns: thinking blocks with their `signature` (`redacted_thinking` with its
 * `data`; reasoning without either, from another provider, is left out), `tool_use` blocks,
 * and results as `tool_result` blocks of a user turn. Consecutive turns of one role are joined.
 */
export function anthropicTurns(
  messages: readonly ChatMessage[],
): Array<{ role: string; content: unknown }> {
  const turns: Array<{ role: "user" | "assistant"; blocks: AnthropicBlock[]; text?: string }> = [];
  for (const message of messages) {
    if (message.role === "system") continue;
    const role = message.role === "assistant" ? "assistant" : "user";
    const blocks = anthropicBlocks(message);
    const last = turns.at(-1);
    if (last?.role === role) {
      last.blocks.push(...blocks);
      delete last.text;
    } else {
      const turn: (typeof turns)[number] = { role, blocks };
      if (!message.parts && message.role !== "tool") turn.text = message.content;
      turns.push(turn);
    }
  }
  return turns.map((turn) => ({ role: turn.role, content: turn.text ?? turn.blocks }));
}

function anthropicBlocks(message: ChatMessage): AnthropicBlock[] {
  if (message.role === "tool") {
    return [
      {
        type: "tool_result",
        tool_use_id: message.toolCallId ?? "",
        content: message.content,
        ...(message.isError ? { is_error: true } : {}),
      },
    ];
  }
  if (!message.parts)
    return message.content === "" ? [] : [{ type: "text", text: message.content }];
  return message.parts.flatMap((part): AnthropicBlock[] => {
    switch (part.type) {
      case "text":
        return part.text === "" ? [] : [{ type: "text", text: part.text }];
      case "reasoning":
        if (part.redactedData !== undefined)
          return [{ type: "redacted_thinking", data: part.redactedData }];
        if (part.signature !== undefined) {
          return [{ type: "thinking", thinking: part.text, signature: part.signature }];
        }
        return [];
      default:
        return [{ type: "tool_use", id: part.id, name: part.name, input: part.input }];
    }
  });
}

/** Tools, tool choice, thinking and sampling options in the Anthropic Messages shape. */
export function anthropicOptions(
  tools: readonly ToolDefinition[] | undefined,
  options: RequestOptions | undefined,
): Record<string, unknown> {
  if (options?.seed !== undefined) {
    throw new SluiceError("invalid_option", '"options.seed" is not supported by Anthropic.');
  }
  if (options?.reasoning_effort !== undefined) {
    throw new SluiceError(
      "invalid_option",
      '"options.reasoning_effort" is not Anthropic\'s; use "thinking_budget".',
    );
  }
  const body: Record<string, unknown> = {};
  if (tools && tools.length > 0) {
    body.tools = tools.map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      input_schema: tool.inputSchema,
    }));
  }
  const choice = options?.tool_choice;
  if (choice !== undefined) {
    body.tool_choice =
      choice === "required"
        ? { type: "any" }
        : typeof choice === "string"
          ? { type: choice }
          : { type: "tool", name: choice.name };
  }
  if (options?.thinking_budget !== undefined) {
    body.thinking = { type: "enabled", budget_tokens: options.thinking_budget };
  }
  if (options?.temperature !== undefined) body.temperature = options.temperature;
  if (options?.top_p !== undefined) body.top_p = options.top_p;
  if (options?.stop !== undefined) body.stop_sequences = options.stop;
  return body;
}
