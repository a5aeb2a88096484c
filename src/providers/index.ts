/** Picks the configured upstream: the one place that knows every provider's name. */
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { createAnthropicProvider } from "./anthropic.ts";
import { createDemoProvider } from "./demo.ts";
import { createOpenAIProvider } from "./openai.ts";
import type { Provider } from "./types.ts";
import { createWorkersAiProvider } from "./workers-ai.ts";

const FACTORIES = {
  demo: createDemoProvider,
  openai: createOpenAIProvider,
  anthropic: createAnthropicProvider,
  "workers-ai": createWorkersAiProvider,
} satisfies Record<string, (env: ProviderEnv) => Provider>;

/** What providers read from Env: everything but the session binding. */
export type ProviderEnv = Omit<Env, "SESSIONS">;

/** Every valid value of PROVIDER. */
export const PROVIDER_NAMES = Object.keys(FACTORIES);

/**
 * The provider named by PROVIDER (default `demo`, case-insensitive). An unknown name throws a
 * `config_error` listing the valid ones. Missing keys or bindings are not checked here: each
 * provider reports them from `stream()`, so a misconfigured Worker still starts.
 */
export function createProvider(env: ProviderEnv): Provider {
  const name = env.PROVIDER?.trim().toLowerCase() || "demo";
  if (!isProviderName(name)) {
    throw new SluiceError(
      "config_error",
      `PROVIDER "${env.PROVIDER}" is unknown; use one of: ${PROVIDER_NAMES.join(", ")}`,
    );
  }
  return FACTORIES[name](env);
}

function isProviderName(name: string): name is keyof typeof FACTORIES {
  return Object.hasOwn(FACTORIES, name);
}
