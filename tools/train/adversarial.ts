// The adversarial set: in each market, every crafted proposal (ADVERSARIAL_KINDS) beside an honest one with at least
// 5% more welfare (the optimum thinned to 1.05 × the crafted welfare, or the optimum itself). A scorer is gamed when
// it ranks the crafted proposal above the better honest one; the rate of that is the adversarial figure.
import { seededRandom } from "../../src/random.ts";
import type { MarketShape } from "../../support/generate.ts";
import { commit } from "../../src/model/commitment.ts";
import { baselineEstimate, batchContext, proposalFeatures } from "../../src/model/features.ts";
import {
  ADVERSARIAL_KINDS, generateChallenge, packFills, welfareOf, type AdversarialKind, type Challenge, type ExactSolve,
} from "./challenges.ts";

export interface AdversarialPair {
  kind: AdversarialKind;
  family: string;
  crafted: { features: Float32Array; label: number; baseline: number };
  honest: { features: Float32Array; label: number; baseline: number };
}

/** The margin an honest proposal's welfare has over the crafted one it is compared with. */
export const MARGIN = 1.05;

/**
 * Pairs from `markets` challenges of a shape. A crafted proposal within 5% of the optimum has no honest
 * proposal 5% better: it is left out (it wastes little).
 */
export function adversarialPairs(shape: MarketShape, markets: number, seed: number, exact: ExactSolve): AdversarialPair[] {
  const r = seededRandom(seed);
  const out: AdversarialPair[] = [];
  let done = 0;
  while (done < markets) {
    const c = generateChallenge(r, shape, exact, 1, ADVERSARIAL_KINDS);
    if (c === null) continue;
    done++;
    const ctx = batchContext(c.market.intents.map((i) => commit(i, "ad".repeat(16))), c.market.latency);
    const view = (fills: Challenge["proposals"][number]["fills"], label: number) =>
      ({ features: proposalFeatures(ctx, fills), label, baseline: baselineEstimate(ctx, fills) });
    const optimum = c.proposals[0].fills;
    for (const p of c.proposals.slice(1)) {
      const honest = honestAbove(c, optimum, p.label * MARGIN);
      if (honest === null) continue;
      out.push({ kind: p.kind as AdversarialKind, family: shape.name, crafted: view(p.fills, p.label), honest: view(honest.fills, honest.label) });
    }
  }
  return out;
}

/** The optimum scaled down to about `target` of its welfare, or the optimum when scaling loses too much. */
function honestAbove(c: Challenge, optimum: Challenge["proposals"][number]["fills"], target: number) {
  if (target > 1) return null;
  const byId = new Map(c.market.intents.map((i) => [i.id, i]));
  const scaled = packFills(optimum.map((f) => ({ buy: byId.get(f.buy)!, sell: byId.get(f.sell)!, quantity: f.quantity * target })));
  const label = welfareOf(c.market.intents, scaled) / c.optimum;
  return label >= target - 1e-9 ? { fills: scaled, label } : { fills: optimum, label: 1 };
}

/** Share of pairs where `score` ranks the crafted proposal strictly above the honest one. */
export function overScoredRate(pairs: readonly AdversarialPair[], score: (side: AdversarialPair["crafted"]) => number): number {
  if (pairs.length === 0) return 0;
  return pairs.filter((p) => score(p.crafted) > score(p.honest)).length / pairs.length;
}
