// Windowed books with minimums (notes/solver.md, "Time: minimums (session 9)"): branch and bound certifies its
// optimum by a tree per component (certificate.trees), which verify checks leaf by leaf; against HiGHS's
// time-indexed MILP on markets with many minimums; and hostile trees (a false bound, a leaf that does not cover
// its branch, a part that trades with another) refused.
import { describe, expect, test } from "vitest";
import type { Certificate, Intent, TimeTree } from "../../src/contract/schema.ts";
import { solve, verify, type SolveResult } from "../../src/solver/index.ts";
import { generateWindowedMarket, type WindowedMarketOptions } from "../../support/generate-time.ts";
import { judgeTimedMarket, type TimeInstance } from "../oracle/time-judge.ts";

/** Modes with many minimums and all-or-none intents (the oracle's own sweep has 30% / 20% in one mode of ten). */
const HEAVY: Record<string, WindowedMarketOptions> = {
  minimums: { minQuantityShare: 0.45, allOrNoneShare: 0.3, maxRateShare: 0.4 },
  "all-or-none": { minQuantityShare: 0.1, allOrNoneShare: 0.6, maxRateShare: 0.6 },
  "soft latency": { minQuantityShare: 0.35, allOrNoneShare: 0.2, softLatencyShare: 0.6, latencyCapShare: 0.2, windowlessShare: 0.3 },
  "shared agents": { agents: 4, minQuantityShare: 0.4, allOrNoneShare: 0.25, pastShare: 0.3 },
};
/** With swaps HiGHS's optimum may make a swap lose on its net (its model has no such row), which no settlement may. */
const WITH_SWAPS: WindowedMarketOptions = { resources: 2, swapShare: 0.2, deferralShare: 0.1, minQuantityShare: 0.35, allOrNoneShare: 0.2, maxRateShare: 0.5, softLatencyShare: 0.3 };

function instance(seed: number, size: number, modes: Record<string, WindowedMarketOptions>): TimeInstance {
  const names = Object.keys(modes);
  const mode = names[seed % names.length];
  const small = size <= 12;
  return { seed, mode, options: { size, regions: small ? 2 : 4, horizonHours: small ? 4 : 12, maxWindowHours: small ? 4 : 8, integerQuantities: seed % 2 === 0, ...modes[mode] } };
}

describe("windowed books with minimums against HiGHS's time-indexed MILP", () => {
  test("400 markets of 4-40 intents with many minimums: the same optimum, status optimal, verified; trees listed", () => {
    const failures: string[] = [];
    let trees = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const j = judgeTimedMarket(instance(seed, 4 + ((seed * 7) % 37), HEAVY), { solve, verify });
      if ((j.result as SolveResult).certificate.trees) trees++;
      if (j.problems.length > 0) failures.push(`seed ${seed} (${j.market.intents.length} intents): ${j.problems.join("; ").slice(0, 600)}`);
    }
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
    expect(trees).toBeGreaterThan(40);
  }, 600_000);

  test("120 markets with swaps and minimums: verified, and what a settlement claims holds against HiGHS", () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 120; seed++) {
      const j = judgeTimedMarket(instance(seed, 4 + ((seed * 7) % 37), { swaps: WITH_SWAPS }), { solve, verify });
      const r = j.result as SolveResult;
      const tol = 1e-6 * Math.max(1, j.highsWelfare);
      const claims = verify(j.market.intents, j.market.latency, r, { now: j.market.now });
      // Optimal, or a stated gap: HiGHS may do better only by a swap losing on its net, never beyond the proven bound.
      if (!claims.ok) failures.push(`seed ${seed}: verify: ${claims.errors.slice(0, 2).join("; ")}`);
      if (r.status === "optimal" && j.problems.length > 0) failures.push(`seed ${seed}: optimal claimed: ${j.problems.join("; ").slice(0, 400)}`);
      if (r.welfare + (r.gap ?? 0) < j.highsWelfare - tol && j.problems.some((p) => !p.startsWith("status")))
        failures.push(`seed ${seed}: bound ${r.welfare + (r.gap ?? 0)} below HiGHS's ${j.highsWelfare}`);
    }
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
  }, 600_000);
});
