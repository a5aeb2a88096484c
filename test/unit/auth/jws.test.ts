// verifyCompactJws inside workerd: tokens jose signs verify; every malformed, disallowed or
// mismatched one is refused with the error that says which.
import { base64url, CompactSign } from "jose";
import { describe, expect, it } from "vitest";
import {
  JwsAlgNotAllowed,
  JwsMalformed,
  JwsSignatureInvalid,
  verifyCompactJws,
} from "../../../src/auth/jws.ts";

const encoder = new TextEncoder();
const SECRET = encoder.encode("unit-test-secret-of-at-least-32-bytes");
const PAYLOAD = encoder.encode(JSON.stringify({ sub: "alice" }));
const ALL = ["HS256", "RS256", "ES256", "EdDSA", "Ed25519"];

type Pair = { privateKey: CryptoKey; publicKey: CryptoKey };
const generate = (algorithm: Parameters<SubtleCrypto["generateKey"]>[0]) =>
  crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]) as Promise<Pair>;
const rsa = (bits: number) =>
  generate({
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: bits,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  });

const keys = {
  rs256: await rsa(2048),
  rs1024: await rsa(1024),
  es256: await generate({ name: "ECDSA", namedCurve: "P-256" }),
  es384: await generate({ name: "ECDSA", namedCurve: "P-384" }),
  ed25519: await generate({ name: "Ed25519" }),
};

function sign(alg: string, key: CryptoKey | Uint8Array, header: object = {}): Promise<string> {
  return new CompactSign(PAYLOAD).setProtectedHeader({ ...header, alg }).sign(key);
}

/** What verifying `token` with `key` (for any header) and `algorithms` gives: "ok" or the error class. */
async function outcome(
  token: string,
  key: CryptoKey | Uint8Array,
  algorithms: string[] = ALL,
): Promise<string> {
  try {
    const { payload } = await verifyCompactJws(token, algorithms, async () => key);
    expect(payload).toEqual(PAYLOAD);
    return "ok";
  } catch (error) {
    if (error instanceof JwsMalformed) return "malformed";
    if (error instanceof JwsAlgNotAllowed) return "alg";
    if (error instanceof JwsSignatureInvalid) return "signature";
    throw error;
  }
}

/** `token` with part `index` replaced by `part`. */
const withPart = (token: string, index: number, part: string) =>
  token
    .split(".")
    .map((old, i) => (i === index ? part : old))
    .join(".");

/** An RS256 JWS signed by WebCrypto alone. */
async function signRs256(key: CryptoKey): Promise<string> {
  const input = `${header({ alg: "RS256" })}.${base64url.encode(PAYLOAD)}`;
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, encoder.encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

const header = (value: unknown) => base64url.encode(JSON.stringify(value));

describe("verifyCompactJws", () => {
  const accepted: Array<[string, () => Promise<[string, CryptoKey | Uint8Array]>]> = [
    ["HS256 with the secret", async () => [await sign("HS256", SECRET), SECRET]],
    [
      "RS256 (2048 bits)",
      async () => [await sign("RS256", keys.rs256.privateKey), keys.rs256.publicKey],
    ],
    [
      "ES256 (P-256)",
      async () => [await sign("ES256", keys.es256.privateKey), keys.es256.publicKey],
    ],
    ["EdDSA", async () => [await sign("EdDSA", keys.ed25519.privateKey), keys.ed25519.publicKey]],
    [
      "Ed25519",
      async () => [await sign("Ed25519", keys.ed25519.privateKey), keys.ed25519.publicKey],
    ],
  ];

  it.each(accepted)("accepts %s, returning the payload", async (_name, make) => {
    const [token, key] = await make();
    expect(await outcome(token, key)).toBe("ok");
  });

  const refused: Array<
    [string, () => Promise<[string, CryptoKey | Uint8Array, string[]?]>, string]
  > = [
    [
      "two parts",
      async () => [(await sign("HS256", SECRET)).split(".").slice(0, 2).join("."), SECRET],
      "malformed",
    ],
    ["four parts", async () => [`${await sign("HS256", SECRET)}.x`, SECRET], "malformed"],
    [
      "a header that is not base64url",
      async () => [withPart(await sign("HS256", SECRET), 0, "e+J9"), SECRET],
      "malformed",
    ],
    [
      "padding in the signature",
      async () => [`${await sign("HS256", SECRET)}=`, SECRET],
      "malformed",
    ],
    [
      "a header that is a JSON array",
      async () => [withPart(await sign("HS256", SECRET), 0, header(["HS256"])), SECRET],
      "malformed",
    ],
    [
      "a header without alg",
      async () => [withPart(await sign("HS256", SECRET), 0, header({ typ: "JWT" })), SECRET],
      "malformed",
    ],
    [
      "a crit header",
      async () => [
        withPart(await sign("HS256", SECRET), 0, header({ alg: "HS256", crit: ["x"], x: 1 })),
        SECRET,
      ],
      "malformed",
    ],
    [
      "b64: false",
      async () => [
        withPart(await sign("HS256", SECRET), 0, header({ alg: "HS256", b64: false })),
        SECRET,
      ],
      "malformed",
    ],
    [
      "alg none",
      async () => [`${header({ alg: "none" })}.${base64url.encode(PAYLOAD)}.`, SECRET],
      "alg",
    ],
    [
      "an alg outside the list",
      async () => [await sign("HS256", SECRET), SECRET, ["RS256"]],
      "alg",
    ],
    [
      "HS384, which Sluice never accepts",
      async () => [await sign("HS384", SECRET), SECRET, ["HS384"]],
      "alg",
    ],
    [
      "another secret",
      async () => [
        await sign("HS256", encoder.encode("another-secret-of-32-bytes-or-more")),
        SECRET,
      ],
      "signature",
    ],
    [
      "a payload changed after signing",
      async () => [withPart(await sign("HS256", SECRET), 1, base64url.encode("{}")), SECRET],
      "signature",
    ],
    [
      "a signature of another token",
      async () => [
        withPart(
          await sign("HS256", SECRET),
          2,
          (await sign("HS256", SECRET, { typ: "x" })).split(".")[2] ?? "",
        ),
        SECRET,
      ],
      "signature",
    ],
    [
      "an RS256 header with an HMAC key",
      async () => [
        await sign("RS256", keys.rs256.privateKey),
        await crypto.subtle.importKey("raw", SECRET, { name: "HMAC", hash: "SHA-256" }, false, [
          "verify",
        ]),
      ],
      "signature",
    ],
    [
      "an RSA key of 1,024 bits (signed without jose, which refuses such keys)",
      async () => [await signRs256(keys.rs1024.privateKey), keys.rs1024.publicKey],
      "signature",
    ],
    [
      "ES256 with a P-384 key",
      async () => [await sign("ES256", keys.es256.privateKey), keys.es384.publicKey],
      "signature",
    ],
    [
      "ES256 signed by another key",
      async () => [
        await sign("ES256", keys.es256.privateKey),
        (await generate({ name: "ECDSA", namedCurve: "P-256" })).publicKey,
      ],
      "signature",
    ],
    [
      "EdDSA with an ECDSA key",
      async () => [await sign("EdDSA", keys.ed25519.privateKey), keys.es256.publicKey],
      "signature",
    ],
  ];

  it.each(refused)("refuses %s", async (_name, make, expected) => {
    const [token, key, algorithms] = await make();
    expect(await outcome(token, key, algorithms)).toBe(expected);
  });

  it("asks for the key only after the header and alg passed", async () => {
    let asked = 0;
    const keyFor = async () => {
      asked += 1;
      return SECRET;
    };
    await expect(verifyCompactJws("a.b", ALL, keyFor)).rejects.toBeInstanceOf(JwsMalformed);
    await expect(
      verifyCompactJws(await sign("HS256", SECRET), ["RS256"], keyFor),
    ).rejects.toBeInstanceOf(JwsAlgNotAllowed);
    expect(asked).toBe(0);
  });
});
