// Datasets and evaluation for the scorer: challenges turned into (features, label) examples, metrics for the
// model and the baseline, and fine-tuning on revealed examples. Shared by `scripts/train.ts` and `bench/model.ts`.
import type { Fill, LatencyTable } from "../contract/schema.ts";
import { generateChallenge, rng, type MarketShape, type ProposalKind } from "./challenges.ts";
import { commit, type Commitment } from "./commitment.ts";
import type { ExactSolve } from "./exact-highs.ts";
import { baselineEstimate, batchContext, proposalFeatures, referenceEstimate } from "./features.ts";
import { cloneMlp, meanAbsoluteError, predict, spearman, train, type Mlp, type TrainOptions } from "./mlp.ts";

export interface Example {
  features: Float32Array;
  label: number;
  baseline: number;
  reference: number;
  kind: ProposalKind | "revealed";
}

/** A revealed example as exported by a market (one JSON line): features, or the commitments and fills. */
export type RevealedExample =
  | { features: number[]; label: number }
  | { commitments: Commitment[]; latency: LatencyTable; fills: Fill[]; label: number };

/**
 * `markets` challenges of a shape, seeded, as examples. Salts are derived from the seed: the features never see
 * them, but the commitments are the real thing.
 */
export function buildDataset(
  shape: MarketShape, markets: number, seed: number, exact: ExactSolve, perMarket = 6,
  progress?: (done: number) => void,
): Example[] {
  const r = rng(seed);
  const out: Example[] = [];
  let done = 0;
  while (done < markets) {
    const c = generateChallenge(r, shape, exact, perMarket);
    if (c === null) continue;
    done++;
    const salt = (seed >>> 0).toString(16).padStart(8, "0").repeat(4);
    const ctx = batchContext(c.market.intents.map((i) => commit(i, salt)), c.market.latency);
    for (const p of c.proposals) {
      out.push({
        features: proposalFeatures(ctx, p.fills), label: p.label, baseline: baselineEstimate(ctx, p.fills),
        reference: referenceEstimate(ctx, p.fills), kind: p.kind,
      });
    }
    if (progress && done % 50 === 0) progress(done);
  }
  return out;
}

export function fromRevealed(e: RevealedExample): Example {
  if ("features" in e) {
    return { features: Float32Array.from(e.features), label: e.label, baseline: NaN, reference: NaN, kind: "revealed" };
  }
  const ctx = batchContext(e.commitments, e.latency);
  return {
    features: proposalFeatures(ctx, e.fills), label: e.label, baseline: baselineEstimate(ctx, e.fills),
    reference: referenceEstimate(ctx, e.fills), kind: "revealed",
  };
}

export interface Metrics {
  n: number;
  spearman: number;
  mae: number;
  baselineSpearman: number;
  baselineMae: number;
  referenceSpearman: number;
  referenceMae: number;
}

export function evaluate(m: Mlp, data: readonly Example[]): Metrics {
  const ys = data.map((e) => e.label);
  const ps = data.map((e) => predict(m, e.features));
  const bs = data.map((e) => e.baseline);
  const rs = data.map((e) => e.reference);
  return {
    n: data.length, spearman: spearman(ys, ps), mae: meanAbsoluteError(ys, ps),
    baselineSpearman: spearman(ys, bs), baselineMae: meanAbsoluteError(ys, bs),
    referenceSpearman: spearman(ys, rs), referenceMae: meanAbsoluteError(ys, rs),
  };
}

/**
 * Fine-tunes a copy of the model on revealed examples mixed with an equal replay of the original training data
 * (so the model learns the new distribution without forgetting the old), with the caller's training options
 * (`scripts/train.ts` and the benchmark use the full training recipe, warm-started from the base model).
 */
export function fineTune(
  base: Mlp, revealed: readonly Example[], replay: readonly Example[], opts: TrainOptions,
): Mlp {
  const m = cloneMlp(base);
  const r = rng(opts.seed ^ 0xfeed);
  const mixed = [...revealed, ...replay.filter(() => r() < Math.min(1, revealed.length / Math.max(1, replay.length)))];
  train(m, mixed.map((e) => e.features), mixed.map((e) => e.label), opts);
  return m;
}
