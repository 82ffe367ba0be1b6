// Commitments (CONTRACT.md section 6): what a validator may see of an intent. A salted SHA-256 binds the whole
// intent; beside it sit a few coarse public features (bands) from which the learned scorer works. Pure code: it
// runs unchanged in workerd, Node and the CLI (@noble/hashes, no WebCrypto promise needed).
//
// Hash input (version 1), exactly: the UTF-8 bytes of
//   canonicalJson({ "v": 1, "salt": SALT, "intent": INTENT })
// where INTENT holds the intent's defined fields among id, agent, side, resource, quantity, minQuantity,
// limitPrice, region, maxLatencyMs, expiresAt, window, maxRate, priority, preferLatencyMs, latencyDiscount, kind,
// swapFor (absent/undefined fields are left out, so an intent without the later fields hashes as it always did:
// the hash binds the whole intent, a window or a swap's terms included), and canonicalJson writes
// object keys in ascending code-unit order, no whitespace, strings and numbers as JSON.stringify writes them.
// The hash is lower-case hex. SALT is a string the agent keeps: 32 hex characters (16 random bytes) or more.
//
// Bands (all public, all coarse; notes/model.md lists them with test vectors):
//   quantityBand = floor(4·log2(quantity))        → a band spans a factor 2^(1/4) ≈ 1.19 (band k: [2^(k/4), 2^((k+1)/4)))
//   priceBand    = floor(32·log2(limitPrice))     → a band spans a factor 2^(1/32) ≈ 1.022; price 0 → null
//   minimum      = "none" (no minQuantity or 0) | "some" (0 < min < quantity) | "all" (min == quantity)
//   latencyBand  = index of the first edge in LATENCY_BAND_CAPS ≥ maxLatencyMs (edges 5, 10, 20, 30, 50, 75,
//                  100, 150, 200, 300, 500 ms; 11 above 500); null when the intent sets no cap
// and, only when the intent has them (so a plain intent publishes exactly the bands above):
//   window       = { startHour: floor(start / 1 h) (UTC hours since the epoch: with the batch's open, which is
//                  public, the start's offset from it to the hour), lengthBand: floor(2·log2(hours)) (a band spans
//                  a factor √2) }; a validator reads the window as [startHour, startHour + band middle)
//   rateBand     = quantityBand(maxRate)
//   swapFor      = { resource, priceBand: priceBand(swapFor.limitPrice ?? 0), window? } for a swap or deferral:
//                  what it takes (the resource is routed publicly anyway), its leg's price and window bands
// Band widths are the privacy/accuracy knob: measured in notes/model.md, √2 quantity and 9% price bands left the
// best estimator (exact optimum on band midpoints) at MAE ≈ 0.066 on small markets, above the 0.03 target.
// plus side, resource and region, which the market needs to route anyway, and the intent id, which fills name.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "../contract/codec.ts";
import type { Intent, Side } from "../contract/schema.ts";

export const COMMITMENT_VERSION = 1;
export const QUANTITY_BANDS_PER_OCTAVE = 4;
export const PRICE_BANDS_PER_OCTAVE = 32;
/** Upper edges (ms) of latency bands 0..10; band 11 is anything above 500 ms. */
export const LATENCY_BAND_CAPS: readonly number[] = [5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500];

export type MinimumBand = "none" | "some" | "all";

/** A window in bands: the UTC hour it starts in and its length in √2 bands of hours. */
export interface WindowBand {
  startHour: number;
  lengthBand: number;
}

export interface CommitmentFeatures {
  side: Side;
  resource: string;
  region: string;
  quantityBand: number;
  /** null when the limit price is 0. */
  priceBand: number | null;
  minimum: MinimumBand;
  /** null when the intent sets no maxLatencyMs. */
  latencyBand: number | null;
  /** Only with a window (what it gives, for a swap). */
  window?: WindowBand;
  /** Only with maxRate: its quantity band. */
  rateBand?: number;
  /** Only for a swap or deferral: what it takes. */
  swapFor?: { resource: string; priceBand: number | null; window?: WindowBand };
}

export interface Commitment {
  v: typeof COMMITMENT_VERSION;
  /** The intent id: public, because fills name it. */
  id: string;
  /** Lower-case hex SHA-256 of the hash input above. */
  hash: string;
  features: CommitmentFeatures;
}

export type OpenRefusal = "bad_salt" | "id_mismatch" | "hash_mismatch" | "features_mismatch" | "bad_version";
export type OpenOutcome = { ok: true } | { ok: false; reason: OpenRefusal; detail: string };

const INTENT_FIELDS = [
  "id", "agent", "side", "resource", "quantity", "minQuantity", "limitPrice", "region", "maxLatencyMs", "expiresAt",
  "window", "maxRate", "priority", "preferLatencyMs", "latencyDiscount", "kind", "swapFor",
] as const;

/** JSON with object keys sorted and no whitespace; undefined object members are left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const s = JSON.stringify(value);
    if (s === undefined) throw new TypeError("canonicalJson: value has no JSON form");
    return s;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(",")}}`;
}

/** The exact string that is hashed (documented above). */
export function commitmentPreimage(intent: Intent, salt: string): string {
  const bound: Record<string, unknown> = {};
  for (const field of INTENT_FIELDS) bound[field] = intent[field];
  return canonicalJson({ v: COMMITMENT_VERSION, salt, intent: bound });
}

export function quantityBand(quantity: number): number {
  return Math.floor(QUANTITY_BANDS_PER_OCTAVE * Math.log2(quantity));
}

export function priceBand(limitPrice: number): number | null {
  return limitPrice > 0 ? Math.floor(PRICE_BANDS_PER_OCTAVE * Math.log2(limitPrice)) : null;
}

export function latencyBand(maxLatencyMs: number | undefined): number | null {
  if (maxLatencyMs === undefined) return null;
  const i = LATENCY_BAND_CAPS.findIndex((cap) => maxLatencyMs <= cap);
  return i === -1 ? LATENCY_BAND_CAPS.length : i;
}

export function minimumBand(intent: Pick<Intent, "quantity" | "minQuantity">): MinimumBand {
  const m = intent.minQuantity ?? 0;
  if (m <= 0) return "none";
  return m >= intent.quantity ? "all" : "some";
}

/** Geometric middle of a quantity band: what a validator assumes the quantity is. */
export function quantityBandMid(band: number): number {
  return 2 ** ((band + 0.5) / QUANTITY_BANDS_PER_OCTAVE);
}

/** Geometric middle of a price band; 0 for the null (zero-price) band. */
export function priceBandMid(band: number | null): number {
  return band === null ? 0 : 2 ** ((band + 0.5) / PRICE_BANDS_PER_OCTAVE);
}

/** Largest latency cap (ms) the band allows; Infinity for no cap or the open top band. */
export function latencyBandCap(band: number | null): number {
  return band === null || band >= LATENCY_BAND_CAPS.length ? Infinity : LATENCY_BAND_CAPS[band];
}

const HOUR_MS = 3_600_000;
export const WINDOW_LENGTH_BANDS_PER_OCTAVE = 2;

export function windowBand(window: { start: string; end: string }): WindowBand {
  const start = Date.parse(window.start);
  const hours = (Date.parse(window.end) - start) / HOUR_MS;
  return { startHour: Math.floor(start / HOUR_MS), lengthBand: Math.floor(WINDOW_LENGTH_BANDS_PER_OCTAVE * Math.log2(hours)) };
}

/**
 * The window a validator imagines from its band, in ms: from the start hour for the band's middle length (`low`:
 * its shortest length, a pessimistic reading).
 */
export function windowBandSpan(band: WindowBand, length: "middle" | "low" = "middle"): { start: number; end: number } {
  const hours = 2 ** ((band.lengthBand + (length === "low" ? 0 : 0.5)) / WINDOW_LENGTH_BANDS_PER_OCTAVE);
  return { start: band.startHour * HOUR_MS, end: band.startHour * HOUR_MS + hours * HOUR_MS };
}

export function commitmentFeatures(intent: Intent): CommitmentFeatures {
  const { swapFor } = intent;
  return {
    side: intent.side,
    resource: intent.resource,
    region: intent.region,
    quantityBand: quantityBand(intent.quantity),
    priceBand: priceBand(intent.limitPrice),
    minimum: minimumBand(intent),
    latencyBand: latencyBand(intent.maxLatencyMs),
    ...(intent.window ? { window: windowBand(intent.window) } : {}),
    ...(intent.maxRate !== undefined ? { rateBand: quantityBand(intent.maxRate) } : {}),
    ...(swapFor ? {
      swapFor: {
        resource: swapFor.resource, priceBand: priceBand(swapFor.limitPrice ?? 0),
        ...(swapFor.window ? { window: windowBand(swapFor.window) } : {}),
      },
    } : {}),
  };
}

const SALT = /^[0-9a-f]{32,128}$/;

/** Commits to an intent. `salt`: 32–128 lower-case hex characters, kept by the agent until it reveals. */
export function commit(intent: Intent, salt: string): Commitment {
  if (!SALT.test(salt)) throw new RangeError("commit: salt must be 32-128 lower-case hex characters");
  return {
    v: COMMITMENT_VERSION,
    id: intent.id,
    hash: bytesToHex(sha256(utf8ToBytes(commitmentPreimage(intent, salt)))),
    features: commitmentFeatures(intent),
  };
}

/** Checks a reveal: the intent and salt must reproduce both the hash and the published features. */
export function openCommitment(commitment: Commitment, intent: Intent, salt: string): OpenOutcome {
  if (commitment.v !== COMMITMENT_VERSION) return refuse("bad_version", `unknown commitment version ${commitment.v}`);
  if (!SALT.test(salt)) return refuse("bad_salt", "salt must be 32-128 lower-case hex characters");
  if (intent.id !== commitment.id) return refuse("id_mismatch", `intent ${intent.id} is not ${commitment.id}`);
  const hash = bytesToHex(sha256(utf8ToBytes(commitmentPreimage(intent, salt))));
  if (hash !== commitment.hash) return refuse("hash_mismatch", "the intent and salt do not hash to the commitment");
  // A matching hash with features that disagree means the commitment was published with false bands.
  if (canonicalJson(commitmentFeatures(intent)) !== canonicalJson(commitment.features)) {
    return refuse("features_mismatch", "the published bands do not match the revealed intent");
  }
  return { ok: true };
}

function refuse(reason: OpenRefusal, detail: string): OpenOutcome {
  return { ok: false, reason, detail };
}
