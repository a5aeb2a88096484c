// One relay per provider wire format (OpenAI-compatible, Anthropic), each in front of a local
// upstream that replays the recordings of test/fixtures: the set-up of every test that runs the
// recordings through a protocol.
import {
  FIXTURE_INDEX,
  type FixtureEntry,
  type FixtureUpstream,
  startFixtureUpstream,
} from "./fixture-upstream.ts";
import { type Relay, startRelay } from "./relay.ts";
import { SECRETS } from "./secrets.ts";

/** The recordings that end well (no upstream error): the ones that have parts to compare. */
export const COMPLETE_FIXTURES = FIXTURE_INDEX.filter((entry) => entry.error === null);

export interface FixtureRelays {
  /** The relay for `entry`'s provider, its upstream set to serve `entry` next. */
  relayFor(entry: FixtureEntry): Relay;
  dispose(): Promise<void>;
}

/** Starts both relays and their upstreams. */
export async function startFixtureRelays(): Promise<FixtureRelays> {
  const [openai, anthropic] = await Promise.all([startFixtureUpstream(), startFixtureUpstream()]);
  const upstreams: Record<FixtureEntry["provider"], FixtureUpstream> = { openai, anthropic };
  const [openaiRelay, anthropicRelay] = await Promise.all([
    startRelay({
      PROVIDER: "openai",
      MODEL: "gpt-test",
      OPENAI_BASE_URL: openai.baseUrl,
      OPENAI_API_KEY: SECRETS.openaiKey,
    }),
    startRelay({
      PROVIDER: "anthropic",
      MODEL: "claude-test",
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
      ANTHROPIC_API_KEY: SECRETS.anthropicKey,
    }),
  ]);
  const relays: Record<FixtureEntry["provider"], Relay> = {
    openai: openaiRelay,
    anthropic: anthropicRelay,
  };
  return {
    relayFor(entry) {
      upstreams[entry.provider].serve = entry.file;
      return relays[entry.provider];
    },
    async dispose() {
      await Promise.all([openaiRelay.dispose(), anthropicRelay.dispose()]);
      await Promise.all([openai.close(), anthropic.close()]);
    },
  };
}

/** `entry`'s tool calls as the parts comparison shapes them. */
export function expectedCalls(entry: FixtureEntry) {
  return entry.expected_tool_calls.map((call) => ({
    id: call.id,
    name: call.name,
    input: call.arguments === "" ? {} : JSON.parse(call.arguments),
  }));
}

/** The last assistant message `session` stored, as `GET /sessions/:id` returns it. */
export async function storedAnswer(relay: Relay, session: string) {
  const response = await fetch(`${relay.url}/sessions/${session}`);
  const { messages } = (await response.json()) as {
    messages: Array<{ role: string; content: string; parts: Array<Record<string, unknown>> }>;
  };
  return messages.filter((message) => message.role === "assistant").at(-1);
}
