// The solver over time against the independent oracle: thousands of small generated windowed markets (windows
// around now, rate caps, minimums, soft latency, swaps, deferrals, shared agents), each solved by
// `solve(intents, latency, { now })` and judged by the time checker against HiGHS's time-indexed optimum
// (test/oracle/time-judge.ts). Failing markets are written to $TMPDIR/nash-time-oracle-failures/ as `nash solve`
// files (with "now") and a .expected.json beside each. Longer runs: `npm run oracle:time`.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { requireSolver } from "../oracle/solver-module.ts";
import { judgeTimedMarket, type SolverUnderTest, TIME_MODE_NAMES, timeInstance, writeTimeFailure } from "../oracle/time-judge.ts";

/** The solver as the judge calls it: `solve` and `verify`, both with `{ now }` (section 2a). */
function underTest(): SolverUnderTest {
  const { solve, verify } = requireSolver();
  return { solve, verify };
}

const failureDir = join(tmpdir(), "nash-time-oracle-failures");
const totals = { markets: 0, failures: 0, undecided: 0, mutations: 0, trading: 0, solverMs: 0, highsMs: 0, checkMs: 0 };
const coverage = { timedFills: 0, rateSegments: 0, rateBinding: 0, interior: 0, atSellerLimit: 0, atBuyerLimit: 0, pinned: 0, swapPairs: 0 };
const started = performance.now();

/** Runs `count` markets; one assertion at the end lists the first failures with how to reproduce them. */
function sweep(firstSeed: number, count: number, size: (seed: number) => number) {
  const s = underTest();
  const failures: string[] = [];
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    const instance = timeInstance(seed, size(seed), TIME_MODE_NAMES);
    const j = judgeTimedMarket(instance, s);
    totals.markets++;
    if (j.undecided) totals.undecided++;
    if (j.mutated) totals.mutations++;
    if (j.highsWelfare > 0) totals.trading++;
    totals.solverMs += j.ms.solver;
    totals.highsMs += j.ms.highs;
    totals.checkMs += j.ms.check;
    for (const key of Object.keys(coverage) as (keyof typeof coverage)[]) coverage[key] += j.coverage[key];
    if (j.problems.length === 0) continue;
    totals.failures++;
    const file = writeTimeFailure(failureDir, instance, j);
    failures.push(`seed ${seed}, mode ${instance.mode}, ${j.market.intents.length} intents (market in ${file}):\n  ${j.problems.join("\n  ").slice(0, 1500)}`);
  }
  expect(failures.length, `${failures.length} of ${count} windowed markets failed; first ones:\n${failures.slice(0, 5).join("\n")}`).toBe(0);
}

describe("solver over time against HiGHS's time-indexed optimum and the time checker", () => {
  test("the solver module loads", () => {
    expect(typeof underTest().solve).toBe("function");
  });

  // 2 000 small markets: every mode, 2–12 intents over 2–7 hours.
  test("2000 small windowed markets (2-12 intents)", () => sweep(1, 2000, (s) => 2 + (s % 11)), 240_000);

  // 150 medium markets, 13–40 intents over 12 hours.
  test("150 medium windowed markets (13-40 intents)", () => sweep(100_001, 150, (s) => 13 + (s % 28)), 240_000);

  // 6 larger markets, 60–120 intents over 48 hours.
  test("6 larger windowed markets (60-120 intents)", () => sweep(200_001, 6, (s) => 60 + ((s * 37) % 61)), 240_000);
});

afterAll(() => {
  console.log(
    [
      `solver over time vs HiGHS: ${totals.markets} markets (${totals.trading} with trade) in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
        `${totals.failures} failed, ${totals.undecided} undecided (HiGHS out of time)`,
      `  checked: ${coverage.timedFills} timed fills, ${coverage.rateSegments} rate segments (${coverage.rateBinding} at the cap), KKT on ` +
        `${coverage.interior} interior pairs, ${coverage.atSellerLimit} at the seller's limit, ${coverage.atBuyerLimit} at the buyer's, ` +
        `${coverage.pinned} pinned, ${coverage.swapPairs} swap pairs; ${totals.mutations} mutated prices`,
      `  time: solver ${totals.solverMs.toFixed(0)} ms, HiGHS ${totals.highsMs.toFixed(0)} ms, checks ${totals.checkMs.toFixed(0)} ms`,
    ].join("\n"),
  );
});
