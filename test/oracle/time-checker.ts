// An independent judge of a settlement over time, from CONTRACT.md sections 1, 2 and 2a alone: schedules on the
// elementary intervals inside both windows and at or after now, rate caps at every moment, quantities and
// minimums, swaps balanced, one price per buy–sell pair, individual rationality (plain fills within both moved
// limits, swaps on their net), welfare against a known optimum, and Nash prices on the pair graph by their KKT
// conditions. Shares no code with src/solver; violations are returned as data, never thrown.
//
// Legs (support/compat-time.ts): a fill's buy side is a plain buy or a swap's taken leg, its sell side a plain
// sell or a swap's given leg. A swap's Nash surplus and rationality are on its net (section 2a), so the Nash check
// runs on the pairs' aggregated fills with each intent's surplus summed over all its legs.
import type { Fill, Intent, LatencyTable } from "../../src/contract/schema.ts";
import type { Rule } from "./checker.ts";
import { HOUR_MS, isSwap, type Leg, legIncompatibility, legOn, softPenalty, type Span, timeGrid } from "../../support/compat-time.ts";

/** The timeless checker's rules (its certificate rules aside), plus the rules of time, swaps and one price per pair. */
export type TimeRule =
  | Exclude<Rule, "certificate-negative-dual" | "certificate-infeasible-dual" | "certificate-bound" | "gap-unproven">
  | "missing-time"
  | "unexpected-time"
  | "bad-time"
  | "off-grid"
  | "outside-window"
  | "before-now"
  | "over-rate"
  | "swap-unbalanced"
  | "split-price"
  | "swap-irrational";

/** Rules about Nash prices; the rest are feasibility, welfare and individual rationality. */
export const TIME_NASH_RULES: ReadonlySet<TimeRule> = new Set<TimeRule>(["no-surplus", "nash-interior", "nash-seller-limit", "nash-buyer-limit"]);

export interface TimeViolation {
  rule: TimeRule;
  message: string;
  /** Index of the offending fill in settlement.fills, when one fill is at fault. */
  fill?: number;
  /** Id of the offending intent, when one intent is at fault. */
  intent?: string;
}

/**
 * Tolerances, each relative to the numbers of the intents concerned (CONTRACT.md section 1: 1e-9 of an intent's
 * own quantity or limit): quantities and rates to the intent's quantity and maxRate, prices to its limit (at
 * least 1), welfare to Σ quantity × limit over the intents (each one's own error, added up).
 */
export interface TimeTolerances {
  quantity: number;
  price: number;
  /** The settlement's `welfare` against its fills. Default 1e-9 (of max(1, |welfare|)). */
  welfareReport: number;
  /** Welfare against the optimum. Default 1e-9. */
  welfare: number;
  /** KKT conditions on per-unit surpluses. Default 1e-9. */
  nash: number;
}

export const DEFAULT_TIME_TOLERANCES: TimeTolerances = { quantity: 1e-9, price: 1e-9, welfareReport: 1e-9, welfare: 1e-9, nash: 1e-9 };

export interface TimedMarket {
  intents: readonly Intent[];
  latency: LatencyTable;
  /** The settlement's time in ms; undefined: no lower bound. */
  now?: number;
}

export interface TimeCheckOptions {
  tolerances?: Partial<TimeTolerances>;
  /**
   * Nash on swaps' net surplus: "kkt" (default) checks every pair; "skip" checks only pairs of two plain intents
   * (the hook for a separate swap-net check: such pairs are counted in coverage.swapPairsSkipped).
   */
  swapNash?: "kkt" | "skip";
}

/** How many conditions were exercised: shows that a clean result was not a vacuous one. */
export interface TimeCoverage {
  timedFills: number;
  /** Leg intervals where a maxRate was checked, and those where it binds (within the tolerance). */
  rateSegments: number;
  rateBinding: number;
  /** KKT conditions tested per aggregated pair. */
  interior: number;
  atSellerLimit: number;
  atBuyerLimit: number;
  pinned: number;
  swapPairs: number;
  swapPairsSkipped: number;
}

/** The part of a settlement the checker reads: `solve()`'s result and a contract Settlement both fit. */
export interface SettlementLike {
  fills: readonly Fill[];
  welfare: number;
}

/** One fill that names real legs, with its pair's moved limits and its delivery span. */
interface CheckedFill {
  f: number;
  fill: Fill;
  buy: Leg;
  sell: Leg;
  buyLimit: number;
  sellLimit: number;
  span?: Span;
}

/** Every way `settlement` breaks the contract (empty: it passes); `optimum` undefined skips optimality. */
export function checkTimedSettlement(market: TimedMarket, settlement: SettlementLike, optimum?: number, options: TimeCheckOptions = {}): TimeViolation[] {
  return inspectTimedSettlement(market, settlement, optimum, options).violations;
}

/** checkTimedSettlement, plus which conditions were exercised. */
export function inspectTimedSettlement(
  market: TimedMarket,
  settlement: SettlementLike,
  optimum?: number,
  options: TimeCheckOptions = {},
): { violations: TimeViolation[]; coverage: TimeCoverage } {
  const tol = { ...DEFAULT_TIME_TOLERANCES, ...options.tolerances };
  const coverage: TimeCoverage = { timedFills: 0, rateSegments: 0, rateBinding: 0, interior: 0, atSellerLimit: 0, atBuyerLimit: 0, pinned: 0, swapPairs: 0, swapPairsSkipped: 0 };
  const out: TimeViolation[] = [];
  const fills = readFills(market, settlement, tol, out, coverage);
  checkQuantities(market.intents, fills, tol, out);
  checkRates(fills, tol, out, coverage);
  checkWelfare(market.intents, fills, settlement.welfare, optimum, tol, out);
  checkPrices(fills, tol, options.swapNash ?? "kkt", out, coverage);
  return { violations: out, coverage };
}

/** Per-fill rules: names, sides, resources, compatibility, numbers, time, plain price bounds. */
function readFills(market: TimedMarket, settlement: SettlementLike, tol: TimeTolerances, out: TimeViolation[], coverage: TimeCoverage): CheckedFill[] {
  const byId = new Map(market.intents.map((i) => [i.id, i]));
  const grid = new Set(timeGrid(market.intents, market.now));
  const valid: CheckedFill[] = [];
  settlement.fills.forEach((fill, f) => {
    const buyIntent = byId.get(fill.buy);
    const sellIntent = byId.get(fill.sell);
    if (!buyIntent || !sellIntent) {
      out.push({ rule: "unknown-intent", fill: f, message: `fill ${f} names no such intent: ${!buyIntent ? fill.buy : fill.sell}` });
      return;
    }
    const buy = legOn(buyIntent, "buy");
    const sell = legOn(sellIntent, "sell");
    if (!buy || !sell) {
      out.push({ rule: "wrong-side", fill: f, message: `fill ${f}: ${fill.buy} takes nothing or ${fill.sell} gives nothing` });
      return;
    }
    if (!Number.isFinite(fill.quantity) || !Number.isFinite(fill.price)) {
      out.push({ rule: "bad-number", fill: f, message: `fill ${f}: quantity ${fill.quantity}, price ${fill.price}` });
      return;
    }
    if (fill.resource !== buy.resource || fill.resource !== sell.resource) {
      out.push({ rule: "resource-mismatch", fill: f, message: `fill ${f} trades ${fill.resource}; ${buy.intent.id} takes ${buy.resource}, ${sell.intent.id} gives ${sell.resource}` });
    }
    const why = legIncompatibility(buy, sell, market.latency);
    if (why !== undefined && buy.resource === sell.resource) out.push({ rule: "incompatible", fill: f, message: `fill ${f} (${fill.buy} ← ${fill.sell}): ${why}` });
    if (!(fill.quantity > 0)) out.push({ rule: "non-positive-quantity", fill: f, message: `fill ${f} has quantity ${fill.quantity}` });
    const span = readSpan(fill, f, buy, sell, grid, market.now, out);
    if (span) coverage.timedFills++;
    const buyLimit = buy.limit - softPenalty(market.latency, buy.intent, sell.intent.region);
    const sellLimit = sell.limit + softPenalty(market.latency, sell.intent, buy.intent.region);
    if (!isSwap(buy.intent) && fill.price > buyLimit + tol.price * scale(buy.limit)) {
      out.push({ rule: "price-outside-limits", fill: f, message: `fill ${f} priced ${fill.price}, above ${fill.buy}'s limit ${buyLimit} (as moved for this pair)` });
    }
    if (!isSwap(sell.intent) && fill.price < sellLimit - tol.price * scale(sell.limit)) {
      out.push({ rule: "price-outside-limits", fill: f, message: `fill ${f} priced ${fill.price}, below ${fill.sell}'s limit ${sellLimit} (as moved for this pair)` });
    }
    if (Number.isFinite(buyLimit) && Number.isFinite(sellLimit)) valid.push({ f, fill, buy, sell, buyLimit, sellLimit, span });
  });
  return valid;
}

/**
 * Section 2a on one fill: with a window on either leg it carries start < end, both elementary boundaries, inside
 * both legs' windows and at or after now; between two windowless legs it carries neither.
 */
function readSpan(fill: Fill, f: number, buy: Leg, sell: Leg, grid: ReadonlySet<number>, now: number | undefined, out: TimeViolation[]): Span | undefined {
  const timed = buy.window !== undefined || sell.window !== undefined;
  if (!timed) {
    if (fill.start !== undefined || fill.end !== undefined) out.push({ rule: "unexpected-time", fill: f, message: `fill ${f}: neither leg has a window, yet it says [${fill.start}, ${fill.end})` });
    return undefined;
  }
  const start = fill.start === undefined ? NaN : Date.parse(fill.start);
  const end = fill.end === undefined ? NaN : Date.parse(fill.end);
  if (!Number.isFinite(start) || !Number.isFinite(end)) {
    out.push({ rule: "missing-time", fill: f, message: `fill ${f}: a leg has a window, so it needs start and end (has ${fill.start}, ${fill.end})` });
    return undefined;
  }
  if (!(start < end)) {
    out.push({ rule: "bad-time", fill: f, message: `fill ${f}: start ${fill.start} is not before end ${fill.end}` });
    return undefined;
  }
  for (const [name, t] of [["start", start], ["end", end]] as const) {
    if (!grid.has(t)) out.push({ rule: "off-grid", fill: f, message: `fill ${f}: ${name} ${fill[name]} is no window boundary or now` });
  }
  for (const leg of [buy, sell]) {
    if (leg.window && (start < leg.window.start || end > leg.window.end)) {
      out.push({ rule: "outside-window", fill: f, message: `fill ${f}: [${fill.start}, ${fill.end}) leaves ${leg.intent.id}'s ${leg.side === "buy" ? "taking" : "giving"} window [${iso(leg.window.start)}, ${iso(leg.window.end)})` });
    }
  }
  if (now !== undefined && start < now) out.push({ rule: "before-now", fill: f, message: `fill ${f} starts at ${fill.start}, before now ${iso(now)}` });
  return { start, end };
}

/** Per intent: at most its quantity, 0 or at least its minimum; a swap gives what it takes. */
function checkQuantities(intents: readonly Intent[], fills: readonly CheckedFill[], tol: TimeTolerances, out: TimeViolation[]) {
  const given = new Map<Intent, number>();
  const taken = new Map<Intent, number>();
  for (const { fill, buy, sell } of fills) {
    taken.set(buy.intent, (taken.get(buy.intent) ?? 0) + fill.quantity);
    given.set(sell.intent, (given.get(sell.intent) ?? 0) + fill.quantity);
  }
  for (const intent of intents) {
    const slack = tol.quantity * intent.quantity;
    const totals = isSwap(intent) ? [given.get(intent) ?? 0, taken.get(intent) ?? 0] : [(given.get(intent) ?? 0) + (taken.get(intent) ?? 0)];
    if (isSwap(intent) && Math.abs(totals[0] - totals[1]) > slack) {
      out.push({ rule: "swap-unbalanced", intent: intent.id, message: `${intent.id} gives ${totals[0]} but takes ${totals[1]}: one unit per unit` });
    }
    for (const total of totals) {
      if (total > intent.quantity + slack) out.push({ rule: "over-quantity", intent: intent.id, message: `${intent.id} fills ${total} > quantity ${intent.quantity}` });
      const m = intent.minQuantity ?? 0;
      if (total > 0 && total < m - slack) out.push({ rule: "under-min-quantity", intent: intent.id, message: `${intent.id} fills ${total}, neither 0 nor ≥ minQuantity ${m}` });
    }
  }
}

/**
 * maxRate at every moment (section 2a): per leg with a window, sweep over the times where its fills start or end;
 * between two such times the active fills are fixed, and their rates (quantity / hours) must add up to ≤ maxRate.
 */
function checkRates(fills: readonly CheckedFill[], tol: TimeTolerances, out: TimeViolation[], coverage: TimeCoverage) {
  const byLeg = new Map<string, { leg: Leg; active: { span: Span; rate: number }[] }>();
  for (const { fill, buy, sell, span } of fills) {
    if (!span) continue;
    const rate = fill.quantity / ((span.end - span.start) / HOUR_MS);
    for (const leg of [buy, sell]) {
      if (leg.window === undefined || leg.intent.maxRate === undefined) continue;
      const key = `${leg.intent.id}\u0000${leg.side}`;
      const entry = byLeg.get(key) ?? byLeg.set(key, { leg, active: [] }).get(key)!;
      entry.active.push({ span, rate });
    }
  }
  for (const { leg, active } of byLeg.values()) {
    const cap = leg.intent.maxRate!;
    const times = [...new Set(active.flatMap(({ span }) => [span.start, span.end]))].sort((a, b) => a - b);
    for (let k = 0; k + 1 < times.length; k++) {
      const sum = active.filter(({ span }) => span.start <= times[k] && span.end >= times[k + 1]).reduce((s, { rate }) => s + rate, 0);
      if (sum === 0) continue;
      coverage.rateSegments++;
      if (sum >= cap * (1 - 1e-6)) coverage.rateBinding++;
      if (sum > cap * (1 + tol.quantity)) {
        out.push({ rule: "over-rate", intent: leg.intent.id, message: `${leg.intent.id} (${leg.side === "buy" ? "taking" : "giving"}) runs at ${sum}/h over [${iso(times[k])}, ${iso(times[k + 1])}), above maxRate ${cap}` });
      }
    }
  }
}

/** Welfare from the moved limits, against the settlement's claim and the optimum (when known). */
function checkWelfare(intents: readonly Intent[], fills: readonly CheckedFill[], claimed: number, optimum: number | undefined, tol: TimeTolerances, out: TimeViolation[]) {
  const welfare = fills.reduce((w, { fill, buyLimit, sellLimit }) => w + (buyLimit - sellLimit) * fill.quantity, 0);
  if (!Number.isFinite(claimed)) out.push({ rule: "bad-number", message: `welfare is ${claimed}` });
  else if (Math.abs(claimed - welfare) > tol.welfareReport * Math.max(1, Math.abs(welfare))) {
    out.push({ rule: "welfare-misreported", message: `welfare says ${claimed}, the fills give ${welfare}` });
  }
  if (optimum === undefined) return;
  const slack = welfareSlack(intents, tol.welfare);
  if (welfare < optimum - slack) out.push({ rule: "not-optimal", message: `welfare ${welfare} is below the optimum ${optimum} (by ${optimum - welfare}; slack ${slack})` });
  else if (welfare > optimum + slack) out.push({ rule: "above-optimum", message: `welfare ${welfare} exceeds the optimum ${optimum}: infeasible, or a wrong optimum` });
}

/** How far welfare may be off when every intent's quantity is off by `tol` of its own: Σ tol·Q·max(1, limits). */
export function welfareSlack(intents: readonly Intent[], tol: number): number {
  return intents.reduce((s, k) => s + tol * k.quantity * scale(k.limitPrice, k.swapFor?.limitPrice ?? 0), tol);
}

/** A buy–sell pair's fills, aggregated: the pair graph on which prices are judged. */
interface PairTrade {
  first: number;
  buy: Leg;
  sell: Leg;
  buyLimit: number;
  sellLimit: number;
  quantity: number;
  price: number;
}

/** One price per pair, swaps rational on their net, and Nash prices by their KKT conditions on the pair graph. */
function checkPrices(fills: readonly CheckedFill[], tol: TimeTolerances, swapNash: "kkt" | "skip", out: TimeViolation[], coverage: TimeCoverage) {
  const pairs = new Map<string, PairTrade>();
  for (const { f, fill, buy, sell, buyLimit, sellLimit } of fills) {
    const key = `${buy.intent.id}\u0000${sell.intent.id}`;
    const pair = pairs.get(key);
    if (!pair) {
      pairs.set(key, { first: f, buy, sell, buyLimit, sellLimit, quantity: fill.quantity, price: fill.price });
      continue;
    }
    pair.quantity += fill.quantity;
    if (Math.abs(fill.price - pair.price) > tol.price * scale(buy.limit, sell.limit)) {
      out.push({ rule: "split-price", fill: f, message: `fill ${f} (${buy.intent.id} ← ${sell.intent.id}) priced ${fill.price}, fill ${pair.first} of the same pair ${pair.price}` });
    }
  }
  // Per intent: units traded (a swap's given units) and surplus against its moved limits, summed over its legs.
  const units = new Map<Intent, number>();
  const surplus = new Map<Intent, number>();
  const add = (m: Map<Intent, number>, k: Intent, x: number) => m.set(k, (m.get(k) ?? 0) + x);
  for (const p of pairs.values()) {
    add(surplus, p.buy.intent, (p.buyLimit - p.price) * p.quantity);
    add(surplus, p.sell.intent, (p.price - p.sellLimit) * p.quantity);
    if (!isSwap(p.buy.intent)) add(units, p.buy.intent, p.quantity);
    add(units, p.sell.intent, p.quantity);
  }
  for (const [intent, s] of surplus) {
    if (isSwap(intent) && s < -tol.price * scale(intent.limitPrice, intent.swapFor?.limitPrice ?? 0) * (units.get(intent) ?? 0)) {
      out.push({ rule: "swap-irrational", intent: intent.id, message: `${intent.id} nets ${s} over its trades: below what it asked for` });
    }
  }
  const perUnit = (k: Intent) => (surplus.get(k) ?? 0) / Math.max(units.get(k) ?? 0, Number.MIN_VALUE);
  const inNash = new Set<Intent>();
  const quiet = zeroWelfareIntents([...pairs.values()], tol);
  for (const p of pairs.values()) {
    const swapPair = isSwap(p.buy.intent) || isSwap(p.sell.intent);
    if (swapPair) coverage.swapPairs++;
    if (swapPair && swapNash === "skip") {
      coverage.swapPairsSkipped++;
      continue;
    }
    // Only plain sides bound a price (section 2a); a swap's side is free, its rationality is on its net.
    const low = isSwap(p.sell.intent) ? -Infinity : p.sellLimit;
    const high = isSwap(p.buy.intent) ? Infinity : p.buyLimit;
    const slack = tol.nash * scale(p.buy.limit, p.sell.limit);
    if (high - low <= 2 * slack || quiet.has(p.buy.intent)) {
      coverage.pinned++;
      continue;
    }
    inNash.add(p.buy.intent).add(p.sell.intent);
    const aBuy = perUnit(p.buy.intent);
    const aSell = perUnit(p.sell.intent);
    const who = `pair ${p.buy.intent.id} ← ${p.sell.intent.id} at ${p.price} (fill ${p.first}; per unit: buyer ${aBuy}, seller ${aSell})`;
    if (p.price - low <= slack) {
      coverage.atSellerLimit++;
      if (aSell < aBuy - slack) out.push({ rule: "nash-seller-limit", fill: p.first, message: `${who}: at the seller's limit, the seller must earn at least the buyer's per-unit surplus` });
    } else if (high - p.price <= slack) {
      coverage.atBuyerLimit++;
      if (aBuy < aSell - slack) out.push({ rule: "nash-buyer-limit", fill: p.first, message: `${who}: at the buyer's limit, the buyer must earn at least the seller's per-unit surplus` });
    } else {
      coverage.interior++;
      if (Math.abs(aBuy - aSell) > slack) out.push({ rule: "nash-interior", fill: p.first, message: `${who}: inside the limits, both must earn the same per-unit surplus` });
    }
  }
  for (const intent of inNash) {
    const a = perUnit(intent);
    if (!(a > tol.nash * scale(intent.limitPrice))) {
      out.push({ rule: "no-surplus", intent: intent.id, message: `${intent.id} trades where there are gains but earns ${a} per unit: Nash prices give it a share` });
    }
  }
}

/**
 * Intents in a connected part of the pair graph whose welfare is zero: there every surplus is zero, so nobody
 * there is in the Nash objective (the agreed convention for zero-gain trades, extended to chains).
 */
function zeroWelfareIntents(pairs: readonly PairTrade[], tol: TimeTolerances): Set<Intent> {
  const parent = new Map<Intent, Intent>();
  const root = (k: Intent): Intent => {
    const p = parent.get(k) ?? k;
    if (p === k) return k;
    const r = root(p);
    parent.set(k, r);
    return r;
  };
  for (const p of pairs) parent.set(root(p.buy.intent), root(p.sell.intent));
  const welfare = new Map<Intent, number>();
  const size = new Map<Intent, number>();
  for (const p of pairs) {
    const r = root(p.buy.intent);
    welfare.set(r, (welfare.get(r) ?? 0) + (p.buyLimit - p.sellLimit) * p.quantity);
    size.set(r, (size.get(r) ?? 0) + p.quantity * scale(p.buy.limit, p.sell.limit));
  }
  const quiet = new Set<Intent>();
  for (const p of pairs) {
    const r = root(p.buy.intent);
    if ((welfare.get(r) ?? 0) <= tol.nash * (size.get(r) ?? 0)) quiet.add(p.buy.intent).add(p.sell.intent);
  }
  return quiet;
}

/** The unit of a tolerance: the largest of the concerned intents' own numbers, at least 1. */
function scale(...xs: number[]): number {
  return xs.reduce((m, x) => Math.max(m, Math.abs(x)), 1);
}

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));

/** One line per violation, for assertion messages. */
export function describeTimeViolations(violations: readonly TimeViolation[]): string {
  return violations.map((v) => `[${v.rule}] ${v.message}`).join("\n");
}
