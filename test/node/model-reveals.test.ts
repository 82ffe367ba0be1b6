// Fine-tuning on reveals: the replay it mixes in is drawn from the training set, so every trained family in its
// share (windowed markets included); a fifth of the reveals is held back, and the epoch kept is the one the
// held-back sets prefer.
import { describe, expect, test } from "vitest";
import { seededRandom as rng } from "../../src/random.ts";
import { exactOptimum as exact } from "../../support/highs.ts";
import { FEATURE_COUNT, FEATURE_NAMES } from "../../src/model/features.ts";
import { DEFAULT_TRAIN, initMlp, predict, train } from "../../tools/train/mlp.ts";
import { trainingData, TRAINING_MIX } from "../../tools/train/families.ts";
import { isWindowedShape } from "../../tools/train/windowed.ts";
import { DEFAULT_FINE_TUNE, drawReplay, evaluate, fineTune, holdBack, type Example } from "../../tools/train/training.ts";

describe("the replay of trained families", () => {
  test("is drawn from the training set uniformly: every trained shape, windowed ones included, in its share", () => {
    const { train: pool } = trainingData(40, 97, exact);
    const w = FEATURE_NAMES.indexOf("windowed_share");
    const windowedShare = (data: readonly Example[]) => data.filter((e) => e.features[w] > 0).length / data.length;
    // The training set holds the windowed shapes (their markets carry windows) beside the timeless ones.
    expect(TRAINING_MIX.filter((m) => isWindowedShape(m.shape)).length).toBeGreaterThanOrEqual(2);
    expect(windowedShare(pool)).toBeGreaterThan(0.25);
    expect(windowedShare(pool)).toBeLessThan(0.75);
    const drawn = drawReplay(pool, pool.length / 2, 5);
    expect(Math.abs(drawn.length - pool.length / 2)).toBeLessThan(pool.length * 0.06);
    expect(Math.abs(windowedShare(drawn) - windowedShare(pool))).toBeLessThan(0.06);
    // Every kind of training example (optimal, thinned, crafted, …) comes back too.
    expect(new Set(drawn.map((e) => e.kind))).toEqual(new Set(pool.map((e) => e.kind)));
    expect(drawReplay(pool, pool.length * 3, 5)).toHaveLength(pool.length);
  }, 300_000);
});

const example = (features: Float32Array, label: number, market?: number): Example =>
  ({ features, label, market, baseline: 0, reference: 0, kind: "revealed" });

describe("fine-tuning stops on held-back data", () => {
  const r = rng(31);
  const xs = Array.from({ length: 1200 }, () => Float32Array.from({ length: FEATURE_COUNT }, () => r() * 2 - 1));
  const truth = (x: Float32Array) => 1 / (1 + Math.exp(-(1.5 * x[0] - x[1])));
  const base = initMlp(xs, [8, 8], 3);
  train(base, xs, xs.map(truth), { ...DEFAULT_TRAIN, hidden: [8, 8], epochs: 30, seed: 3 });
  const held = xs.slice(0, 300).map((x) => example(x, truth(x)));

  test("reveals that contradict what the held-back set knows leave the base model as it was", () => {
    // Every revealed label inverted (a round from a population that contradicts the families held back): each
    // epoch moves away from the held-back labels, so the base itself (epoch 0) is kept.
    const hostile = xs.slice(300).map((x) => example(x, 1 - truth(x)));
    const tuned = fineTune(base, hostile, [], { ...DEFAULT_FINE_TUNE, hidden: [8, 8], replayRatio: 0, seed: 5, validation: { revealed: [], families: [held] } });
    xs.slice(0, 50).forEach((x) => expect(predict(tuned, x)).toBe(predict(base, x)));
    // Without a held-back set the same round is learnt.
    const blind = fineTune(base, hostile, [], { ...DEFAULT_FINE_TUNE, hidden: [8, 8], replayRatio: 0, seed: 5 });
    expect(evaluate(blind, held).mae).toBeGreaterThan(evaluate(base, held).mae + 0.01);
  });

  test("reveals of a real shift are learnt: the kept epoch errs less on the held-back reveals", () => {
    const shifted = (x: Float32Array) => Math.min(1, truth(x) + 0.2);
    const revealed = xs.slice(300).map((x, k) => example(x, shifted(x), k));
    const { train: tuneOn, held: heldShift } = holdBack(revealed);
    const replay = xs.slice(300).map((x) => example(x, truth(x)));
    const tuned = fineTune(base, tuneOn, replay, { ...DEFAULT_FINE_TUNE, hidden: [8, 8], replayRatio: 1, seed: 5, validation: { revealed: heldShift, families: [held] } });
    expect(evaluate(tuned, heldShift).mae).toBeLessThan(evaluate(base, heldShift).mae - 0.02);
  });

  test("every fifth market is held back, and a market is never split", () => {
    const data = Array.from({ length: 60 }, (_, k) => example(new Float32Array(1), 0, Math.floor(k / 6)));
    const { train: kept, held: back } = holdBack(data);
    expect(back.map((e) => e.market)).toEqual([4, 4, 4, 4, 4, 4, 9, 9, 9, 9, 9, 9]);
    expect(kept).toHaveLength(48);
    expect(kept.some((e) => e.market === 4 || e.market === 9)).toBe(false);
    // Revealed examples carry no market: every fifth example.
    expect(holdBack(data.map((e) => ({ ...e, market: undefined }))).held).toHaveLength(12);
  });
});
