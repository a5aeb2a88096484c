// Signed tokens for tests: key pairs, a local JWKS server that can rotate keys or misbehave,
// and minting with jose. Every token minted is registered for the secrets scan.
import { createHmac } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";
import { registerSecret } from "./record.ts";
import { SECRETS } from "./secrets.ts";

/** The app the tests' relays trust. */
export const ISSUER = "https://login.app.example/";
export const AUDIENCE = "sluice-tests";

/** A signing key and its public JWK as the JWKS publishes it. */
export interface SigningKey {
  alg: "RS256" | "ES256" | "EdDSA" | "Ed25519";
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

/** A new key pair for `alg`, named `kid`. */
export async function signingKey(alg: SigningKey["alg"], kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { alg, kid, privateKey, publicKey, jwk };
}

/** The HS256 secret the relays are configured with, as bytes. */
export const HS_SECRET = new TextEncoder().encode(SECRETS.jwtSecret);

/** What the JWKS server does with the next fetch. */
export type JwksMode = "ok" | "error" | "down" | "garbage" | "bad-keys" | "slow";

export interface JwksServer {
  /** The URL to set as AUTH_JWKS_URL. */
  url: string;
  /** The keys published in mode `ok`. */
  keys: JWK[];
  mode: JwksMode;
  /** How many times the JWKS was fetched. */
  fetches: number;
  close(): Promise<void>;
}

/** A JWKS server on 127.0.0.1; `keys` and `mode` can be changed between requests. */
export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const state: JwksServer = {
    url: "",
    keys,
    mode: "ok",
    fetches: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const answer = (response: ServerResponse) => {
    state.fetches += 1;
    switch (state.mode) {
      case "ok":
        response.setHeader("content-type", "application/json");
        return response.end(JSON.stringify({ keys: state.keys }));
      case "error":
        response.statusCode = 503;
        return response.end("unavailable");
      case "down":
        // As a crashed server looks: the connection goes away without an answer.
        return response.socket?.destroy();
      case "garbage":
        response.setHeader("content-type", "application/json");
        return response.end("<html>not a key set</html>");
      case "bad-keys":
        response.setHeader("content-type", "application/json");
        return response.end(
          JSON.stringify({
            keys: state.keys.map((key) => ({ ...key, x: "AAAA", y: "AAAA", n: "AAAA" })),
          }),
        );
      case "slow":
        // Longer than the relay's JWKS timeout (3 s).
        setTimeout(() => response.end(JSON.stringify({ keys: state.keys })), 5_000).unref();
        return;
    }
  };
  const server = createServer((_request, response) => answer(response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return state;
}

/** Seconds since the epoch, as JWT claims count. */
export const nowS = () => Math.floor(Date.now() / 1000);

/** The claims of a good five-minute token for `sub`. */
export function claimsFor(sub: string): JWTPayload {
  return { iss: ISSUER, aud: AUDIENCE, sub, iat: nowS(), exp: nowS() + 300 };
}

/** Signs `claims` (taken as they are: omit one to leave it out) and registers the token. */
export async function mint(
  claims: JWTPayload,
  key: SigningKey | "hs256",
  header: Record<string, unknown> = {},
): Promise<string> {
  const alg = key === "hs256" ? "HS256" : key.alg;
  const kid = key === "hs256" ? undefined : key.kid;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg, ...(kid ? { kid } : {}), typ: "JWT", ...header })
    .sign(key === "hs256" ? HS_SECRET : key.privateKey);
  registerSecret(token);
  return token;
}

/** A good token for `sub`, five minutes long. */
export function userToken(sub: string, key: SigningKey | "hs256"): Promise<string> {
  return mint(claimsFor(sub), key);
}

const base64url = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/**
 * A token with any header and payload, HMAC-SHA256 signed with `secret` (unsigned without
 * one), for the forgeries jose would refuse to sign. Registered for the scan.
 */
export function forge(header: object, payload: object, secret?: Uint8Array | string): string {
  const input = `${base64url(header)}.${base64url(payload)}`;
  const signature =
    secret === undefined ? "" : createHmac("sha256", secret).update(input).digest("base64url");
  return registered(`${input}.${signature}`);
}

/** Registers `token` for the secrets scan and returns it. */
export function registered(token: string): string {
  registerSecret(token);
  return token;
}

/** The parts of a compact token. */
export function partsOf(token: string): [string, string, string] {
  const [header = "", payload = "", signature = ""] = token.split(".");
  return [header, payload, signature];
}
