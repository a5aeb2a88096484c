/**
 * Provider settings read from Env. Every check runs when an answer starts, never at import
 * or construction, so a misconfigured Worker still serves its pages and reports a clear
 * `config_error` to the first prompt instead of crashing.
 */
import { numberSetting } from "../config.ts";
import { SluiceError } from "../errors.ts";

/** `value` (trimmed) or `fallback` when it is unset or blank. */
export function setting(value: string | undefined, fallback: string): string {
  const trimmed = value?.trim();
  return trimmed ? trimmed : fallback;
}

/**
 * The base URL from the variable `name`, or `fallback`, without a trailing slash.
 * Throws `config_error` if it is not an http(s) URL.
 */
export function baseUrl(value: string | undefined, name: string, fallback: string): URL {
  const text = setting(value, fallback).replace(/\/+$/, "");
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new SluiceError("config_error", `${name} is not an http(s) URL: set it like ${fallback}`);
  }
  return url;
}

/** `base` joined with `path` ("/chat/completions"), keeping the base's own path (`/v1`). */
export function endpoint(base: URL, path: string): string {
  return `${base.href.replace(/\/+$/, "")}${path}`;
}

/**
 * Whether `url` points at this machine. Local OpenAI-compatible servers (Ollama, vLLM,
 * llama.cpp) need no key; under `wrangler dev` the Worker can reach them there.
 */
export function isLocalUrl(url: URL): boolean {
  const host = url.hostname;
  return (
    host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || /^127\./.test(host)
  );
}

/** The `config_error` for an unset secret, saying how to set it. */
export function missingSecret(name: string): SluiceError {
  return new SluiceError("config_error", `${name} is not set; run \`wrangler secret put ${name}\``);
}

/**
 * MAX_OUTPUT_TOKENS as a positive integer, undefined when unset; anything else is a
 * `config_error`. Each provider sends it upstream as its own output cap.
 */
export function outputCap(value: string | undefined): number | undefined {
  return numberSetting("MAX_OUTPUT_TOKENS", value, { min: 1, integer: true, invalid: "error" });
}
