import { describe, expect, it } from "vitest";
import { createProvider, PROVIDER_NAMES } from "../../../src/providers/index.ts";

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

  it("passes MODEL to the provider it picks", () => {
    expect(createProvider({ PROVIDER: "openai", MODEL: "gpt-4.1-nano" }).model).toBe(
      "gpt-4.1-nano",
    );
  });
});
