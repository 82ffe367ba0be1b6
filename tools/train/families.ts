// The generalisation recipe shared by `npm run train` and `npm run bench:model`: which market families train the
// scorer, which are held out whole, and the seeded datasets of each (cached: labelling with HiGHS is the slow part).
import {
  familyNamed, HELD_OUT_FAMILIES, SHIFTED_SHAPE, TRAIN_FAMILIES, TRAIN_SHAPE, type MarketShape,
} from "../../support/generate.ts";
import { ADVERSARIAL_KINDS, type ExactSolve } from "./challenges.ts";
import { adversarialPairs, type AdversarialPair } from "./adversarial.ts";
import { buildDataset, cachedDataset, type Example } from "./training.ts";
import { isWindowedShape, type WindowedShape } from "./windowed.ts";

/** A windowed family (tools/train/windowed.ts): issue 16's generator with these knobs drawn per market. */
const windowedFamily = (name: string, over: Partial<WindowedShape["windowed"]>): WindowedShape => ({
  name,
  windowed: {
    size: [6, 60], regions: [2, 6], resources: [1, 3], horizonHours: [12, 72], maxWindowHours: 12, windowlessShare: 0.15,
    maxRateShare: 0.3, swapShare: 0.1, deferralShare: 0.05, allOrNoneShare: 0.05, ...over,
  },
});
/** Windows, rate caps, a few swaps and deferrals: trained on. */
export const WINDOWED_SHAPE = windowedFamily("windowed", {});
/**
 * Wider knobs, trained on: horizons to 120 h, windows to 24 h, more rate caps, swaps and resources. The held-out
 * families stay outside it on at least one knob (swaps 35% of intents; horizons past 120 h with windows to 36 h).
 */
export const WINDOWED_WIDE_SHAPE = windowedFamily("windowed-wide", {
  size: [6, 70], resources: [1, 4], horizonHours: [12, 120], maxWindowHours: 24, windowlessShare: 0.2, maxRateShare: 0.45,
  swapShare: 0.2, deferralShare: 0.08,
});
/** Held out whole: swap-heavy books over 2–4 resources, and long horizons with long windows and most rates capped. */
export const WINDOWED_HELD_OUT: readonly WindowedShape[] = [
  windowedFamily("swaps", { size: [10, 60], resources: [2, 4], swapShare: 0.35, deferralShare: 0.1, maxRateShare: 0.2, windowlessShare: 0.3 }),
  windowedFamily("long-windows", { size: [20, 100], horizonHours: [96, 168], maxWindowHours: 36, maxRateShare: 0.6, swapShare: 0.05 }),
];
export type Shape = MarketShape | WindowedShape;

/** Training markets of `npm run train` (its `--markets` default), over TRAINING_MIX. */
export const TRAINING_MARKETS = 6000;

/**
 * Shapes the scorer trains on, each with its count as a share of `markets` (the shares sum to 1.44). The windowed
 * shapes have twice the markets of the timeless ones' scale: their books vary more (windows, rates, swaps), and the
 * model's error on their training markets was two thirds of its error on unseen ones.
 */
export const TRAINING_MIX: readonly { shape: Shape; share: number }[] = [
  { shape: TRAIN_SHAPE, share: 0.27 },
  ...TRAIN_FAMILIES.map((name) => ({ shape: familyNamed(name), share: 0.59 / TRAIN_FAMILIES.length })),
  { shape: WINDOWED_SHAPE, share: 0.28 },
  { shape: WINDOWED_WIDE_SHAPE, share: 0.3 },
];
/** Shapes never trained on: the shifted set of earlier models and the held-out families. */
export const HELD_OUT: readonly Shape[] = [SHIFTED_SHAPE, ...HELD_OUT_FAMILIES.map(familyNamed), ...WINDOWED_HELD_OUT];

export interface FamilySet {
  name: string;
  heldOut: boolean;
  data: Example[];
}

export type Progress = (what: string) => (done: number) => void;

function dataset(shape: Shape, markets: number, seed: number, exact: ExactSolve, progress?: Progress, adversarial = false) {
  const extra = adversarial ? ADVERSARIAL_KINDS : [];
  const perMarket = adversarial ? 1 : 6;
  return cachedDataset([shape, markets, seed, perMarket, extra], () =>
    buildDataset(shape, markets, seed, exact, perMarket, progress?.(`${shape.name}${adversarial ? " (adversarial)" : ""}`), extra));
}

/**
 * The training examples: `markets` markets split over TRAINING_MIX, plus a tenth as many again carrying every
 * adversarial kind (so the scorer learns what crafted proposals are worth); and calibration examples (other seeds).
 */
export function trainingData(markets: number, seed: number, exact: ExactSolve, progress?: Progress) {
  const train: Example[] = [];
  const calibrationByShape: Example[][] = [];
  TRAINING_MIX.forEach(({ shape, share }, k) => {
    train.push(...dataset(shape, Math.max(2, Math.round(markets * share)), seed * 1000 + 10 + k, exact, progress));
    // The crafted kinds are timeless makers (challenges.ts): windowed shapes carry none.
    if (!isWindowedShape(shape)) train.push(...dataset(shape, Math.max(2, Math.round(markets * share * 0.1)), seed * 1000 + 30 + k, exact, progress, true));
    calibrationByShape.push(dataset(shape, Math.max(2, Math.round(markets * share * 0.08)), seed * 1000 + 50 + k, exact, progress));
  });
  return { train, calibration: calibrationByShape.flat(), calibrationByShape };
}

/**
 * Test sets, one per family: the training shapes on unseen seeds, then every held-out shape. `large` markets
 * (300–2,000 intents) take tens of seconds each to label, so their count is separate.
 */
export function familyTestSets(markets: number, largeMarkets: number, seed: number, exact: ExactSolve, progress?: Progress): FamilySet[] {
  const held = TRAINING_MIX.map(({ shape }, k) => ({
    name: shape.name, heldOut: false, data: dataset(shape, markets, seed * 1000 + 100 + k, exact, progress),
  }));
  const out = HELD_OUT.map((shape, k) => ({
    name: shape.name, heldOut: true,
    data: dataset(shape, shape.name === "large" ? largeMarkets : markets, seed * 1000 + 200 + k, exact, progress),
  }));
  return [...held, ...out];
}

/** Crafted proposals beside honest ones 5% better, on each held-out shape but `large` (tools/train/adversarial.ts). */
export function adversarialSets(markets: number, seed: number, exact: ExactSolve): AdversarialPair[] {
  return HELD_OUT.flatMap((shape, k) =>
    isWindowedShape(shape) || shape.name === "large" ? [] : adversarialPairs(shape, markets, seed * 1000 + 300 + k, exact));
}
