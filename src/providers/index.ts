/**
 * Builds the upstream a session talks to: PROVIDER (and FALLBACK_PROVIDER, if set) wrapped in
 * the retry and timeout rules. The one place that knows every provider's name.
 */
import type { Env, Settings } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { createAnthropicProvider } from "./anthropic.ts";
import { createDemoProvider } from "./demo.ts";
import { createOpenAIProvider } from "./openai.ts";
import { resilient } from "./resilient.ts";
import { retryPolicy } from "./retry-policy.ts";
import type { Provider } from "./types.ts";
import { createWorkersAiProvider } from "./workers-ai.ts";

const FACTORIES = {
  demo: createDemoProvider,
  openai: createOpenAIProvider,
  anthropic: createAnthropicProvider,
  "workers-ai": createWorkersAiProvider,
} satisfies Record<string, (env: ProviderEnv) => Provider>;

/** What providers read from Env: its settings, with the vars wrangler.toml sets left optional. */
export type ProviderEnv = Settings & Partial<Pick<Env, "PROVIDER" | "DEMO_DELAY_MS">>;

/** Every valid value of PROVIDER and FALLBACK_PROVIDER. */
export const PROVIDER_NAMES = Object.keys(FACTORIES);

/**
 * The provider named by PROVIDER (default `demo`, case-insensitive), with retries, connect and
 * first-token timeouts (see `resilient`) and, when FALLBACK_PROVIDER is set, that provider
 * behind it with FALLBACK_MODEL. The fallback reads the same vars as it would as PROVIDER
 * (OPENAI_BASE_URL, ANTHROPIC_API_KEY, ...), so a fallback of the primary's own kind differs
 * only by model. An unknown name throws a `config_error` listing the valid ones. Missing keys
 * or bindings are not checked here: each provider reports them from `stream()`, so a
 * misconfigured Worker still starts.
 */
export function createProvider(env: ProviderEnv): Provider {
  const primary = pickProvider("PROVIDER", env.PROVIDER || "demo", env);
  const fallback = env.FALLBACK_PROVIDER?.trim()
    ? pickProvider("FALLBACK_PROVIDER", env.FALLBACK_PROVIDER, {
        ...env,
        MODEL: env.FALLBACK_MODEL,
      })
    : undefined;
  return resilient(primary, fallback, retryPolicy(env));
}

/** The bare provider `value` names; `variable` is the setting it came from, for the error. */
function pickProvider(variable: string, value: string, env: ProviderEnv): Provider {
  const name = value.trim().toLowerCase() || "demo";
  if (!isProviderName(name)) {
    throw new SluiceError(
      "config_error",
      `${variable} "${value}" is unknown; use one of: ${PROVIDER_NAMES.join(", ")}`,
    );
  }
  return FACTORIES[name](env);
}

function isProviderName(name: string): name is keyof typeof FACTORIES {
  return Object.hasOwn(FACTORIES, name);
}
