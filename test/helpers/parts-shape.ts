// One shape for comparing an answer's parts across protocols: the AI SDK's assembled UI
// message and Sluice's stored message, each reduced to what both carry.
import type { UIMessage } from "ai";

/** A part as both sides have it: steps, text, reasoning, tool calls (with output, once sent). */
export type ComparablePart =
  | { type: "step-start" }
  | { type: "text"; text: string }
  | { type: "reasoning"; text: string }
  | { type: "tool"; toolCallId: string; toolName: string; input: unknown; output?: unknown };

/** The UI message's parts, in order. */
export function uiParts(message: UIMessage | undefined): ComparablePart[] {
  return (message?.parts ?? []).flatMap((part): ComparablePart[] => {
    if (part.type === "step-start") return [{ type: "step-start" }];
    if (part.type === "text") return [{ type: "text", text: part.text }];
    if (part.type === "reasoning") return [{ type: "reasoning", text: part.text }];
    if (part.type.startsWith("tool-") && "toolCallId" in part) {
      const tool: ComparablePart = {
        type: "tool",
        toolCallId: part.toolCallId,
        toolName: part.type.slice("tool-".length),
        input: part.input,
      };
      if (part.state === "output-available") tool.output = part.output;
      return [tool];
    }
    return [];
  });
}

/** A stored message's parts (GET /sessions/:id), in order. */
export function storedParts(parts: Array<Record<string, unknown>>): ComparablePart[] {
  return parts.flatMap((part): ComparablePart[] => {
    if (part.type === "step-start") return [{ type: "step-start" }];
    if (part.type === "text") return [{ type: "text", text: String(part.text) }];
    if (part.type === "reasoning") return [{ type: "reasoning", text: String(part.text) }];
    if (part.type === "tool-call") {
      const tool: ComparablePart = {
        type: "tool",
        toolCallId: String(part.toolCallId),
        toolName: String(part.toolName),
        input: part.state === "input-error" ? part.inputText : part.input,
      };
      if (part.state === "output-available") tool.output = part.output;
      return [tool];
    }
    return [];
  });
}

/** The joined text of parts of one kind. */
export function joined(parts: ComparablePart[], type: "text" | "reasoning"): string {
  return parts.map((part) => (part.type === type ? part.text : "")).join("");
}

/** The tool calls of parts, with their names and inputs. */
export function toolCalls(parts: ComparablePart[]) {
  return parts.flatMap((part) =>
    part.type === "tool" ? [{ id: part.toolCallId, name: part.toolName, input: part.input }] : [],
  );
}
