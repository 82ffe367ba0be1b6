// The reference optimum: MATH.md's allocation MILP (transportation problem plus a binary per minQuantity intent)
// written as CPLEX LP text and solved by HiGHS (npm `highs`, WebAssembly) at its tightest settings.
// Compatibility comes from ./compat.ts, read from the contract, never from src/solver.
import loadHighs from "highs";
import type { Fill, Intent, LatencyTable } from "../src/contract/schema.ts";
import { tradablePairs } from "./compat.ts";
import { pairLimits } from "./soft-compat.ts";

// Loaded once per process (the WASM instance is ~3 MB); every solve then runs synchronously on a fresh model.
const highs = await loadHighs();

/**
 * HiGHS at its tightest: no relative or absolute MIP gap, and feasibility tolerances of 1e-9 (the default is
 * 1e-7; tighter than 1e-9 makes HiGHS itself unstable on fractional data).
 */
export const HIGHS_OPTIONS = {
  output_flag: false,
  presolve: "on",
  mip_rel_gap: 0,
  mip_abs_gap: 0,
  primal_feasibility_tolerance: 1e-9,
  dual_feasibility_tolerance: 1e-9,
  mip_feasibility_tolerance: 1e-9,
} as const;

export interface HighsResult {
  /** Optimal welfare Σ (b − c)·x, as HiGHS reports its objective. */
  welfare: number;
  /** Fill quantities above 1e-9 keyed "buyId|sellId". */
  x: Map<string, number>;
  /** Wall time of building the LP text and solving it, in ms. */
  ms: number;
  /** Size of the model: tradable pairs (columns x) and minQuantity binaries (columns z). */
  pairs: number;
  binaries: number;
  /**
   * Without minQuantity (a pure LP): HiGHS's row duals per intent id, so that its optimum can be certified by the
   * checker's own `checkCertificate` instead of being taken on trust. Absent for a MILP.
   */
  duals?: Record<string, number>;
}

/** Options for solveWithHighs. */
export interface HighsSolveOptions {
  /** Seconds before HiGHS gives up, which then throws (an oracle without a proven optimum is no oracle). Default: none. */
  timeLimitSec?: number;
}

/**
 * Solves the allocation MILP exactly (to HiGHS's tolerances) and returns the optimum welfare and one optimal x.
 * Throws if HiGHS does not prove optimality: for tests and benches an unproven reference is a bug to look at.
 */
export function solveWithHighs(
  intents: readonly Intent[],
  latency: LatencyTable,
  options: HighsSolveOptions = {},
): HighsResult {
  const start = performance.now();
  const model = buildAllocationLp(intents, latency);
  if (model.positiveGains === 0) {
    // Nothing to gain: trading nothing is optimal. Skipping HiGHS also avoids an empty objective in the LP text.
    const duals = model.binaries === 0 ? {} : undefined;
    return { welfare: 0, x: new Map(), ms: performance.now() - start, pairs: model.pairs.length, binaries: model.binaries, duals };
  }
  const solveOptions = options.timeLimitSec === undefined ? HIGHS_OPTIONS : { ...HIGHS_OPTIONS, time_limit: options.timeLimitSec };
  const result = highs.solve(model.text, solveOptions);
  if (result.Status !== "Optimal") throw new Error(`HiGHS did not prove optimality: ${result.Status}`);
  const x = new Map<string, number>();
  model.pairs.forEach((pair, e) => {
    const q = result.Columns[`x${e}`]?.Primal ?? 0;
    // HiGHS leaves round-off such as 4e-13 on unused columns; below its own tolerance that is 0.
    if (q > HIGHS_OPTIONS.primal_feasibility_tolerance) x.set(`${pair.buy.id}|${pair.sell.id}`, q);
  });
  let duals: Record<string, number> | undefined;
  if (model.binaries === 0) {
    duals = {};
    for (const row of result.Rows) {
      const k = /^q(\d+)$/.exec("Name" in row ? row.Name : "")?.[1];
      if (k !== undefined && "Dual" in row) duals[intents[Number(k)].id] = row.Dual;
    }
  }
  return { welfare: result.ObjectiveValue, x, ms: performance.now() - start, pairs: model.pairs.length, binaries: model.binaries, duals };
}

/**
 * HiGHS's allocation as contract fills, each priced at the midpoint of its two limits (not Nash prices): a witness
 * that the reference optimum is reachable, for checking with the feasibility rules of the checker.
 */
export function witnessFills(intents: readonly Intent[], x: ReadonlyMap<string, number>): Fill[] {
  const byId = new Map(intents.map((i) => [i.id, i]));
  const fills: Fill[] = [];
  for (const [key, quantity] of x) {
    const [buyId, sellId] = key.split("|");
    const buy = byId.get(buyId);
    const sell = byId.get(sellId);
    if (!buy || !sell) throw new Error(`HiGHS result names unknown pair ${key}`);
    fills.push({ buy: buyId, sell: sellId, resource: buy.resource, quantity, price: (buy.limitPrice + sell.limitPrice) / 2 });
  }
  return fills;
}

/** Shortest round-trip decimal; never "-0" (LP readers differ on it) and never NaN/Infinity. */
function num(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`non-finite number in LP model: ${n}`);
  return Object.is(n, -0) ? "0" : String(n);
}

/** Joins signed terms over several lines: HiGHS reads long lines, but other LP readers and humans do not. */
function wrap(terms: string[]): string {
  const lines: string[] = [];
  for (let k = 0; k < terms.length; k += 8) lines.push(" " + terms.slice(k, k + 8).join(" "));
  return lines.join("\n");
}

/**
 * The MILP of MATH.md as CPLEX LP text, g_e the pair's gain between its limits as soft latency moves them.
 * Columns are named x<e> (pair e) and z<k> (intent k); names are
 * generated, never taken from intent ids, so no id can clash with LP syntax.
 *
 *   max Σ g_e x_e   s.t. for each intent k with tradable pairs:
 *     Σ_{e∋k} x_e ≤ Q_k                          (no minQuantity, or minQuantity 0)
 *     Σ_{e∋k} x_e − Q_k z_k ≤ 0,  Σ_{e∋k} x_e − m_k z_k ≥ 0,  z_k binary   (minQuantity m_k > 0)
 *     x ≥ 0
 */
export function buildAllocationLp(intents: readonly Intent[], latency: LatencyTable) {
  // Soft latency (CONTRACT.md section 1): a pair's gain is between its limits as moved for that pair; a pair they
  // no longer meet on (or whose latency is unlisted) is not tradable.
  const pairs = tradablePairs(intents, latency).flatMap((pair) => {
    const { buyLimit, sellLimit } = pairLimits(latency, pair.buy, pair.sell);
    return buyLimit >= sellLimit ? [{ ...pair, gain: buyLimit - sellLimit }] : [];
  });
  const incident = new Map<Intent, number[]>();
  pairs.forEach((pair, e) => {
    for (const intent of [pair.buy, pair.sell]) {
      const list = incident.get(intent);
      if (list) list.push(e);
      else incident.set(intent, [e]);
    }
  });

  const objective: string[] = [];
  pairs.forEach((pair, e) => {
    if (pair.gain > 0) objective.push(`+ ${num(pair.gain)} x${e}`);
  });

  const rows: string[] = [];
  const binaries: string[] = [];
  intents.forEach((intent, k) => {
    const edges = incident.get(intent);
    if (!edges) return;
    const sum = edges.map((e) => `+ x${e}`);
    const m = intent.minQuantity ?? 0;
    if (m > 0) {
      binaries.push(`z${k}`);
      rows.push(` q${k}:\n${wrap([...sum, `- ${num(intent.quantity)} z${k}`])}\n <= 0`);
      rows.push(` m${k}:\n${wrap([...sum, `- ${num(m)} z${k}`])}\n >= 0`);
    } else {
      rows.push(` q${k}:\n${wrap(sum)}\n <= ${num(intent.quantity)}`);
    }
  });

  const text = [
    "Maximize",
    " welfare:",
    wrap(objective),
    "Subject To",
    ...rows,
    "Bounds",
    ...pairs.map((_, e) => ` x${e} >= 0`),
    ...(binaries.length > 0 ? ["Binaries", wrap(binaries)] : []),
    "End",
    "",
  ].join("\n");
  return { text, pairs, binaries: binaries.length, positiveGains: objective.length };
}

/** HiGHS's optimum as contract fills with their welfare: the exact reference the scorer's training labels use. */
export function exactOptimum(intents: readonly Intent[], latency: LatencyTable): { fills: Fill[]; welfare: number } {
  const result = solveWithHighs(intents, latency);
  return { fills: witnessFills(intents, result.x), welfare: result.welfare };
}
