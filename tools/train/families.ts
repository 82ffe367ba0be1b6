// The generalisation recipe shared by `npm run train` and `npm run bench:model`: which market families train the
// scorer, which are held out whole, and the seeded datasets of each (cached: labelling with HiGHS is the slow part).
import {
  familyNamed, HELD_OUT_FAMILIES, SHIFTED_SHAPE, TRAIN_FAMILIES, TRAIN_SHAPE, type MarketShape,
} from "../../support/generate.ts";
import { ADVERSARIAL_KINDS, type ExactSolve } from "./challenges.ts";
import { adversarialPairs, type AdversarialPair } from "./adversarial.ts";
import { buildDataset, cachedDataset, type Example } from "./training.ts";

/** Shapes the scorer trains on, with their share of the training markets. */
export const TRAINING_MIX: readonly { shape: MarketShape; share: number }[] = [
  { shape: TRAIN_SHAPE, share: 0.3 },
  ...TRAIN_FAMILIES.map((name) => ({ shape: familyNamed(name), share: 0.7 / TRAIN_FAMILIES.length })),
];
/** Shapes never trained on: the shifted set of earlier models and the held-out families. */
export const HELD_OUT: readonly MarketShape[] = [SHIFTED_SHAPE, ...HELD_OUT_FAMILIES.map(familyNamed)];

export interface FamilySet {
  name: string;
  heldOut: boolean;
  data: Example[];
}

export type Progress = (what: string) => (done: number) => void;

function dataset(shape: MarketShape, markets: number, seed: number, exact: ExactSolve, progress?: Progress, adversarial = false) {
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
  const calibration: Example[] = [];
  TRAINING_MIX.forEach(({ shape, share }, k) => {
    train.push(...dataset(shape, Math.max(2, Math.round(markets * share)), seed * 1000 + 10 + k, exact, progress));
    train.push(...dataset(shape, Math.max(2, Math.round(markets * share * 0.1)), seed * 1000 + 30 + k, exact, progress, true));
    calibration.push(...dataset(shape, Math.max(2, Math.round(markets * share * 0.08)), seed * 1000 + 50 + k, exact, progress));
  });
  return { train, calibration };
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
  return HELD_OUT.filter((s) => s.name !== "large").flatMap((shape, k) => adversarialPairs(shape, markets, seed * 1000 + 300 + k, exact));
}
