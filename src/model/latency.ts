// Latency look-ups and fill compatibility (CONTRACT.md sections 2–3), shared by the challenge generator (true
// intents) and the feature extractor (banded commitments), so both read the latency table the same way.
import type { Intent, LatencyTable } from "../contract/schema.ts";
import { ownEntry } from "../solver/latency.ts";

/** Latency between two regions: symmetric, a region to itself is 0 unless listed; undefined when unlisted. */
export function latencyMs(table: LatencyTable, a: string, b: string): number | undefined {
  const direct = ownEntry(table, a, b) ?? ownEntry(table, b, a); // own properties only: regions are user strings
  if (direct !== undefined) return direct;
  return a === b ? 0 : undefined;
}

/** Whether a latency satisfies a cap; an intent without a cap trades with any region, listed or not. */
export function withinCap(latency: number | undefined, cap: number | undefined): boolean {
  if (cap === undefined || cap === Infinity) return true;
  return latency !== undefined && latency <= cap;
}

/** Whether a buy and a sell may share a fill (same resource, both latency caps satisfied). */
export function compatible(buy: Intent, sell: Intent, table: LatencyTable): boolean {
  if (buy.resource !== sell.resource) return false;
  const lat = latencyMs(table, buy.region, sell.region);
  return withinCap(lat, buy.maxLatencyMs) && withinCap(lat, sell.maxLatencyMs);
}
