// Features a validator can compute: from commitments (coarse bands, CONTRACT.md section 6), the market's public
// latency table and a proposal's fills, nothing else. Each intent is replaced by its band midpoints; the proposal's
// welfare and what it leaves on the table are then estimated on that banded market. All features are ratios or
// shares, so they do not depend on the market's price or quantity scale, nor (to carry over to larger markets
// than the training saw) on its size. Also the hand-written baseline.
import type { Fill, Intent, LatencyTable } from "../contract/schema.ts";
import { solve } from "../solver/index.ts";
import type { Commitment } from "./commitment.ts";
import { latencyBandCap, PRICE_BANDS_PER_OCTAVE, priceBandMid, quantityBandMid, QUANTITY_BANDS_PER_OCTAVE } from "./commitment.ts";
import { latencyMs, withinCap } from "./latency.ts";

/** Bumped whenever the vector's layout or meaning changes; a model records the version it was trained on. */
// f5: all-or-none intents no longer take partial fills in the greedy estimates (f4 let them, which inflated the
// greedy optimum and, through max(solver, greedy), the banded optimum); a pessimistic banded optimum; latency-band
// readings (pairs whose latency the cap bands cannot vouch for, caps read at their band's middle).
export const FEATURES_VERSION = "f5";
export const FEATURE_NAMES = [
  "wp_over_greedy", "wp_over_wp_plus_residual", "wp_over_curve", "residual_over_greedy", "filled_vol_over_greedy_vol",
  "residual_vol_over_greedy_vol", "intents_trading_share", "trading_full_share", "mean_fill_ratio",
  "all_or_none_share", "capped_share", "weak_fill_volume_share",
  "unit_gain_ratio", "residual_top_gain_ratio", "greedy_over_curve", "ambiguous_gain_share",
  "residual_all_or_none_share", "fills_per_trader", "wp_share_pessimistic", "wp_share_optimistic",
  "wp_pessimistic_over_greedy_pessimistic", "clear_residual_over_wp", "wp_over_banded_optimum",
  "wp_over_banded_lp_bound", "banded_optimum_over_greedy",
  "wp_over_conservative_optimum", "conservative_over_banded_optimum",
  "latency_unsure_gain_share", "greedy_sure_over_greedy", "greedy_midcap_over_greedy", "wp_over_greedy_midcap",
] as const;
export const FEATURE_COUNT = FEATURE_NAMES.length;

interface Banded {
  id: string;
  buy: boolean;
  resource: string;
  region: string;
  q: number;
  /** Low edge of the quantity band: filled this much, the intent may well be full. */
  qLow: number;
  p: number;
  /** Edges of the price band: pessimistic and optimistic gains use them. */
  pLow: number;
  pHigh: number;
  cap: number;
  /** The lower edge of the cap's band: a latency up to it is surely within the cap. */
  capLow: number;
  allOrNone: boolean;
  /** 0 < minQuantity < quantity: the level is hidden. */
  someMinimum: boolean;
  priceBand: number;
}

interface Pair {
  b: number;
  s: number;
  gain: number;
  ambiguous: boolean;
  /** The pair's latency lies inside a cap's band (above the band's lower edge): the bands cannot vouch for it. */
  latencyUnsure: boolean;
  /** The pair's latency is within both caps read at their band's middle. */
  midCapOk: boolean;
}
type GainOf = (p: Pair) => number;

/** What depends on the batch only, computed once and shared by every proposal for that batch. */
export interface BatchContext {
  intents: Banded[];
  index: Map<string, number>;
  /** Compatible buy/sell pairs with a positive estimated gain, best first. */
  pairs: Pair[];
  /** The same pairs under pessimistic gains (buyer at its band's low edge, seller at its high edge), best first. */
  clearPairs: Pair[];
  greedy: { welfare: number; volume: number; allOrNoneVolume: number; topGain: number };
  greedyPessimistic: number;
  /** The production solver's optimum and LP bound on the band-midpoint market (greedy if it fails). */
  banded: { welfare: number; bound: number };
  /** The optimum of a pessimistic reading of the bands (conservativeOptimum). */
  conservative: number;
  /** Greedy optimum on the pairs whose latency the bands vouch for. */
  greedySure: number;
  /** Greedy optimum when every cap is read at its band's middle. */
  greedyMidCap: number;
  curve: number;
  resources: number;
  regions: number;
}

/** Prepares a batch: band midpoints per commitment, compatible pairs, the greedy and curve bounds. */
export function batchContext(commitments: readonly Commitment[], latency: LatencyTable): BatchContext {
  const intents: Banded[] = commitments.map((c) => ({
    id: c.id, buy: c.features.side === "buy", resource: c.features.resource, region: c.features.region,
    q: quantityBandMid(c.features.quantityBand), p: priceBandMid(c.features.priceBand),
    qLow: quantityBandMid(c.features.quantityBand) * 2 ** (-0.5 / QUANTITY_BANDS_PER_OCTAVE),
    pLow: c.features.priceBand === null ? 0 : priceBandMid(c.features.priceBand) * 2 ** (-0.5 / PRICE_BANDS_PER_OCTAVE),
    pHigh: c.features.priceBand === null ? 0 : priceBandMid(c.features.priceBand) * 2 ** (0.5 / PRICE_BANDS_PER_OCTAVE),
    cap: latencyBandCap(c.features.latencyBand),
    capLow: c.features.latencyBand === null ? Infinity : c.features.latencyBand === 0 ? 0 : latencyBandCap(c.features.latencyBand - 1),
    allOrNone: c.features.minimum === "all",
    someMinimum: c.features.minimum === "some", priceBand: c.features.priceBand ?? -1e9,
  }));
  const index = new Map(intents.map((it, k) => [it.id, k]));
  const pairs: Pair[] = [];
  intents.forEach((b, bi) => {
    if (!b.buy) return;
    intents.forEach((s, si) => {
      if (s.buy || s.resource !== b.resource || b.pHigh <= s.pLow) return;
      const lat = latencyMs(latency, b.region, s.region);
      if (!withinCap(lat, b.cap) || !withinCap(lat, s.cap)) return;
      pairs.push({
        b: bi, s: si, gain: b.p - s.p, ambiguous: b.priceBand - s.priceBand <= 1,
        latencyUnsure: lat !== undefined && (lat > b.capLow || lat > s.capLow),
        midCapOk: withinCap(lat, (b.capLow + b.cap) / 2) && withinCap(lat, (s.capLow + s.cap) / 2),
      });
    });
  });
  const clearGain: GainOf = (p) => intents[p.b].pLow - intents[p.s].pHigh;
  const clearPairs = pairs.filter((p) => clearGain(p) > 0).map((p) => ({ ...p, gain: clearGain(p) }));
  clearPairs.sort((x, y) => y.gain - x.gain);
  // Pairs whose midpoints do not cross may still trade (optimistic edges); they carry no midpoint gain.
  const midPairs = pairs.filter((p) => p.gain > 0);
  midPairs.sort((x, y) => y.gain - x.gain);
  const full = intents.map((it) => it.q);
  const greedy = greedyFill(midPairs, full, intents);
  return {
    intents, index, pairs: midPairs, clearPairs, greedy, greedyPessimistic: greedyFill(clearPairs, full, intents).welfare,
    banded: bandedOptimum(intents, latency, greedy.welfare),
    conservative: conservativeOptimum(intents, latency),
    greedySure: greedyFill(midPairs.filter((p) => !p.latencyUnsure), full, intents).welfare,
    greedyMidCap: greedyFill(midPairs.filter((p) => p.midCapOk), full, intents).welfare,
    curve: curveBound(intents),
    resources: new Set(intents.map((i) => i.resource)).size, regions: new Set(intents.map((i) => i.region)).size,
  };
}

/**
 * The exact optimum of the market a validator imagines from the bands (midpoint prices and quantities, band caps).
 * A node budget instead of a time budget keeps features reproducible on a loaded machine.
 */
function bandedOptimum(intents: readonly Banded[], latency: LatencyTable, greedy: number): { welfare: number; bound: number } {
  const imagined: Intent[] = intents.map((it) => ({
    id: it.id, agent: it.id, side: it.buy ? "buy" : "sell", resource: it.resource, region: it.region, quantity: it.q,
    limitPrice: it.p, ...(it.allOrNone ? { minQuantity: it.q } : {}), ...(it.cap !== Infinity ? { maxLatencyMs: it.cap } : {}),
  }));
  try {
    const out = solve(imagined, latency, { timeBudgetMs: 60_000, nodeBudget: 300 });
    return { welfare: Math.max(out.welfare, greedy), bound: Math.max(out.certificate.bound, out.welfare, greedy) };
  } catch {
    // The solver refusing an imagined market must not stop scoring: the greedy estimate stands in.
    return { welfare: greedy, bound: greedy };
  }
}

/**
 * The optimum of a pessimistic reading of the bands: all-or-none intents need their band's high edge, every other
 * intent offers only its band's low edge, a hidden minimum ("some") is taken as 80% of that, and a latency cap is
 * read at its band's middle. Where the midpoint optimum relies on a match the bands cannot vouch for (an
 * all-or-none buyer and a seller in the same quantity band, a pair whose latency lies inside a cap's band), this
 * one leaves it out; the gap between the two tells the model how sure the optimum is.
 */
function conservativeOptimum(intents: readonly Banded[], latency: LatencyTable): number {
  const high = 2 ** (0.5 / QUANTITY_BANDS_PER_OCTAVE);
  const imagined: Intent[] = intents.map((it) => {
    const quantity = it.allOrNone ? it.q * high : it.qLow;
    const minQuantity = it.allOrNone ? quantity : it.someMinimum ? 0.8 * quantity : undefined;
    return {
      id: it.id, agent: it.id, side: it.buy ? "buy" : "sell", resource: it.resource, region: it.region, quantity,
      limitPrice: it.p, ...(minQuantity !== undefined ? { minQuantity } : {}),
      ...(it.cap !== Infinity ? { maxLatencyMs: (it.capLow + it.cap) / 2 } : {}),
    };
  });
  try {
    return solve(imagined, latency, { timeBudgetMs: 60_000, nodeBudget: 300 }).welfare;
  } catch {
    return 0;
  }
}

/** Greedy matching by estimated gain over the remaining room; all-or-none intents only take whole fills. */
function greedyFill(pairs: readonly Pair[], room: number[], intents: readonly Banded[]) {
  const left = room.slice();
  let welfare = 0;
  let volume = 0;
  let allOrNoneVolume = 0;
  let topGain = 0;
  for (const p of pairs) {
    const q = Math.min(left[p.b], left[p.s]);
    if (q <= 1e-9) continue;
    // An all-or-none intent trades its whole (remaining) quantity in one fill, or not at all.
    if ((intents[p.b].allOrNone && q < left[p.b] - 1e-9) || (intents[p.s].allOrNone && q < left[p.s] - 1e-9)) continue;
    left[p.b] -= q;
    left[p.s] -= q;
    welfare += p.gain * q;
    volume += q;
    if (intents[p.b].allOrNone || intents[p.s].allOrNone) allOrNoneVolume += q;
    topGain = Math.max(topGain, p.gain);
  }
  return { welfare, volume, allOrNoneVolume, topGain };
}

/** Per resource, the area between the demand and supply curves, ignoring latency: an optimistic bound. */
function curveBound(intents: readonly Banded[]): number {
  let total = 0;
  for (const res of new Set(intents.map((i) => i.resource))) {
    const buys = intents.filter((i) => i.buy && i.resource === res).sort((a, b) => b.p - a.p);
    const sells = intents.filter((i) => !i.buy && i.resource === res).sort((a, b) => a.p - b.p);
    let bi = 0;
    let si = 0;
    let bl = buys[0]?.q ?? 0;
    let sl = sells[0]?.q ?? 0;
    while (bi < buys.length && si < sells.length && buys[bi].p > sells[si].p) {
      const q = Math.min(bl, sl);
      total += q * (buys[bi].p - sells[si].p);
      bl -= q;
      sl -= q;
      if (bl <= 1e-12) bl = buys[++bi]?.q ?? 0;
      if (sl <= 1e-12) sl = sells[++si]?.q ?? 0;
    }
  }
  return total;
}

const ratio = (a: number, b: number, fallback = 0) => (b > 1e-12 ? a / b : fallback);
const clip = (x: number, lo = 0, hi = 2) => Math.min(hi, Math.max(lo, x));

/** The proposal's welfare estimated on band midpoints (fills naming unknown intents count for nothing). */
export function estimatedWelfare(ctx: BatchContext, fills: readonly Pick<Fill, "buy" | "sell" | "quantity">[]): number {
  let w = 0;
  for (const f of fills) {
    const b = ctx.index.get(f.buy);
    const s = ctx.index.get(f.sell);
    if (b !== undefined && s !== undefined) w += (ctx.intents[b].p - ctx.intents[s].p) * f.quantity;
  }
  return w;
}

/** The fixed-length feature vector (FEATURE_NAMES order) for one proposal over a prepared batch. */
export function proposalFeatures(ctx: BatchContext, fills: readonly Pick<Fill, "buy" | "sell" | "quantity">[]): Float32Array {
  const n = ctx.intents.length;
  const filled = new Array<number>(n).fill(0);
  let wp = 0;
  let wpLow = 0;
  let wpHigh = 0;
  let volume = 0;
  let weakVolume = 0;
  let fillCount = 0;
  for (const f of fills) {
    const b = ctx.index.get(f.buy);
    const s = ctx.index.get(f.sell);
    if (b === undefined || s === undefined) continue;
    const g = ctx.intents[b].p - ctx.intents[s].p;
    wp += g * f.quantity;
    wpLow += (ctx.intents[b].pLow - ctx.intents[s].pHigh) * f.quantity;
    wpHigh += (ctx.intents[b].pHigh - ctx.intents[s].pLow) * f.quantity;
    volume += f.quantity;
    filled[b] += f.quantity;
    filled[s] += f.quantity;
    fillCount++;
    if (ctx.intents[b].priceBand - ctx.intents[s].priceBand <= 1) weakVolume += f.quantity;
  }
  // What a validator thinks is still tradeable: band quantity minus fills; a trading all-or-none intent is done.
  // Filled up to its band's low edge, an intent may be full: counting its band remainder as room would invent
  // trades that the optimum cannot make.
  const room = ctx.intents.map((it, k) =>
    filled[k] > 0 && (it.allOrNone || filled[k] >= it.qLow) ? 0 : Math.max(0, it.q - filled[k]));
  const residual = greedyFill(ctx.pairs, room, ctx.intents);
  const clearResidual = greedyFill(ctx.clearPairs, room, ctx.intents).welfare;
  // Optimistic edges raise every residual gain by about one band width of price.
  const optimisticResidual = residual.welfare * 2 ** (1 / PRICE_BANDS_PER_OCTAVE);
  let trading = 0;
  let tradingFull = 0;
  let fillRatio = 0;
  let allOrNone = 0;
  let capped = 0;
  // A band spans a factor 2^(1/QUANTITY_BANDS_PER_OCTAVE): filled at least the band's low edge counts as full.
  const lowEdge = 2 ** (-0.5 / QUANTITY_BANDS_PER_OCTAVE);
  ctx.intents.forEach((it, k) => {
    if (it.allOrNone) allOrNone++;
    if (it.cap !== Infinity) capped++;
    if (filled[k] <= 0) return;
    trading++;
    fillRatio += Math.min(1.5, filled[k] / it.q);
    if (filled[k] >= it.q * lowEdge) tradingFull++;
  });
  const ambiguous = ctx.pairs.reduce((a, p) => a + (p.ambiguous ? p.gain : 0), 0);
  const allGain = ctx.pairs.reduce((a, p) => a + p.gain, 0);
  const unsure = ctx.pairs.reduce((a, p) => a + (p.latencyUnsure ? p.gain : 0), 0);
  const g = ctx.greedy;
  const v = [
    clip(ratio(wp, g.welfare, 1)),
    clip(ratio(wp, wp + residual.welfare, 1)),
    clip(ratio(wp, ctx.curve, 1)),
    clip(ratio(residual.welfare, g.welfare)),
    clip(ratio(volume, g.volume, 1)),
    clip(ratio(residual.volume, g.volume)),
    ratio(trading, n),
    ratio(tradingFull, trading),
    ratio(fillRatio, trading),
    ratio(allOrNone, n),
    ratio(capped, n),
    ratio(weakVolume, volume),
    clip(ratio(ratio(wp, volume), ratio(g.welfare, g.volume), 1)),
    clip(ratio(residual.topGain, g.topGain)),
    clip(ratio(g.welfare, ctx.curve, 1)),
    ratio(ambiguous, allGain),
    ratio(residual.allOrNoneVolume, residual.volume),
    ratio(fillCount, trading) / 4,
    clip(ratio(Math.max(0, wpLow), Math.max(0, wpLow) + clearResidual, 1)),
    clip(ratio(wpHigh, wpHigh + optimisticResidual, 1)),
    clip(ratio(Math.max(0, wpLow), ctx.greedyPessimistic, 1)),
    clip(ratio(clearResidual, wp, 0), 0, 4),
    clip(ratio(wp, ctx.banded.welfare, 1)),
    clip(ratio(wp, ctx.banded.bound, 1)),
    clip(ratio(ctx.banded.welfare, g.welfare, 1)),
    clip(ratio(wp, ctx.conservative, 2)),
    clip(ratio(ctx.conservative, ctx.banded.welfare, 1)),
    ratio(unsure, allGain),
    clip(ratio(ctx.greedySure, g.welfare, 1)),
    clip(ratio(ctx.greedyMidCap, g.welfare, 1)),
    clip(ratio(wp, ctx.greedyMidCap, 2)),
  ];
  return Float32Array.from(v);
}

/**
 * The hand-written baseline a validator would write without a model: the proposal's welfare estimated on band
 * midpoints, as a share of a greedy estimate (best pairs first) of the optimum on the same midpoints, in [0, 1].
 */
export function baselineEstimate(ctx: BatchContext, fills: readonly Pick<Fill, "buy" | "sell" | "quantity">[]): number {
  const wp = estimatedWelfare(ctx, fills);
  return Math.min(1, Math.max(0, ratio(wp, Math.max(ctx.greedy.welfare, wp), 1)));
}

/**
 * A stronger reference, reported beside the baseline: the same share against the production solver's exact
 * optimum of the band-midpoint market. It is also one of the model's features.
 */
export function referenceEstimate(ctx: BatchContext, fills: readonly Pick<Fill, "buy" | "sell" | "quantity">[]): number {
  const wp = estimatedWelfare(ctx, fills);
  return Math.min(1, Math.max(0, ratio(wp, Math.max(ctx.banded.welfare, wp), 1)));
}
