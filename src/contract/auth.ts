// Agent request signing (CONTRACT.md section 5): Ed25519 over `METHOD\nPATH\nTIMESTAMP\nHEX_SHA256_OF_BODY`.
// Pure WebCrypto, so the same module runs in workerd, Node 22, the CLI and the SDKs.
//
// The empty body hashes like any other (CONTRACT v1.1): the SHA-256 of zero bytes, e3b0c442…b855, as every generic
// signing client computes it. Verification still accepts the deprecated v1.0 form, whose hash field is the empty
// string, so clients signed before v1.1 keep working during the transition (LEGACY_EMPTY_BODY_HASH).
import { base64urlToBytes, bytesToBase64url, bytesToHex, utf8ToBytes } from "./codec.ts";

/** Header names, lower-case as fetch normalises them. */
export const AGENT_HEADER = "x-nash-agent";
export const TIMESTAMP_HEADER = "x-nash-timestamp";
export const SIGNATURE_HEADER = "x-nash-signature";

/** ±30 s: how far a request's timestamp may be from the server clock. */
export const SIGNATURE_WINDOW_MS = 30_000;

/** The 16-byte PKCS#8 prefix of an Ed25519 private key; the 32-byte seed follows it. */
const PKCS8_ED25519_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** Body as bytes: strings are UTF-8 encoded; undefined/null is the empty body. */
function bodyBytes(body: string | Uint8Array | ArrayBuffer | null | undefined): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === "string") return utf8ToBytes(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

/** Lower-case hex SHA-256 of the body; the empty body gives the hash of zero bytes, EMPTY_BODY_HASH. */
export async function bodyHash(body: string | Uint8Array | ArrayBuffer | null | undefined): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bodyBytes(body))));
}

/** SHA-256 of zero bytes: the hash field of every empty-body request (CONTRACT v1.1). */
export const EMPTY_BODY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Deprecated: the v1.0 hash field of an empty body. Still verified, never produced; to be dropped in v2. */
export const LEGACY_EMPTY_BODY_HASH = "";

/** The exact string that is signed. `path` has no query string. */
export async function signingString(
  method: string,
  path: string,
  timestamp: number | string,
  body: string | Uint8Array | ArrayBuffer | null | undefined,
): Promise<string> {
  return `${method.toUpperCase()}\n${path}\n${timestamp}\n${await bodyHash(body)}`;
}

export interface AgentKey {
  /** Raw 32-byte Ed25519 public key, base64url without padding: the agent's identity (`x-nash-agent`). */
  publicKey: string;
  /** PKCS#8 private key, base64url without padding. Keep it secret. */
  privateKey: string;
}

/** A fresh random agent key pair. */
export async function generateAgentKey(): Promise<AgentKey> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer);
  return { publicKey: bytesToBase64url(raw), privateKey: bytesToBase64url(pkcs8) };
}

/** The agent key for a 32-byte Ed25519 seed (deterministic: test vectors, keys derived elsewhere). */
export async function agentKeyFromSeed(seed: Uint8Array): Promise<AgentKey> {
  if (seed.byteLength !== 32) throw new RangeError("an Ed25519 seed is 32 bytes");
  const pkcs8 = new Uint8Array(48);
  pkcs8.set(PKCS8_ED25519_PREFIX, 0);
  pkcs8.set(seed, 16);
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  // WebCrypto cannot derive the public key directly; a JWK export of the private key carries it as `x`.
  const jwk = (await crypto.subtle.exportKey("jwk", privateKey)) as JsonWebKey;
  if (typeof jwk.x !== "string") throw new Error("the runtime did not export the Ed25519 public key");
  return { publicKey: jwk.x.replace(/=+$/, ""), privateKey: bytesToBase64url(pkcs8) };
}

/** A private key as accepted by `signRequest`: PKCS#8 base64url (as `generateAgentKey` gives), a JWK or a CryptoKey. */
export type PrivateKeyInput = string | JsonWebKey | CryptoKey;

async function importPrivateKey(key: PrivateKeyInput): Promise<CryptoKey> {
  if (typeof key === "string") {
    const bytes = base64urlToBytes(key);
    if (bytes === undefined) throw new TypeError("privateKey is not base64url PKCS#8");
    return crypto.subtle.importKey("pkcs8", bytes, { name: "Ed25519" }, false, ["sign"]);
  }
  if (typeof CryptoKey !== "undefined" && key instanceof CryptoKey) return key;
  return crypto.subtle.importKey("jwk", key as JsonWebKey, { name: "Ed25519" }, false, ["sign"]);
}

async function publicKeyOf(key: PrivateKeyInput): Promise<string> {
  if (typeof key === "object" && !(typeof CryptoKey !== "undefined" && key instanceof CryptoKey)) {
    const x = (key as JsonWebKey).x;
    if (typeof x === "string") return x.replace(/=+$/, "");
  }
  if (typeof key === "string") {
    const bytes = base64urlToBytes(key);
    if (bytes !== undefined && bytes.byteLength === 48) return (await agentKeyFromSeed(bytes.slice(16))).publicKey;
  }
  throw new TypeError("publicKey is required with this kind of privateKey");
}

export interface SignRequestInput {
  privateKey: PrivateKeyInput;
  /** The agent's public key (base64url); derived from the private key when omitted. */
  publicKey?: string;
  method: string;
  /** The request path without the query string, exactly as sent (e.g. `/v1/markets/m/intents`). */
  path: string;
  /** The exact body bytes that will be sent; omit for an empty body. */
  body?: string | Uint8Array | ArrayBuffer | null;
  /** ms since the epoch; defaults to now. */
  timestamp?: number;
}

/** The three `x-nash-*` headers that authenticate a request. */
export async function signRequest(input: SignRequestInput): Promise<Record<string, string>> {
  const timestamp = input.timestamp ?? Date.now();
  const key = await importPrivateKey(input.privateKey);
  const publicKey = input.publicKey ?? (await publicKeyOf(input.privateKey));
  const message = await signingString(input.method, input.path, timestamp, input.body);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, utf8ToBytes(message)));
  return {
    [AGENT_HEADER]: publicKey,
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: bytesToBase64url(signature),
  };
}

export interface VerifyRequestInput {
  method: string;
  path: string;
  body?: string | Uint8Array | ArrayBuffer | null;
  /** Header lookup: a Headers object or a plain record (lower-case names). */
  headers: Headers | Record<string, string | undefined>;
  /** The server clock, ms since the epoch; defaults to now. */
  now?: number;
  /** Allowed clock difference; defaults to SIGNATURE_WINDOW_MS (30 s). */
  windowMs?: number;
}

export type AuthFailure = "missing" | "malformed" | "stale" | "bad_signature";

/** A verified request: the agent and what the replay guard needs to remember. */
export interface VerifiedRequest {
  ok: true;
  agent: string;
  timestamp: number;
  signature: string;
}

/** A refused request; `header` names the header at fault when one is. */
export interface VerifyFailure {
  ok: false;
  reason: AuthFailure;
  header?: string;
  message: string;
}

export type VerifyResult = VerifiedRequest | VerifyFailure;

function header(headers: VerifyRequestInput["headers"], name: string): string | undefined {
  if (typeof Headers !== "undefined" && headers instanceof Headers) return headers.get(name) ?? undefined;
  return (headers as Record<string, string | undefined>)[name];
}

// ---- Which public keys are identities. An Ed25519 key is a point (x, y) encoded as y (255 bits, little-endian)
// and the sign of x in the top bit. RFC 8032's verification equation [S]B = R + [k]A holds for every message when A
// has small order and R, S are chosen to match (A = the identity, R = the identity, S = 0), so such a key is no
// one's identity: anyone can sign as it. Refused, as libsodium refuses them: y ≥ p (non-canonical), y of one of the
// 8 small-order points (the identity, the point of order 2, of order 4 and of order 8, either sign of x; x = 0
// with the sign bit set is one of these), and y off the curve. Mixed-order points (large order plus a small
// component) are accepted, as libsodium accepts them: making one needs a private key, and it signs only for it.

/** The field prime 2^255 − 19. */
const P = 2n ** 255n - 19n;
/** The curve constant d = −121665/121666 mod p. */
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
/** The order-8 points' y; the other is p − Y8 (test/node/auth.test.ts derives all 8 small-order points anew). */
const Y8 = 0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n;
/** y of the small-order points: order 4 (y = 0), the identity (1), order 2 (p − 1), order 8 (Y8, p − Y8). */
const SMALL_ORDER_Y = new Set([0n, 1n, P - 1n, Y8, P - Y8]);

/**
 * The Jacobi symbol (a/n) for odd n > 0 (binary algorithm, Cohen's Algorithm 1.4.10); for the prime p it is the
 * Legendre symbol: 1 when a is a non-zero square mod p. ~7x faster here than Euler's criterion (a^((p-1)/2)).
 */
function jacobi(a: bigint, n: bigint): number {
  let t = 1;
  for (a %= n; a !== 0n; a %= n) {
    for (; (a & 1n) === 0n; a >>= 1n) if ((n & 7n) === 3n || (n & 7n) === 5n) t = -t; // (2/n) = −1 when n ≡ ±3 mod 8
    [a, n] = [n, a]; // quadratic reciprocity: the sign flips when both are 3 mod 4
    if ((a & 3n) === 3n && (n & 3n) === 3n) t = -t;
  }
  return n === 1n ? t : 0;
}

/**
 * True when the 32 bytes are the canonical encoding of a curve point of large order. y's point lies on the curve
 * when x² = (y² − 1)/(d·y² + 1) has a root, i.e. when (y² − 1)(d·y² + 1) is a square mod p (d·y² + 1 is never 0,
 * as −1/d is not a square; y² − 1 = 0 only for the small-order y = ±1). About a tenth of a signature check;
 * run once per new key (verifyKeys).
 */
export function isLargeOrderPoint(encoded: Uint8Array): boolean {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? encoded[i] & 0x7f : encoded[i]);
  if (y >= P || SMALL_ORDER_Y.has(y)) return false;
  const yy = (y * y) % P;
  return jacobi((yy - 1n + P) * (D * yy + 1n), P) === 1;
}

/**
 * Imported verify keys per agent (the header text), kept for the isolate's life: importing the same key on every
 * write showed in the load profile (notes/robust.md, "Performance pass"). Bounded: emptied when it reaches
 * VERIFY_KEY_CACHE_MAX, which only costs re-imports. A failed import is not kept. Only keys that passed
 * isLargeOrderPoint get here, so that check runs once per key, not on every write.
 */
const VERIFY_KEY_CACHE_MAX = 10_000;
const verifyKeys = new Map<string, CryptoKey>();

async function verifyKeyOf(agent: string, publicKey: Uint8Array): Promise<CryptoKey> {
  const cached = verifyKeys.get(agent);
  if (cached) return cached;
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  if (verifyKeys.size >= VERIFY_KEY_CACHE_MAX) verifyKeys.clear();
  verifyKeys.set(agent, key);
  return key;
}

/** The strings a request's signature may cover: the v1.1 one, and for an empty body also the deprecated v1.0 one. */
async function acceptedSigningStrings(input: VerifyRequestInput, timestamp: string): Promise<string[]> {
  const message = await signingString(input.method, input.path, timestamp, input.body);
  if (bodyBytes(input.body).byteLength > 0) return [message];
  return [message, message.slice(0, -EMPTY_BODY_HASH.length) + LEGACY_EMPTY_BODY_HASH];
}

async function signatureMatches(agent: string, publicKey: Uint8Array, sig: Uint8Array, messages: string[]): Promise<boolean> {
  try {
    const key = await verifyKeyOf(agent, publicKey);
    for (const message of messages) {
      if (await crypto.subtle.verify({ name: "Ed25519" }, key, sig, utf8ToBytes(message))) return true;
    }
  } catch {
    // an import the runtime refuses: the same answer as a wrong signature
  }
  return false;
}

/**
 * Checks the key, the signature and the ±window timestamp. Replays are NOT detected here (that needs memory of
 * seen signatures, which the market object keeps); the result carries the signature for that check.
 */
export async function verifyRequest(input: VerifyRequestInput): Promise<VerifyResult> {
  const agent = header(input.headers, AGENT_HEADER);
  const ts = header(input.headers, TIMESTAMP_HEADER);
  const signature = header(input.headers, SIGNATURE_HEADER);
  if (!agent || !ts || !signature) {
    return {
      ok: false,
      reason: "missing",
      message: `writes must be signed: send ${AGENT_HEADER}, ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER}`,
    };
  }
  const publicKey = base64urlToBytes(agent);
  if (publicKey === undefined || publicKey.byteLength !== 32) {
    return malformed(AGENT_HEADER, `${AGENT_HEADER} must be a base64url Ed25519 public key (32 bytes)`);
  }
  if (!verifyKeys.has(agent) && !isLargeOrderPoint(publicKey)) {
    const why = "small-order, non-canonical and off-curve keys are refused";
    return malformed(AGENT_HEADER, `${AGENT_HEADER} must be the canonical encoding of an Ed25519 point of large order (${why})`);
  }
  if (!/^\d{1,16}$/.test(ts)) {
    return malformed(TIMESTAMP_HEADER, `${TIMESTAMP_HEADER} must be milliseconds since the epoch`);
  }
  const sig = base64urlToBytes(signature);
  if (sig === undefined || sig.byteLength !== 64) {
    return malformed(SIGNATURE_HEADER, `${SIGNATURE_HEADER} must be a base64url Ed25519 signature (64 bytes)`);
  }
  const timestamp = Number(ts);
  const now = input.now ?? Date.now();
  const windowMs = input.windowMs ?? SIGNATURE_WINDOW_MS;
  if (Math.abs(now - timestamp) > windowMs) {
    return {
      ok: false,
      reason: "stale",
      header: TIMESTAMP_HEADER,
      message: `${TIMESTAMP_HEADER} is ${now - timestamp} ms from the server clock; it must be within ±${windowMs} ms`,
    };
  }
  if (!(await signatureMatches(agent, publicKey, sig, await acceptedSigningStrings(input, ts)))) {
    return { ok: false, reason: "bad_signature", message: "the signature does not match this request" };
  }
  return { ok: true, agent: bytesToBase64url(publicKey), timestamp, signature: bytesToBase64url(sig) };
}

function malformed(name: string, message: string): VerifyFailure {
  return { ok: false, reason: "malformed", header: name, message };
}
