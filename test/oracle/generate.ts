// Seeded generator of realistic markets (GPU hours, inference tokens, storage) for the oracle tests and the
// solver bench: the same seed and options always give the same intents and latency table.
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";
import { seededRandom } from "../../src/random.ts";

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
  const rng = mulberry32(seed ^ 0x5eed);
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

/** The shared seeded generator (src/random.ts). */
export const mulberry32 = seededRandom;

const round = (x: number, decimals: number) => {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
};

/** A deterministic market for `seed`; see MarketOptions for the knobs and their defaults. */
export function generateMarket(seed: number, options: MarketOptions = {}): GeneratedMarket {
  const rng = mulberry32(seed);
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
