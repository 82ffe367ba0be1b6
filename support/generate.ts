// The one market generator for tests and benchmarks, seeded: the same seed and options always give the same book.
// - generateMarket(seed, options): realistic markets (GPU hours, inference tokens, storage; six regions with their
//   own latency table), the oracle tests', the solver tests' (generateBook: intents only) and bench:solver's.
// - trustBook(seed, options): small hostile books with swaps and shared agents, for the solver's trust tests.
// - generateShapedMarket(r, shape): the scorer's populations (training, shifted, metro, …), drawn from a stream the
//   challenge maker keeps using (tools/train, bench/model.ts).
// Each keeps its own order of draws: the seeds tests and benchmarks picked (markets where branch and bound runs,
// the bench's instances, the trained model's data) stay the same books.
import type { Intent, LatencyTable } from "../src/contract/schema.ts";
import { seededRandom } from "../src/random.ts";

/** What kind of market to generate. Every field is optional; defaults are documented per field. */
export interface MarketOptions {
  /** Number of intents (both sides together). Default 20. */
  size?: number;
  /** Number of regions, taken from REGIONS in order (1..REGIONS.length). Default 6. */
  regions?: number;
  /** Number of resources, taken from RESOURCES in order (1..RESOURCES.length). Default 2. */
  resources?: number;
  /** Share of intents that set maxLatencyMs. Default 0.4. */
  latencyCapShare?: number;
  /** Share of intents with a minQuantity strictly between 0 and quantity. Default 0. */
  minQuantityShare?: number;
  /** Share of intents that are all-or-none (minQuantity == quantity). Default 0. */
  allOrNoneShare?: number;
  /** Prices drawn from a handful of values per resource, so many buyers and sellers tie. Default false. */
  ties?: boolean;
  /** Share of buyers whose limit equals some seller's limit on the same resource (zero-gain pairs). Default 0. */
  zeroSurplusShare?: number;
  /** Share of intents that repeat an earlier intent exactly (new id and agent). Default 0. */
  identicalShare?: number;
  /** Number of region pairs to drop from the latency table (unreachable for capped intents). Default 0. */
  unreachablePairs?: number;
  /** Generate only one side. Default: both, each intent a buy with probability 1/2. */
  oneSide?: "buy" | "sell";
  /** Integer quantities (and minQuantities) when true; fractional (up to 3 decimals) when false. Default true. */
  integerQuantities?: boolean;
}

export interface GeneratedMarket {
  intents: Intent[];
  latency: LatencyTable;
}

export const REGIONS = ["us-east", "us-west", "eu-west", "eu-central", "ap-northeast", "ap-southeast"] as const;

/** Resources with a plausible per-unit price range in USD: [low, high] for limits. */
export const RESOURCES: readonly { name: string; low: number; high: number }[] = [
  { name: "gpu-h100-hr", low: 1.6, high: 3.4 },
  { name: "inference-mtok", low: 0.15, high: 0.9 },
  { name: "gpu-a100-hr", low: 0.8, high: 1.9 },
  { name: "storage-tb-day", low: 0.6, high: 1.1 },
];

/** Round-trip milliseconds between the six regions, roughly what public clouds measure. */
const BASE_LATENCY: Record<string, Record<string, number>> = {
  "us-east": { "us-west": 62, "eu-west": 76, "eu-central": 88, "ap-northeast": 148, "ap-southeast": 212 },
  "us-west": { "eu-west": 136, "eu-central": 146, "ap-northeast": 104, "ap-southeast": 168 },
  "eu-west": { "eu-central": 14, "ap-northeast": 212, "ap-southeast": 160 },
  "eu-central": { "ap-northeast": 224, "ap-southeast": 152 },
  "ap-northeast": { "ap-southeast": 70 },
};

/**
 * The latency table for the first `regions` regions (default 6). Each unordered pair is listed once, in one
 * direction only (the contract says the table is symmetric, so readers must look both ways); some regions list
 * themselves with a non-zero latency (the contract's "unless the table says otherwise"), the others do not.
 * `dropPairs` pairs, chosen by `seed`, are left out entirely: unreachable for capped intents.
 */
export function buildLatencyTable(regions = 6, dropPairs = 0, seed = 1): LatencyTable {
  const rng = seededRandom(seed ^ 0x5eed);
  const names = REGIONS.slice(0, Math.max(1, Math.min(regions, REGIONS.length)));
  const pairs: [string, string, number][] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) pairs.push([names[i], names[j], BASE_LATENCY[names[i]][names[j]]]);
  }
  const dropped = new Set<number>();
  while (dropped.size < Math.min(dropPairs, pairs.length)) dropped.add(Math.floor(rng() * pairs.length));
  const table: LatencyTable = {};
  const put = (a: string, b: string, ms: number) => {
    (table[a] ??= {})[b] = ms;
  };
  pairs.forEach(([a, b, ms], k) => {
    if (dropped.has(k)) return;
    if (rng() < 0.5) put(a, b, ms);
    else put(b, a, ms);
  });
  // Odd-indexed regions list their own latency (1-3 ms): a cap of 0 must then exclude same-region trades.
  names.forEach((r, k) => {
    if (k % 2 === 1) put(r, r, 1 + (k % 3));
  });
  return table;
}


const round = (x: number, decimals: number) => {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
};

/** A deterministic market for `seed`; see MarketOptions for the knobs and their defaults. */
export function generateMarket(seed: number, options: MarketOptions = {}): GeneratedMarket {
  const rng = seededRandom(seed);
  const size = options.size ?? 20;
  const regionCount = Math.max(1, Math.min(options.regions ?? 6, REGIONS.length));
  const resourceCount = Math.max(1, Math.min(options.resources ?? 2, RESOURCES.length));
  const capShare = options.latencyCapShare ?? 0.4;
  const minShare = options.minQuantityShare ?? 0;
  const aonShare = options.allOrNoneShare ?? 0;
  const integer = options.integerQuantities ?? true;
  const latency = buildLatencyTable(regionCount, options.unreachablePairs ?? 0, seed);
  const regions = REGIONS.slice(0, regionCount);
  const resources = RESOURCES.slice(0, resourceCount);
  // Caps include the exact latencies in the table (boundary: latency == cap trades) and 0.
  const listed = Object.values(latency).flatMap((row) => Object.values(row));
  const caps = [0, 5, 20, 50, 80, 100, 150, 200, ...listed];

  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const tiePrices = new Map(
    resources.map((r) => [r.name, Array.from({ length: 4 }, () => round(r.low + rng() * (r.high - r.low), 2))]),
  );
  const price = (res: (typeof RESOURCES)[number], side: "buy" | "sell") => {
    if (options.ties) return pick(tiePrices.get(res.name) ?? [res.low]);
    // Buyers skew high and sellers low so that most markets have plenty of gains from trade.
    const u = rng();
    const skew = side === "buy" ? Math.sqrt(u) : 1 - Math.sqrt(1 - u);
    return round(res.low + skew * (res.high - res.low), rng() < 0.5 ? 2 : 4);
  };
  const quantity = () => {
    const big = rng() < 0.2;
    const q = big ? 50 + rng() * 950 : 1 + rng() * 99;
    return integer ? Math.max(1, Math.round(q)) : Math.max(0.001, round(q, 3));
  };

  const intents: Intent[] = [];
  for (let k = 0; k < size; k++) {
    const id = (side: string) => `${side}-${k}`;
    if (intents.length > 0 && rng() < (options.identicalShare ?? 0)) {
      const twin = intents[Math.floor(rng() * intents.length)];
      if (!options.oneSide || twin.side === options.oneSide) {
        intents.push({ ...twin, id: id(twin.side), agent: `agent-${k}` });
        continue;
      }
    }
    const side = options.oneSide ?? (rng() < 0.5 ? "buy" : "sell");
    const res = pick(resources);
    const q = quantity();
    const intent: Intent = {
      id: id(side),
      agent: `agent-${k}`,
      side,
      resource: res.name,
      quantity: q,
      limitPrice: price(res, side),
      region: pick(regions),
    };
    const r = rng();
    if (r < aonShare) intent.minQuantity = q;
    else if (r < aonShare + minShare) {
      const m = q * (0.1 + 0.8 * rng());
      intent.minQuantity = integer ? Math.max(1, Math.min(q, Math.round(m))) : Math.min(q, round(m, 3));
    }
    if (rng() < capShare) intent.maxLatencyMs = pick(caps);
    intents.push(intent);
  }

  // Zero-gain pairs: copy a seller's limit onto some buyers of the same resource.
  const zeroShare = options.zeroSurplusShare ?? 0;
  if (zeroShare > 0) {
    for (const buyer of intents) {
      if (buyer.side !== "buy" || rng() >= zeroShare) continue;
      const sellers = intents.filter((s) => s.side === "sell" && s.resource === buyer.resource);
      if (sellers.length > 0) buyer.limitPrice = pick(sellers).limitPrice;
    }
  }
  return { intents, latency };
}

/**
 * Only the intents of generateMarket, fractional quantities unless told otherwise: for tests that bring their own
 * latency table (the regions are REGIONS, the same names as the solver's DEFAULT_LATENCY).
 */
export function generateBook(size: number, seed: number, options: MarketOptions = {}): Intent[] {
  return generateMarket(seed, { integerQuantities: false, ...options, size }).intents;
}

// Trust books: small hostile books for the solver's trust tests: plain intents and swaps over two resources and three
// regions 10–50 ms apart, caps of 0, 10 or 30 ms, prices that often tie; each intent its own agent unless `agents`
// is given (then one agent may stand on both sides, and the self-trade rules get exercised).

export const TRUST_LATENCY: LatencyTable = { a: { b: 10, c: 50 }, b: { c: 30 } };

export function trustBook(seed: number, opts: { n?: number; swapShare?: number; agents?: number } = {}): Intent[] {
  const r = seededRandom(seed);
  const n = opts.n ?? 1 + Math.floor(r() * 30);
  const xs: Intent[] = [];
  for (let k = 0; k < n; k++) {
    const side = r() < 0.5 ? "buy" : "sell";
    const resource = r() < 0.6 ? "x" : "y";
    const it: Intent = {
      id: `i${k}`, agent: opts.agents ? `g${Math.floor(r() * opts.agents)}` : `g${k}`, side, resource,
      quantity: r() < 0.3 ? Math.ceil(r() * 5) : r() * 10 + 1e-3, limitPrice: r() < 0.4 ? Math.round(r() * 4) : r() * 4,
      region: ["a", "b", "c"][Math.floor(r() * 3)],
    };
    if (r() < 0.3) it.maxLatencyMs = [0, 10, 30][Math.floor(r() * 3)];
    if (side === "sell" && r() < (opts.swapShare ?? 0)) it.swapFor = { resource: resource === "x" ? "y" : "x", limitPrice: r() * 4 };
    xs.push(it);
  }
  return xs;
}

/**
 * A generated market of `size` ordinary intents (20% all-or-none) plus whales in the same component: a 1e12 seller
 * (all-or-none on odd seeds), a 1e12 − 1 buyer and two 1e-6 intents (scripts/wide-components.ts, its test).
 * `allOrNoneShare` sets the ordinary intents' share; `wholeWhales` makes the 1e12 seller and the 1e-6 buyer all-or-none
 * on every seed.
 */
export function wideBook(seed: number, size: number, opts: { allOrNoneShare?: number; wholeWhales?: boolean } = {}): { intents: Intent[]; latency: LatencyTable } {
  const market = generateMarket(seed, { size, allOrNoneShare: opts.allOrNoneShare ?? 0.2 });
  const like = market.intents[seed % market.intents.length];
  const whale = (id: string, side: "buy" | "sell", quantity: number, limitPrice: number, minQuantity?: number): Intent => ({
    ...like, id, agent: `whale-${id}`, side, quantity, limitPrice, minQuantity, maxLatencyMs: undefined,
  });
  const intents = [
    ...market.intents,
    whale("big-sell", "sell", 1e12, 0.5 + (seed % 3), opts.wholeWhales || seed % 2 ? 1e12 : undefined),
    whale("big-buy", "buy", 1e12 - 1, 3),
    whale("tiny-sell", "sell", 1e-6, 0.1),
    whale("tiny-buy", "buy", 1e-6, 1e9, opts.wholeWhales ? 1e-6 : undefined),
  ];
  return { intents, latency: market.latency };
}

// Shaped markets: the scorer's training and test populations (tools/train, bench/model.ts). Regions sit on a map
// (latency = distance), limit prices spread around a per-resource reference, and shapes set sizes, minimums and caps.

export type Rng = () => number;
const gauss = (r: Rng) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const pickFrom = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
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
  // Family knobs (absent in the named shapes above, whose draws they leave unchanged).
  /** Regions on a fresh random map per market (`regions` is then ignored): coordinates within ± this many ms. */
  mapSpread?: readonly [number, number];
  /** All-or-none share drawn per market in this range (overrides `allOrNone`). */
  allOrNoneRange?: readonly [number, number];
  /** Share of region pairs (the diagonal too) drawn per market in this range and left out of the latency table. */
  dropPairs?: readonly [number, number];
  /** Caps drawn per intent uniformly in this range of ms (overrides `caps`). */
  capRange?: readonly [number, number];
  /** Share of intents whose limit is drawn with a heavy tail (three times the spread, one-sided). */
  skew?: number;
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

export interface ShapedMarket {
  shape: string;
  intents: Intent[];
  latency: LatencyTable;
}

const SHAPED_RESOURCES = ["gpu-h100-hr", "inference-mtok", "storage-tb-day", "gpu-a100-hr", "bandwidth-tb", "cpu-core-hr"];

/**
 * One random market of the given shape, drawn from `r` (the caller keeps drawing from the same stream, so a
 * challenge's proposals replay with its market).
 */
export function generateShapedMarket(r: Rng, shape: MarketShape): ShapedMarket {
  const map = shape.mapSpread ? randomMap(r, shape.regionCount[1], shape.mapSpread) : shape.regions;
  const names = Object.keys(map).sort(() => r() - 0.5);
  const regions = names.slice(0, between(r, shape.regionCount[0], Math.min(shape.regionCount[1], names.length)));
  const drop = shape.dropPairs ? shape.dropPairs[0] + r() * (shape.dropPairs[1] - shape.dropPairs[0]) : 0;
  const latency: LatencyTable = {};
  for (const a of regions) {
    latency[a] = {};
    for (const b of regions) {
      // A dropped pair is unlisted both ways: capped intents there cannot trade, uncapped ones still can.
      if (drop > 0 && a <= b && r() < drop) continue;
      const [ax, ay] = map[a];
      const [bx, by] = map[b];
      latency[a][b] = a === b ? 1 : Math.round(3 + Math.hypot(ax - bx, ay - by));
    }
  }
  for (const a of regions) for (const b of regions) if (a > b && latency[b][a] === undefined) delete latency[a][b];
  const resources = SHAPED_RESOURCES.slice(0, between(r, shape.resources[0], shape.resources[1]));
  const reference = Object.fromEntries(resources.map((res) => [res, Math.exp(gauss(r) * 1.2 + 0.5)]));
  const spread = shape.priceSpread[0] + r() * (shape.priceSpread[1] - shape.priceSpread[0]);
  // A per-market tilt moves buyers above or below sellers, so markets range from thin to deep crossing.
  const tilt = gauss(r) * spread * 0.7;
  const n = between(r, shape.intents[0], shape.intents[1]);
  const allOrNone = shape.allOrNoneRange
    ? shape.allOrNoneRange[0] + r() * (shape.allOrNoneRange[1] - shape.allOrNoneRange[0]) : shape.allOrNone;
  const intents: Intent[] = [];
  for (let k = 0; k < n; k++) {
    const side = r() < 0.5 ? "buy" : "sell";
    const resource = pickFrom(r, resources);
    const quantity = Math.max(1, Math.round(Math.exp(gauss(r) * 1.0 + 4)));
    const shift = side === "buy" ? tilt / 2 : -tilt / 2;
    const tail = shape.skew !== undefined && r() < shape.skew ? (side === "buy" ? 3 : -3) * spread * Math.abs(gauss(r)) : 0;
    const limitPrice = Number((reference[resource] * Math.exp(gauss(r) * spread + shift + tail)).toFixed(4));
    const roll = r();
    const minQuantity = roll < allOrNone ? quantity
      : roll < allOrNone + shape.someMinimum ? Math.max(1, Math.round(quantity * (0.2 + 0.6 * r()))) : undefined;
    const maxLatencyMs = r() < shape.capped ? capOf(r, shape) : undefined;
    intents.push({
      id: `i${k}`, agent: `a${k}`, side, resource, quantity, limitPrice, region: pickFrom(r, regions),
      ...(minQuantity !== undefined ? { minQuantity } : {}),
      ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
    });
  }
  return { shape: shape.name, intents, latency };
}


function capOf(r: Rng, shape: MarketShape): number {
  if (!shape.capRange) return pickFrom(r, shape.caps);
  return Math.round(shape.capRange[0] + r() * (shape.capRange[1] - shape.capRange[0]));
}

/** `count` regions named r0, r1, … at random points of a square whose half-side is drawn in `spread` (ms). */
function randomMap(r: Rng, count: number, spread: readonly [number, number]): RegionMap {
  const half = spread[0] + r() * (spread[1] - spread[0]);
  const map: Record<string, [number, number]> = {};
  for (let k = 0; k < count; k++) map[`r${k}`] = [(2 * r() - 1) * half, (2 * r() - 1) * half];
  return map;
}

// Families: the scorer's generalisation populations. Each is a MarketShape over random maps, so together they span
// regions 2–16, resources 1–6, 2–2,000 intents, all-or-none 0–60%, dense and sparse latency tables, caps anywhere
// and skewed prices. Training uses some; the others are held out whole (tools/train, bench/model.ts).
const family = (name: string, over: Partial<MarketShape>): MarketShape => ({
  name, regions: {}, regionCount: [2, 6], intents: [10, 80], resources: [1, 3], allOrNone: 0, allOrNoneRange: [0, 0.3],
  someMinimum: 0.1, capped: 0.4, caps: [], capRange: [2, 250], priceSpread: [0.03, 0.35], mapSpread: [5, 120], ...over,
});

export const FAMILIES: readonly MarketShape[] = [
  family("small", { intents: [2, 20], regionCount: [2, 4] }),
  family("medium", { intents: [20, 120], regionCount: [2, 8], resources: [1, 4] }),
  family("sparse", { intents: [20, 150], regionCount: [3, 12], dropPairs: [0.3, 0.8], capped: 0.6 }),
  family("skewed", { intents: [10, 100], resources: [1, 5], skew: 0.3, priceSpread: [0.02, 0.5] }),
  family("capped", { intents: [10, 100], regionCount: [2, 10], capped: 0.8, mapSpread: [3, 60] }),
  // Held out: none of these is ever trained on.
  family("wide", { intents: [40, 200], regionCount: [10, 16], capped: 0.5, mapSpread: [20, 200] }),
  family("all-or-none", { intents: [10, 80], allOrNoneRange: [0.4, 0.6], someMinimum: 0.15 }),
  family("resources", { intents: [50, 250], resources: [5, 6], regionCount: [2, 8], dropPairs: [0, 0.4] }),
  family("tiny", { intents: [2, 8], regionCount: [2, 3], capped: 0.6 }),
  family("large", { intents: [300, 2000], regionCount: [4, 16], resources: [1, 5], allOrNoneRange: [0, 0.2] }),
];
export const TRAIN_FAMILIES = ["small", "medium", "sparse", "skewed", "capped"] as const;
export const HELD_OUT_FAMILIES = ["wide", "all-or-none", "resources", "tiny", "large"] as const;
export const familyNamed = (name: string): MarketShape => {
  const f = FAMILIES.find((x) => x.name === name);
  if (!f) throw new Error(`no market family ${name}`);
  return f;
};

/**
 * The reveals' shift for models trained on FAMILIES (which draw caps anywhere inside their bands): a metro market
 * whose agents all cap latency just above a band's lower edge (6, 11, 21, 31, 51 ms). Most pairs inside a cap's
 * band then cannot trade, where the trained population let about half of them: a bias the bands cannot show and
 * revealed examples can teach.
 */
export const LOW_CAP_SHAPE: MarketShape = { ...METRO_SHAPE, name: "metro-lowcap", capped: 0.85, caps: [6, 11, 21, 31, 51] };
