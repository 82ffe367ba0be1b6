// Synthetic challenges: markets whose optimum is known, and proposals of every quality over them, labelled with
// their true welfare share (proposal welfare / optimal welfare). The scorer is trained and tested on these.
// Pure and seeded: the exact solver is passed in, so the same code runs with HiGHS in training or `src/solver`.
import type { Fill, Intent, LatencyTable } from "../contract/schema.ts";
import type { ExactSolve } from "./exact-highs.ts";
import { compatible } from "./latency.ts";
import { seededRandom } from "../random.ts";

/** The shared seeded generator (src/random.ts). */
export const rng = seededRandom;
export type Rng = () => number;
const gauss = (r: Rng) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const between = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** Regions with map coordinates in ms: latency is distance plus a small base. */
export type RegionMap = Readonly<Record<string, readonly [number, number]>>;
export const TRAIN_REGIONS: RegionMap = {
  "eu-west": [0, 0], "eu-central": [12, 6], "us-east": [75, -5], "us-west": [135, 5], "ap-south": [95, 80],
  "ap-east": [160, 70],
};
/** Regions the training never sees, laid out differently (the shifted test distribution). */
export const SHIFTED_REGIONS: RegionMap = {
  "sa-east": [40, -110], "af-south": [-20, -90], "me-central": [55, 45], "ap-northeast": [190, 40],
  "oc-south": [210, -60], "ca-central": [70, 20], "eu-north": [5, 25], "us-central": [105, -15],
};

/**
 * A metro area: nearby data-centre regions, 3–33 ms apart, none of them seen in training (the feedback shift).
 */
export const METRO_REGIONS: RegionMap = {
  "metro-a": [0, 0], "metro-b": [9, 4], "metro-c": [4, 14], "metro-d": [17, 9], "metro-e": [13, 22],
  "metro-f": [25, 3], "metro-g": [22, 17],
};

export interface MarketShape {
  name: string;
  regions: RegionMap;
  regionCount: readonly [number, number];
  intents: readonly [number, number];
  resources: readonly [number, number];
  /** Share of intents that are all-or-none, and that carry a smaller minimum. */
  allOrNone: number;
  someMinimum: number;
  /** Share of intents that set maxLatencyMs, and the caps they pick from. */
  capped: number;
  caps: readonly number[];
  /** Spread (log-sd) of limit prices around the resource's reference price. */
  priceSpread: readonly [number, number];
}

export const TRAIN_SHAPE: MarketShape = {
  name: "train", regions: TRAIN_REGIONS, regionCount: [1, 4], intents: [6, 50], resources: [1, 3],
  allOrNone: 0.15, someMinimum: 0.1, capped: 0.4, caps: [5, 20, 50, 100, 200], priceSpread: [0.05, 0.3],
};
/** Larger markets in other regions: the held-out shifted distribution. */
export const SHIFTED_SHAPE: MarketShape = {
  name: "shifted", regions: SHIFTED_REGIONS, regionCount: [3, 7], intents: [50, 110], resources: [1, 4],
  allOrNone: 0.2, someMinimum: 0.1, capped: 0.5, caps: [20, 50, 80, 150, 250], priceSpread: [0.05, 0.3],
};

/**
 * A harder shift for the feedback benchmark: thin markets (limit prices within a few percent, so gains hide inside
 * one or two price bands), many all-or-none intents and tight latency caps, in unseen regions. The model trained on
 * TRAIN_SHAPE is miscalibrated here; revealed examples from it are what feedback should fix.
 */
export const THIN_SHAPE: MarketShape = {
  name: "thin", regions: SHIFTED_REGIONS, regionCount: [2, 5], intents: [20, 70], resources: [1, 2],
  allOrNone: 0.4, someMinimum: 0.15, capped: 0.6, caps: [20, 40, 80, 150], priceSpread: [0.02, 0.06],
};

/**
 * Another feedback shift: agents that pick latency caps between the band edges (12, 25, 40, 65, 90, 120 ms) and
 * cap most intents, in unseen regions. A validator reading the band's upper edge then believes more pairs can trade
 * than really can, so the optimum looks larger than it is: a bias that revealed examples can correct.
 */
export const OFFGRID_SHAPE: MarketShape = {
  name: "offgrid", regions: SHIFTED_REGIONS, regionCount: [3, 6], intents: [30, 80], resources: [1, 3],
  allOrNone: 0.2, someMinimum: 0.1, capped: 0.75, caps: [12, 25, 40, 65, 90, 120], priceSpread: [0.05, 0.3],
};

/**
 * The feedback benchmark's shift: a metro market (METRO_REGIONS) where most intents cap latency at 8, 15, 25 or
 * 40 ms. The training population caps at band edges (5, 20, 50, 100, 200 ms), so the base model learned to trust
 * the upper edge of a cap band; here caps sit inside their bands and the region latencies fall around them, so
 * many pairs the bands allow cannot trade: the base model underestimates. Revealed examples from such a market
 * teach it the population's habit (the features read caps both at the band's upper edge and at its middle).
 */
export const METRO_SHAPE: MarketShape = {
  name: "metro", regions: METRO_REGIONS, regionCount: [4, 7], intents: [30, 80], resources: [1, 3],
  allOrNone: 0.15, someMinimum: 0.1, capped: 0.75, caps: [8, 15, 25, 40], priceSpread: [0.05, 0.3],
};

export interface Market {
  shape: string;
  intents: Intent[];
  latency: LatencyTable;
}

const RESOURCES = ["gpu-h100-hr", "inference-mtok", "storage-tb-day", "gpu-a100-hr", "bandwidth-tb"];

/** One random market of the given shape. */
export function generateMarket(r: Rng, shape: MarketShape): Market {
  const names = Object.keys(shape.regions).sort(() => r() - 0.5);
  const regions = names.slice(0, between(r, shape.regionCount[0], Math.min(shape.regionCount[1], names.length)));
  const latency: LatencyTable = {};
  for (const a of regions) {
    latency[a] = {};
    for (const b of regions) {
      const [ax, ay] = shape.regions[a];
      const [bx, by] = shape.regions[b];
      latency[a][b] = a === b ? 1 : Math.round(3 + Math.hypot(ax - bx, ay - by));
    }
  }
  const resources = RESOURCES.slice(0, between(r, shape.resources[0], shape.resources[1]));
  const reference = Object.fromEntries(resources.map((res) => [res, Math.exp(gauss(r) * 1.2 + 0.5)]));
  const spread = shape.priceSpread[0] + r() * (shape.priceSpread[1] - shape.priceSpread[0]);
  // A per-market tilt moves buyers above or below sellers, so markets range from thin to deep crossing.
  const tilt = gauss(r) * spread * 0.7;
  const n = between(r, shape.intents[0], shape.intents[1]);
  const intents: Intent[] = [];
  for (let k = 0; k < n; k++) {
    const side = r() < 0.5 ? "buy" : "sell";
    const resource = pick(r, resources);
    const quantity = Math.max(1, Math.round(Math.exp(gauss(r) * 1.0 + 4)));
    const shift = side === "buy" ? tilt / 2 : -tilt / 2;
    const limitPrice = Number((reference[resource] * Math.exp(gauss(r) * spread + shift)).toFixed(4));
    const roll = r();
    const minQuantity = roll < shape.allOrNone ? quantity
      : roll < shape.allOrNone + shape.someMinimum ? Math.max(1, Math.round(quantity * (0.2 + 0.6 * r()))) : undefined;
    const maxLatencyMs = r() < shape.capped ? pick(r, shape.caps) : undefined;
    intents.push({
      id: `i${k}`, agent: `a${k}`, side, resource, quantity, limitPrice, region: pick(r, regions),
      ...(minQuantity !== undefined ? { minQuantity } : {}),
      ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
    });
  }
  return { shape: shape.name, intents, latency };
}

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

function shuffle<T>(r: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

export type ProposalKind =
  | "exact" | "budget" | "greedy" | "fifo" | "thinned" | "perturbed" | "random" | "bad" | "sparse";
export const PROPOSAL_KINDS: readonly ProposalKind[] = [
  "exact", "budget", "greedy", "fifo", "thinned", "perturbed", "random", "bad", "sparse",
];

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
  }
}
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
export function generateChallenge(r: Rng, shape: MarketShape, exact: ExactSolve, perMarket = 6): Challenge | null {
  const market = generateMarket(r, shape);
  const best = exact(market.intents, market.latency);
  if (best.welfare <= 1e-9) return null;
  const kinds: ProposalKind[] = ["exact"];
  while (kinds.length < perMarket) kinds.push(pick(r, PROPOSAL_KINDS.slice(1)));
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
