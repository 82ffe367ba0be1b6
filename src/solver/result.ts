// What solve() takes and returns (src/solver/index.ts re-exports them).
import type { Certificate, Fill, SolveStatus } from "../contract/schema.ts";

export interface SolveOptions {
  /** Wall-clock budget for branch and bound (ms); default 40. The LP part is always solved exactly. */
  timeBudgetMs?: number;
  /** Branch-and-bound nodes; default 20 000. */
  nodeBudget?: number;
  /** Beyond this many intents the solve refuses with status "size_budget" and no fills; default 200 000. */
  maxIntents?: number;
  /**
   * Most branch-and-bound leaves listed in the certificate; default 1 000 (and at most 50 000 listed leaf duals).
   * Beyond it the certificate proves only the root LP bound and states the gap to it (`certificate.gap`).
   */
  maxCertificateLeaves?: number;
  /**
   * `result.warmStart` of an earlier solve (continuous clearing): its classes are reused for intents that kept
   * their id and class facts, so a book that changed a little is not re-classified and re-sorted. Anything else
   * (another object, another latency table, a region the earlier book did not have) is a cold solve. The result is
   * the same either way (an optimum of the same welfare). A book with windows uses it only when it is the earlier
   * book, unchanged, followed by arrivals on its interval boundaries, under the same table and now; its result is
   * then the cold solve's.
   */
  warmStart?: unknown;
  /**
   * The settlement's time, ms since the epoch (CONTRACT.md section 2a): nothing is delivered before it, and a
   * window that has ended by then trades nothing. Absent: no lower bound (as `nash solve` without `"now"`).
   */
  now?: number;
}

export interface SolveResult {
  fills: Fill[];
  welfare: number;
  status: SolveStatus;
  /** Proven bound on optimum − welfare when status is not "optimal". */
  gap?: number;
  solveMs: number;
  certificate: Certificate;
  /**
   * State to pass as `options.warmStart` to the next solve of the same market: set for books without swaps or soft
   * latency, and for every book with windows (its intervals and components: a book that grew by arrivals finds its
   * components from them).
   */
  warmStart?: unknown;
}

/** Branch and bound's budgets, defaults applied. */
export type Budgets = { timeBudgetMs: number; nodeBudget: number };
