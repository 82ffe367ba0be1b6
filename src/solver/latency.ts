// Latency between regions and the compatibility rule of CONTRACT.md sections 1 and 3: who may trade with whom.
import type { Intent, LatencyTable } from "../contract/schema.ts";

/**
 * Built-in round-trip latencies (ms) between the usual cloud regions, rounded from public inter-region
 * measurements. A region to itself is 0 (not listed). Markets may replace the table.
 */
export const DEFAULT_LATENCY: LatencyTable = {
  "us-east": { "us-west": 65, "eu-west": 75, "eu-central": 90, "ap-northeast": 150, "ap-southeast": 215, "sa-east": 115 },
  "us-west": { "eu-west": 140, "eu-central": 150, "ap-northeast": 100, "ap-southeast": 170, "sa-east": 175 },
  "eu-west": { "eu-central": 20, "ap-northeast": 215, "ap-southeast": 170, "sa-east": 185 },
  "eu-central": { "ap-northeast": 225, "ap-southeast": 160, "sa-east": 200 },
  "ap-northeast": { "ap-southeast": 70, "sa-east": 260 },
  "ap-southeast": { "sa-east": 320 },
};

/** Latency between two regions: symmetric; a region to itself is 0 unless the table lists it; else undefined. */
export function latencyBetween(latency: LatencyTable, a: string, b: string): number | undefined {
  const ab = ownEntry(latency, a, b);
  if (ab !== undefined) return ab;
  const ba = ownEntry(latency, b, a);
  if (ba !== undefined) return ba;
  return a === b ? 0 : undefined;
}

/**
 * table[a][b] read through own properties only: region names are user strings, and `constructor` or `length`
 * must not find Object's (a row's prototype is never consulted).
 */
export function ownEntry(table: LatencyTable, a: string, b: string): number | undefined {
  if (!Object.hasOwn(table, a)) return undefined;
  const row = table[a];
  if (typeof row !== "object" || row === null || !Object.hasOwn(row, b)) return undefined;
  const ms = row[b];
  return typeof ms === "number" ? ms : undefined;
}

/** Whether `region` is within an intent's latency cap of `other` (no cap: anything goes, even unlisted pairs). */
export function withinCap(latency: LatencyTable, region: string, cap: number | undefined, other: string): boolean {
  return cap === undefined || capAdmits(cap, latencyBetween(latency, region, other));
}

/** Whether a latency cap admits a pair at `ms` (undefined: the table does not list the pair). */
export const capAdmits = (cap: number | undefined, ms: number | undefined): boolean => cap === undefined || (ms !== undefined && ms <= cap);

/**
 * Latencies between each two of `names` (row-major, undefined where the table lists none): hot loops look pairs up
 * by region index instead of by name.
 */
export function latencyMatrix(latency: LatencyTable, names: readonly string[]): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (const a of names) for (const b of names) out.push(latencyBetween(latency, a, b));
  return out;
}

/** A buy and a sell may trade: two agents, same resource, and each side's latency cap admits the other's region. */
export function compatible(buy: Intent, sell: Intent, latency: LatencyTable): boolean {
  return (
    buy.side === "buy" &&
    sell.side === "sell" &&
    buy.agent !== sell.agent &&
    buy.resource === sell.resource &&
    withinCap(latency, buy.region, buy.maxLatencyMs, sell.region) &&
    withinCap(latency, sell.region, sell.maxLatencyMs, buy.region)
  );
}

/**
 * Soft latency (CONTRACT.md section 1): how far an intent's limit moves against a counterparty in `other`,
 * per unit: `latencyDiscount × (L − preferLatencyMs)` when the latency L exceeds `preferLatencyMs`, else 0.
 * A buyer's limit moves down by it, a seller's up. A pair the table does not list has no L to discount by, so an
 * intent that prefers a latency treats it as unreachable: Infinity (the pair never trades).
 */
export function softPenalty(latency: LatencyTable, intent: Intent, other: string): number {
  if (intent.preferLatencyMs === undefined || intent.latencyDiscount === undefined) return 0;
  return penaltyAt(intent, latencyBetween(latency, intent.region, other));
}

/** softPenalty against a counterparty at latency `ms` (undefined: the table does not list the pair). */
export function penaltyAt(intent: Intent, ms: number | undefined): number {
  if (intent.preferLatencyMs === undefined || intent.latencyDiscount === undefined) return 0;
  if (ms === undefined) return Infinity;
  return ms > intent.preferLatencyMs ? intent.latencyDiscount * (ms - intent.preferLatencyMs) : 0;
}
