// Datasets and evaluation for the scorer: challenges turned into (features, label) examples, metrics for the
// model and the baseline, and fine-tuning on revealed examples. Shared by `scripts/train.ts` and `bench/model.ts`.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Fill, LatencyTable } from "../../src/contract/schema.ts";
import { seededRandom } from "../../src/random.ts";
import type { MarketShape } from "../../support/generate.ts";
import { generateChallenge, type ExactSolve, type ProposalKind } from "./challenges.ts";
import { generateWindowedChallenge, isWindowedShape, type WindowedShape } from "./windowed.ts";
import { commit, type Commitment } from "../../src/model/commitment.ts";
import { baselineEstimate, batchContext, FEATURES_VERSION, proposalFeatures, referenceEstimate } from "../../src/model/features.ts";
import { cloneMlp, DEFAULT_TRAIN, meanAbsoluteError, predict, predictEnsemble, spearman, train, type Ensemble, type Mlp, type TrainOptions } from "./mlp.ts";

export interface Example {
  features: Float32Array;
  /** Index of the example's market within its dataset (its proposals compete with each other); absent if revealed. */
  market?: number;
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
  shape: MarketShape | WindowedShape, markets: number, seed: number, exact: ExactSolve, perMarket = 6,
  progress?: (done: number) => void, extra: readonly ProposalKind[] = [],
): Example[] {
  const r = seededRandom(seed);
  const out: Example[] = [];
  let done = 0;
  while (done < markets) {
    const c = isWindowedShape(shape) ? generateWindowedChallenge(r, shape, perMarket) : generateChallenge(r, shape, exact, perMarket, extra);
    if (c === null) continue;
    done++;
    const salt = (seed >>> 0).toString(16).padStart(8, "0").repeat(4);
    const { now } = c.market as { now?: number };
    const ctx = batchContext(c.market.intents.map((i) => commit(i, salt)), c.market.latency, now);
    for (const p of c.proposals) {
      out.push({
        features: proposalFeatures(ctx, p.fills), market: done - 1, label: p.label, baseline: baselineEstimate(ctx, p.fills),
        reference: referenceEstimate(ctx, p.fills), kind: p.kind,
      });
    }
    if (progress && (done % 50 === 0 || done === markets)) progress(done);
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
  /** Spearman within each market, averaged over markets whose labels are not all tied (see marketSpearman). */
  spearman: number;
  /** Spearman over all the family's examples at once. */
  pooledSpearman: number;
  /** The best pooled Spearman an exact ranker reaches that ties only identical feature vectors. */
  pooledCeiling: number;
  mae: number;
  /** Mean of the ensemble's spread (0 for a single network). */
  spread: number;
  baselineSpearman: number;
  baselinePooledSpearman: number;
  baselineMae: number;
  referenceSpearman: number;
  referenceMae: number;
}

export const asEnsemble = (m: Mlp | Ensemble): Ensemble => ("members" in m ? m : { members: [m] });

export function evaluate(m: Mlp | Ensemble, data: readonly Example[]): Metrics {
  const e = asEnsemble(m);
  const ys = data.map((x) => x.label);
  const out = data.map((x) => predictEnsemble(e, x.features));
  const ps = out.map((o) => o.estimate);
  const bs = data.map((x) => x.baseline);
  const rs = data.map((x) => x.reference);
  return {
    n: data.length, spearman: marketSpearman(data, ps), pooledSpearman: spearman(ys, ps), pooledCeiling: pooledCeiling(data),
    mae: meanAbsoluteError(ys, ps), spread: out.reduce((a, o) => a + o.spread, 0) / Math.max(1, out.length),
    baselineSpearman: marketSpearman(data, bs), baselinePooledSpearman: spearman(ys, bs), baselineMae: meanAbsoluteError(ys, bs),
    referenceSpearman: spearman(ys, rs), referenceMae: meanAbsoluteError(ys, rs),
  };
}

/**
 * How well estimates rank the proposals that compete for one batch: Spearman's rank correlation (ties at their
 * average rank) between labels and estimates within each market, averaged over the markets whose labels are not
 * all equal (a market of tied labels has no order to recover). A market whose estimates are all equal while its
 * labels differ counts 0. Examples without a market (revealed ones) are pooled as one. On tiny books most labels
 * tie at 1 (every maker finds the only trade), which caps the pooled figure of any ranker that does not tie them
 * exactly (pooledCeiling); within a market, identical proposals get identical features and estimates.
 */
export function marketSpearman(data: readonly Example[], estimates: readonly number[]): number {
  const groups = new Map<number, number[]>();
  data.forEach((e, k) => groups.set(e.market ?? -1, [...(groups.get(e.market ?? -1) ?? []), k]));
  let sum = 0;
  let count = 0;
  for (const ks of groups.values()) {
    const ys = ks.map((k) => data[k].label);
    if (new Set(ys).size < 2) continue;
    const ps = ks.map((k) => estimates[k]);
    sum += new Set(ps).size < 2 ? 0 : spearman(ys, ps);
    count++;
  }
  return count === 0 ? NaN : sum / count;
}

/** Pooled Spearman of a perfect ranker (the labels) that breaks label ties unless the feature vectors are equal. */
export function pooledCeiling(data: readonly Example[]): number {
  const ids = new Map<string, number>();
  const jitter = data.map((e) => {
    const key = Array.from(e.features).join(",");
    if (!ids.has(key)) ids.set(key, ids.size);
    return ids.get(key)! / (ids.size + data.length);
  });
  // Labels are shares in [0, 1] that differ by far more than 1e-9 unless equal: the jitter only orders ties.
  return spearman(data.map((e) => e.label), data.map((e, k) => e.label + 1e-9 * jitter[k]));
}

/** Fine-tuning on reveals: the training recipe with replay and held-back sets to stop on. */
export interface FineTuneOptions extends TrainOptions {
  /** Replayed training examples drawn per revealed example. */
  replayRatio: number;
  /**
   * Held back from fine-tuning: revealed examples, and examples of each trained family. After every epoch the
   * revealed MAE and the mean of the families' MAE are averaged; the best epoch's weights are kept (the base
   * itself counts as epoch 0, so a round that only makes things worse changes nothing).
   */
  validation?: { revealed: readonly Example[]; families: readonly (readonly Example[])[] };
}

/** The training recipe warm-started, four replayed examples per revealed one (notes/model.md, session 10). */
export const DEFAULT_FINE_TUNE: FineTuneOptions = { ...DEFAULT_TRAIN, replayRatio: 4 };

/** Every fifth market held back (every fifth example when they carry no market, as revealed ones do not). */
export function holdBack(data: readonly Example[]): { train: Example[]; held: Example[] } {
  const held = (e: Example, k: number) => (e.market ?? k) % 5 === 4;
  return { train: data.filter((e, k) => !held(e, k)), held: data.filter(held) };
}

/** About `count` examples drawn uniformly from `replay` (all of it if it holds fewer): its proportions kept. */
export function drawReplay(replay: readonly Example[], count: number, seed: number): Example[] {
  const r = seededRandom(seed);
  const keep = Math.min(1, count / Math.max(1, replay.length));
  return replay.filter(() => r() < keep);
}

/**
 * Fine-tunes a copy of the model on revealed examples mixed with replayed training examples (`replayRatio` per
 * revealed one, drawn uniformly, so the replay keeps the proportions of the data it is drawn from): the model
 * learns the new distribution without forgetting the old; `validation` picks the epoch to keep.
 */
export function fineTune(base: Mlp, revealed: readonly Example[], replay: readonly Example[], opts: FineTuneOptions): Mlp {
  const m = cloneMlp(base);
  const mixed = [...revealed, ...drawReplay(replay, opts.replayRatio * revealed.length, opts.seed ^ 0xfeed)];
  if (!opts.validation) {
    train(m, mixed.map((e) => e.features), mixed.map((e) => e.label), opts);
    return m;
  }
  const { revealed: heldRevealed, families } = opts.validation;
  const mae = (net: Mlp, g: readonly Example[]) =>
    (g.length === 0 ? 0 : meanAbsoluteError(g.map((e) => e.label), g.map((e) => predict(net, e.features))));
  const loss = (net: Mlp) => (mae(net, heldRevealed) + families.reduce((s, g) => s + mae(net, g), 0) / Math.max(1, families.length)) / 2;
  let best = { loss: loss(m), net: cloneMlp(m) };
  train(m, mixed.map((e) => e.features), mixed.map((e) => e.label), {
    ...opts,
    onEpoch: (epoch, trainLoss) => {
      opts.onEpoch?.(epoch, trainLoss);
      const v = loss(m);
      if (v < best.loss) best = { loss: v, net: cloneMlp(m) };
    },
  });
  return best.net;
}

/** Every member fine-tuned alike (its own seed); the calibration is kept. */
export function fineTuneEnsemble(
  base: Ensemble, revealed: readonly Example[], replay: readonly Example[], opts: FineTuneOptions,
): Ensemble {
  return { ...base, members: base.members.map((m, k) => fineTune(m, revealed, replay, { ...opts, seed: opts.seed + k })) };
}

const CACHE_DIR = "node_modules/.cache/nash-train";

/**
 * A dataset read from the local cache when this exact recipe (shape, seed, counts, kinds, feature version) was
 * built before, else built and stored: generating and labelling markets is most of a training run's time.
 */
export function cachedDataset(key: unknown, build: () => Example[]): Example[] {
  const name = createHash("sha256").update(JSON.stringify([FEATURES_VERSION, key])).digest("hex").slice(0, 24);
  const path = join(CACHE_DIR, `${name}.json`);
  if (existsSync(path)) {
    const rows = JSON.parse(readFileSync(path, "utf8")) as (Omit<Example, "features"> & { features: number[] })[];
    return rows.map((e) => ({ ...e, features: Float32Array.from(e.features) }));
  }
  const data = build();
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(path, JSON.stringify(data.map((e) => ({ ...e, features: Array.from(e.features) }))));
  return data;
}
