/** The Worker's environment: every binding, var and secret Sluice reads. */
import type { ChatSession } from "./session/ChatSession.ts";

export interface Env {
  /** One Durable Object per chat session. */
  SESSIONS: DurableObjectNamespace<ChatSession>;
  /** Workers AI, used when PROVIDER is `workers-ai` (declare `[ai]` in wrangler.toml). */
  AI?: Ai;
  /** Which upstream answers: `demo` (default), `openai`, `anthropic` or `workers-ai`. */
  PROVIDER?: string;
  /** Model name passed to the upstream; each provider has a default. */
  MODEL?: string;
  /** Base URL of any OpenAI-compatible API, up to and including `/v1`. */
  OPENAI_BASE_URL?: string;
  /** Secret: the key for OPENAI_BASE_URL. */
  OPENAI_API_KEY?: string;
  /** Base URL of the Anthropic API, up to and including `/v1`. */
  ANTHROPIC_BASE_URL?: string;
  /** Secret: the Anthropic API key. */
  ANTHROPIC_API_KEY?: string;
  /** System prompt sent before the history on every generation. */
  SYSTEM_PROMPT?: string;
  /** Delay between the demo model's tokens, in milliseconds (default 15). */
  DEMO_DELAY_MS?: string;
  /** Milliseconds without an upstream byte before a generation fails as stalled (default 60000). */
  STALL_TIMEOUT_MS?: string;
}
