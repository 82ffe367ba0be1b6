// Soft latency on generated books (CONTRACT.md section 1: preferLatencyMs + latencyDiscount), seeded: the same seed
// gives the same intents. Kept apart from support/generate.ts so that its books (and the seeds tests picked there)
// stay what they are.
import type { Intent } from "../src/contract/schema.ts";
import { seededRandom } from "../src/random.ts";

export interface SoftOptions {
  /** Share of intents that get soft latency. Default 0.4. */
  share?: number;
  /** preferLatencyMs values to draw from (0 and table latencies make penalties start at a boundary). Default below. */
  prefer?: readonly number[];
  /** latencyDiscount values per ms to draw from (0 only rules out unlisted pairs). Default below. */
  discount?: readonly number[];
}

const PREFER = [0, 10, 14, 30, 50, 76, 100];
const DISCOUNT = [0, 0.001, 0.004, 0.01, 0.02, 0.05];

/** A copy of `intents` where a seeded share prefers a latency and discounts past it. */
export function withSoftLatency(intents: readonly Intent[], seed: number, options: SoftOptions = {}): Intent[] {
  const r = seededRandom(seed ^ 0x50f7);
  const share = options.share ?? 0.4;
  const prefer = options.prefer ?? PREFER;
  const discount = options.discount ?? DISCOUNT;
  return intents.map((it) => {
    if (r() >= share) return it;
    return { ...it, preferLatencyMs: prefer[Math.floor(r() * prefer.length)], latencyDiscount: discount[Math.floor(r() * discount.length)] };
  });
}
