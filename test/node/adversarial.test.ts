// Issue 14's properties over the pure path (solve, the batch's close, priceAllocation), judged by the oracle with
// HiGHS as the reference optimum. Bounded for `npm test`; `npm run fuzz:adversarial` is the long run.
import fc from "fast-check";
import { expect, test } from "vitest";
import { describeFaults, independenceCase, pureFaults } from "../oracle/hostile.ts";
import { highsOptimum } from "../oracle/hostile-highs.ts";

const RUNS = Number(process.env.ADVERSARIAL_RUNS ?? 300);

test(`hostile books and proposals keep every property (${RUNS} cases)`, () => {
  fc.assert(
    fc.property(independenceCase, (c) => {
      const faults = pureFaults(c, highsOptimum);
      expect(faults, describeFaults(faults)).toEqual([]);
    }),
    { numRuns: RUNS },
  );
});
