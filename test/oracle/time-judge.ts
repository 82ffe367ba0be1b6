// One generated windowed market judged end to end: the solver under test (passed in, never imported here: the
// oracle stays independent of src/solver) against HiGHS's time-indexed optimum and the time checker. Shared by
// test/node/solver-time-vs-highs.test.ts (thousands of small markets) and scripts/time-oracle.ts (longer runs).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Fill, Intent, LatencyTable, SolveStatus } from "../../src/contract/schema.ts";
import { seededRandom } from "../../src/random.ts";
import { isSwap } from "../../support/compat-time.ts";
import { generateWindowedMarket, type WindowedMarket, type WindowedMarketOptions } from "../../support/generate-time.ts";
import { scheduleFills, solveTimeIndexed } from "../../support/highs-time.ts";
import { checkTimedSettlement, describeTimeViolations, inspectTimedSettlement, TIME_NASH_RULES, type TimeCoverage } from "./time-checker.ts";

/** What the judge needs of a solver: `solve` with `now`, and optionally `verify` with `now` (section 2a). */
export interface SolverUnderTest {
  solve(intents: readonly Intent[], latency: LatencyTable, options: { now?: number; timeBudgetMs?: number }): SolvedLike;
  verify?(intents: readonly Intent[], latency: LatencyTable, settlement: SolvedLike, options: { now?: number }): { ok: boolean; errors?: readonly string[] };
}
export interface SolvedLike {
  fills: Fill[];
  welfare: number;
  status: SolveStatus;
  gap?: number;
}

/** Kinds of windowed market; an instance uses one, cycling by seed. */
export const TIME_MODES: Record<string, WindowedMarketOptions> = {
  windows: {},
  rates: { maxRateShare: 0.8 },
  "before-now": { pastShare: 0.5 },
  minimums: { minQuantityShare: 0.3, allOrNoneShare: 0.2 },
  soft: { softLatencyShare: 0.7, latencyCapShare: 0.1 },
  swaps: { resources: 2, swapShare: 0.3 },
  deferrals: { deferralShare: 0.3, maxRateShare: 0.5 },
  "self-trade": { agents: 3 },
  windowless: { windowlessShare: 1 },
  everything: { resources: 2, swapShare: 0.1, deferralShare: 0.15, maxRateShare: 0.5, pastShare: 0.3, minQuantityShare: 0.15, allOrNoneShare: 0.1, softLatencyShare: 0.3 },
};
export const TIME_MODE_NAMES = Object.keys(TIME_MODES);

export interface TimeInstance {
  seed: number;
  mode: string;
  options: WindowedMarketOptions;
}

/** Options for instance `seed`: its mode, and a horizon short enough that small markets overlap in time. */
export function timeInstance(seed: number, size: number, modes: readonly string[] = TIME_MODE_NAMES): TimeInstance {
  const rng = seededRandom(seed * 7919 + 23);
  const mode = modes[seed % modes.length];
  const small = size <= 12;
  const options: WindowedMarketOptions = {
    size,
    regions: small ? 1 + Math.floor(rng() * 4) : 4,
    horizonHours: small ? 2 + Math.floor(rng() * 6) : size <= 60 ? 12 : 48,
    maxWindowHours: small ? 4 : 12,
    integerQuantities: rng() < 0.5,
    // Minimums make HiGHS branch (tens of ms even on tiny markets): only the modes that ask for them have them.
    minQuantityShare: 0,
    allOrNoneShare: 0,
    ...TIME_MODES[mode],
  };
  return { seed, mode, options };
}

export interface Judgement {
  /** What is wrong with the solver's answer ("ORACLE:" when the oracle itself is at fault); empty: it passes. */
  problems: string[];
  /** HiGHS stopped at its time limit: optimality could not be judged (the other rules were). */
  undecided: boolean;
  market: WindowedMarket;
  result: SolvedLike;
  highsWelfare: number;
  coverage: TimeCoverage;
  mutated: boolean;
  ms: { solver: number; highs: number; check: number };
}

/** Solves one generated market both ways and judges the solver's settlement by the contract. */
export function judgeTimedMarket(instance: TimeInstance, solver: SolverUnderTest, highsTimeLimitSec = 60): Judgement {
  const market = generateWindowedMarket(instance.seed, instance.options);
  const { intents, latency, now } = market;
  const t0 = performance.now();
  // A generous time budget: a busy shared machine must not turn a correct solver into a "time_budget" failure.
  const result = solver.solve(intents, latency, { now, timeBudgetMs: 10_000 });
  const t1 = performance.now();
  const reference = solveTimeIndexed(intents, latency, now, { timeLimitSec: highsTimeLimitSec });
  const t2 = performance.now();
  const undecided = reference.status !== "optimal";
  const problems: string[] = [];
  // The reference must itself be reachable: HiGHS's schedule, checked by the checker's feasibility rules.
  const witness = checkTimedSettlement(market, { fills: scheduleFills(reference.schedule), welfare: reference.welfare }, undefined, { tolerances: { quantity: 1e-8, welfareReport: 1e-8 } })
    .filter((v) => !TIME_NASH_RULES.has(v.rule) && !["price-outside-limits", "swap-irrational", "split-price"].includes(v.rule));
  if (witness.length > 0) problems.push(`ORACLE: HiGHS's own schedule breaks the contract: ${describeTimeViolations(witness)}`);
  if (result.status !== "optimal") problems.push(`status ${result.status} (gap ${result.gap})`);
  const { violations, coverage } = inspectTimedSettlement(market, result, undecided ? undefined : reference.welfare);
  if (violations.length > 0) problems.push(describeTimeViolations(violations));
  const verdict = solver.verify?.(intents, latency, result, { now });
  if (verdict && !verdict.ok) problems.push(`verify rejected the solver's own settlement: ${(verdict.errors ?? []).slice(0, 5).join("; ")}`);
  let mutated = false;
  if (violations.length === 0) {
    const m = mutationProblems(market, result, solver);
    mutated = m.mutated;
    problems.push(...m.problems);
  }
  return { problems, undecided, market, result, highsWelfare: reference.welfare, coverage, mutated, ms: { solver: t1 - t0, highs: t2 - t1, check: performance.now() - t2 } };
}

/**
 * Guards against a vacuous checker: Nash surpluses are unique, so moving the price of the pair with the largest
 * traded gain by 1% of its gain (inside its plain sides' limits) must be caught, by the checker and by verify.
 */
function mutationProblems(market: WindowedMarket, result: SolvedLike, solver: SolverUnderTest): { mutated: boolean; problems: string[] } {
  const byId = new Map(market.intents.map((i) => [i.id, i]));
  const limits = (f: Fill) => {
    const buy = byId.get(f.buy)!;
    const sell = byId.get(f.sell)!;
    return { high: isSwap(buy) ? Infinity : buy.limitPrice, low: isSwap(sell) ? -Infinity : sell.limitPrice, swap: isSwap(buy) || isSwap(sell) };
  };
  // Raw limits: soft latency only narrows the band, so a plain pair with a raw gain below 1e-6 is skipped too.
  let target: Fill | undefined;
  let best = 0;
  for (const f of result.fills) {
    const { high, low, swap } = limits(f);
    const room = swap ? Math.max(1, Math.abs(f.price)) : high - low;
    if (room > 1e-6 && room * f.quantity > best) [target, best] = [f, room * f.quantity];
  }
  if (!target) return { mutated: false, problems: [] };
  const { high, low, swap } = limits(target);
  const delta = 0.01 * (swap ? Math.max(1, Math.abs(target.price)) : high - low);
  const price = target.price + delta <= high ? target.price + delta : target.price - delta;
  if (price < low) return { mutated: false, problems: [] };
  const moved = (f: Fill) => (f.buy === target!.buy && f.sell === target!.sell ? { ...f, price } : f);
  const mutated = { ...result, fills: result.fills.map(moved) };
  const problems: string[] = [];
  const what = `pair ${target.buy} ← ${target.sell} moved from ${target.price} to ${price}`;
  if (checkTimedSettlement(market, mutated).length === 0) problems.push(`ORACLE: the checker missed a mutated price: ${what}`);
  if (solver.verify?.(market.intents, market.latency, mutated, { now: market.now }).ok) problems.push(`verify accepted non-Nash prices: ${what}`);
  return { mutated: true, problems };
}

/** Writes a failing market as a `nash solve` file (with `now`) and, beside it, what was expected and what came back. */
export function writeTimeFailure(dir: string, instance: TimeInstance, j: Judgement): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `seed-${instance.seed}-${instance.mode}-${j.market.intents.length}.json`);
  const { intents, latency, now } = j.market;
  writeFileSync(file, JSON.stringify({ latency, now: new Date(now).toISOString(), intents }, null, 1));
  writeFileSync(file.replace(/\.json$/, ".expected.json"), JSON.stringify({ highsWelfare: j.highsWelfare, problems: j.problems, solver: j.result }, null, 1));
  return file;
}
