// Which buy and sell intents may trade, read straight from CONTRACT.md sections 1–3. Written for the oracle and
// the checker only: it must share no code with src/solver, so that a misreading there shows up as a disagreement.
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";

/**
 * Latency between two regions per section 3: symmetric, so either direction may be listed; a region to itself is
 * 0 unless listed; a pair not listed is undefined (unreachable). If both directions are listed with different
 * values (a malformed table), the larger one counts: the conservative reading of a cap.
 */
export function latencyBetween(table: LatencyTable, a: string, b: string): number | undefined {
  const ab = listed(table, a, b);
  const ba = listed(table, b, a);
  if (ab !== undefined && ba !== undefined) return Math.max(ab, ba);
  if (ab !== undefined) return ab;
  if (ba !== undefined) return ba;
  return a === b ? 0 : undefined;
}

/** The table's own entry for a → b (region names are plain strings: `constructor` is not Object's). */
function listed(table: LatencyTable, a: string, b: string): number | undefined {
  if (!Object.prototype.hasOwnProperty.call(table, a)) return undefined;
  const row = table[a];
  return Object.prototype.hasOwnProperty.call(row, b) ? row[b] : undefined;
}

/** Why a buy and a sell intent cannot trade, or undefined when they can (price aside). */
export function incompatibility(buy: Intent, sell: Intent, table: LatencyTable): string | undefined {
  if (buy.side !== "buy") return `${buy.id} is not a buy intent`;
  if (sell.side !== "sell") return `${sell.id} is not a sell intent`;
  if (buy.agent === sell.agent) return `both are agent ${buy.agent}'s (no self-trade)`;
  if (buy.resource !== sell.resource) return `resources differ (${buy.resource} vs ${sell.resource})`;
  if (buy.maxLatencyMs === undefined && sell.maxLatencyMs === undefined) return undefined;
  const ms = latencyBetween(table, buy.region, sell.region);
  if (ms === undefined) return `no latency listed between ${buy.region} and ${sell.region}, and a side caps latency`;
  if (buy.maxLatencyMs !== undefined && ms > buy.maxLatencyMs) return `latency ${ms} ms exceeds the buyer's cap ${buy.maxLatencyMs}`;
  if (sell.maxLatencyMs !== undefined && ms > sell.maxLatencyMs) return `latency ${ms} ms exceeds the seller's cap ${sell.maxLatencyMs}`;
  return undefined;
}

/**
 * The pairs that may carry a fill: compatible, and with buy limit ≥ sell limit — otherwise no price satisfies
 * individual rationality, so a fill on the pair can never be part of a valid settlement (even to reach a
 * minQuantity). Zero-gain pairs (equal limits) are kept: they can matter for minQuantity.
 */
export function tradablePairs(intents: readonly Intent[], table: LatencyTable): { buy: Intent; sell: Intent; gain: number }[] {
  const buys = intents.filter((i) => i.side === "buy");
  const sells = intents.filter((i) => i.side === "sell");
  const pairs: { buy: Intent; sell: Intent; gain: number }[] = [];
  for (const buy of buys) {
    for (const sell of sells) {
      if (buy.limitPrice < sell.limitPrice) continue;
      if (incompatibility(buy, sell, table) !== undefined) continue;
      pairs.push({ buy, sell, gain: buy.limitPrice - sell.limitPrice });
    }
  }
  return pairs;
}
