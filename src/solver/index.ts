// The settlement solver: exact welfare-optimal allocation (class-aggregated min-cost flow, branch and bound for
// minQuantity), Nash bargaining prices, an LP dual certificate, and a verifier that checks all of it without
// solving. Pure TypeScript: runs unchanged in workerd, Node and the CLI.
import type { Certificate, Fill, Intent, LatencyTable, SolveStatus } from "../contract/schema.ts";
import { catalogClasses, restrictClasses, updateClasses, type ClassCatalog, type ClassIndex } from "./classes.ts";
import { MAX_LEAVES, MIN_LPS, indexedFills, prepare, solvePlainComponent } from "./branch.ts";
import { isSoft, priceIndexed } from "./price.ts";
import { looseSwapCertificate, rootBoundOnly, solveSwapComponent } from "./swaps.ts";
import { tradeComponents } from "./components.ts";
import { needsExact, solveExact } from "./exact.ts";
import { isTimed, solveTime } from "./time.ts";
import type { Budgets, SolveOptions, SolveResult } from "./result.ts";
import { verify } from "./verify.ts";

export { DEFAULT_LATENCY, latencyBetween, compatible } from "./latency.ts";
export { verify };
export { priceAllocation, type AllocationFill } from "./price.ts";
export type { SolveOptions, SolveResult } from "./result.ts";

/** What one solve hands to the next: the class catalog. Opaque; the private field makes it unforgeable. */
class WarmStart {
  readonly #catalog: ClassCatalog;
  constructor(catalog: ClassCatalog) {
    this.#catalog = catalog;
  }
  static catalogOf(x: unknown): ClassCatalog | undefined {
    return typeof x === "object" && x !== null && #catalog in x ? x.#catalog : undefined;
  }
}

export function solve(intents: readonly Intent[], latency: LatencyTable, options: SolveOptions = {}): SolveResult {
  const t0 = performance.now();
  const maxIntents = options.maxIntents ?? 200_000;
  if (intents.length > maxIntents) return sizeBudget(intents, t0);
  // Windows: the time-expanded problem (notes/solver.md, "Time (session 8)"); a book without any takes the path below.
  if (isTimed(intents)) return solveTime(intents, latency, options.now, budgetsOf(options), t0, options.maxCertificateLeaves ?? MAX_LEAVES, options.warmStart);
  // The whole book's classes (reused from a warm start) give the components of the "may trade" graph; each is
  // solved on its own with thresholds from its own numbers (notes/solver.md, "Components").
  const warm = WarmStart.catalogOf(options.warmStart);
  // A warm start that cannot be reused is rebuilt widened (every table region), so that the next ones can be.
  const catalog = warm ? (updateClasses(intents, latency, warm) ?? catalogClasses(intents, latency, true, true)) : catalogClasses(intents, latency);
  const hasSwaps = intents.some((it) => it.swapFor !== undefined);
  const hasSoft = intents.some(isSoft);
  const comps = tradeComponents(intents, latency, catalog.idx, hasSwaps, hasSoft);
  // Every component writes its duals into this one record (copying them into one would cost more than solving).
  const duals: Record<string, number> = {};
  const parts: SolveResult[] = comps.map((c) => {
    if (c.length === intents.length) return solveComponent(intents, latency, options, t0, duals, catalog.idx);
    const sub: Intent[] = [];
    for (let k = 0; k < c.length; k++) sub.push(intents[c[k]]);
    // The classes a build for `sub` alone would give, from the book's when they are the same (a warm catalog's may be
    // numbered otherwise). A build scans only the book's two-sided agents (in books without any: no scan).
    const idx = (!warm && restrictClasses(catalog, sub, c)) || catalogClasses(sub, latency, true, false, catalog.twoSided).idx;
    return solveComponent(sub, latency, options, t0, duals, idx);
  });
  const result = mergeComponents(parts, comps, intents, duals, t0);
  // Books with swaps or soft latency are certified by potentials (verify's view check) and solved cold.
  if (!hasSwaps && !hasSoft) result.warmStart = new WarmStart(catalog);
  else {
    // A swap in no component has no counterpart at all: any potential proves its (empty) part; verify wants one.
    const potentials = (result.certificate.potentials ??= {});
    for (const it of intents) if (it.swapFor && it.quantity > 0 && !Object.hasOwn(potentials, it.id)) potentials[it.id] = 0;
    if (intents.some((it) => (it.minQuantity ?? 0) > 0)) {
      rootBoundOnly(result);
      // Swap components are solved in doubles: across 1e-6..1e12 or 0..1e9 their duals can miss feasibility by
      // rounding. With minimums a stated gap is accepted, so such a result keeps its fills under a bound that holds
      // whatever the numbers (notes/solver.md, "Swaps with minimums"), rather than being refused and settling nothing.
      if (!verify(intents, latency, result).ok) result.certificate = looseSwapCertificate(intents, result.welfare);
    }
  }
  return result;
}

/**
 * One component (or a whole book) with its classes, on the path its intents need; its positive duals are written
 * into `duals` (shared by the components, and its certificate's `duals`).
 */
function solveComponent(
  intents: readonly Intent[],
  latency: LatencyTable,
  options: SolveOptions,
  t0: number,
  duals: Record<string, number>,
  idx: ClassIndex,
): SolveResult {
  const budgets = budgetsOf(options);
  // Swaps and deferrals: the circulation with swap nodes (notes/solver.md, "Multi-party kinds"); soft latency too,
  // whose penalties sit on that circulation's pair arcs (notes/solver.md, "Net Nash and soft latency").
  if (intents.some((it) => it.swapFor !== undefined || isSoft(it))) return solveSwapComponent(intents, latency, prepare(intents, idx), budgets, t0, duals);
  // Numbers too far apart for the float path's relative thresholds: exact integers (notes/solver.md, "Exactness").
  if (needsExact(intents)) return solveExactComponent(intents, idx, budgets.nodeBudget, t0 + budgets.timeBudgetMs, t0, duals);
  return solvePlainComponent(intents, prepare(intents, idx), budgets, options.maxCertificateLeaves ?? MAX_LEAVES, t0, duals);
}

/** A component solved in exact integers (exact.ts), priced and certified as the float path does. */
function solveExactComponent(
  intents: readonly Intent[],
  idx: ClassIndex,
  nodeBudget: number,
  deadline: number,
  t0: number,
  duals: Record<string, number>,
): SolveResult {
  const x = solveExact(intents, idx, { nodeBudget, deadline, minLps: MIN_LPS });
  let welfare = 0;
  for (const f of x.fills) welfare += f.quantity * (intents[f.b].limitPrice - intents[f.s].limitPrice);
  const fills = priceIndexed(intents, ...indexedFills(intents, x.fills));
  for (let i = 0; i < intents.length; i++) if (x.duals[i] > 0) duals[intents[i].id] = x.duals[i];
  const lpBound = Math.max(x.lpBound, welfare);
  // No tree is listed: the certificate proves the root LP bound and states its gap (as for a tree too large to list).
  const certificate: Certificate = { duals, bound: lpBound, lpBound };
  if (lpBound > welfare + 1e-9 * Math.max(1, Math.abs(welfare))) certificate.gap = lpBound - welfare;
  const result: SolveResult = { fills, welfare, status: x.budget ?? "optimal", solveMs: performance.now() - t0, certificate };
  if (x.openBound !== undefined) result.gap = Math.max(0, x.openBound - welfare);
  return result;
}

/**
 * The components' results as one: fills in component order, welfare, duals, bounds and gaps summed. A branch-and-
 * bound tree stays checkable when one component has one: each leaf then also lists the other components' duals
 * (LP-optimal there, so their bound is their welfare or their own stated gap). With trees in several components
 * the certificate proves the root LP bound and states its gap (as for a tree too large to list).
 */
function mergeComponents(parts: SolveResult[], comps: Int32Array[], intents: readonly Intent[], duals: Record<string, number>, t0: number): SolveResult {
  if (parts.length === 1) return { ...parts[0], solveMs: performance.now() - t0 };
  const fills: Fill[] = [];
  let welfare = 0;
  let bound = 0;
  let lpBound = 0;
  let gap = 0;
  let certGap = 0;
  let status: SolveStatus = "optimal";
  const potentials: Record<string, number> = Object.create(null);
  let anyPotentials = false;
  for (const p of parts) {
    for (const f of p.fills) fills.push(f);
    if (p.certificate.potentials) {
      Object.assign(potentials, p.certificate.potentials);
      anyPotentials = true;
    }
    welfare += p.welfare;
    bound += p.certificate.bound;
    lpBound += typeof p.certificate.lpBound === "number" ? p.certificate.lpBound : p.certificate.bound;
    gap += p.gap ?? 0;
    certGap += p.certificate.gap ?? 0;
    if (status === "optimal" && p.status !== "optimal") status = p.status;
  }
  const certificate: Certificate = { duals, bound, lpBound };
  if (anyPotentials) certificate.potentials = { ...potentials };
  const withTree = parts.filter((p) => p.certificate.tree !== undefined);
  if (withTree.length === 1) {
    const own = parts.indexOf(withTree[0]);
    const others: Record<string, number> = {};
    comps.forEach((c, k) => {
      if (k === own) return;
      for (const i of c) if (Object.hasOwn(duals, intents[i].id)) others[intents[i].id] = duals[intents[i].id];
    });
    certificate.tree = withTree[0].certificate.tree!.map((leaf) => ({ fixed: leaf.fixed, duals: { ...others, ...leaf.duals } }));
    if (certGap > 0) certificate.gap = certGap;
  } else if (withTree.length > 1) {
    const claimTol = 1e-9 * Math.max(1, Math.abs(welfare));
    if (lpBound > welfare + claimTol) certificate.gap = lpBound - welfare;
    certificate.bound = status !== "optimal" ? bound : welfare;
  } else if (certGap > 0) certificate.gap = certGap;
  const result: SolveResult = { fills, welfare, status, solveMs: performance.now() - t0, certificate };
  if (status !== "optimal") result.gap = gap;
  return result;
}

function budgetsOf(options: SolveOptions): Budgets {
  return { timeBudgetMs: options.timeBudgetMs ?? 40, nodeBudget: options.nodeBudget ?? 20_000 };
}

function sizeBudget(intents: readonly Intent[], t0: number): SolveResult {
  // A bound without solving: every buyer's units at its limit less the cheapest seller of the resource.
  const cheapest = new Map<string, number>();
  for (const it of intents)
    if (it.side === "sell") cheapest.set(it.resource, Math.min(cheapest.get(it.resource) ?? Infinity, it.limitPrice));
  let bound = 0;
  for (const it of intents) {
    const c = cheapest.get(it.resource);
    if (it.side === "buy" && c !== undefined && it.limitPrice > c) bound += it.quantity * (it.limitPrice - c);
  }
  return {
    fills: [],
    welfare: 0,
    status: "size_budget",
    gap: bound,
    solveMs: performance.now() - t0,
    certificate: { duals: {}, bound },
  };
}
