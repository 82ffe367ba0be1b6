// Random books for the trust tests: plain intents and swaps across two resources and a few regions, each intent
// its own agent unless `agents` is given.
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";
import { seededRandom } from "../../src/random.ts";

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
