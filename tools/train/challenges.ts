// Synthetic challenges: markets whose optimum is known (support/generate.ts, shaped markets), and proposals of
// every quality over them, labelled with their true welfare share (proposal welfare / optimal welfare). The scorer
// is trained and tested on these. Pure and seeded: the exact solver is passed in (HiGHS, support/highs.ts).
import type { Fill, Intent, LatencyTable } from "../../src/contract/schema.ts";
import { compatible } from "../../src/solver/latency.ts";
import { generateShapedMarket, type MarketShape, type Rng, type ShapedMarket as Market } from "../../support/generate.ts";

/** An exact optimum of a book: fills (priced at the limits' midpoint) and their welfare. */
export type ExactSolve = (intents: readonly Intent[], latency: LatencyTable) => { fills: Fill[]; welfare: number };
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** Σ (buy limit − sell limit) × quantity over the fills: the contract's welfare, from the true intents. */
export function welfareOf(intents: readonly Intent[], fills: readonly Fill[]): number {
  const byId = new Map(intents.map((i) => [i.id, i]));
  let w = 0;
  for (const f of fills) w += (byId.get(f.buy)!.limitPrice - byId.get(f.sell)!.limitPrice) * f.quantity;
  return w;
}

/** Why a proposal is infeasible over the true intents, or null when it is feasible (CONTRACT.md section 2). */
export function infeasibility(market: Market, fills: readonly Fill[]): string | null {
  const byId = new Map(market.intents.map((i) => [i.id, i]));
  const filled = new Map<string, number>();
  for (const f of fills) {
    const b = byId.get(f.buy);
    const s = byId.get(f.sell);
    if (!b || b.side !== "buy" || !s || s.side !== "sell") return `fill ${f.buy}/${f.sell} names unknown intents`;
    if (!(f.quantity > 0)) return `fill ${f.buy}/${f.sell} has no quantity`;
    if (!compatible(b, s, market.latency)) return `fill ${f.buy}/${f.sell} pairs incompatible intents`;
    if (b.limitPrice < s.limitPrice - 1e-12) return `fill ${f.buy}/${f.sell} is not individually rational`;
    filled.set(b.id, (filled.get(b.id) ?? 0) + f.quantity);
    filled.set(s.id, (filled.get(s.id) ?? 0) + f.quantity);
  }
  for (const [id, q] of filled) {
    const it = byId.get(id)!;
    const tol = 1e-6 * Math.max(1, it.quantity);
    if (q > it.quantity + tol) return `intent ${id} is overfilled`;
    if (q < (it.minQuantity ?? 0) - tol) return `intent ${id} is filled below its minimum`;
  }
  return null;
}

export interface Want {
  buy: Intent;
  sell: Intent;
  quantity: number;
}

/** Candidate pairs: compatible buys and sells with a positive gain from trade. */
function crossingPairs(market: Market): Want[] {
  const buys = market.intents.filter((i) => i.side === "buy");
  const sells = market.intents.filter((i) => i.side === "sell");
  const out: Want[] = [];
  for (const b of buys) {
    for (const s of sells) {
      if (b.limitPrice > s.limitPrice && compatible(b, s, market.latency)) out.push({ buy: b, sell: s, quantity: Infinity });
    }
  }
  return out;
}

/**
 * Turns wishes into a feasible proposal: each wish takes what both sides still have, then intents left below
 * their minimum are dropped whole (their counterparts keep the freed room unused), until nothing changes.
 */
export function packFills(wants: readonly Want[]): Fill[] {
  const left = new Map<string, number>();
  const room = (it: Intent) => left.get(it.id) ?? it.quantity;
  let fills: { buy: Intent; sell: Intent; quantity: number }[] = [];
  for (const w of wants) {
    const q = Math.min(w.quantity, room(w.buy), room(w.sell));
    if (q <= 1e-9) continue;
    left.set(w.buy.id, room(w.buy) - q);
    left.set(w.sell.id, room(w.sell) - q);
    fills.push({ buy: w.buy, sell: w.sell, quantity: q });
  }
  for (;;) {
    const total = new Map<string, number>();
    for (const f of fills) {
      total.set(f.buy.id, (total.get(f.buy.id) ?? 0) + f.quantity);
      total.set(f.sell.id, (total.get(f.sell.id) ?? 0) + f.quantity);
    }
    const short = (it: Intent) => (total.get(it.id) ?? 0) < (it.minQuantity ?? 0) - 1e-7 * Math.max(1, it.quantity);
    const kept = fills.filter((f) => !short(f.buy) && !short(f.sell));
    if (kept.length === fills.length) break;
    fills = kept;
  }
  return fills.map((f) => ({
    buy: f.buy.id, sell: f.sell.id, resource: f.buy.resource, quantity: f.quantity,
    price: (f.buy.limitPrice + f.sell.limitPrice) / 2,
  }));
}

function wantsFromFills(market: Market, fills: readonly Fill[], scale = 1): Want[] {
  const byId = new Map(market.intents.map((i) => [i.id, i]));
  return fills.map((f) => ({ buy: byId.get(f.buy)!, sell: byId.get(f.sell)!, quantity: f.quantity * scale }));
}

export function shuffle<T>(r: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

export type HonestKind =
  | "exact" | "budget" | "greedy" | "fifo" | "thinned" | "perturbed" | "random" | "bad" | "sparse";
export const PROPOSAL_KINDS: readonly HonestKind[] = [
  "exact", "budget", "greedy", "fifo", "thinned", "perturbed", "random", "bad", "sparse",
];
/**
 * Proposals crafted to look optimal in what a validator sees while wasting welfare. dust: every crossing pair
 * traded a sliver (many tiny fills, most intents "trading"). edge: the optimum cut back so each intent ends at the
 * low edge of its quantity band (a validator's bands read it as filled). mimic: the optimum's fills, count and
 * quantities moved onto other, worse pairs of the same resource. lowgain: the optimum's traders, each matched to
 * its worst crossing counterpart instead. swapped: the optimum with one to three of its fills moved onto worse
 * pairs of the same resource, same quantity (the subtlest: everything but a few pairs is optimal).
 */
export type AdversarialKind = "dust" | "edge" | "mimic" | "lowgain" | "swapped";
export const ADVERSARIAL_KINDS: readonly AdversarialKind[] = ["dust", "edge", "mimic", "lowgain", "swapped"];
export type ProposalKind = HonestKind | AdversarialKind;

/**
 * One proposal of the given kind. exact: the optimum. budget: the optimum of a random 30–90% of the intents
 * (a solver that ran out of time). greedy: pairs by gain, best first. fifo: first come first matched. thinned:
 * the optimum scaled down by a random factor. perturbed: the optimum with a few fills dropped and the room
 * refilled at random. random: pairs in random order. bad: pairs by gain, worst first. sparse: a few random fills.
 */
export function makeProposal(r: Rng, market: Market, kind: ProposalKind, exact: ExactSolve, optimum: Fill[]): Fill[] {
  const pairs = crossingPairs(market);
  switch (kind) {
    case "exact":
      return optimum.map((f) => ({ ...f }));
    case "budget": {
      const keep = 0.3 + 0.6 * r();
      const subset = market.intents.filter(() => r() < keep);
      return packFills(wantsFromFills(market, exact(subset, market.latency).fills));
    }
    case "greedy":
      return packFills(pairs.sort((a, b) => gain(b) - gain(a)));
    case "fifo":
      return packFills(pairs.sort((a, b) => order(a) - order(b)));
    case "thinned":
      return packFills(wantsFromFills(market, optimum, 0.2 + 0.8 * r()));
    case "perturbed": {
      const drop = 0.1 + 0.5 * r();
      const kept = optimum.filter(() => r() >= drop);
      return packFills([...wantsFromFills(market, kept), ...shuffle(r, pairs)]);
    }
    case "random":
      return packFills(shuffle(r, pairs));
    case "bad":
      return packFills(pairs.sort((a, b) => gain(a) - gain(b)));
    case "sparse": {
      const some = shuffle(r, pairs).slice(0, 1 + Math.floor(r() * 3));
      return packFills(some.map((w) => ({ ...w, quantity: w.quantity * (0.3 + 0.7 * r()) })));
    }
    case "dust": {
      const sliver = 0.02 + 0.1 * r();
      return packFills(shuffle(r, pairs).map((w) => ({ ...w, quantity: sliver * Math.min(w.buy.quantity, w.sell.quantity) })));
    }
    case "edge":
      return packFills(wantsFromFills(market, optimum).map((w) => ({
        ...w, quantity: w.quantity * Math.min(bandLowShare(w.buy.quantity), bandLowShare(w.sell.quantity)),
      })));
    case "mimic":
      return packFills(wantsFromFills(market, optimum).map((w) => {
        const others = pairs.filter((p) => p.buy.resource === w.buy.resource && (p.buy !== w.buy || p.sell !== w.sell));
        const worse = others.filter((p) => gain(p) < gain(w));
        const pool = worse.length > 0 ? worse : others;
        return pool.length > 0 ? { ...pick(r, pool), quantity: w.quantity } : w;
      }));
    case "swapped": {
      const moved = new Set(shuffle(r, optimum.map((_, k) => k)).slice(0, 1 + Math.floor(r() * 3)));
      return packFills(wantsFromFills(market, optimum).map((w, k) => {
        if (!moved.has(k)) return w;
        const worse = pairs.filter((p) => p.buy.resource === w.buy.resource && gain(p) < gain(w));
        return worse.length > 0 ? { ...pick(r, worse), quantity: w.quantity } : w;
      }));
    }
    case "lowgain": {
      const traders = new Set(optimum.flatMap((f) => [f.buy, f.sell]));
      return packFills(pairs.filter((p) => traders.has(p.buy.id) && traders.has(p.sell.id)).sort((a, b) => gain(a) - gain(b)));
    }
  }
}
/** Share of a quantity at the low edge of its commitment band (band k spans [2^(k/4), 2^((k+1)/4))). */
const bandLowShare = (q: number) => 2 ** (Math.floor(4 * Math.log2(q)) / 4) / q;
const gain = (w: Want) => w.buy.limitPrice - w.sell.limitPrice;
const order = (w: Want) => Number(w.buy.id.slice(1)) * 1e6 + Number(w.sell.id.slice(1));

export interface LabelledProposal {
  kind: ProposalKind;
  fills: Fill[];
  welfare: number;
  /** True welfare share in [0, 1]: welfare / optimum. */
  label: number;
}

export interface Challenge {
  market: Market;
  optimum: number;
  proposals: LabelledProposal[];
}

/**
 * One challenge: a market with a positive optimum and `perMarket` proposals of random kinds (always including
 * the exact one). Returns null when the market has nothing to trade. Proposals are checked feasible: a bug in a
 * maker must not turn into a silently wrong label.
 */
export function generateChallenge(
  r: Rng, shape: MarketShape, exact: ExactSolve, perMarket = 6, extra: readonly ProposalKind[] = [],
): Challenge | null {
  const market = generateShapedMarket(r, shape);
  const best = exact(market.intents, market.latency);
  if (best.welfare <= 1e-9) return null;
  const kinds: ProposalKind[] = ["exact"];
  while (kinds.length < perMarket) kinds.push(pick(r, PROPOSAL_KINDS.slice(1)));
  kinds.push(...extra);
  const made = kinds.map((kind) => ({ kind, fills: makeProposal(r, market, kind, exact, best.fills) }));
  // A heuristic can tie the optimum to within solver tolerance; the optimum is the best welfare seen.
  const welfares = made.map((p) => welfareOf(market.intents, p.fills));
  const optimum = Math.max(best.welfare, ...welfares);
  const proposals = made.map((p, k) => {
    const why = infeasibility(market, p.fills);
    if (why !== null) throw new Error(`challenge: ${p.kind} proposal infeasible: ${why}`);
    return { ...p, welfare: welfares[k], label: Math.min(1, Math.max(0, welfares[k] / optimum)) };
  });
  return { market, optimum, proposals };
}
