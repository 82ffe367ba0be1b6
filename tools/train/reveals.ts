// Reveals, as a market gets them: after each batch the agents open their commitments, every proposal of the batch
// becomes a labelled example, and the scorer is fine-tuned on what has been revealed so far (mixed 1:1 with
// replayed training examples, so it does not forget). Here the revealed batches come from a shifted family
// (LOW_CAP_SHAPE by default: metro markets whose caps all sit just above a band's lower edge, a habit the bands
// hide); each round's error is measured on every family.
import { LOW_CAP_SHAPE, type MarketShape } from "../../support/generate.ts";
import type { ExactSolve } from "./challenges.ts";
import { TRAINING_MIX, type FamilySet, type Shape } from "./families.ts";
import { DEFAULT_TRAIN, type Ensemble } from "./mlp.ts";
import { buildDataset, cachedDataset, evaluate, fineTuneEnsemble, type Example } from "./training.ts";

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

export function revealRounds(
  model: Ensemble, families: readonly FamilySet[], seed: number, exact: ExactSolve,
  opts: { rounds: number; markets: number; shift?: MarketShape; quick?: boolean; onRound?: (round: number) => void },
): RevealRounds {
  const shape = opts.shift ?? LOW_CAP_SHAPE;
  const shift = { name: `${shape.name} (revealed shift)`, heldOut: true, data: data(shape, opts.markets, seed * 1000 + 500, exact) };
  const sets = [shift, ...families];
  // Replay from every training shape, about as many examples as one round reveals.
  const replay = TRAINING_MIX.flatMap((m, k) => data(m.shape, Math.ceil(opts.markets / TRAINING_MIX.length), seed * 1000 + 520 + k, exact));
  const measure = (m: Ensemble) => sets.map((s) => evaluate(m, s.data));
  const rows = [measure(model)];
  const revealed: Example[] = [];
  let current = model;
  for (let round = 1; round <= opts.rounds; round++) {
    revealed.push(...data(shape, opts.markets, seed * 1000 + 510 + round, exact));
    // The training recipe itself, warm-started from the base model, on everything revealed so far.
    current = fineTuneEnsemble(model, revealed, replay, { ...DEFAULT_TRAIN, epochs: opts.quick ? 5 : DEFAULT_TRAIN.epochs, seed: seed + round });
    rows.push(measure(current));
    opts.onRound?.(round);
  }
  return {
    shift: shape.name, markets: opts.markets, families: sets.map((s) => s.name),
    mae: rows.map((r) => r.map((m) => m.mae)), spearman: rows.map((r) => r.map((m) => m.spearman)),
  };
}
