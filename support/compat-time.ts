// Who may trade with whom, when and at what moved limits, read from CONTRACT.md sections 1, 2 and 2a for the time
// oracle (support/highs-time.ts and test/oracle/time-checker.ts). Shares no code with src/solver, so that a
// misreading on either side shows up as a disagreement.
//
// An intent trades through legs: a plain buy or sell has one; a swap (or deferral) has two, the leg it gives
// (a sell of `resource` over `window`) and the leg it takes (a buy of `swapFor.resource` over `swapFor.window`).
import type { Intent, LatencyTable } from "../src/contract/schema.ts";
import { latencyBetween } from "./compat.ts";

export const HOUR_MS = 3_600_000;

/** A half-open span of time [start, end) in ms; a missing window is (-∞, +∞). */
export interface Span {
  start: number;
  end: number;
}

export interface Leg {
  intent: Intent;
  side: "buy" | "sell";
  resource: string;
  /** The leg's own limit before soft latency: a swap gives at `limitPrice` and takes at `swapFor.limitPrice` (default 0). */
  limit: number;
  /** The leg's window, or undefined when it trades at any time. */
  window?: Span;
}

export const isSwap = (intent: Intent) => intent.swapFor !== undefined;

const span = (w: { start: string; end: string } | undefined): Span | undefined =>
  w === undefined ? undefined : { start: Date.parse(w.start), end: Date.parse(w.end) };

/** The legs of an intent: one for a plain buy or sell, two for a swap (what it gives, then what it takes). */
export function legsOf(intent: Intent): Leg[] {
  if (intent.swapFor === undefined) {
    return [{ intent, side: intent.side, resource: intent.resource, limit: intent.limitPrice, window: span(intent.window) }];
  }
  return [
    { intent, side: "sell", resource: intent.resource, limit: intent.limitPrice, window: span(intent.window) },
    { intent, side: "buy", resource: intent.swapFor.resource, limit: intent.swapFor.limitPrice ?? 0, window: span(intent.swapFor.window) },
  ];
}

/** The leg of `intent` on `side` (a swap's buy leg is what it takes), or undefined when it has none. */
export function legOn(intent: Intent, side: "buy" | "sell"): Leg | undefined {
  return legsOf(intent).find((leg) => leg.side === side);
}

/**
 * Soft latency (section 1): against a counterparty whose latency L exceeds `preferLatencyMs`, the intent's limit
 * moves against it by `latencyDiscount × (L − preferLatencyMs)` per unit. A pair the table does not list has no L:
 * the intent cannot price it, so the pair is out (Infinity), as an unlisted pair is for a hard cap (section 3).
 */
export function softPenalty(table: LatencyTable, intent: Intent, otherRegion: string): number {
  if (intent.preferLatencyMs === undefined || intent.latencyDiscount === undefined) return 0;
  const ms = latencyBetween(table, intent.region, otherRegion);
  if (ms === undefined) return Infinity;
  return ms > intent.preferLatencyMs ? intent.latencyDiscount * (ms - intent.preferLatencyMs) : 0;
}

/** A buy leg and a sell leg that may trade, with both limits as moved for this pair and when they may deliver. */
export interface LegPair {
  buy: Leg;
  sell: Leg;
  /** The buyer's limit moved down and the seller's moved up by soft latency (section 1). */
  buyLimit: number;
  sellLimit: number;
  /** buyLimit − sellLimit: the welfare per unit. Negative only on a swap's leg (its rationality is on its net). */
  gain: number;
  /** When the pair may deliver: both windows and now; undefined when neither leg has a window (no start/end). */
  span?: Span;
}

/** Why two legs cannot trade (price aside), or undefined when they can. */
export function legIncompatibility(buy: Leg, sell: Leg, table: LatencyTable): string | undefined {
  if (buy.side !== "buy" || sell.side !== "sell") return "not a buy leg and a sell leg";
  if (buy.intent.agent === sell.intent.agent) return `both are agent ${buy.intent.agent}'s (no self-trade)`;
  if (buy.resource !== sell.resource) return `resources differ (${buy.resource} vs ${sell.resource})`;
  const ms = latencyBetween(table, buy.intent.region, sell.intent.region);
  for (const intent of [buy.intent, sell.intent]) {
    if (intent.maxLatencyMs === undefined) continue;
    if (ms === undefined) return `no latency listed between ${buy.intent.region} and ${sell.intent.region}, and ${intent.id} caps latency`;
    if (ms > intent.maxLatencyMs) return `latency ${ms} ms exceeds ${intent.id}'s cap ${intent.maxLatencyMs}`;
  }
  if (!Number.isFinite(softPenalty(table, buy.intent, sell.intent.region) + softPenalty(table, sell.intent, buy.intent.region))) {
    return `no latency listed between ${buy.intent.region} and ${sell.intent.region}, and a side prefers a latency`;
  }
  return undefined;
}

/** Where two spans overlap, or undefined when they do not (either may be missing: any time). */
export function overlap(a: Span | undefined, b: Span | undefined): Span | undefined | null {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const start = Math.max(a.start, b.start);
  const end = Math.min(a.end, b.end);
  return start < end ? { start, end } : null;
}

/**
 * The pair of two legs as the contract allows it, or a reason why not. A pair between two plain intents needs
 * buyLimit ≥ sellLimit (no price is individually rational otherwise); a swap's leg may lose on its own.
 */
export function legPair(buy: Leg, sell: Leg, table: LatencyTable, now?: number): LegPair | string {
  const why = legIncompatibility(buy, sell, table);
  if (why !== undefined) return why;
  const buyLimit = buy.limit - softPenalty(table, buy.intent, sell.intent.region);
  const sellLimit = sell.limit + softPenalty(table, sell.intent, buy.intent.region);
  if (!isSwap(buy.intent) && !isSwap(sell.intent) && buyLimit < sellLimit) return `moved limits cross (${buyLimit} < ${sellLimit})`;
  const pair: LegPair = { buy, sell, buyLimit, sellLimit, gain: buyLimit - sellLimit };
  if (buy.window === undefined && sell.window === undefined) return pair;
  const both = overlap(buy.window, sell.window);
  const open = both && overlap(both, now === undefined ? undefined : { start: now, end: Infinity });
  if (!open) return "their windows do not overlap at or after now";
  return { ...pair, span: open };
}

/** Every pair of legs that may carry a fill. */
export function tradableLegPairs(intents: readonly Intent[], table: LatencyTable, now?: number): LegPair[] {
  const legs = intents.flatMap(legsOf);
  const buys = legs.filter((l) => l.side === "buy");
  const sells = legs.filter((l) => l.side === "sell");
  const pairs: LegPair[] = [];
  for (const buy of buys) {
    for (const sell of sells) {
      const pair = legPair(buy, sell, table, now);
      if (typeof pair !== "string") pairs.push(pair);
    }
  }
  return pairs;
}

/** The elementary interval boundaries (section 2a): every window's start and end, and now; sorted, distinct. */
export function timeGrid(intents: readonly Intent[], now?: number): number[] {
  const times = new Set<number>(now === undefined ? [] : [now]);
  for (const leg of intents.flatMap(legsOf)) {
    if (leg.window) times.add(leg.window.start).add(leg.window.end);
  }
  return [...times].sort((a, b) => a - b);
}

/** The elementary intervals of `grid` inside `span`: [grid[k], grid[k+1]) for each k that lies within it. */
export function intervalsIn(grid: readonly number[], within: Span): number[] {
  const ks: number[] = [];
  for (let k = 0; k + 1 < grid.length; k++) {
    if (grid[k] >= within.start && grid[k + 1] <= within.end) ks.push(k);
  }
  return ks;
}
