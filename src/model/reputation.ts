// Per-proposer reputation from reveals. When a batch is fully revealed, each of its proposals gets its true welfare
// share (the label); set beside the estimate the scorer gave it, that says whether the scorer read this proposer's
// proposals too kindly. A miner who crafts proposals the scorer over-rates (tools/train/adversarial.ts) builds up a
// positive bias, and its later estimates are discounted by it. Pure: the market passes the records it keeps.

/** One revealed proposal of a proposer: the estimate it was scored with and its revealed share. */
export interface RevealRecord {
  estimate: number;
  label: number;
}

export interface Reputation {
  /** Revealed proposals counted. */
  reveals: number;
  /** Mean (estimate − revealed share), shrunk toward 0 as if PRIOR_REVEALS exact estimates came first. */
  bias: number;
}

/** A proposer's first reveals move its bias only partly: one lucky or unlucky batch is not a reputation. */
export const PRIOR_REVEALS = 4;
/** Estimates within this much of the truth on average are the scorer's own error, not the proposer's doing. */
export const BIAS_TOLERANCE = 0.02;

export function reputationOf(records: readonly RevealRecord[]): Reputation {
  let sum = 0;
  for (const r of records) if (Number.isFinite(r.estimate) && Number.isFinite(r.label)) sum += r.estimate - r.label;
  return { reveals: records.length, bias: sum / (records.length + PRIOR_REVEALS) };
}

/**
 * The estimate less the proposer's bias beyond the tolerance, within [0, 1]. Only a bias upward discounts: a
 * proposer the scorer under-rated gains nothing (it could not have caused it, and a bonus could be farmed).
 */
export function discountedEstimate(estimate: number, reputation: Reputation | undefined): number {
  const excess = reputation ? Math.max(0, reputation.bias - BIAS_TOLERANCE) : 0;
  return Math.min(1, Math.max(0, estimate - excess));
}
