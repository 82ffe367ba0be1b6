// Books with swaps (notes/solver.md, "Swaps with minimums"): a component's circulation with branch and bound over
// minimums, and the book-level certificates verify's swap check reads.
import type { Certificate, Intent, LatencyTable, SolveStatus } from "../contract/schema.ts";
import { MIN_LPS, Ranking, violators, type Instance } from "./branch.ts";
import { priceAllocation } from "./price.ts";
import { solveMulti, type MultiResult } from "./multi.ts";
import type { Budgets, SolveResult } from "./result.ts";
import { branchOverMinimums } from "./minimums.ts";

/**
 * Dual values feasible for any book with swaps, computed without cancellation: a plain buyer's dual its limit, a
 * plain seller's 0, a swap's potential −(swapFor limit) and dual max(0, swapFor limit − limit). Every compatible
 * pair then has U + V ≥ gain exactly (limits are ≥ 0); the bound is loose, and the gap to it is stated.
 */
export function looseSwapCertificate(intents: readonly Intent[], welfare: number): Certificate {
  const duals: Record<string, number> = {};
  const potentials: Record<string, number> = {};
  let bound = 0;
  for (const it of intents) {
    if (!(it.quantity > 0)) continue;
    const wants = it.swapFor?.limitPrice ?? 0;
    const d = it.swapFor ? Math.max(0, wants - it.limitPrice) : it.side === "buy" ? it.limitPrice : 0;
    if (it.swapFor) potentials[it.id] = -wants;
    if (d > 0) duals[it.id] = d;
    bound += it.quantity * d;
  }
  const certificate: Certificate = { duals, bound: Math.max(bound, welfare), potentials };
  if (bound > welfare) certificate.gap = bound - welfare;
  return certificate;
}

/**
 * verify checks a book with swaps on the root LP duals alone (no tree): a listed branch-and-bound tree is dropped and
 * the gap to the root LP bound stated, as for a tree too large to list.
 */
export function rootBoundOnly(result: SolveResult): void {
  const { certificate, welfare } = result;
  delete certificate.tree;
  const lpBound = typeof certificate.lpBound === "number" ? certificate.lpBound : certificate.bound;
  if (lpBound > welfare + 1e-9 * Math.max(1, Math.abs(welfare))) certificate.gap = lpBound - welfare;
  else delete certificate.gap;
}

/**
 * A component with swaps (notes/solver.md, "Swaps with minimums"). The circulation relaxes minimums; when its
 * optimum fills an intent between 0 and its minimum, branch and bound over the circulation settles them. No tree is
 * listed: the certificate proves the relaxation's bound and states the gap to it when minimums cost welfare.
 */
export function solveSwapComponent(
  intents: readonly Intent[],
  latency: LatencyTable,
  inst: Instance,
  budgets: Budgets,
  t0: number,
  duals: Record<string, number>,
): SolveResult {
  const root = solveMulti(intents, latency, inst.gainEps);
  Object.assign(duals, root.certificate.duals);
  const certificate: Certificate = { ...root.certificate, duals };
  if (violators(inst, root.amount).length === 0) {
    const fills = priceAllocation(intents, latency, root.fills);
    return { fills, welfare: root.welfare, status: "optimal", solveMs: performance.now() - t0, certificate };
  }
  const { best, status, bound } = swapBranchAndBound(intents, latency, inst, root, budgets, t0);
  const fills = priceAllocation(intents, latency, best.fills);
  const lpBound = root.certificate.bound; // the certificate's bound: the relaxation's
  if (lpBound > best.welfare + 1e-9 * Math.max(1, Math.abs(best.welfare))) certificate.gap = lpBound - best.welfare;
  const result: SolveResult = { fills, welfare: best.welfare, status, solveMs: performance.now() - t0, certificate };
  if (status !== "optimal") result.gap = Math.max(0, Math.min(lpBound, bound) - best.welfare);
  return result;
}

/**
 * Best-first branch and bound over the swap circulation's minimums (each intent left out, or forced to at least its
 * minimum), as branchAndBound does over the class LP (minimums.ts).
 */
function swapBranchAndBound(
  intents: readonly Intent[],
  latency: LatencyTable,
  inst: Instance,
  root: MultiResult,
  budgets: Budgets,
  t0: number,
): { best: MultiResult; status: SolveStatus; bound: number } {
  const n = intents.length;
  const lp = (fixes: Int32Array) => {
    const fix = { excluded: new Uint8Array(n), forced: new Uint8Array(n), min: inst.minQty };
    for (let k = 0; k < fixes.length; k += 2) (fixes[k + 1] === 1 ? fix.excluded : fix.forced)[fixes[k]] = 1;
    return solveMulti(intents, latency, inst.gainEps, fix);
  };
  const ranking = new Ranking(intents, inst.qty);
  return branchOverMinimums(root, lp, (amount) => violators(inst, amount), inst.minQty, budgets, t0, MIN_LPS, ranking);
}
