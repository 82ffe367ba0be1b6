// A seeded market generator for the solver's own tests and bench: 6 regions, 2 resources, 40% latency caps.
import type { Intent } from "../../src/contract/schema.ts";
import { seededRandom } from "../../src/random.ts";

export const REGIONS = ["us-east", "us-west", "eu-west", "eu-central", "ap-northeast", "ap-southeast"];
export const RESOURCES = ["gpu-h100-hr", "storage-tb-day"];

/** The shared seeded generator (src/random.ts). */
export const rng = seededRandom;

export interface GenOptions {
  /** Share of intents that are all-or-none (minQuantity = quantity). */
  allOrNone?: number;
  /** Share of intents with a minQuantity below quantity. */
  minFill?: number;
  /** Round prices and quantities to make ties likely. */
  coarse?: boolean;
}

export function generate(n: number, seed: number, opts: GenOptions = {}): Intent[] {
  const r = rng(seed);
  const out: Intent[] = [];
  for (let k = 0; k < n; k++) {
    const side = r() < 0.5 ? "buy" : "sell";
    const resource = RESOURCES[Math.floor(r() * RESOURCES.length)];
    const base = resource === RESOURCES[0] ? 2 : 0.5;
    let price = side === "buy" ? base * (0.7 + 0.6 * r()) : base * (0.6 + 0.6 * r());
    let quantity = 1 + Math.floor(r() * 100) + (opts.coarse ? 0 : r());
    if (opts.coarse) price = Math.round(price * 10) / 10;
    const it: Intent = {
      id: `i${k}`,
      agent: `a${k}`,
      side,
      resource,
      quantity,
      limitPrice: price,
      region: REGIONS[Math.floor(r() * REGIONS.length)],
    };
    if (r() < 0.4) it.maxLatencyMs = [25, 80, 100, 150, 200][Math.floor(r() * 5)];
    const u = r();
    if (u < (opts.allOrNone ?? 0)) it.minQuantity = quantity;
    else if (u < (opts.allOrNone ?? 0) + (opts.minFill ?? 0)) it.minQuantity = Math.floor(quantity * r());
    out.push(it);
  }
  return out;
}
