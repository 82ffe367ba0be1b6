// src/contract/auth.ts against independent references: RFC 8032's Ed25519 vector, node:crypto, and pinned NASH vectors.
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  agentKeyFromSeed,
  bodyHash,
  EMPTY_BODY_HASH,
  generateAgentKey,
  isLargeOrderPoint,
  signRequest,
  signingString,
  verifyRequest,
} from "../../src/contract/auth.ts";
import { base64urlToBytes, bytesToBase64url } from "../../src/contract/codec.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));
const SEED = new Uint8Array(32).map((_, i) => i); // 00 01 .. 1f
const T = 1_700_000_000_000;

describe("keys", () => {
  test("RFC 8032 test 1: the seed gives the published public key and signature", async () => {
    const key = await agentKeyFromSeed(hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
    expect(Buffer.from(base64urlToBytes(key.publicKey)!).toString("hex")).toBe(
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    );
    const pk = createPrivateKey({ key: Buffer.from(key.privateKey, "base64url"), format: "der", type: "pkcs8" });
    expect(nodeSign(null, Buffer.alloc(0), pk).toString("hex")).toBe(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
  });

  test("generateAgentKey: 32-byte public key, PKCS#8 private key that signs verifiably", async () => {
    const key = await generateAgentKey();
    expect(base64urlToBytes(key.publicKey)!.byteLength).toBe(32);
    expect(key.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const headers = await signRequest({ privateKey: key.privateKey, method: "POST", path: "/p", body: "{}", timestamp: T });
    expect(headers["x-nash-agent"]).toBe(key.publicKey); // derived from the private key
    expect((await verifyRequest({ method: "POST", path: "/p", body: "{}", headers, now: T })).ok).toBe(true);
  });

  test("base64url round trip, padding tolerated, junk refused", () => {
    const bytes = Uint8Array.from([0, 255, 62, 63, 250]);
    expect(base64urlToBytes(bytesToBase64url(bytes))).toEqual(bytes);
    expect(base64urlToBytes(bytesToBase64url(bytes) + "=")).toEqual(bytes);
    expect(base64urlToBytes("a+b/")).toBeUndefined();
    expect(base64urlToBytes("abcde")).toBeUndefined();
  });

  test("base64url agrees with Node's codec on any bytes and any text", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = bytesToBase64url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString("base64url"));
        expect(base64urlToBytes(text)).toEqual(bytes);
        expect(base64urlToBytes(Buffer.from(bytes).toString("base64"))).toEqual(/[+/]/.test(Buffer.from(bytes).toString("base64")) ? undefined : bytes);
      }),
      { numRuns: 2000 },
    );
    // Any text: undefined exactly when it is not base64url (one character too many for a byte is refused too).
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."AZaz09-_+/=é ".split("")), maxLength: 24 }), (text) => {
        const bare = text.replace(/=+$/, "");
        const valid = /^[A-Za-z0-9_-]*$/.test(bare) && bare.length % 4 !== 1;
        const decoded = base64urlToBytes(text);
        expect(decoded === undefined).toBe(!valid);
        if (decoded) expect(decoded).toEqual(new Uint8Array(Buffer.from(bare, "base64url")));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("signing string and test vectors (documented in notes/edge.md)", () => {
  test("empty body: the hash field is the SHA-256 of zero bytes (CONTRACT v1.1)", async () => {
    expect(EMPTY_BODY_HASH).toBe(createHash("sha256").update(Buffer.alloc(0)).digest("hex"));
    expect(await bodyHash("")).toBe(EMPTY_BODY_HASH);
    expect(await bodyHash(undefined)).toBe(EMPTY_BODY_HASH);
    expect(await bodyHash(new Uint8Array(0))).toBe(EMPTY_BODY_HASH);
    expect(await signingString("delete", "/v1/markets/demo/intents/i-1", T, undefined)).toBe(
      "DELETE\n/v1/markets/demo/intents/i-1\n1700000000000\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
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
      "x-nash-signature": "liIX64jWlTaZDIHkd9HqAL6m-D3zfZSWlQHNjlicYE7kdL5rTxzHPE5FBhnVFOl7BgaVab0FTlP5jmqqhU9FAQ",
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

/** Signs `message` with node:crypto, apart from src/contract/auth.ts's signing string: what a generic client does. */
async function nodeSigned(message: string, timestamp: number): Promise<Record<string, string>> {
  const key = await agentKeyFromSeed(SEED);
  const pk = createPrivateKey({ key: Buffer.from(key.privateKey, "base64url"), format: "der", type: "pkcs8" });
  return {
    "x-nash-agent": key.publicKey,
    "x-nash-timestamp": String(timestamp),
    "x-nash-signature": nodeSign(null, Buffer.from(message), pk).toString("base64url"),
  };
}

describe("verifyRequest: the empty body", () => {
  const path = "/v1/markets/m/intents/i-1";
  const zeroBytesHash = createHash("sha256").update(Buffer.alloc(0)).digest("hex");

  test("a DELETE signed over the SHA-256 of zero bytes is accepted (issue 14, item 10)", async () => {
    const headers = await nodeSigned(`DELETE\n${path}\n${T}\n${zeroBytesHash}`, T);
    for (const body of [undefined, null, "", new Uint8Array(0)]) {
      expect(await verifyRequest({ method: "DELETE", path, body, headers, now: T })).toMatchObject({ ok: true });
    }
  });

  test("the deprecated v1.0 form (empty hash field) is still accepted, for an empty body only", async () => {
    const headers = await nodeSigned(`DELETE\n${path}\n${T}\n`, T);
    expect(await verifyRequest({ method: "DELETE", path, headers, now: T })).toMatchObject({ ok: true });
    const post = await nodeSigned(`POST\n${path}\n${T}\n`, T);
    expect(await verifyRequest({ method: "POST", path, body: "{}", headers: post, now: T })).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  test("a signature over the empty body's hash does not cover a non-empty body", async () => {
    const headers = await nodeSigned(`POST\n${path}\n${T}\n${zeroBytesHash}`, T);
    expect(await verifyRequest({ method: "POST", path, body: "{}", headers, now: T })).toMatchObject({ ok: false, reason: "bad_signature" });
  });
});

// ---- Small-order and non-canonical keys, checked against Edwards arithmetic written here (affine, BigInt), not
// against the list in src/contract/auth.ts: the torsion points are found as [L]·P of points of the curve and checked by
// [8]T = identity.
const p = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n; // the prime order of the base point's group
const mod = (a: bigint) => ((a % p) + p) % p;
function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  for (b = mod(b); e > 0n; e >>= 1n, b = (b * b) % p) if (e & 1n) r = (r * b) % p;
  return r;
}
const inv = (a: bigint) => pow(a, p - 2n);
const d = mod(-121665n * inv(121666n));
const sqrtMinus1 = pow(2n, (p - 1n) / 4n);
type Point = { x: bigint; y: bigint };
const IDENTITY: Point = { x: 0n, y: 1n };

function add(a: Point, b: Point): Point {
  const t = mod(d * a.x * b.x * a.y * b.y);
  return { x: mod((a.x * b.y + a.y * b.x) * inv(1n + t)), y: mod((a.y * b.y + a.x * b.x) * inv(1n - t)) };
}
function times(n: bigint, a: Point): Point {
  let r = IDENTITY;
  for (let q = a; n > 0n; n >>= 1n, q = add(q, q)) if (n & 1n) r = add(r, q);
  return r;
}
const same = (a: Point, b: Point) => a.x === b.x && a.y === b.y;
const yOf = (bytes: Uint8Array) => BigInt("0x" + Buffer.from(bytes).reverse().toString("hex")) & (2n ** 255n - 1n);

/** RFC 8032 section 5.1.3 decoding: undefined for a non-canonical or off-curve encoding. */
function decode(bytes: Uint8Array): Point | undefined {
  const y = yOf(bytes);
  const sign = bytes[31] >> 7;
  if (y >= p) return undefined;
  const x2 = mod((y * y - 1n) * inv(d * y * y + 1n));
  let x = pow(x2, (p + 3n) / 8n);
  if (mod(x * x) !== x2) x = mod(x * sqrtMinus1);
  if (mod(x * x) !== x2) return undefined;
  if (x === 0n && sign === 1) return undefined;
  return { x: Number(x & 1n) === sign ? x : p - x, y };
}
function encode(y: bigint, sign: number): Uint8Array {
  const bytes = Uint8Array.from(Buffer.from(y.toString(16).padStart(64, "0"), "hex").reverse());
  bytes[31] |= sign << 7;
  return bytes;
}
const isSmallOrder = (a: Point) => same(times(8n, a), IDENTITY);

/** The 8 points of the torsion group: the multiples of [L]·P for the first P whose [L]·P has order 8. */
function torsionPoints(): Point[] {
  for (let y = 2n; ; y++) {
    const point = decode(encode(y, 0));
    if (point === undefined) continue;
    const t = times(L, point);
    if (same(times(4n, t), IDENTITY)) continue; // order < 8: try the next point
    return [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n].map((k) => times(k, t));
  }
}
const TORSION = torsionPoints();

/** Every 32-byte encoding of a small-order point's y: both sign bits, and y + p where that fits in 255 bits. */
function smallOrderEncodings(): Uint8Array[] {
  const ys = [...new Set(TORSION.map((t) => t.y))];
  return ys.flatMap((y) => [y, y + p].filter((v) => v < 2n ** 255n).flatMap((v) => [encode(v, 0), encode(v, 1)]));
}

describe("keys: only canonical encodings of points of large order are identities (issue 14, item 6)", () => {
  const identity = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0));
  const forged = Uint8Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 0)); // R = identity, S = 0
  const path = "/v1/markets/m/intents";

  test("the identity key with signature 01 00…00 signs nothing", async () => {
    const headers = { "x-nash-agent": bytesToBase64url(identity), "x-nash-timestamp": String(T), "x-nash-signature": bytesToBase64url(forged) };
    for (const [method, body] of [["POST", '{"side":"buy"}'], ["DELETE", undefined], ["PUT", "{}"]] as const) {
      const r = await verifyRequest({ method, path, body, headers, now: T });
      expect(r).toMatchObject({ ok: false, reason: "malformed", header: "x-nash-agent", message: expect.stringContaining("x-nash-agent") });
    }
  });

  test("the torsion group derived here: 8 distinct points, [8]T = identity, the 8 canonical encodings libsodium blocks", () => {
    expect(new Set(TORSION.map((t) => `${t.x},${t.y}`)).size).toBe(8);
    for (const t of TORSION) expect(isSmallOrder(t)).toBe(true);
    const canonical = TORSION.map((t) => Buffer.from(encode(t.y, Number(t.x & 1n))).toString("hex")).sort();
    expect(canonical).toEqual(
      [
        "0100000000000000000000000000000000000000000000000000000000000000", // identity
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
        "0000000000000000000000000000000000000000000000000000000000000000", // order 4
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
      ].sort(),
    );
  });

  test("every encoding of a small-order point is refused, canonical or not", async () => {
    const encodings = smallOrderEncodings();
    expect(encodings.length).toBe(14); // 5 distinct y × 2 signs, plus y + p for y = 0 and y = 1 × 2 signs
    for (const bytes of encodings) {
      expect(isLargeOrderPoint(bytes)).toBe(false);
      const headers = { "x-nash-agent": bytesToBase64url(bytes), "x-nash-timestamp": String(T), "x-nash-signature": bytesToBase64url(forged) };
      expect(await verifyRequest({ method: "DELETE", path, headers, now: T })).toMatchObject({ ok: false, header: "x-nash-agent" });
    }
  });

  test("non-canonical y (y ≥ p) and off-curve y are refused", () => {
    for (let y = p; y < 2n ** 255n; y++) for (const sign of [0, 1]) expect(isLargeOrderPoint(encode(y, sign))).toBe(false);
    const offCurve = encode(2n, 0); // y = 2 is not on the curve (checked here)
    expect(decode(offCurve)).toBeUndefined();
    expect(isLargeOrderPoint(offCurve)).toBe(false);
  });

  test("isLargeOrderPoint agrees with RFC 8032 decoding and [8]P ≠ identity on any bytes", () => {
    const nearEdges = fc.constantFrom(0n, 1n, p - 1n, p - 20n, p, 2n ** 255n - 1n, ...TORSION.map((t) => t.y));
    const anyY = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 255n - 1n }), nearEdges.chain((y) => fc.bigInt({ min: y - 2n, max: y + 2n })));
    fc.assert(
      fc.property(anyY, fc.integer({ min: 0, max: 1 }), (y, sign) => {
        const bytes = encode(BigInt.asUintN(255, y), sign);
        const point = decode(bytes);
        expect(isLargeOrderPoint(bytes)).toBe(point !== undefined && !isSmallOrder(point));
      }),
      { numRuns: 400 },
    );
  });

  test("real keys are accepted: random, from seeds, and RFC 8032's", async () => {
    for (let i = 0; i < 50; i++) expect(isLargeOrderPoint(base64urlToBytes((await generateAgentKey()).publicKey)!)).toBe(true);
    expect(isLargeOrderPoint(hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))).toBe(true);
    const headers = await nodeSigned(`DELETE\n${path}/i-1\n${T}\n${EMPTY_BODY_HASH}`, T);
    expect(await verifyRequest({ method: "DELETE", path: `${path}/i-1`, headers, now: T })).toMatchObject({ ok: true });
  });

  test("the check costs microseconds per new key", () => {
    const keys = Array.from({ length: 64 }, () => crypto.getRandomValues(new Uint8Array(32)));
    const start = performance.now();
    for (let i = 0; i < 1000; i++) isLargeOrderPoint(keys[i % keys.length]);
    const perKeyMs = (performance.now() - start) / 1000;
    console.log(`isLargeOrderPoint: ${(perKeyMs * 1000).toFixed(1)} µs per key`);
    expect(perKeyMs).toBeLessThan(1);
  });
});
