// Features a validator can compute: from commitments (coarse bands, CONTRACT.md section 6), the market's public
// latency table and a proposal's fills, nothing else. Each intent is replaced by its band midpoints; the proposal's
// welfare and what it leaves on the table are then estimated on that banded market. All features are ratios or
// shares, so they do not depend on the market's price or quantity scale, nor (to carry over to larger markets
// than the training saw) on its size. Also the hand-written baseline.
import type { Fill, Intent, LatencyTable } from "../contract/schema.ts";
import { solve } from "../solver/index.ts";
import { latencyBetween } from "../solver/latency.ts";
import type { Commitment } from "./commitment.ts";
import {
  latencyBandCap, PRICE_BANDS_PER_OCTAVE, priceBandMid, quantityBandMid, QUANTITY_BANDS_PER_OCTAVE, windowBandSpan, type WindowBand,
} from "./commitment.ts";

/** Bumped whenever the vector's layout or meaning changes; a model records the version it was trained on. */
// f5: all-or-none intents no longer take partial fills in the greedy estimates (f4 let them, which inflated the
// greedy optimum and, through max(solver, greedy), the banded optimum); a pessimistic banded optimum; latency-band
// readings (pairs whose latency the cap bands cannot vouch for, caps read at their band's middle).
// f6: windows, rate caps and swaps from their bands (commitment.ts): a swap is two legs (a sell of what it gives, a
// buy of what it takes), pairs whose banded windows do not overlap cannot trade, a rate cap bounds a pair's
// quantity to rate × the hours both windows share, and with the batch's time (`now`) a window's past is cut off;
// five readings of them appended.
// f7: windows read at their band's shortest length beside its middle (the overlap the bands vouch for): the gain
// the greedy and the banded optimum lose with them, what a proposal leaves that only the middle reading can trade,
// the proposal's welfare over that optimum, and windowed all-or-none intents in what a proposal leaves.
export const FEATURES_VERSION = "f7";
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
  "windowed_share", "swap_leg_share", "window_blocked_gain_share", "rate_bound_gain_share", "window_past_share",
  "greedy_low_window_lost_share", "residual_low_window_lost_share", "banded_low_window_lost_share",
  "wp_over_banded_low_window", "residual_windowed_all_or_none_share",
] as const;
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** One leg of a committed intent: a plain intent is one, a swap two (it sells what it gives, buys what it takes). */
interface Banded {
  id: string;
  /** The leg's sell or buy twin, for a swap. */
  swap: boolean;
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
  /** The window a validator imagines from the band (ms); undefined: any time. */
  window?: { start: number; end: number };
  /** The same window at its band's shortest length. */
  windowLow?: { start: number; end: number };
  /** The rate cap's band middle (units per hour); Infinity without one. */
  rate: number;
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
  /** The most it can trade within the legs' rate caps over the hours their windows share (Infinity: no cap). */
  most: number;
  /** The same with windows at their band's shortest length (0: they do not overlap then). */
  mostLow: number;
}
type GainOf = (p: Pair) => number;

/** What depends on the batch only, computed once and shared by every proposal for that batch. */
export interface BatchContext {
  /** Legs: one per plain intent, two per swap. */
  intents: Banded[];
  /** Fills name a buy leg and a sell leg by intent id. */
  buyIndex: Map<string, number>;
  sellIndex: Map<string, number>;
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
  /** Midpoint gain of the pairs that only their banded windows keep apart, and of pairs a rate cap bounds. */
  windowBlockedGain: number;
  rateBoundGain: number;
  /** Share of the banded window-hours that lie before now (0 without now). */
  windowPastShare: number;
  /** Midpoint pairs with windows at their band's shortest length (mostLow as most), and their greedy optimum. */
  lowPairs: Pair[];
  greedyLowWindow: number;
  /** The banded optimum with windows at their band's shortest length; undefined when no commitment has a window. */
  bandedLowWindow?: number;
}

const HOUR_MS = 3_600_000;

/** The banded window from `now` on (empty when it has passed); the whole band without now. */
function fromNow(band: WindowBand | undefined, now: number | undefined, length: "middle" | "low" = "middle"): { start: number; end: number } | undefined {
  if (!band) return undefined;
  const span = windowBandSpan(band, length);
  return now === undefined ? span : { start: Math.min(Math.max(span.start, now), span.end), end: span.end };
}

/** A commitment's legs at its band midpoints. */
function legsOf(c: Commitment, now: number | undefined): Banded[] {
  const f = c.features;
  const leg = (buy: boolean, resource: string, band: number | null, window: WindowBand | undefined): Banded => ({
    id: c.id, swap: f.swapFor !== undefined, buy, resource, region: f.region,
    q: quantityBandMid(f.quantityBand), qLow: quantityBandMid(f.quantityBand) * 2 ** (-0.5 / QUANTITY_BANDS_PER_OCTAVE),
    p: priceBandMid(band),
    pLow: band === null ? 0 : priceBandMid(band) * 2 ** (-0.5 / PRICE_BANDS_PER_OCTAVE),
    pHigh: band === null ? 0 : priceBandMid(band) * 2 ** (0.5 / PRICE_BANDS_PER_OCTAVE),
    cap: latencyBandCap(f.latencyBand),
    capLow: f.latencyBand === null ? Infinity : f.latencyBand === 0 ? 0 : latencyBandCap(f.latencyBand - 1),
    allOrNone: f.minimum === "all", someMinimum: f.minimum === "some", priceBand: band ?? -1e9,
    ...(window ? { window: fromNow(window, now), windowLow: fromNow(window, now, "low") } : {}),
    rate: f.rateBand === undefined ? Infinity : quantityBandMid(f.rateBand),
  });
  if (!f.swapFor) return [leg(f.side === "buy", f.resource, f.priceBand, f.window)];
  return [leg(false, f.resource, f.priceBand, f.window), leg(true, f.swapFor.resource, f.swapFor.priceBand, f.swapFor.window)];
}

/** Hours two legs can trade together: their windows' overlap (a windowless leg trades at any time). */
function sharedHours(a: Banded, b: Banded, length: "middle" | "low" = "middle"): number {
  const wa = length === "low" ? a.windowLow : a.window;
  const wb = length === "low" ? b.windowLow : b.window;
  if (!wa && !wb) return Infinity;
  const start = Math.max(wa?.start ?? -Infinity, wb?.start ?? -Infinity);
  const end = Math.min(wa?.end ?? Infinity, wb?.end ?? Infinity);
  return Math.max(0, (end - start) / HOUR_MS);
}

/**
 * Prepares a batch: band midpoints per commitment, compatible pairs, the greedy and curve bounds. `now`: the
 * batch's time (ms), public; windows are read from it on (without it, whole).
 */
export function batchContext(commitments: readonly Commitment[], latency: LatencyTable, now?: number): BatchContext {
  const intents = commitments.flatMap((c) => legsOf(c, now));
  const buyIndex = new Map<string, number>();
  const sellIndex = new Map<string, number>();
  intents.forEach((it, k) => (it.buy ? buyIndex : sellIndex).set(it.id, k));
  const pairs: Pair[] = [];
  let windowBlockedGain = 0;
  let rateBoundGain = 0;
  intents.forEach((b, bi) => {
    if (!b.buy) return;
    intents.forEach((s, si) => {
      // A swap's legs trade only together (what it gives equals what it takes): a pair at a time would count one
      // leg's gain without the other's cost, so swaps are left to the banded optimum.
      if (s.buy || b.swap || s.swap || s.resource !== b.resource || b.pHigh <= s.pLow) return;
      const lat = latencyBetween(latency, b.region, s.region);
      if (!capAdmits(lat, b.cap) || !capAdmits(lat, s.cap)) return;
      const hours = sharedHours(b, s);
      if (hours <= 0) {
        windowBlockedGain += Math.max(0, b.p - s.p);
        return;
      }
      const most = Math.min(b.rate, s.rate) * hours;
      if (most < Math.min(b.q, s.q)) rateBoundGain += Math.max(0, b.p - s.p);
      pairs.push({
        b: bi, s: si, gain: b.p - s.p, ambiguous: b.priceBand - s.priceBand <= 1,
        latencyUnsure: lat !== undefined && (lat > b.capLow || lat > s.capLow),
        midCapOk: capAdmits(lat, (b.capLow + b.cap) / 2) && capAdmits(lat, (s.capLow + s.cap) / 2), most,
        mostLow: Math.min(b.rate, s.rate) * sharedHours(b, s, "low"),
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
  const lowPairs = midPairs.filter((p) => p.mostLow > 0).map((p) => ({ ...p, most: p.mostLow }));
  const windowed = commitments.some((c) => c.features.window || c.features.swapFor?.window);
  return {
    intents, buyIndex, sellIndex, pairs: midPairs, clearPairs, greedy,
    greedyPessimistic: greedyFill(clearPairs, full, intents).welfare,
    banded: bandedOptimum(commitments, latency, greedy.welfare, now),
    conservative: conservativeOptimum(commitments, latency, now),
    greedySure: greedyFill(midPairs.filter((p) => !p.latencyUnsure), full, intents).welfare,
    greedyMidCap: greedyFill(midPairs.filter((p) => p.midCapOk), full, intents).welfare,
    curve: curveBound(intents),
    resources: new Set(intents.map((i) => i.resource)).size, regions: new Set(intents.map((i) => i.region)).size,
    windowBlockedGain, rateBoundGain, windowPastShare: pastShare(commitments, now),
    lowPairs, greedyLowWindow: greedyFill(lowPairs, full, intents).welfare,
    ...(windowed ? { bandedLowWindow: bandedLowWindow(commitments, latency, now) } : {}),
  };
}

/** Share of the commitments' banded window-hours that lie before now. */
function pastShare(commitments: readonly Commitment[], now: number | undefined): number {
  let past = 0;
  let all = 0;
  for (const band of commitments.flatMap((c) => [c.features.window, c.features.swapFor?.window])) {
    if (!band || now === undefined) continue;
    const span = windowBandSpan(band);
    all += span.end - span.start;
    past += Math.min(span.end, Math.max(span.start, now)) - span.start;
  }
  return ratio(past, all);
}

/**
 * The market a validator imagines from the bands, one intent per commitment (a swap keeps its two legs together):
 * `midpoint` reads every band at its middle; `pessimistic` as conservativeOptimum describes; `lowWindow` as
 * `midpoint` with windows at their band's shortest length.
 */
function imagine(commitments: readonly Commitment[], reading: "midpoint" | "pessimistic" | "lowWindow"): Intent[] {
  const high = 2 ** (0.5 / QUANTITY_BANDS_PER_OCTAVE);
  const iso = (ms: number) => new Date(ms).toISOString();
  const window = (band: WindowBand | undefined) => {
    if (!band) return undefined;
    const span = windowBandSpan(band, reading === "lowWindow" ? "low" : "middle");
    return { start: iso(span.start), end: iso(span.end) };
  };
  return commitments.map(({ id, features: f }) => {
    const mid = quantityBandMid(f.quantityBand);
    const allOrNone = f.minimum === "all";
    const low = mid * 2 ** (-0.5 / QUANTITY_BANDS_PER_OCTAVE);
    const quantity = reading !== "pessimistic" ? mid : allOrNone ? mid * high : low;
    const minQuantity = allOrNone ? quantity : reading === "pessimistic" && f.minimum === "some" ? 0.8 * quantity : undefined;
    const cap = latencyBandCap(f.latencyBand);
    const capLow = f.latencyBand === null || f.latencyBand === 0 ? 0 : latencyBandCap(f.latencyBand - 1);
    const maxLatencyMs = cap === Infinity ? undefined : reading !== "pessimistic" ? cap : (capLow + cap) / 2;
    const given = window(f.window);
    const taken = window(f.swapFor?.window);
    return {
      id, agent: id, side: f.swapFor ? "sell" : f.side, resource: f.resource, region: f.region, quantity,
      limitPrice: priceBandMid(f.priceBand), ...(minQuantity !== undefined ? { minQuantity } : {}),
      ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
      ...(given ? { window: given } : {}),
      ...(f.rateBand !== undefined && (given || taken) ? { maxRate: quantityBandMid(f.rateBand) } : {}),
      ...(f.swapFor ? {
        kind: "swap" as const,
        swapFor: { resource: f.swapFor.resource, limitPrice: priceBandMid(f.swapFor.priceBand), ...(taken ? { window: taken } : {}) },
      } : {}),
    };
  });
}

/**
 * The exact optimum of the market a validator imagines from the bands (midpoint prices and quantities, band caps).
 * A node budget instead of a time budget keeps features reproducible on a loaded machine.
 */
function bandedOptimum(commitments: readonly Commitment[], latency: LatencyTable, greedy: number, now: number | undefined): { welfare: number; bound: number } {
  try {
    const out = solve(imagine(commitments, "midpoint"), latency, { timeBudgetMs: 60_000, nodeBudget: 300, now });
    return { welfare: Math.max(out.welfare, greedy), bound: Math.max(out.certificate.bound, out.welfare, greedy) };
  } catch {
    // The solver refusing an imagined market must not stop scoring: the greedy estimate stands in.
    return { welfare: greedy, bound: greedy };
  }
}

/**
 * The banded optimum with every window at its band's shortest length: where the midpoint optimum relies on windows
 * overlapping for longer than the bands vouch for, this one loses that gain.
 */
function bandedLowWindow(commitments: readonly Commitment[], latency: LatencyTable, now: number | undefined): number {
  return imaginedWelfare(imagine(commitments, "lowWindow"), latency, now);
}

/**
 * The optimum of a pessimistic reading of the bands: all-or-none intents need their band's high edge, every other
 * intent offers only its band's low edge, a hidden minimum ("some") is taken as 80% of that, and a latency cap is
 * read at its band's middle. Where the midpoint optimum relies on a match the bands cannot vouch for (an
 * all-or-none buyer and a seller in the same quantity band, a pair whose latency lies inside a cap's band), this
 * one leaves it out; the gap between the two tells the model how sure the optimum is.
 */
function conservativeOptimum(commitments: readonly Commitment[], latency: LatencyTable, now: number | undefined): number {
  return imaginedWelfare(imagine(commitments, "pessimistic"), latency, now);
}

/** The production solver's optimum of an imagined market; 0 when it refuses the market (scoring must go on). */
function imaginedWelfare(intents: Intent[], latency: LatencyTable, now: number | undefined): number {
  try {
    return solve(intents, latency, { timeBudgetMs: 60_000, nodeBudget: 300, now }).welfare;
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
    const q = Math.min(left[p.b], left[p.s], p.most);
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

/** Per resource, the area between the plain demand and supply curves, ignoring latency: an optimistic bound. */
function curveBound(intents: readonly Banded[]): number {
  let total = 0;
  for (const res of new Set(intents.map((i) => i.resource))) {
    const buys = intents.filter((i) => i.buy && !i.swap && i.resource === res).sort((a, b) => b.p - a.p);
    const sells = intents.filter((i) => !i.buy && !i.swap && i.resource === res).sort((a, b) => a.p - b.p);
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
    const b = ctx.buyIndex.get(f.buy);
    const s = ctx.sellIndex.get(f.sell);
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
    const b = ctx.buyIndex.get(f.buy);
    const s = ctx.sellIndex.get(f.sell);
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
  const residualLow = greedyFill(ctx.lowPairs, room, ctx.intents).welfare;
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
    ratio(ctx.intents.filter((it) => it.window).length, n),
    ratio(ctx.intents.filter((it) => it.swap).length, n),
    ratio(ctx.windowBlockedGain, allGain + ctx.windowBlockedGain),
    ratio(ctx.rateBoundGain, allGain),
    ctx.windowPastShare,
    clip(ratio(g.welfare - ctx.greedyLowWindow, g.welfare), 0, 1),
    clip(ratio(residual.welfare - residualLow, g.welfare), 0, 1),
    ctx.bandedLowWindow === undefined ? 0 : clip(1 - ratio(ctx.bandedLowWindow, ctx.banded.welfare, 1), 0, 1),
    ctx.bandedLowWindow === undefined ? 0 : clip(ratio(wp, ctx.bandedLowWindow, 2)),
    ratio(ctx.intents.reduce((a, it, k) => a + (it.allOrNone && it.window ? room[k] : 0), 0), room.reduce((a, x) => a + x, 0)),
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

/**
 * Whether a latency band's cap admits a pair `latency` ms apart: commitments give caps as band edges, and the
 * no-cap band is Infinity, which admits any pair, even one the table does not list. (The solver's `withinCap`
 * reads an intent's own cap instead.)
 */
function capAdmits(latency: number | undefined, cap: number): boolean {
  if (cap === Infinity) return true;
  return latency !== undefined && latency <= cap;
}
