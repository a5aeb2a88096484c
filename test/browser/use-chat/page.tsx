// The page of the useChat round trip (bundled by esbuild, served from another origin): a chat
// with one client-side tool, get_weather, that useChat runs itself and answers automatically.
import { useChat } from "@ai-sdk/react";
import {
  DefaultChatTransport,
  lastAssistantMessageIsCompleteWithToolCalls,
  type UIMessage,
} from "ai";
import { useEffect } from "react";
import { createRoot } from "react-dom/client";
import { WEATHER, WEATHER_TOOL } from "./weather.ts";

const params = new URLSearchParams(location.search);
const RELAY = params.get("relay") ?? "";
const CHAT = params.get("chat") ?? "";

/** What the test reads: the chat's status, its messages, and the tool calls the page ran. */
interface PageState {
  status: string;
  error: string | undefined;
  messages: UIMessage[];
  ran: { toolCallId: string; toolName: string; input: unknown }[];
  /** The lengths the answer's text had while it streamed: more than one means it streamed. */
  streamed: number[];
}

const ran: PageState["ran"] = [];
const streamed = new Set<number>();

function publish(state: PageState): void {
  Reflect.set(window, "__chat", state);
}

function Chat() {
  const { messages, sendMessage, addToolOutput, status, error } = useChat({
    id: CHAT,
    transport: new DefaultChatTransport({
      api: `${RELAY}/api/chat`,
      body: { tools: [WEATHER_TOOL] },
    }),
    onToolCall: ({ toolCall }) => {
      if (toolCall.dynamic) return;
      ran.push({
        toolCallId: toolCall.toolCallId,
        toolName: toolCall.toolName,
        input: toolCall.input,
      });
      // Not awaited, as the SDK asks: awaiting here would deadlock the chat's job queue.
      void addToolOutput({
        tool: toolCall.toolName,
        toolCallId: toolCall.toolCallId,
        output: WEATHER,
      });
    },
    sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
  });
  useEffect(() => {
    const text = messages.at(-1)?.parts.findLast((part) => part.type === "text");
    if (status === "streaming" && text?.type === "text") streamed.add(text.text.length);
    publish({ status, error: error?.message, messages, ran: [...ran], streamed: [...streamed] });
  });
  return (
    <main>
      <button
        type="button"
        id="ask"
        onClick={() => void sendMessage({ text: "Weather in Paris?" })}
      >
        Ask
      </button>
      <p id="status">{status}</p>
      <ol>
        {messages.map((message) => (
          <li key={message.id} className={message.role}>
            {message.parts.map((part, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: parts have no ids and never reorder
              <pre key={index} data-type={part.type}>
                {"text" in part ? part.text : JSON.stringify(part)}
              </pre>
            ))}
          </li>
        ))}
      </ol>
    </main>
  );
}

const root = document.getElementById("root");
if (root) createRoot(root).render(<Chat />);
