// Clearing as one pure step: solve a book under a latency table and check the result's certificate before anyone
// commits it. Continuous clearing, the batch close, the exact re-solve of a revealed batch and the axon's
// NashChallenge all settle through here, so a result nobody verified cannot reach a settlement.
import type { Intent, LatencyTable } from "../contract/schema.ts";
import { solve, verify, type SolveOptions, type SolveResult } from "../solver/index.ts";

export interface SettleOptions extends SolveOptions {
  /** Verify a result without fills too (default true). Continuous clearing commits nothing for it, so it skips
   *  the check on its hot path. */
  verifyEmpty?: boolean;
}

/** A solve and its verdict: `verified` false carries verify's findings, and nothing of it may be committed. */
export type Settled = { verified: true; result: SolveResult } | { verified: false; result: SolveResult; errors: string[] };

/** Solves `book` under `latency` (the solver's budgets from `options`) and verifies the result. */
export function settle(book: readonly Intent[], latency: LatencyTable, options: SettleOptions = {}): Settled {
  const { verifyEmpty = true, ...solveOptions } = options;
  const result = solve(book, latency, solveOptions);
  if (result.fills.length === 0 && !verifyEmpty) return { verified: true, result };
  const check = verify(book, latency, { fills: result.fills, welfare: result.welfare, certificate: result.certificate }, { now: options.now });
  return check.ok ? { verified: true, result } : { verified: false, result, errors: check.errors };
}
