// src/auth.ts against independent references: RFC 8032's Ed25519 vector, node:crypto, and pinned NASH vectors.
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  agentKeyFromSeed,
  base64urlDecode,
  base64urlEncode,
  bodyHash,
  generateAgentKey,
  signRequest,
  signingString,
  verifyRequest,
} from "../../src/auth.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));
const SEED = new Uint8Array(32).map((_, i) => i); // 00 01 .. 1f
const T = 1_700_000_000_000;

describe("keys", () => {
  test("RFC 8032 test 1: the seed gives the published public key and signature", async () => {
    const key = await agentKeyFromSeed(hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
    expect(Buffer.from(base64urlDecode(key.publicKey)!).toString("hex")).toBe(
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    );
    const pk = createPrivateKey({ key: Buffer.from(key.privateKey, "base64url"), format: "der", type: "pkcs8" });
    expect(nodeSign(null, Buffer.alloc(0), pk).toString("hex")).toBe(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
  });

  test("generateAgentKey: 32-byte public key, PKCS#8 private key that signs verifiably", async () => {
    const key = await generateAgentKey();
    expect(base64urlDecode(key.publicKey)!.byteLength).toBe(32);
    expect(key.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const headers = await signRequest({ privateKey: key.privateKey, method: "POST", path: "/p", body: "{}", timestamp: T });
    expect(headers["x-nash-agent"]).toBe(key.publicKey); // derived from the private key
    expect((await verifyRequest({ method: "POST", path: "/p", body: "{}", headers, now: T })).ok).toBe(true);
  });

  test("base64url round trip, padding tolerated, junk refused", () => {
    const bytes = Uint8Array.from([0, 255, 62, 63, 250]);
    expect(base64urlDecode(base64urlEncode(bytes))).toEqual(bytes);
    expect(base64urlDecode(base64urlEncode(bytes) + "=")).toEqual(bytes);
    expect(base64urlDecode("a+b/")).toBeUndefined();
    expect(base64urlDecode("abcde")).toBeUndefined();
  });

  test("base64url agrees with Node's codec on any bytes and any text", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = base64urlEncode(bytes);
        expect(text).toBe(Buffer.from(bytes).toString("base64url"));
        expect(base64urlDecode(text)).toEqual(bytes);
        expect(base64urlDecode(Buffer.from(bytes).toString("base64"))).toEqual(/[+/]/.test(Buffer.from(bytes).toString("base64")) ? undefined : bytes);
      }),
      { numRuns: 2000 },
    );
    // Any text: undefined exactly when it is not base64url (one character too many for a byte is refused too).
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."AZaz09-_+/=é ".split("")), maxLength: 24 }), (text) => {
        const bare = text.replace(/=+$/, "");
        const valid = /^[A-Za-z0-9_-]*$/.test(bare) && bare.length % 4 !== 1;
        const decoded = base64urlDecode(text);
        expect(decoded === undefined).toBe(!valid);
        if (decoded) expect(decoded).toEqual(new Uint8Array(Buffer.from(bare, "base64url")));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("signing string and test vectors (documented in notes/edge.md)", () => {
  test("empty body: the hash field is the empty string", async () => {
    expect(await bodyHash("")).toBe("");
    expect(await bodyHash(undefined)).toBe("");
    expect(await signingString("delete", "/v1/markets/demo/intents/i-1", T, undefined)).toBe(
      "DELETE\n/v1/markets/demo/intents/i-1\n1700000000000\n",
    );
  });

  test("non-empty body: lower-case hex SHA-256 of the exact bytes", async () => {
    expect(await bodyHash("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  test("vector: seed 00..1f, DELETE with empty body", async () => {
    const key = await agentKeyFromSeed(SEED);
    expect(key.publicKey).toBe("A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg");
    const headers = await signRequest({ privateKey: key.privateKey, method: "DELETE", path: "/v1/markets/demo/intents/i-1", timestamp: T });
    expect(headers).toEqual({
      "x-nash-agent": "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg",
      "x-nash-timestamp": "1700000000000",
      "x-nash-signature": "jr1glyO3IhhnPQ5VQ0LsD9cYvMJa6c1FHpcM1xnQPqSfK1fPpq6gXnsgJtcLIoFaczHJu7Gop5yB8th1fCqMBw",
    });
  });

  test("vector: seed 00..1f, POST with a body; node:crypto verifies the same bytes", async () => {
    const key = await agentKeyFromSeed(SEED);
    const body = '{"side":"buy"}';
    const headers = await signRequest({ privateKey: key.privateKey, method: "POST", path: "/v1/markets/demo/intents", body, timestamp: T });
    expect(headers["x-nash-signature"]).toBe("EgxyuMXsWTVxy_quODjja1rXqnlKjV9WoXd1mn47VFk1qZxOu8OoKb3DPmJV8W78RW4P2RkWPUPnobv3BA5BCw");
    const message = "POST\n/v1/markets/demo/intents\n1700000000000\n02a4c4ea1ba9bcacc294a495f31a2b2b2f475967eccaabc9aaecc621222a3f1e";
    expect(await signingString("POST", "/v1/markets/demo/intents", T, body)).toBe(message);
    const pub = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: key.publicKey }, format: "jwk" });
    expect(nodeVerify(null, Buffer.from(message), pub, Buffer.from(headers["x-nash-signature"], "base64url"))).toBe(true);
  });

  test("a JWK private key signs the same as PKCS#8", async () => {
    const key = await agentKeyFromSeed(SEED);
    const jwk = createPrivateKey({ key: Buffer.from(key.privateKey, "base64url"), format: "der", type: "pkcs8" }).export({ format: "jwk" });
    const a = await signRequest({ privateKey: key.privateKey, method: "GET", path: "/x", timestamp: T });
    const b = await signRequest({ privateKey: jwk as JsonWebKey, method: "GET", path: "/x", timestamp: T });
    expect(b).toEqual(a);
  });
});

describe("verifyRequest", () => {
  const path = "/v1/markets/m/intents";
  const body = '{"side":"sell","quantity":5}';
  async function signed(overrides: { timestamp?: number } = {}) {
    const key = await agentKeyFromSeed(SEED);
    return signRequest({ privateKey: key.privateKey, method: "POST", path, body, timestamp: overrides.timestamp ?? T });
  }

  test("accepts the signed request and names the agent", async () => {
    const r = await verifyRequest({ method: "POST", path, body, headers: await signed(), now: T + 1000 });
    expect(r).toMatchObject({ ok: true, agent: "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg", timestamp: T });
  });

  test("any change to method, path or body breaks the signature", async () => {
    const headers = await signed();
    for (const change of [
      { method: "PUT", path, body },
      { method: "POST", path: "/v1/markets/n/intents", body },
      { method: "POST", path, body: body.replace("5", "6") },
      { method: "POST", path, body: "" },
    ]) {
      const r = await verifyRequest({ ...change, headers, now: T });
      expect(r).toMatchObject({ ok: false, reason: "bad_signature" });
    }
  });

  test("another agent's key with this signature is refused", async () => {
    const headers = { ...(await signed()), "x-nash-agent": (await generateAgentKey()).publicKey };
    expect(await verifyRequest({ method: "POST", path, body, headers, now: T })).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  test("timestamp window is ±30 s", async () => {
    const headers = await signed();
    expect((await verifyRequest({ method: "POST", path, body, headers, now: T + 30_000 })).ok).toBe(true);
    expect((await verifyRequest({ method: "POST", path, body, headers, now: T - 30_000 })).ok).toBe(true);
    expect(await verifyRequest({ method: "POST", path, body, headers, now: T + 30_001 })).toMatchObject({ ok: false, reason: "stale" });
    expect(await verifyRequest({ method: "POST", path, body, headers, now: T - 30_001 })).toMatchObject({ ok: false, reason: "stale" });
  });

  test("missing and malformed headers", async () => {
    const good = await signed();
    for (const name of ["x-nash-agent", "x-nash-timestamp", "x-nash-signature"]) {
      const headers: Record<string, string> = { ...good };
      delete headers[name];
      expect(await verifyRequest({ method: "POST", path, body, headers, now: T })).toMatchObject({ ok: false, reason: "missing" });
    }
    const bad = [
      { "x-nash-agent": "short" },
      { "x-nash-timestamp": "12.5" },
      { "x-nash-timestamp": "-1" },
      { "x-nash-signature": "AAAA" },
      { "x-nash-signature": "!!!" },
    ];
    for (const patch of bad) {
      expect(await verifyRequest({ method: "POST", path, body, headers: { ...good, ...patch }, now: T })).toMatchObject({ ok: false, reason: "malformed" });
    }
  });

  test("works with a Headers object", async () => {
    const headers = new Headers(await signed());
    expect((await verifyRequest({ method: "POST", path, body, headers, now: T })).ok).toBe(true);
  });
});
