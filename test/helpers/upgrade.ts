// A WebSocket upgrade sent with node:http (fetch refuses to send one), to read a refusal.
import { request as httpRequest } from "node:http";
import { record } from "./record.ts";

/**
 * Requests an upgrade of `url`. Resolves with the refusal's status, headers and body, or with
 * status 101 and body `{}` when the upgrade succeeded (the socket is then closed at once).
 */
export function tryUpgrade(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...headers,
      },
    });
    request.on("upgrade", (response, socket) => {
      socket.destroy();
      resolve({ status: 101, body: "{}", headers: response.headers });
    });
    request.on("response", async (response) => {
      let body = "";
      for await (const part of response) body += part;
      record(`${response.statusCode} ${body}`);
      resolve({ status: response.statusCode ?? 0, body, headers: response.headers });
    });
    request.on("error", reject);
    request.end();
  });
}
