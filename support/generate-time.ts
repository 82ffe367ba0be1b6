// Windowed markets for the time oracle, the time solver's tests and bench:solver: intents that say when
// (CONTRACT.md section 2a). Seeded: the same seed and options always give the same book.
// Windows are hour-aligned within a horizon that starts at `now` (some start before it, a few ended before it);
// `now` itself usually falls inside an hour, so it is a boundary of its own. Regions, resources and their price
// ranges come from support/generate.ts, so timeless and windowed markets read alike.
import type { Intent, LatencyTable, Window } from "../src/contract/schema.ts";
import { seededRandom } from "../src/random.ts";
import { buildLatencyTable, REGIONS, RESOURCES } from "./generate.ts";

/** What kind of windowed market to generate. Every field is optional; defaults are documented per field. */
export interface WindowedMarketOptions {
  /** Number of intents (buys, sells, swaps and deferrals together). Default 20. */
  size?: number;
  /** Number of regions, taken from REGIONS in order. Default 4. */
  regions?: number;
  /** Number of resources, taken from RESOURCES in order. Default 1. */
  resources?: number;
  /** Hours after now in which windows fall. Default 48. */
  horizonHours?: number;
  /** Longest window in hours (a window is 1..this long, clipped to the horizon). Default 12. */
  maxWindowHours?: number;
  /** Share of plain intents without a window (they trade at any time). Default 0.15. */
  windowlessShare?: number;
  /** Share of windows that start before now (up to 6 hours; some of them have ended by now). Default 0.15. */
  pastShare?: number;
  /** Share of windowed intents with maxRate (between a quarter and 1.25 times quantity / window hours). Default 0.3. */
  maxRateShare?: number;
  /** Share of plain intents with 0 < minQuantity < quantity. Default 0.1. */
  minQuantityShare?: number;
  /** Share of plain intents that are all-or-none (minQuantity == quantity). Default 0.05. */
  allOrNoneShare?: number;
  /** Share of intents that are swaps of one resource for another (needs 2 resources, else they become deferrals). Default 0. */
  swapShare?: number;
  /** Share of intents that are deferrals: a resource for itself in a later window. Default 0. */
  deferralShare?: number;
  /** Share of intents with soft latency (preferLatencyMs + latencyDiscount). Default 0.2. */
  softLatencyShare?: number;
  /** Share of intents that set maxLatencyMs. Default 0.3. */
  latencyCapShare?: number;
  /** Agents drawn from a pool of this many, so one agent may stand on both sides (self-trade). Default: one per intent. */
  agents?: number;
  /** Integer quantities when true, up to 3 decimals when false. Default true. */
  integerQuantities?: boolean;
  /** The settlement's time in ms. Default: 2026-12-04 17:00 UTC plus a seeded number of minutes (0..59). */
  now?: number;
}

export interface WindowedMarket {
  intents: Intent[];
  latency: LatencyTable;
  /** The settlement's time (ms since epoch): pass it as `solve(intents, latency, { now })`. */
  now: number;
}

const HOUR = 3_600_000;
const BASE_NOW = Date.UTC(2026, 11, 4, 17);

const round = (x: number, decimals: number) => Math.round(x * 10 ** decimals) / 10 ** decimals;
const iso = (ms: number) => new Date(ms).toISOString();

/** A deterministic windowed market for `seed`; see WindowedMarketOptions for the knobs and their defaults. */
export function generateWindowedMarket(seed: number, options: WindowedMarketOptions = {}): WindowedMarket {
  const rng = seededRandom(seed ^ 0x71e5);
  const size = options.size ?? 20;
  const regions = REGIONS.slice(0, Math.max(1, Math.min(options.regions ?? 4, REGIONS.length)));
  const resources = RESOURCES.slice(0, Math.max(1, Math.min(options.resources ?? 1, RESOURCES.length)));
  const latency = buildLatencyTable(regions.length, 0, seed);
  const now = options.now ?? BASE_NOW + Math.floor(rng() * 60) * 60_000;
  const draw = drawer(rng, options, now);
  const swapShare = resources.length > 1 ? options.swapShare ?? 0 : 0;
  const deferralShare = (options.deferralShare ?? 0) + (resources.length > 1 ? 0 : options.swapShare ?? 0);

  const intents: Intent[] = [];
  for (let k = 0; k < size; k++) {
    const roll = rng();
    const resource = draw.pick(resources);
    const base = { agent: options.agents ? `agent-${Math.floor(rng() * options.agents)}` : `agent-${k}`, region: draw.pick(regions) };
    let intent: Intent;
    if (roll < swapShare) {
      const other = draw.pick(resources.filter((r) => r !== resource));
      intent = { ...base, id: `swap-${k}`, side: "sell", kind: "swap", resource: resource.name, quantity: draw.quantity(),
        limitPrice: draw.price(resource, "sell"), swapFor: { resource: other.name, limitPrice: draw.price(other, "buy") } };
      if (rng() < 0.6) intent.window = draw.window();
      if (rng() < 0.6) intent.swapFor!.window = draw.window();
    } else if (roll < swapShare + deferralShare) {
      const given = draw.window();
      // The rebate a deferral asks for: a modest share of the resource's price range, per unit.
      const rebate = round(rng() * 0.4 * (resource.high - resource.low), 2);
      intent = { ...base, id: `defer-${k}`, side: "sell", kind: "deferral", resource: resource.name, quantity: draw.quantity(),
        limitPrice: rebate, window: given, swapFor: { resource: resource.name, window: draw.later(given) } };
      if (rng() < 0.5) intent.swapFor!.limitPrice = 0;
    } else {
      const side = rng() < 0.5 ? "buy" : "sell";
      intent = { ...base, id: `${side}-${k}`, side, resource: resource.name, quantity: draw.quantity(), limitPrice: draw.price(resource, side) };
      if (rng() >= (options.windowlessShare ?? 0.15)) intent.window = draw.window();
      draw.minimum(intent);
    }
    draw.rate(intent);
    draw.latency(intent, latency);
    intents.push(intent);
  }
  return { intents, latency, now };
}

/** The per-field draws of one market, all from the same stream `rng`. */
function drawer(rng: () => number, options: WindowedMarketOptions, now: number) {
  const horizon = Math.max(1, options.horizonHours ?? 48);
  const longest = Math.max(1, options.maxWindowHours ?? 12);
  const integer = options.integerQuantities ?? true;
  const firstHour = Math.floor(now / HOUR) * HOUR;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const hours = (w: Window) => (Date.parse(w.end) - Date.parse(w.start)) / HOUR;

  const quantity = () => {
    const q = rng() < 0.2 ? 50 + rng() * 950 : 1 + rng() * 99;
    return integer ? Math.max(1, Math.round(q)) : Math.max(0.001, round(q, 3));
  };
  /** Buyers skew high and sellers low, so most markets have gains from trade. */
  const price = (resource: (typeof RESOURCES)[number], side: "buy" | "sell") => {
    const u = rng();
    const skew = side === "buy" ? Math.sqrt(u) : 1 - Math.sqrt(1 - u);
    return round(resource.low + skew * (resource.high - resource.low), rng() < 0.5 ? 2 : 4);
  };
  /** An hour-aligned window: most inside [now's hour, now + horizon], some starting up to 6 hours before now. */
  const window = (): Window => {
    const past = rng() < (options.pastShare ?? 0.15);
    const startHour = past ? -1 - Math.floor(rng() * 6) : Math.floor(rng() * horizon);
    const length = 1 + Math.floor(rng() * Math.min(longest, horizon));
    const endHour = Math.min(startHour + length, horizon);
    return { start: iso(firstHour + startHour * HOUR), end: iso(firstHour + endHour * HOUR) };
  };
  /** A deferral's later slot: starts at least an hour after the given window starts (often after it ends). */
  const later = (given: Window): Window => {
    const from = (Date.parse(given.start) - firstHour) / HOUR + 1 + Math.floor(rng() * (hours(given) + 4));
    const length = 1 + Math.floor(rng() * Math.min(longest, horizon));
    return { start: iso(firstHour + from * HOUR), end: iso(firstHour + (from + length) * HOUR) };
  };
  const minimum = (intent: Intent) => {
    const r = rng();
    const aon = options.allOrNoneShare ?? 0.05;
    if (r < aon) intent.minQuantity = intent.quantity;
    else if (r < aon + (options.minQuantityShare ?? 0.1)) {
      const m = intent.quantity * (0.1 + 0.8 * rng());
      intent.minQuantity = integer ? Math.max(1, Math.min(intent.quantity, Math.round(m))) : Math.min(intent.quantity, round(m, 3));
    }
  };
  /** maxRate around quantity / hours of the window it concerns, so the cap binds in some markets and not others. */
  const rate = (intent: Intent) => {
    const w = intent.window ?? intent.swapFor?.window;
    if (w === undefined || rng() >= (options.maxRateShare ?? 0.3)) return;
    intent.maxRate = Math.max(0.001, round((intent.quantity / hours(w)) * (0.25 + rng()), 3));
  };
  const latency = (intent: Intent, table: LatencyTable) => {
    if (rng() < (options.latencyCapShare ?? 0.3)) {
      const listed = Object.values(table).flatMap((row) => Object.values(row));
      intent.maxLatencyMs = pick([0, 20, 50, 100, 150, ...listed]);
    }
    if (rng() < (options.softLatencyShare ?? 0.2)) {
      intent.preferLatencyMs = pick([0, 10, 20, 50, 100]);
      intent.latencyDiscount = round(0.0005 + rng() * 0.005, 4);
    }
  };
  return { pick, quantity, price, window, later, minimum, rate, latency };
}
