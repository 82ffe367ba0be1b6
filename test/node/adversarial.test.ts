// Issue 14's properties over the pure path (solve, the batch's close, priceAllocation), judged by the oracle with
// HiGHS as the reference optimum of ordinary books and the exact rational oracle where HiGHS cannot decide. One test per property, so that each shows its own shrunk counterexample.
// Bounded for `npm test` (ADVERSARIAL_RUNS, default 200 cases each); `npm run fuzz:adversarial` is the long run.
import fc from "fast-check";
import { expect, test } from "vitest";
import { describeFaults, independenceCase, pureFaults, type Property } from "../oracle/hostile.ts";
import { referenceOptimum } from "../oracle/hostile-highs.ts";
import { exactOptimum, toNumber } from "../oracle/exact.ts";
import { generateMarket } from "../../support/generate.ts";
import { solveWithHighs } from "../../support/highs.ts";

const RUNS = Number(process.env.ADVERSARIAL_RUNS ?? 200);
/**
 * A fixed seed by default, so that `npm test` is the same run on every machine: the long run
 * (`npm run fuzz:adversarial`) still finds a few extreme-ratio cases (notes/adversarial.md), and a random seed here
 * would make CI flaky instead of telling us anything new. ADVERSARIAL_SEED=random explores.
 */
const SEED = process.env.ADVERSARIAL_SEED === "random" ? undefined : Number(process.env.ADVERSARIAL_SEED ?? 14);
const PROPERTIES: Property[] = ["feasible", "individual-rationality", "minimums", "no-self-trade", "nash", "optimal", "independence", "no-crossed-pair", "proposal-below-own"];

test.each(PROPERTIES)("hostile books and proposals keep %s", (property) => {
  fc.assert(
    fc.property(independenceCase, (c) => {
      const faults = pureFaults(c, referenceOptimum).filter((f) => f.property === property);
      expect(faults, describeFaults(faults)).toEqual([]);
    }),
    { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
  );
});

test("the exact oracle agrees with HiGHS on ordinary books (minimums and all-or-none included)", () => {
  for (let seed = 1; seed <= 150; seed++) {
    const m = generateMarket(seed, { size: 4 + (seed % 9), minQuantityShare: 0.3, allOrNoneShare: 0.2, integerQuantities: seed % 2 === 0 });
    const exact = toNumber(exactOptimum(m.intents, m.latency).welfare);
    const highs = solveWithHighs(m.intents, m.latency).welfare;
    expect(Math.abs(exact - highs), `seed ${seed}: exact ${exact}, HiGHS ${highs}`).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(highs)));
  }
});
