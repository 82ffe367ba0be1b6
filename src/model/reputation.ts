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

/** What a market keeps per proposer: reveals counted and the sum of (estimate − revealed share). */
export interface RevealTotals {
  reveals: number;
  sum: number;
}

/** Totals with one more revealed proposal; a non-finite record is ignored rather than poisoning the sum. */
export function addReveal(totals: RevealTotals | undefined, r: RevealRecord): RevealTotals {
  const t = totals ?? { reveals: 0, sum: 0 };
  if (!Number.isFinite(r.estimate) || !Number.isFinite(r.label)) return t;
  return { reveals: t.reveals + 1, sum: t.sum + r.estimate - r.label };
}

export function reputationFrom(totals: RevealTotals | undefined): Reputation {
  const t = totals ?? { reveals: 0, sum: 0 };
  return { reveals: t.reveals, bias: t.sum / (t.reveals + PRIOR_REVEALS) };
}

export function reputationOf(records: readonly RevealRecord[]): Reputation {
  return reputationFrom(records.reduce<RevealTotals | undefined>(addReveal, undefined));
}

/**
 * The estimate less the proposer's bias beyond the tolerance, within [0, 1]. Only a bias upward discounts: a
 * proposer the scorer under-rated gains nothing (it could not have caused it, and a bonus could be farmed).
 */
export function discountedEstimate(estimate: number, reputation: Reputation | undefined): number {
  const excess = reputation ? Math.max(0, reputation.bias - BIAS_TOLERANCE) : 0;
  return Math.min(1, Math.max(0, estimate - excess));
}
