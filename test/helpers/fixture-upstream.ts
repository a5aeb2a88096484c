// A local upstream that answers every request with one recorded stream of test/fixtures, as the
// provider sent it (OpenAI-compatible or Anthropic wire format), and keeps each request body.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** index.json's entry for one recording. */
export interface FixtureEntry {
  file: string;
  provider: "openai" | "anthropic";
  expected_text: string;
  expected_reasoning: string;
  expected_tool_calls: Array<{ id: string; name: string; arguments: string; input?: unknown }>;
  finish: string;
  usage: { input_tokens: number; output_tokens: number } | null;
  error: unknown;
}

const FIXTURES_DIR = new URL("../fixtures/", import.meta.url);

/** Every recording, with its expectations. */
export const FIXTURE_INDEX: FixtureEntry[] = JSON.parse(
  readFileSync(new URL("index.json", FIXTURES_DIR), "utf8"),
);

export interface FixtureUpstream {
  /** Base URL including /v1, as OPENAI_BASE_URL or ANTHROPIC_BASE_URL. */
  baseUrl: string;
  /** The recording the next request gets; an array is served one per request, in order. */
  serve: string | string[];
  /** Each request's JSON body, in order. */
  requests: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1; the recording is sent in a few pieces, as a network would. */
export async function startFixtureUpstream(
  serve: string | string[] = [],
): Promise<FixtureUpstream> {
  const upstream: FixtureUpstream = {
    baseUrl: "",
    serve,
    requests: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (part) => {
      raw += part;
    });
    req.on("end", () => {
      upstream.requests.push(JSON.parse(raw));
      const file = Array.isArray(upstream.serve) ? upstream.serve.shift() : upstream.serve;
      if (file === undefined) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end('{"error":{"message":"no recording to serve"}}');
        return;
      }
      const body = readFileSync(new URL(file, FIXTURES_DIR));
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      for (let at = 0; at < body.length; at += 512) res.write(body.subarray(at, at + 512));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  upstream.baseUrl = `http://127.0.0.1:${port}/v1`;
  return upstream;
}
