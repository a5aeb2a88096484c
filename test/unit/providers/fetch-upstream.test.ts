import { describe, expect, it } from "vitest";
import { SluiceError } from "../../../src/errors.ts";
import type { FetchLike } from "../../../src/providers/fetch-upstream.ts";
import { fetchUpstream } from "../../../src/providers/fetch-upstream.ts";
import { UpstreamFailure } from "../../../src/providers/retry-policy.ts";

const KEY = "sk-live-THIS-MUST-NEVER-LEAK-1234";

function upstreamRequest(): Request {
  return new Request("https://llm.example/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "x-api-key": KEY },
    body: "{}",
  });
}

/** A fetcher answering `status` with a body that echoes the key, as some upstreams do. */
function answering(status: number, body: string, headers: HeadersInit = {}): FetchLike {
  return async () => new Response(body, { status, headers });
}

async function failureOf(fetcher: FetchLike): Promise<SluiceError> {
  try {
    await fetchUpstream(upstreamRequest(), new AbortController().signal, fetcher);
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error("fetchUpstream resolved");
}

const echo = (message: string) =>
  JSON.stringify({ error: { message, type: "invalid_request_error" } });

describe("fetchUpstream", () => {
  it.each([
    [401, "upstream_auth", "The upstream rejected the API key (HTTP 401)"],
    [403, "upstream_auth", "The upstream rejected the API key (HTTP 403)"],
  ])("maps HTTP %i to %s without reading the body", async (status, code, message) => {
    const failure = await failureOf(answering(status, echo(`Incorrect API key provided: ${KEY}`)));
    expect(failure).toMatchObject({ code, message });
  });

  it("maps HTTP 429 to upstream_rate_limited and passes on Retry-After", async () => {
    const failure = await failureOf(answering(429, echo("slow down"), { "retry-after": "20" }));
    expect(failure.code).toBe("upstream_rate_limited");
    expect(failure.message).toBe("The upstream is rate limiting (HTTP 429); Retry-After says 20 s");
    const bare = await failureOf(answering(429, ""));
    expect(bare.message).toBe("The upstream is rate limiting (HTTP 429)");
  });

  it("keeps the status and Retry-After for the retry rules, as seconds or an HTTP date", async () => {
    const seconds = await failureOf(answering(503, "", { "retry-after": "3" }));
    expect(seconds).toBeInstanceOf(UpstreamFailure);
    expect(seconds).toMatchObject({ detail: { httpStatus: 503, retryAfterMs: 3_000 } });
    const inFiveSeconds = new Date(Date.now() + 5_000).toUTCString();
    const date = await failureOf(answering(429, "", { "retry-after": inFiveSeconds }));
    expect(date).toBeInstanceOf(UpstreamFailure);
    const { retryAfterMs } = date instanceof UpstreamFailure ? date.detail : {};
    expect(retryAfterMs).toBeGreaterThan(3_000);
    expect(retryAfterMs).toBeLessThanOrEqual(5_000);
    expect(date.message).toMatch(/; Retry-After says \d{4}-\d\d-\d\dT/);
    const garbled = await failureOf(answering(429, "", { "retry-after": "soon" }));
    expect(garbled).toMatchObject({
      message: "The upstream is rate limiting (HTTP 429)",
      detail: { httpStatus: 429, retryAfterMs: undefined },
    });
  });

  it("maps other statuses to upstream_http with the upstream's own message", async () => {
    const failure = await failureOf(answering(500, echo("The server had an error")));
    expect(failure).toMatchObject({
      code: "upstream_http",
      message: "The upstream answered HTTP 500: The server had an error",
    });
    const anthropic = JSON.stringify({
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    });
    expect((await failureOf(answering(529, anthropic))).message).toBe(
      "The upstream answered HTTP 529: Overloaded",
    );
    expect((await failureOf(answering(502, "<html>Bad gateway</html>"))).message).toBe(
      "The upstream answered HTTP 502",
    );
  });

  it("passes on at most 200 characters of the upstream's message", async () => {
    const failure = await failureOf(answering(400, echo("x".repeat(5000))));
    const detail = failure.message.replace("The upstream answered HTTP 400: ", "");
    expect(detail.length).toBe(200);
  });

  it("maps a connection failure to upstream_unreachable", async () => {
    const failure = await failureOf(async () => {
      throw new TypeError("Network connection lost.");
    });
    expect(failure).toMatchObject({
      code: "upstream_unreachable",
      message: "Could not connect to the upstream at llm.example",
    });
  });

  it("never puts the API key in an error message", async () => {
    const fetchers = [401, 403, 429, 400, 500].map((status) =>
      answering(status, echo(`bad request for key ${KEY}`), { "x-echo": KEY }),
    );
    for (const fetcher of fetchers) {
      const failure = await failureOf(fetcher);
      expect(failure.message).not.toContain(KEY);
      expect(failure.message).not.toContain("NEVER-LEAK");
    }
  });

  it("refuses a JSON answer to a streaming request as upstream_malformed", async () => {
    const failure = await failureOf(answering(200, "{}", { "content-type": "application/json" }));
    expect(failure).toMatchObject({ code: "upstream_malformed" });
  });

  it("rejects with the signal's reason, not a SluiceError, when the caller aborted", async () => {
    const controller = new AbortController();
    const reason = new Error("cancelled by test");
    const fetcher: FetchLike = (_request, { signal }) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason)),
      );
    const pending = fetchUpstream(upstreamRequest(), controller.signal, fetcher);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
