// Soft latency read straight from CONTRACT.md section 1, for the HiGHS reference and the oracle's checker only (no
// code shared with src/solver): past `preferLatencyMs` an intent's limit moves against the counterparty by
// `latencyDiscount × (L − preferLatencyMs)` per unit, a buyer's down and a seller's up. A pair the latency table does
// not list has no L: an intent with soft latency cannot price it, so the pair cannot trade (moved limit infinite).
import type { Intent, LatencyTable } from "../src/contract/schema.ts";
import { latencyBetween } from "./compat.ts";

/** How far `intent`'s limit moves against a counterparty in `region` (0 without soft latency). */
export function latencyPenalty(table: LatencyTable, intent: Intent, region: string): number {
  if (intent.preferLatencyMs === undefined || intent.latencyDiscount === undefined) return 0;
  const ms = latencyBetween(table, intent.region, region);
  if (ms === undefined) return Infinity;
  return Math.max(0, ms - intent.preferLatencyMs) * intent.latencyDiscount;
}

/**
 * The limits a buy–sell pair trades under: what the buyer pays at most (a swap as buyer: its swapFor.limitPrice)
 * and what the seller takes at least, each moved by its own penalty against the other's region.
 */
export function pairLimits(table: LatencyTable, buy: Intent, sell: Intent): { buyLimit: number; sellLimit: number } {
  const value = buy.swapFor ? (buy.swapFor.limitPrice ?? 0) : buy.limitPrice;
  return {
    buyLimit: value - latencyPenalty(table, buy, sell.region),
    sellLimit: sell.limitPrice + latencyPenalty(table, sell, buy.region),
  };
}
