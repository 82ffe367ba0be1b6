// The priority oracle in exact rationals (CONTRACT.md section 3), for books whose numbers doubles cannot resolve
// (a 1e-7 or 1e12 intent beside ordinary ones) and for books with swaps, soft latency, windows and rate caps: the
// allocation LP over leg pairs and elementary intervals, every fixing of who meets its minimum enumerated, each
// fixing solved twice by exact.ts's rational simplex (the most welfare, then, with welfare held there, the least
// −(high units) + (low units)). Shares no code with src/solver: compatibility, moved limits and intervals from
// support/compat-time.ts (read from the contract).
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";
import { HOUR_MS, intervalsIn, isSwap, timeGrid, tradableLegPairs } from "../../support/compat-time.ts";
import { exactOf, simplex, toNumber, type Q } from "./exact.ts";

const ONE: Q = { n: 1n, d: 1n };
const MINUS: Q = { n: -1n, d: 1n };
const ZERO: Q = { n: 0n, d: 1n };
const neg = (a: Q): Q => ({ n: -a.n, d: a.d });
const less = (a: Q, b: Q) => a.n * b.d < b.n * a.d;
const same = (a: Q, b: Q) => a.n * b.d === b.n * a.d;

type Row = { coef: Map<number, Q>; kind: "<=" | ">="; rhs: Q };

/** −1 high, +1 low, 0 normal or unset: lower is preferred among allocations of equal welfare. */
export const rankWeight = (k: Intent) => (k.priority === "high" ? -1 : k.priority === "low" ? 1 : 0);

/** A row Σ coef·x (kind) rhs for any sign of rhs (the simplex wants rhs ≥ 0: a negative one flips the row). */
function row(coef: Map<number, Q>, kind: "<=" | ">=", rhs: Q): Row {
  if (rhs.n >= 0n) return { coef, kind, rhs };
  return { coef: new Map([...coef].map(([j, a]) => [j, neg(a)])), kind: kind === "<=" ? ">=" : "<=", rhs: neg(rhs) };
}

/**
 * The optimum welfare, and the least −(high units) + (low units) among allocations of that welfare, exactly (as
 * doubles: both are rounded once). A unit of a swap is a unit it gives.
 */
export function exactRankedOptimum(intents: readonly Intent[], latency: LatencyTable, now?: number): { welfare: number; rank: number } {
  const minimums = intents.filter((k) => (k.minQuantity ?? 0) > 0);
  if (minimums.length > 8) throw new Error("exactRankedOptimum enumerates 2^minimums fixings: keep it to tiny books");
  const pairs = tradableLegPairs(intents, latency, now);
  const grid = timeGrid(intents, now);
  // Columns: a pair's units in each elementary interval of its span (one column when it has none).
  const cols: { pair: number; t?: number }[] = [];
  pairs.forEach((p, k) => {
    if (p.span === undefined) cols.push({ pair: k });
    else for (const t of intervalsIn(grid, p.span)) cols.push({ pair: k, t });
  });
  const gain = cols.map(({ pair }) => {
    const b = exactOf(pairs[pair].buyLimit);
    const s = exactOf(pairs[pair].sellLimit);
    return { n: b.n * s.d - s.n * b.d, d: b.d * s.d };
  });
  // An intent's units: a plain intent's every pair, a swap's given leg's.
  const units = new Map<Intent, Map<number, Q>>(intents.map((k) => [k, new Map()]));
  const taken = new Map<Intent, Map<number, Q>>();
  cols.forEach(({ pair }, j) => {
    const { buy, sell } = pairs[pair];
    units.get(sell.intent)!.set(j, ONE);
    if (!isSwap(buy.intent)) units.get(buy.intent)!.set(j, ONE);
    else {
      if (!taken.has(buy.intent)) taken.set(buy.intent, new Map());
      taken.get(buy.intent)!.set(j, ONE);
    }
  });
  const base: Row[] = [];
  for (const k of intents) {
    const u = units.get(k)!;
    if (u.size > 0) base.push(row(u, "<=", exactOf(k.quantity)));
    if (isSwap(k)) {
      // Given = taken: Σ given − Σ taken = 0.
      const balance = new Map(u);
      for (const [j] of taken.get(k) ?? []) balance.set(j, balance.has(j) ? ZERO : MINUS);
      if (balance.size > 0) base.push(row(balance, "<=", ZERO), row(balance, ">=", ZERO));
    }
  }
  // Rate caps: per capped leg and interval, the leg's units then at most maxRate × the interval's hours.
  const capped = new Map<string, Map<number, Q>>();
  cols.forEach(({ pair, t }, j) => {
    if (t === undefined) return;
    for (const leg of [pairs[pair].buy, pairs[pair].sell]) {
      if (leg.window === undefined || leg.intent.maxRate === undefined) continue;
      const key = `${leg.intent.id}|${leg.side}|${t}`;
      if (!capped.has(key)) capped.set(key, new Map());
      capped.get(key)!.set(j, ONE);
      const rate = exactOf(leg.intent.maxRate);
      const cap = { n: rate.n * BigInt(grid[t + 1] - grid[t]), d: rate.d * BigInt(HOUR_MS) };
      (capped.get(key) as Map<number, Q> & { cap?: Q }).cap = cap;
    }
  });
  for (const c of capped.values()) base.push(row(c, "<=", (c as Map<number, Q> & { cap?: Q }).cap!));
  const rank = cols.map(({ pair }) => {
    const { buy, sell } = pairs[pair];
    const w = rankWeight(sell.intent) + (isSwap(buy.intent) ? 0 : rankWeight(buy.intent));
    return { n: BigInt(-w), d: 1n }; // maximised: −rank
  });
  let best = { welfare: ZERO, rank: ZERO }; // the empty allocation
  for (let mask = 0; mask < 1 << minimums.length; mask++) {
    const rows = [...base];
    const out = new Set<number>();
    minimums.forEach((k, j) => {
      const u = units.get(k)!;
      if ((mask >> j) & 1) rows.push(row(u, ">=", exactOf(Math.min(k.minQuantity!, k.quantity))));
      else for (const [c] of u) out.add(c);
    });
    // Columns of left-out intents: gain and rank 0 and a row holding them at 0.
    if (out.size > 0) rows.push(row(new Map([...out].map((c) => [c, ONE])), "<=", ZERO));
    if (cols.length === 0) continue;
    const first = simplex(cols.length, gain, rows);
    if (first === null) continue;
    const welfare = first.value;
    if (less(welfare, best.welfare)) continue;
    const held = row(new Map(gain.map((g, c) => [c, g])), ">=", welfare);
    const second = simplex(cols.length, rank, [...rows, held])!;
    const r = neg(second.value);
    if (less(best.welfare, welfare) || (same(best.welfare, welfare) && less(r, best.rank))) best = { welfare, rank: r };
  }
  return { welfare: toNumber(best.welfare), rank: toNumber(best.rank) };
}
