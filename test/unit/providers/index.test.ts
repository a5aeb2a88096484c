import { describe, expect, it } from "vitest";
import { createProvider, PROVIDER_NAMES } from "../../../src/providers/index.ts";
import { collectEvents } from "./support.ts";

describe("createProvider", () => {
  it("picks the demo provider when PROVIDER is unset or blank", () => {
    expect(createProvider({}).name).toBe("demo");
    expect(createProvider({ PROVIDER: " " }).name).toBe("demo");
  });

  it("picks every provider by its name, ignoring case and spaces", () => {
    for (const name of PROVIDER_NAMES) {
      expect(createProvider({ PROVIDER: ` ${name.toUpperCase()} ` }).name).toBe(name);
    }
    expect(PROVIDER_NAMES).toEqual(["demo", "openai", "anthropic", "workers-ai"]);
  });

  it("rejects an unknown PROVIDER with a config_error listing the valid names", () => {
    expect(() => createProvider({ PROVIDER: "gemini" })).toThrow(
      expect.objectContaining({
        code: "config_error",
        message: 'PROVIDER "gemini" is unknown; use one of: demo, openai, anthropic, workers-ai',
      }),
    );
  });

  it("creates providers with missing keys or bindings without throwing", () => {
    for (const name of ["openai", "anthropic", "workers-ai"]) {
      expect(() => createProvider({ PROVIDER: name })).not.toThrow();
    }
  });

  it("rejects an unknown FALLBACK_PROVIDER with a config_error naming that var", () => {
    expect(() => createProvider({ PROVIDER: "demo", FALLBACK_PROVIDER: "gemini" })).toThrow(
      expect.objectContaining({
        code: "config_error",
        message:
          'FALLBACK_PROVIDER "gemini" is unknown; use one of: demo, openai, anthropic, workers-ai',
      }),
    );
  });

  it("accepts every provider as FALLBACK_PROVIDER, and a blank one as none", () => {
    for (const name of [...PROVIDER_NAMES, " "]) {
      expect(() => createProvider({ PROVIDER: "openai", FALLBACK_PROVIDER: name })).not.toThrow();
    }
  });

  it("falls back to the demo, which needs no key, when the primary's key is missing", async () => {
    const provider = createProvider({
      PROVIDER: "anthropic",
      FALLBACK_PROVIDER: "demo",
      DEMO_DELAY_MS: "0",
    });
    const stream = await provider.stream({
      messages: [{ role: "user", content: "/tokens 3" }],
      signal: new AbortController().signal,
    });
    const events = await collectEvents(stream);
    const text = events.map((event) => (event.type === "text" ? event.text : "")).join("");
    expect(text).toBe("t0 t1 t2 ");
  });

  it("passes MODEL to the provider it picks", () => {
    expect(createProvider({ PROVIDER: "openai", MODEL: "gpt-4.1-nano" }).model).toBe(
      "gpt-4.1-nano",
    );
  });
});
