// Swap components whose numbers doubles cannot resolve (issue 14; notes/solver.md, "Swap components exact"): a
// hostile swap of 1e9 limits or 1e12 units beside 1e-6 intents must not make verify refuse the market's own
// settlement (the clearing would commit nothing) nor hang the solver. Judged by verify and by the swap LP's exact
// optimum (test/oracle/swap-lp.ts, rational simplex, no src/solver code).
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";
import { solve, verify } from "../../src/solver/index.ts";
import { needsExact } from "../../src/solver/exact.ts";
import { afterFills, clearingFaults, crossedPairFaults, describeFaults } from "../oracle/hostile.ts";
import { exactSwapOptimum, grossWelfare, swapRingBooks } from "../oracle/swap-lp.ts";

interface Book {
  name: string;
  intents: Intent[];
  latency: LatencyTable;
}
const fixture: { books: Book[] } = JSON.parse(readFileSync(new URL("../fixtures/swap-books-refused.json", import.meta.url), "utf8"));

/** Verified, no fault of the adversarial suite (Nash aside: its check reads plain fills alone), the exact optimum. */
function expectSettles({ intents, latency }: { intents: Intent[]; latency: LatencyTable }, label: string) {
  const r = solve(intents, latency);
  expect(verify(intents, latency, r), label).toEqual({ ok: true });
  const faults = [...clearingFaults(intents, latency, r.fills), ...crossedPairFaults(afterFills(intents, r.fills), latency)].filter((f) => f.property !== "nash");
  expect(faults, `${label}: ${describeFaults(faults)}`).toEqual([]);
  const optimum = exactSwapOptimum(intents, latency);
  // 1e-9 of the fills' own |gain × quantity| (verify's scale for the welfare): hop gains of ±1e9 sum to a few units.
  expect(Math.abs(r.welfare - optimum), `${label}: welfare ${r.welfare}, optimum ${optimum}`).toBeLessThanOrEqual(1e-9 * Math.max(1, optimum, grossWelfare(intents, r.fills)));
}

describe("hostile swap books fba6346 could not settle (each failed there: refused by verify, or solve never returned)", () => {
  for (const book of fixture.books) it(book.name, () => expectSettles(book, book.name));
});

describe("hostile swaps against the market's clearing (property)", () => {
  it("rings of 2–6 swaps with limits 1e9 / 1e-6 / 0 and sizes 1e12 / 1e-6, beside a 1e12 plain whale: verified at the exact optimum", () => {
    fc.assert(
      fc.property(swapRingBooks, (book) => expectSettles(book, JSON.stringify(book))),
      { seed: 3, numRuns: 300 },
    );
  });

  it("a wide component of 4,200 ordinary intents beside the hostile ring is solved exactly and verifies (fba6346's simplex cycled on it forever)", () => {
    const ring = fixture.books.at(-1)!;
    // 4,200 ordinary intents in the ring's component: a hostile swap must not stall a wide component either.
    const filler: Intent[] = Array.from({ length: 4200 }, (_, k) => ({
      id: `f${k}`, agent: `f${k}`, side: k % 2 ? "buy" : "sell", resource: "r2", quantity: 1 + (k % 7),
      limitPrice: k % 2 ? 0.9 + (k % 13) / 100 : 1.1 + (k % 11) / 100, region: "eu",
    }));
    const book = [...ring.intents, ...filler];
    const r = solve(book, ring.latency);
    expect(verify(book, ring.latency, r)).toEqual({ ok: true });
    const faults = [...clearingFaults(book, ring.latency, r.fills), ...crossedPairFaults(afterFills(book, r.fills), ring.latency)].filter((f) => f.property !== "nash");
    expect(faults, describeFaults(faults)).toEqual([]);
    expect(r.welfare).toBeGreaterThan(0);
  });
});

describe("which swap components are solved exactly", () => {
  /** Intents of the given quantities and limits; a third number makes the intent a swap with that swapFor limit. */
  const book = (...xs: [number, number, number?][]): Intent[] =>
    xs.map(([quantity, limitPrice, swapLimit], k) => ({
      id: `i${k}`, agent: `a${k}`, side: "sell", resource: "r1", quantity, limitPrice, region: "eu",
      ...(swapLimit === undefined ? {} : { kind: "swap", swapFor: { resource: "r2", limitPrice: swapLimit } }),
    }) as Intent);

  it("numbers beyond 2^20 (quantities) or 2^16 (prices) of max(1, the least): a floor of 1, as the checks' tolerances", () => {
    expect(needsExact(book([1, 3, 4.5e-5], [100, 3]), 1)).toBe(false); // a swap limit of 4.5e-5 beside 3: as 1 beside 3
    expect(needsExact(book([1e-6, 1e-6, 0], [100, 3]), 1)).toBe(false);
    expect(needsExact(book([1, 1.5, 1e9], [100, 1.5]), 1)).toBe(true); // a swapFor limit of 1e9 beside 1.5
    expect(needsExact(book([1e-6, 1], [1e12, 1]), 1)).toBe(true);
    expect(needsExact(book([2, 1], [2 ** 21, 1]), 1)).toBe(false);
    expect(needsExact(book([2, 1], [2 ** 21 + 2, 1]), 1)).toBe(true);
  });

  it("the plain path's rule is the same without the floor: 4.5e-5 beside 3 is past 2^16", () => {
    expect(needsExact(book([1, 3, 4.5e-5], [100, 3]))).toBe(true);
    expect(needsExact(book([1e-6, 1], [1, 1]))).toBe(false);
    expect(needsExact(book([1e-6, 1], [2, 1]))).toBe(true);
  });
});
