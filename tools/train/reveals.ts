// Reveals, as a market gets them: after each batch the agents open their commitments, every proposal of the batch
// becomes a labelled example, and the scorer is fine-tuned on what has been revealed so far (mixed with examples
// replayed from its own training set, so every trained family in its share, and stopped on held-back sets). Here the revealed batches come from a shifted family (LOW_CAP_SHAPE by default: metro markets whose caps
// all sit just above a band's lower edge, a habit the bands hide); each round's error is measured on every family.
import { LOW_CAP_SHAPE, type MarketShape } from "../../support/generate.ts";
import type { ExactSolve } from "./challenges.ts";
import { TRAINING_MIX, type FamilySet, type Shape } from "./families.ts";
import type { Ensemble } from "./mlp.ts";
import {
  buildDataset, cachedDataset, DEFAULT_FINE_TUNE, evaluate, fineTuneEnsemble, holdBack, type Example, type FineTuneOptions,
} from "./training.ts";

export interface RevealRounds {
  shift: string;
  /** Markets revealed per round. */
  markets: number;
  families: string[];
  /** mae[r][f]: family f's MAE after r rounds (r = 0: before any). */
  mae: number[][];
  spearman: number[][];
}

const data = (shape: Shape, markets: number, seed: number, exact: ExactSolve): Example[] =>
  cachedDataset([shape, markets, seed, 6, []], () => buildDataset(shape, markets, seed, exact));

/** Markets of each trained shape held back to stop fine-tuning on (seeds of their own). */
const HELD_BACK_MARKETS = 25;

/**
 * `replay` is the model's training set: drawn uniformly, the replay holds every trained family in its share of
 * training, windowed markets included, and it is as varied as what the model learnt from (a small replay set
 * of its own, refitted for 60 epochs, cost the windowed families the most).
 */
export function revealRounds(
  model: Ensemble, families: readonly FamilySet[], replay: readonly Example[], seed: number, exact: ExactSolve,
  opts: {
    rounds: number; markets: number; shift?: MarketShape; quick?: boolean; tune?: Partial<FineTuneOptions>;
    onRound?: (round: number) => void;
  },
): RevealRounds {
  const shape = opts.shift ?? LOW_CAP_SHAPE;
  const shift = { name: `${shape.name} (revealed shift)`, heldOut: true, data: data(shape, opts.markets, seed * 1000 + 500, exact) };
  const sets = [shift, ...families];
  const tune = { ...DEFAULT_FINE_TUNE, ...(opts.quick ? { epochs: 5 } : {}), ...opts.tune };
  const heldBackFamilies = TRAINING_MIX.map((m, k) => data(m.shape, HELD_BACK_MARKETS, seed * 1000 + 540 + k, exact));
  const measure = (m: Ensemble) => sets.map((s) => evaluate(m, s.data));
  const rows = [measure(model)];
  const revealed: Example[] = [];
  const heldRevealed: Example[] = [];
  let current = model;
  for (let round = 1; round <= opts.rounds; round++) {
    // A fifth of each round's markets is held back: fine-tuning stops where they and the trained families err least.
    const { train, held } = holdBack(data(shape, opts.markets, seed * 1000 + 510 + round, exact));
    revealed.push(...train);
    heldRevealed.push(...held);
    current = fineTuneEnsemble(model, revealed, replay, { ...tune, seed: seed + round, validation: { revealed: heldRevealed, families: heldBackFamilies } });
    rows.push(measure(current));
    opts.onRound?.(round);
  }
  return {
    shift: shape.name, markets: opts.markets, families: sets.map((s) => s.name),
    mae: rows.map((r) => r.map((m) => m.mae)), spearman: rows.map((r) => r.map((m) => m.spearman)),
  };
}
