// The solver against the independent oracle: thousands of generated markets (2–300 intents, every degenerate
// mode), each solved by src/solver and by HiGHS; the settlement must be optimal, pass the contract checker against
// HiGHS's optimum, carry a valid certificate and satisfy the solver's own `verify`. Failing markets are written to
// $TMPDIR/nash-oracle-failures/ as `nash solve` files (with a .expected.json beside each) so they can be replayed.
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Fill, Intent, LatencyTable } from "../../src/contract/schema.ts";
import { checkCertificate, checkSettlement, checkStatedGap, describeViolations, inspectSettlement, NASH_RULES, type Tolerances } from "../oracle/checker.ts";
import { seededRandom as mulberry32 } from "../../src/random.ts";
import { generateMarket, type MarketOptions } from "../../support/generate.ts";
import { solveWithHighs, witnessFills } from "../../support/highs.ts";
import { requireSolver } from "../oracle/solver-module.ts";

type SolverModule = ReturnType<typeof requireSolver>;

/** Degenerate modes from the task; each instance uses one, cycling by seed. */
const MODES: Record<string, (rng: () => number) => MarketOptions> = {
  plain: () => ({}),
  ties: () => ({ ties: true }),
  "zero-surplus": () => ({ zeroSurplusShare: 0.5, ties: true }),
  identical: () => ({ identicalShare: 0.4 }),
  unreachable: () => ({ unreachablePairs: 8, latencyCapShare: 0.8 }),
  "one-side": (rng) => ({ oneSide: rng() < 0.5 ? "buy" : "sell" }),
  minQuantity: () => ({ minQuantityShare: 0.4 }),
  "all-or-none": () => ({ allOrNoneShare: 0.3 }),
  everything: () => ({ ties: true, zeroSurplusShare: 0.2, identicalShare: 0.2, unreachablePairs: 4, minQuantityShare: 0.2, allOrNoneShare: 0.15 }),
};
const MODE_NAMES = Object.keys(MODES);
const WITHOUT_MIN = MODE_NAMES.filter((m) => !["minQuantity", "all-or-none", "everything"].includes(m));

interface Instance {
  seed: number;
  mode: string;
  options: MarketOptions;
}

/** Options for instance `seed`: a mode, integer or fractional quantities, and a few regions/resources for density. */
function instance(seed: number, size: number, modes: readonly string[]): Instance {
  const rng = mulberry32(seed * 7919 + 17);
  const mode = modes[seed % modes.length];
  const small = size <= 12;
  const options: MarketOptions = {
    size,
    regions: small ? 1 + Math.floor(rng() * 6) : 6,
    resources: small ? 1 + Math.floor(rng() * 2) : 2,
    integerQuantities: rng() < 0.5,
    ...MODES[mode](rng),
  };
  return { seed, mode, options };
}

/** The solver's defaults except for time (default 40 ms); the node budget stays at its default. */
const SOLVE_OPTIONS = { timeBudgetMs: 10_000 };

/**
 * Tighter than the checker's defaults (1e-6 on Nash conditions), as the brief asks "1e-9 where you can": the
 * solver's prices meet the KKT conditions to 1e-9 of the price scale. Welfare against HiGHS stays at 1e-6 relative,
 * since HiGHS itself works to 1e-9 feasibility tolerances.
 */
const CHECK_TOLERANCES: Partial<Tolerances> = { nash: 1e-9 };

const totals = {
  instances: 0,
  bySize: new Map<string, number>(),
  byMode: new Map<string, number>(),
  kkt: { interior: 0, atSellerLimit: 0, atBuyerLimit: 0, pinned: 0 },
  mutations: 0,
  referenceProven: 0,
  solverMs: 0,
  highsMs: 0,
  checkMs: 0,
};
const started = performance.now();
const failureDir = join(tmpdir(), "nash-oracle-failures");

/** Solves one generated market both ways and returns what is wrong with the solver's answer (empty if nothing). */
function runInstance({ seed, mode, options }: Instance): string[] {
  const { solve, verify } = requireSolver();
  const { intents, latency } = generateMarket(seed, options);
  const size = intents.length;
  const bucket = size <= 12 ? "2-12" : size <= 60 ? "13-60" : size <= 150 ? "61-150" : "151-300";
  totals.instances++;
  totals.bySize.set(bucket, (totals.bySize.get(bucket) ?? 0) + 1);
  totals.byMode.set(mode, (totals.byMode.get(mode) ?? 0) + 1);

  const t0 = performance.now();
  // A generous time budget: a busy shared machine must not turn a correct solver into a "time_budget" failure.
  const result = solve(intents, latency, SOLVE_OPTIONS);
  const t1 = performance.now();
  const reference = solveWithHighs(intents, latency, { timeLimitSec: 120 });
  const t2 = performance.now();
  const problems: string[] = [];
  // The reference must itself be reachable: HiGHS's x, checked by the contract's feasibility rules.
  const witness = witnessFills(intents, reference.x);
  const witnessIssues = checkSettlement(intents, latency, { fills: witness, welfare: reference.welfare }, reference.welfare, { quantity: 1e-8, welfareReport: 1e-6 })
    .filter((v) => !NASH_RULES.has(v.rule));
  if (witnessIssues.length > 0) problems.push(`ORACLE: HiGHS's own allocation breaks the contract: ${describeViolations(witnessIssues)}`);
  // Without minQuantity the reference optimum is also proven, by HiGHS's duals through the checker's own code.
  if (reference.duals) {
    const proof = checkCertificate(intents, latency, { duals: reference.duals, bound: reference.welfare }, reference.welfare, 1e-7);
    if (proof.length > 0) problems.push(`ORACLE: HiGHS's duals do not prove its optimum: ${describeViolations(proof)}`);
    else totals.referenceProven++;
  }
  if (result.status !== "optimal") {
    problems.push(`status ${result.status} (gap ${result.gap})`);
    const gapIssues = checkStatedGap(result, reference.welfare);
    if (gapIssues.length > 0) problems.push(describeViolations(gapIssues));
  }
  const { violations, coverage } = inspectSettlement(intents, latency, result, reference.welfare, CHECK_TOLERANCES);
  if (violations.length > 0) problems.push(describeViolations(violations));
  totals.kkt.interior += coverage.interior;
  totals.kkt.atSellerLimit += coverage.atSellerLimit;
  totals.kkt.atBuyerLimit += coverage.atBuyerLimit;
  totals.kkt.pinned += coverage.pinned;
  if (violations.length === 0) problems.push(...mutationProblems(intents, latency, result, reference.welfare));
  problems.push(...certificateProblems(intents, latency, result.certificate, reference.welfare));
  const verdict = verifyVerdict(verify, intents, latency, result);
  if (verdict !== undefined) problems.push(`verify rejected the solver's own settlement: ${verdict}`);
  totals.solverMs += t1 - t0;
  totals.highsMs += t2 - t1;
  totals.checkMs += performance.now() - t2;

  if (problems.length > 0) {
    mkdirSync(failureDir, { recursive: true });
    // A `nash solve` file (strict: latency and intents only), and beside it what was expected and what came back.
    const file = join(failureDir, `seed-${seed}-${mode}-${size}.json`);
    writeFileSync(file, JSON.stringify({ latency, intents }, null, 1));
    writeFileSync(file.replace(/\.json$/, ".expected.json"), JSON.stringify({ highsWelfare: reference.welfare, problems, solver: result }, null, 1));
    return [`seed ${seed}, mode ${mode}, ${size} intents, options ${JSON.stringify(options)} (market in ${file}):\n  ${problems.join("\n  ")}`];
  }
  return [];
}

/**
 * Guards against a vacuous checker: the Nash surplus vector is unique, so moving the price of the settlement's
 * largest-surplus fill by 1% of its gain (staying within both limits) must be caught. Welfare is untouched.
 */
function mutationProblems(intents: readonly Intent[], latency: LatencyTable, result: ReturnType<SolverModule["solve"]>, optimum: number): string[] {
  const { fills, welfare } = result;
  const limit = new Map(intents.map((i) => [i.id, i.limitPrice]));
  const gain = (f: Fill) => (limit.get(f.buy) ?? 0) - (limit.get(f.sell) ?? 0);
  let target = -1;
  fills.forEach((f, k) => {
    if (gain(f) > 1e-6 && (target < 0 || gain(f) * f.quantity > gain(fills[target]) * fills[target].quantity)) target = k;
  });
  if (target < 0) return [];
  const f = fills[target];
  const delta = 0.01 * gain(f);
  const price = f.price + delta <= (limit.get(f.buy) ?? 0) ? f.price + delta : f.price - delta;
  const mutated = { ...result, fills: fills.map((g, k) => (k === target ? { ...g, price } : g)) };
  totals.mutations++;
  const problems: string[] = [];
  if (checkSettlement(intents, latency, { fills: mutated.fills, welfare }, optimum, CHECK_TOLERANCES).length === 0) {
    problems.push(`ORACLE: the checker missed a mutated price: fill ${target} moved from ${f.price} to ${price}`);
  }
  // The same mutation must not pass the solver's own verify either, or verify is not checking Nash prices.
  if (requireSolver().verify(intents, latency, mutated).ok) {
    problems.push(`verify accepted non-Nash prices: fill ${target} moved from ${f.price} to ${price}`);
  }
  return problems;
}

/**
 * The certificate (CONTRACT.md section 2): without minQuantity, its duals must be dual-feasible on every tradable
 * pair and prove a bound equal to the optimum; with minQuantity, its bound must still be a valid upper bound.
 */
function certificateProblems(
  intents: readonly Intent[],
  latency: LatencyTable,
  certificate: { duals: Record<string, number>; bound: number },
  optimum: number,
): string[] {
  const hasMin = intents.some((i) => (i.minQuantity ?? 0) > 0);
  if (!hasMin) {
    const vs = checkCertificate(intents, latency, certificate, optimum);
    return vs.length > 0 ? [`certificate: ${describeViolations(vs)}`] : [];
  }
  const ok = certificate.bound >= optimum - 1e-6 * Math.max(1, Math.abs(optimum));
  return ok ? [] : [`certificate bound ${certificate.bound} is below the optimum ${optimum}`];
}

/** undefined when the solver's verify accepts the settlement, else its reasons. */
function verifyVerdict(
  verify: SolverModule["verify"],
  intents: readonly Intent[],
  latency: LatencyTable,
  result: ReturnType<SolverModule["solve"]>,
): string | undefined {
  const outcome = verify(intents, latency, result);
  return outcome.ok ? undefined : outcome.errors.slice(0, 5).join("; ");
}

/** Runs `count` instances; one assertion at the end lists the first failures with how to reproduce them. */
function sweep(firstSeed: number, count: number, size: (seed: number) => number, modes: readonly string[]) {
  const failures: string[] = [];
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    failures.push(...runInstance(instance(seed, size(seed), modes)));
  }
  expect(failures.length, `${failures.length} of ${count} markets failed; first ones:\n${failures.slice(0, 5).join("\n")}`).toBe(0);
}

describe("solver against HiGHS and the contract checker", () => {
  test("the solver module loads", () => {
    const s = requireSolver();
    expect(typeof s.solve).toBe("function");
    expect(typeof s.verify).toBe("function");
  });

  test("the contract's midpoint example: 100 units at 1.60, welfare 40", () => {
    const { solve } = requireSolver();
    const intents: Intent[] = [
      { id: "inference", agent: "a", side: "buy", resource: "gpu-h100-hr", quantity: 100, limitPrice: 1.8, region: "eu-west" },
      { id: "compute", agent: "b", side: "sell", resource: "gpu-h100-hr", quantity: 500, limitPrice: 1.4, region: "eu-west" },
    ];
    const r = solve(intents, {});
    expect(r.status).toBe("optimal");
    expect(r.fills).toHaveLength(1);
    expect(r.fills[0]).toMatchObject({ buy: "inference", sell: "compute", resource: "gpu-h100-hr" });
    expect(r.fills[0].quantity).toBeCloseTo(100, 9);
    expect(r.fills[0].price).toBeCloseTo(1.6, 9);
    expect(r.welfare).toBeCloseTo(40, 9);
  });

  // 3 000 small markets: every mode, 2–12 intents, 1–6 regions, 1–2 resources.
  test("3000 small markets (2-12 intents)", () => sweep(1, 3000, (s) => 2 + (s % 11), MODE_NAMES), 240_000);

  // 700 medium markets, 13–60 intents.
  test("700 medium markets (13-60 intents)", () => sweep(10_001, 700, (s) => 13 + (s % 48), MODE_NAMES), 240_000);

  // 60 large markets, 61–150 intents.
  test("60 large markets (61-150 intents)", () => sweep(20_001, 60, (s) => 61 + ((s * 37) % 90), MODE_NAMES), 240_000);

  // 28 markets of 151–300 intents: 20 without minQuantity, 8 with (HiGHS's MILP is the slow part there).
  test("20 markets of 151-300 intents without minQuantity", () => sweep(30_001, 20, (s) => 151 + ((s * 53) % 150), WITHOUT_MIN), 240_000);
  test("8 markets of 151-300 intents with minQuantity or all-or-none", () =>
    sweep(40_001, 8, (s) => 151 + ((s * 53) % 150), ["minQuantity", "all-or-none", "everything"]), 240_000);
});

afterAll(() => {
  const sizes = [...totals.bySize].map(([k, n]) => `${k}: ${n}`).join(", ");
  const modes = [...totals.byMode].map(([k, n]) => `${k}: ${n}`).join(", ");
  console.log(
    [
      `solver vs HiGHS: ${totals.instances} markets in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      `  by size: ${sizes}`,
      `  by mode: ${modes}`,
      `  KKT conditions checked on fills: ${totals.kkt.interior} interior, ${totals.kkt.atSellerLimit} at the seller's limit, ` +
        `${totals.kkt.atBuyerLimit} at the buyer's limit, ${totals.kkt.pinned} pinned (zero gain); ${totals.mutations} mutated prices all caught unless reported`,
      `  HiGHS optima proven by their duals (markets without minQuantity): ${totals.referenceProven}`,
      `  time: solver ${totals.solverMs.toFixed(0)} ms, HiGHS ${totals.highsMs.toFixed(0)} ms, checks ${totals.checkMs.toFixed(0)} ms`,
    ].join("\n"),
  );
});
