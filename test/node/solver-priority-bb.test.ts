// Priority among allocations of equal welfare when minimums branch (CONTRACT.md section 3; notes/solver.md,
// "Priority among leaves (session 10)"): on small books with tied limits, all-or-none intents and minimums, the
// solver's allocation has the oracle's optimum welfare and, among the allocations of that welfare, the best priority
// objective the LP paths use, −(high units) + (low units). The oracle (test/oracle/time-flow.ts, rankedOptimum)
// enumerates who meets its minimum and solves each fixing by cycle cancelling, timeless and over schedules alike.
import { describe, expect, test } from "vitest";
import type { Intent } from "../../src/contract/schema.ts";
import { solve, verify } from "../../src/solver/index.ts";
import { LATENCY, NOW, priorityFault, rankOf, tieBook } from "../oracle/priority-books.ts";
import { rankedOptimum } from "../oracle/time-flow.ts";

function sweep(windowed: boolean, seeds: number): string[] {
  const failures: string[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const book = tieBook(seed, windowed);
    const fault = priorityFault(book, windowed);
    if (fault) failures.push(`seed ${seed}: ${fault}: ${JSON.stringify(book)}`);
  }
  return failures;
}

describe("priority among allocations of equal welfare, minimums branching (against a brute-force oracle)", () => {
  test("4,000 timeless books: optimum welfare, then the best −high + low", () => {
    const failures = sweep(false, 4000);
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
  }, 600_000);

  test("4,000 windowed books: optimum welfare, then the best −high + low", () => {
    const failures = sweep(true, 4000);
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
  }, 600_000);
});

const W = (from: number, to: number) => ({ start: new Date(NOW + from * 3_600_000).toISOString(), end: new Date(NOW + to * 3_600_000).toISOString() });
/** A book in short form: ids i0…, agents a0…, resource gpu, region eu-west unless given. */
const book = (short: Partial<Intent>[]): Intent[] =>
  short.map((it, k) => ({ id: `i${k}`, agent: `a${k}`, resource: "gpu", region: "eu-west", ...it }) as Intent);
const filled = (r: { fills: { buy: string; sell: string; quantity: number }[] }, id: string) =>
  r.fills.reduce((q, f) => (f.buy === id || f.sell === id ? q + f.quantity : q), 0);

/**
 * Books the sweep found (seeds of tieBook), kept as they were: on 7d6bc62 each settled a tie with the worse priority
 * objective. Each: the welfare of the book without priorities, verified, the oracle's best −high + low, and the
 * favoured intent's fill.
 */
describe("priority among leaves of equal welfare: books that failed on 7d6bc62", () => {
  const check = (intents: Intent[], windowed: boolean, favoured: string, expected: number) => {
    const now = windowed ? NOW : undefined;
    const opts = now === undefined ? {} : { now };
    const r = solve(intents, LATENCY, opts);
    const plain = solve(intents.map(({ priority: _, ...rest }) => rest as Intent), LATENCY, opts);
    expect(verify(intents, LATENCY, r, opts)).toEqual({ ok: true });
    expect(r.status).toBe("optimal");
    expect(r.welfare).toBeCloseTo(plain.welfare, 9);
    expect(rankOf(intents, r.fills)).toBe(rankedOptimum(intents, LATENCY, now).rank);
    expect(filled(r, favoured)).toBe(expected);
  };

  test("timeless, two leaves of one welfare: a high buyer of a lower limit takes 2 units in place of normal ones (seed 160)", () => {
    check(book([
      { side: "buy", quantity: 10, limitPrice: 6, minQuantity: 10, priority: "normal" }, { side: "sell", quantity: 6, limitPrice: 3 },
      { side: "buy", quantity: 4, limitPrice: 8 }, { side: "sell", quantity: 10, limitPrice: 5, minQuantity: 10, priority: "normal" },
      { side: "buy", quantity: 4, limitPrice: 6, minQuantity: 4 }, { side: "buy", quantity: 4, limitPrice: 4, priority: "high" },
    ]), false, "i5", 2);
  });

  test("timeless, a forced intent's units above its minimum: a low buyer gives them to a normal one of its limit (seed 3927)", () => {
    check(book([
      { side: "buy", quantity: 6, limitPrice: 6, minQuantity: 4, priority: "low" }, { side: "sell", quantity: 2, limitPrice: 5, minQuantity: 2, priority: "high" },
      { side: "buy", quantity: 4, limitPrice: 6, priority: "high" }, { side: "buy", quantity: 4, limitPrice: 6 },
      { side: "sell", quantity: 6, limitPrice: 3, minQuantity: 6, priority: "normal" }, { side: "sell", quantity: 2, limitPrice: 3, priority: "high" },
    ]), false, "i0", 4);
  });

  test("timeless, other sellers at one welfare: the high buyer takes fewer units from a low seller (seed 17705)", () => {
    check(book([
      { side: "buy", quantity: 10, limitPrice: 4, minQuantity: 10, priority: "normal" }, { side: "sell", quantity: 10, limitPrice: 3, minQuantity: 10, priority: "normal" },
      { side: "buy", quantity: 6, limitPrice: 8, minQuantity: 4 }, { side: "sell", quantity: 2, limitPrice: 5, minQuantity: 2, priority: "low" },
      { side: "buy", quantity: 10, limitPrice: 8, minQuantity: 6, priority: "high" }, { side: "sell", quantity: 6, limitPrice: 7, minQuantity: 6, priority: "low" },
    ]), false, "i5", 0);
  });

  test("timeless, three sellers of one limit with minimums: the normal one sells all-or-none before two low ones (seed 18565)", () => {
    check(book([
      { side: "buy", quantity: 10, limitPrice: 6, minQuantity: 2, priority: "normal" }, { side: "sell", quantity: 6, limitPrice: 3, minQuantity: 6, priority: "normal" },
      { side: "sell", quantity: 10, limitPrice: 3, minQuantity: 6, priority: "low" }, { side: "buy", quantity: 6, limitPrice: 4 },
      { side: "sell", quantity: 10, limitPrice: 3, minQuantity: 6, priority: "low" }, { side: "buy", quantity: 4, limitPrice: 6, minQuantity: 4, priority: "normal" },
    ]), false, "i1", 6);
  });

  test("windowed, a high all-or-none seller against a low one of the same welfare (seed 1197)", () => {
    check(book([
      { side: "buy", quantity: 10, limitPrice: 8, priority: "normal", window: W(2, 4), region: "eu-central" },
      { side: "sell", quantity: 10, limitPrice: 7, minQuantity: 10, priority: "high" },
      { side: "sell", quantity: 2, limitPrice: 3, minQuantity: 2, priority: "low", window: W(2, 4) },
    ]), true, "i1", 10);
  });

  test("windowed, rate-capped high buyers in an earlier window (seed 512)", () => {
    check(book([
      { side: "buy", quantity: 10, limitPrice: 6, minQuantity: 10, window: W(1, 4) }, { side: "sell", quantity: 6, limitPrice: 3, region: "eu-central" },
      { side: "buy", quantity: 2, limitPrice: 4, minQuantity: 2, priority: "high", window: W(0, 2), maxRate: 4 },
      { side: "buy", quantity: 2, limitPrice: 8, minQuantity: 2, priority: "normal" },
      { side: "buy", quantity: 4, limitPrice: 4, minQuantity: 4, priority: "high", window: W(0, 2), maxRate: 4 },
      { side: "buy", quantity: 2, limitPrice: 4, minQuantity: 2, priority: "normal", window: W(0, 2) },
    ]), true, "i4", 4);
  });

  test("windowed, all-or-none buyers of one limit, one windowless and high (seed 1574)", () => {
    check(book([
      { side: "buy", quantity: 4, limitPrice: 8, minQuantity: 4, window: W(2, 3) },
      { side: "sell", quantity: 2, limitPrice: 3, minQuantity: 2, window: W(2, 3), region: "eu-central" },
      { side: "buy", quantity: 4, limitPrice: 8, minQuantity: 4, priority: "normal", window: W(2, 3) },
      { side: "sell", quantity: 4, limitPrice: 5, minQuantity: 4, priority: "high", window: W(2, 3), region: "eu-central" },
      { side: "buy", quantity: 4, limitPrice: 8, minQuantity: 4, priority: "high", region: "eu-central" },
    ]), true, "i4", 4);
  });
});

/**
 * What an agent would send to buy its way in with priority: all-or-none bids that need branch and bound, marked high,
 * a hair below a normal rival's welfare. Priority decides only ties (within the search's 1e-9 relative tolerance);
 * one more cent of welfare always wins.
 */
describe("priority among leaves: a high intent never takes welfare", () => {
  const rivals = (windowed: boolean, highLimit: number): Intent[] =>
    book([
      { side: "buy", quantity: 10, limitPrice: highLimit, minQuantity: 10, priority: "high", ...(windowed ? { window: W(0, 2) } : {}) },
      { side: "buy", quantity: 10, limitPrice: 6.01, minQuantity: 10 },
      { side: "sell", quantity: 15, limitPrice: 1, ...(windowed ? { window: W(0, 3) } : {}) },
    ]);
  for (const windowed of [false, true]) {
    const opts = windowed ? { now: NOW } : {};
    test(`${windowed ? "windowed" : "timeless"}: the normal bid a cent above fills; at an equal limit the high one does`, () => {
      for (const b of [rivals(windowed, 6), [...rivals(windowed, 6)].reverse()]) {
        const r = solve(b, LATENCY, opts);
        expect(verify(b, LATENCY, r, opts)).toEqual({ ok: true });
        expect([filled(r, "i0"), filled(r, "i1"), r.welfare]).toEqual([0, 10, expect.closeTo(50.1, 9)]);
      }
      for (const b of [rivals(windowed, 6.01), [...rivals(windowed, 6.01)].reverse()]) {
        const r = solve(b, LATENCY, opts);
        expect(verify(b, LATENCY, r, opts)).toEqual({ ok: true });
        expect([filled(r, "i0"), filled(r, "i1")]).toEqual([10, 0]);
      }
    });
  }
});
