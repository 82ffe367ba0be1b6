// A proposal's score (CONTRACT.md section 6): the model's optimality estimate × a reward for the batch's
// complexity × a weight for how fast the proposal arrived. Scores rank miners for rewards; they never choose the
// allocation (the feasible proposal of greatest welfare settles: src/market/proposals.ts).
// Pure: the market object passes the estimate (from the scorer) and the arrival time.
import type { Commitment } from "./commitment.ts";

/** Proposals within this many ms of the batch closing keep full weight. */
export const FULL_WEIGHT_MS = 50;
/** After that, the weight halves every this many ms. */
export const WEIGHT_HALF_LIFE_MS = 100;

export interface Complexity {
  /** Intents in the batch. */
  parties: number;
  /** Intents whose constraints can bind a solver: all-or-none or partial minimums, and latency caps. */
  constrained: number;
  /** Multi-party rings (swaps); 0 until swap intents exist. */
  rings: number;
}

/** Complexity of a batch from its commitments alone (validators see nothing else). */
export function batchComplexity(commitments: readonly Commitment[], rings = 0): Complexity {
  let constrained = 0;
  for (const c of commitments) {
    if (c.features.minimum !== "none" || c.features.latencyBand !== null) constrained++;
  }
  return { parties: commitments.length, constrained, rings };
}

/**
 * reward = 1 + log2(1 + parties) / 8 + 0.5 × constrained / parties + 0.25 × min(rings, 4).
 * So a lone pair earns about 1.2, a 100-intent batch about 1.8, a fully constrained one up to 0.5 more, and each
 * ring (up to four) a quarter more: harder problems earn more, but no term can dominate the estimate.
 */
export function complexityReward(c: Complexity): number {
  const constrainedShare = c.parties > 0 ? c.constrained / c.parties : 0;
  return 1 + Math.log2(1 + c.parties) / 8 + 0.5 * constrainedShare + 0.25 * Math.min(c.rings, 4);
}

/** 1 within FULL_WEIGHT_MS of the batch closing, then 2^(−(t − FULL_WEIGHT_MS) / WEIGHT_HALF_LIFE_MS). */
export function timeWeight(elapsedMs: number): number {
  if (!(elapsedMs > FULL_WEIGHT_MS)) return 1;
  return 2 ** (-(elapsedMs - FULL_WEIGHT_MS) / WEIGHT_HALF_LIFE_MS);
}

export interface ProposalScore {
  score: number;
  estimate: number;
  reward: number;
  weight: number;
  /** The model version that produced the estimate. */
  model: string;
}

/** score = estimate × complexity reward × time weight; the estimate is clamped to [0, 1]. */
export function scoreProposal(estimate: number, complexity: Complexity, elapsedMs: number, model: string): ProposalScore {
  const e = Number.isFinite(estimate) ? Math.min(1, Math.max(0, estimate)) : 0;
  const reward = complexityReward(complexity);
  const weight = timeWeight(elapsedMs);
  return { score: e * reward * weight, estimate: e, reward, weight, model };
}
