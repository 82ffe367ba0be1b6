// Best-first branch and bound over minimums on a relaxation that is solved whole at each node (the swap circulation,
// the time-expanded circulation): each intent left out, or forced to at least its minimum (notes/solver.md,
// "Swaps with minimums", "Time (session 8)").
import type { SolveStatus } from "../contract/schema.ts";
import type { Budgets } from "./result.ts";
import type { Ranking } from "./branch.ts";

/** What a node's LP reports. */
export interface NodeLp {
  welfare: number;
  /** Per intent: units filled. */
  amount: Float64Array;
  /** A forced minimum could not be met. */
  infeasible: boolean;
  /** Every trade gains (a forced minimum may have been met only through a losing trade). */
  rational: boolean;
}

/**
 * `lp(fixes)` solves a node: fixes lists (intent, 1 left out | 2 forced) pairs. The first incumbent leaves out every
 * violator and solves again until none is left; a node met only through a losing trade is no incumbent, its bound
 * stays open (so the status is then a budget's). The time budget may stop the search after `minLps` nodes.
 * `ranking` (branch.ts): among leaves of equal welfare the better priority objective wins, and a node that cannot
 * raise the welfare is searched when it may tie with a better one (its parent's objective bounds its allocations of
 * the parent's welfare: each LP prefers priority on its optimal face); a budget that runs out then leaves the status
 * optimal (the welfare is proven). Inactive (no high or low intent), it changes nothing.
 */
export function branchOverMinimums<L extends NodeLp>(
  root: L,
  lp: (fixes: Int32Array) => L,
  violators: (amount: Float64Array) => number[],
  min: Float64Array,
  { timeBudgetMs, nodeBudget }: Budgets,
  t0: number,
  minLps: number,
  ranking: Ranking,
): { best: L; status: SolveStatus; bound: number } {
  const tol = 1e-9 * Math.max(1, Math.abs(root.welfare));
  let best = root;
  const dropped: number[] = [];
  for (let v = violators(best.amount); v.length > 0; v = violators(best.amount)) {
    for (const i of v) dropped.push(i, 1);
    best = lp(Int32Array.from(dropped));
  }
  let bestRank = ranking.of(best.amount);
  // Welfares tie within their rounding only: beside a 1e9 limit, `tol` spans whole trades of 1e-7 units.
  const tieTol = 1e-12 * Math.max(1, Math.abs(root.welfare));
  const mayTie = (bound: number, rank: number) => ranking.mayTie(bound, rank, best.welfare, bestRank, tieTol);
  const open: { bound: number; rank: number; fixes: Int32Array }[] = [];
  let unresolved = -Infinity;
  const branch = (sol: L, fixes: Int32Array, bound: number) => {
    const v = violators(sol.amount);
    const rank = ranking.of(sol.amount);
    if (v.length === 0) {
      if (!sol.rational) unresolved = Math.max(unresolved, bound);
      else if (ranking.beats(sol.welfare, rank, best.welfare, bestRank, tieTol)) [best, bestRank] = [sol, rank];
      return;
    }
    let pick = v[0];
    let score = -1;
    for (const i of v) {
      const s = Math.min(sol.amount[i], min[i] - sol.amount[i]) / min[i];
      if (s > score) [score, pick] = [s, i];
    }
    for (const kind of [1, 2]) open.push({ bound, rank, fixes: Int32Array.from([...fixes, pick, kind]) });
  };
  branch(root, new Int32Array(0), root.welfare);
  let status: SolveStatus = "optimal";
  for (let nodes = 1; open.length > 0; nodes++) {
    let top = 0;
    for (let k = 1; k < open.length; k++) if (open[k].bound > open[top].bound) top = k;
    const tiesOnly = open[top].bound <= best.welfare + tol;
    if (tiesOnly) {
      // No node can raise the welfare: only those that may tie with a better priority objective are searched.
      top = open.findIndex((node) => mayTie(node.bound, node.rank));
      if (top < 0) {
        open.length = 0; // every open node is pruned
        break;
      }
    }
    if (nodes >= nodeBudget) status = "node_budget";
    else if (nodes >= minLps && performance.now() - t0 > timeBudgetMs) status = "time_budget";
    if (status !== "optimal") {
      if (tiesOnly) [status, open.length] = ["optimal", 0];
      break;
    }
    const node = open[top];
    open[top] = open[open.length - 1];
    open.pop();
    const sol = lp(node.fixes);
    if (sol.infeasible || (sol.welfare <= best.welfare + tol && !mayTie(sol.welfare, ranking.of(sol.amount)))) continue;
    branch(sol, node.fixes, Math.min(node.bound, sol.welfare));
  }
  let bound = Math.max(best.welfare, unresolved);
  for (const node of open) bound = Math.max(bound, node.bound);
  if (status === "optimal" && unresolved > best.welfare + tol) status = "node_budget";
  return { best, status, bound };
}
