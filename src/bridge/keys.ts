// sr25519 hotkeys as Bittensor (btwallet → sp-core → schnorrkel) makes them: secret URIs with derivation paths,
// signatures with the `substrate` context, and SS58 addresses. Pure: runs in workerd and in Node.
import { HDKD, getPublicKey, secretFromSeed, sign, verify } from "@scure/sr25519";
import { mnemonicToEntropy } from "@scure/bip39";
import { wordlist as english } from "@scure/bip39/wordlists/english.js";
import { blake2b } from "@noble/hashes/blake2.js";
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { base58 } from "@scure/base";
import { hexToBytes, utf8ToBytes } from "../contract/codec.ts";

/** sp-core's development phrase: a URI that starts with a path (`//Alice`) derives from it. */
export const DEV_PHRASE = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
/** Generic Substrate / Bittensor SS58 prefix. */
export const SS58_PREFIX = 42;

export interface Sr25519Keypair {
  /** 64 bytes in @scure/sr25519's layout (cofactor-multiplied scalar ‖ nonce). Never log it. */
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** SS58 address with prefix 42, as `wallet.hotkey.ss58_address` prints it. */
  readonly ss58: string;
}

export type KeyOutcome = { ok: true; keypair: Sr25519Keypair } | { ok: false; error: string };

// sp-core's SecretUri grammar: `phrase? (/soft | //hard)* (///password)?`. Rust's `\w` is Unicode, hence \p{..}.
const SECRET_URI = /^(?<phrase>[\p{L}\p{M}\p{N}\p{Pc} ]+)?(?<path>(?:\/\/?[^/]+)*)(?:\/\/\/(?<password>.*))?$/su;
const JUNCTION = /\/(\/?[^/]+)/g;

interface Junction {
  hard: boolean;
  chainCode: Uint8Array;
}

/** SCALE compact length prefix (sp-core encodes a string junction as compact(len) ‖ bytes). */
function compactLength(n: number): Uint8Array {
  if (n < 1 << 6) return Uint8Array.of(n << 2);
  if (n < 1 << 14) return Uint8Array.of(((n << 2) | 1) & 0xff, n >> 6);
  if (n < 2 ** 30) {
    const v = (n * 4 + 2) >>> 0;
    return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
  }
  throw new RangeError("junction too long");
}

const U64_MAX = (1n << 64n) - 1n;

/** DeriveJunction::from(&str): a u64 (Rust `parse::<u64>`, `+` allowed) is encoded LE, anything else as a SCALE
 * string; encodings longer than 32 bytes are replaced by their blake2b-256. */
function junction(code: string): Junction {
  let hard = false;
  if (code.startsWith("/")) {
    hard = true;
    code = code.slice(1);
  }
  let encoded: Uint8Array;
  if (/^\+?[0-9]+$/.test(code) && BigInt(code) <= U64_MAX) {
    let n = BigInt(code);
    encoded = new Uint8Array(8);
    for (let i = 0; i < 8; i++, n >>= 8n) encoded[i] = Number(n & 0xffn);
  } else {
    const bytes = utf8ToBytes(code);
    const prefix = compactLength(bytes.length);
    encoded = new Uint8Array(prefix.length + bytes.length);
    encoded.set(prefix);
    encoded.set(bytes, prefix.length);
  }
  const chainCode = new Uint8Array(32);
  chainCode.set(encoded.length > 32 ? blake2b(encoded, { dkLen: 32 }) : encoded);
  return { hard, chainCode };
}

/** substrate-bip39 `mini_secret_from_entropy`: PBKDF2-HMAC-SHA512 over the *entropy* (not the phrase, unlike
 * BIP39 seeds), salt "mnemonic" + password, 2048 rounds, first 32 bytes. */
export function miniSecretFromPhrase(phrase: string, password = ""): Uint8Array {
  const entropy = mnemonicToEntropy(phrase, english);
  return pbkdf2(sha512, entropy, utf8ToBytes(`mnemonic${password}`), { c: 2048, dkLen: 64 }).slice(0, 32);
}

function keypairOf(secretKey: Uint8Array): Sr25519Keypair {
  const publicKey = getPublicKey(secretKey);
  return { secretKey, publicKey, ss58: ss58Encode(publicKey) };
}

/**
 * Keypair from a secret URI exactly as `Keypair.create_from_uri` / `create_from_mnemonic` do (sp-core
 * `Pair::from_string`): `//Alice`, `//hard/soft`, `<mnemonic>//path///password`, `0x<32-byte seed>//path`.
 * A URI without a phrase derives from {@link DEV_PHRASE}. Soft junctions pick a random signing nonce, as
 * schnorrkel does; the keys themselves are deterministic.
 */
export function keypairFromUri(uri: string): KeyOutcome {
  const m = SECRET_URI.exec(uri);
  if (!m?.groups) return { ok: false, error: "not a secret URI: expected phrase, //hard or /soft junctions, ///password" };
  const phrase = m.groups.phrase ?? DEV_PHRASE;
  const path = m.groups.path ?? "";
  const password = m.groups.password ?? "";
  let mini: Uint8Array;
  if (phrase.startsWith("0x")) {
    // sp-core ignores the password for a raw seed.
    const seed = hexToBytes(phrase);
    if (!seed || seed.length !== 32) return { ok: false, error: "a hex seed must be 0x followed by 64 hex digits" };
    mini = seed;
  } else {
    try {
      mini = miniSecretFromPhrase(phrase, password);
    } catch {
      return { ok: false, error: "the phrase is not a valid English BIP39 mnemonic (word or checksum)" };
    }
  }
  let secret: Uint8Array = secretFromSeed(mini);
  for (const j of path.matchAll(JUNCTION)) {
    const { hard, chainCode } = junction(j[1]);
    secret = hard ? HDKD.secretHard(secret, chainCode) : HDKD.secretSoft(secret, chainCode);
  }
  return { ok: true, keypair: keypairOf(secret) };
}

/** Like {@link keypairFromUri} but throws: for configuration read at start-up, where a bad secret is a bug. */
export function keypairFromUriOrThrow(uri: string): Sr25519Keypair {
  const r = keypairFromUri(uri);
  if (!r.ok) throw new Error(r.error);
  return r.keypair;
}

const SS58_PRE = utf8ToBytes("SS58PRE");

function ss58Checksum(payload: Uint8Array): Uint8Array {
  const data = new Uint8Array(SS58_PRE.length + payload.length);
  data.set(SS58_PRE);
  data.set(payload, SS58_PRE.length);
  return blake2b(data, { dkLen: 64 }).subarray(0, 2);
}

function ss58PrefixBytes(prefix: number): Uint8Array {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 16383 || prefix === 46 || prefix === 47) {
    throw new RangeError(`invalid SS58 prefix ${prefix}`);
  }
  if (prefix < 64) return Uint8Array.of(prefix);
  // Two-byte form, as in sp-core's to_ss58check_with_version.
  return Uint8Array.of(((prefix & 0b1111_1100) >> 2) | 0b0100_0000, (prefix >> 8) | ((prefix & 0b11) << 6));
}

/** SS58 of a 32-byte public key: base58(prefix ‖ key ‖ blake2b-512("SS58PRE" ‖ prefix ‖ key)[0..2]). */
export function ss58Encode(publicKey: Uint8Array, prefix = SS58_PREFIX): string {
  if (publicKey.length !== 32) throw new RangeError("an sr25519 public key is 32 bytes");
  const pre = ss58PrefixBytes(prefix);
  const payload = new Uint8Array(pre.length + 32);
  payload.set(pre);
  payload.set(publicKey, pre.length);
  const out = new Uint8Array(payload.length + 2);
  out.set(payload);
  out.set(ss58Checksum(payload), payload.length);
  return base58.encode(out);
}

export type Ss58Outcome = { ok: true; publicKey: Uint8Array; prefix: number } | { ok: false; error: string };

/** Decodes an SS58 address of a 32-byte key, checking the length, the prefix form and the checksum. */
export function ss58Decode(address: string): Ss58Outcome {
  let raw: Uint8Array;
  try {
    raw = base58.decode(address);
  } catch {
    return { ok: false, error: "not base58" };
  }
  if (raw.length < 1) return { ok: false, error: "empty address" };
  let prefix: number;
  let preLen: number;
  if (raw[0] < 64) {
    prefix = raw[0];
    preLen = 1;
  } else if (raw[0] < 128 && raw.length > 1) {
    const lower = ((raw[0] << 2) | (raw[1] >> 6)) & 0xff;
    const upper = raw[1] & 0b0011_1111;
    prefix = lower | (upper << 8);
    preLen = 2;
  } else {
    return { ok: false, error: "invalid SS58 prefix byte" };
  }
  if (raw.length !== preLen + 32 + 2) return { ok: false, error: "not the address of a 32-byte key" };
  const payload = raw.subarray(0, preLen + 32);
  const sum = ss58Checksum(payload);
  if (sum[0] !== raw[preLen + 32] || sum[1] !== raw[preLen + 33]) return { ok: false, error: "bad SS58 checksum" };
  return { ok: true, publicKey: raw.slice(preLen, preLen + 32), prefix };
}

/** sr25519 signature (context `substrate`) over the UTF-8 of `message`, as `Keypair.sign` makes it. */
export function signMessage(keypair: Sr25519Keypair, message: string | Uint8Array, random?: Uint8Array): Uint8Array {
  return sign(keypair.secretKey, typeof message === "string" ? utf8ToBytes(message) : message, random);
}

/**
 * `Keypair.verify` from btwallet: true if the signature covers the message, or the message wrapped in
 * `<Bytes>…</Bytes>` (what polkadot.js browser extensions sign). Malformed signatures are false, not throws.
 */
export function verifySignature(message: string | Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const msg = typeof message === "string" ? utf8ToBytes(message) : message;
  const attempt = (m: Uint8Array) => {
    try {
      return verify(m, signature, publicKey);
    } catch {
      return false;
    }
  };
  if (attempt(msg)) return true;
  const open = utf8ToBytes("<Bytes>");
  const close = utf8ToBytes("</Bytes>");
  const wrapped = new Uint8Array(open.length + msg.length + close.length);
  wrapped.set(open);
  wrapped.set(msg, open.length);
  wrapped.set(close, open.length + msg.length);
  return attempt(wrapped);
}
