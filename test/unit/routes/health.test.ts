// GET /health: the provider and model, or 503 for a PROVIDER that names none; no secrets.
import { describe, expect, it } from "vitest";
import type { Env } from "../../../src/env.ts";
import { health } from "../../../src/routes/health.ts";

const get = new Request("https://relay.test/health");

describe("health", () => {
  it("names the provider, the model and the fallback, never a key", async () => {
    const env = {
      PROVIDER: "openai",
      MODEL: "gpt-test",
      OPENAI_API_KEY: "sk-never-shown",
      FALLBACK_PROVIDER: "Demo",
    } as Env;
    const response = health(get, env);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      ok: true,
      provider: "openai",
      model: "gpt-test",
      fallback: "demo",
    });
    expect(text).not.toContain("sk-never-shown");
  });

  it("is 503 with a config_error when PROVIDER names no provider", async () => {
    const response = health(get, { PROVIDER: "bogus" } as Env);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ ok: false, error: { code: "config_error" } });
  });

  it("refuses other methods with 405", () => {
    const post = new Request("https://relay.test/health", { method: "POST" });
    expect(health(post, {} as Env).status).toBe(405);
  });
});
