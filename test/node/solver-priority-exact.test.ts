// Priority among allocations of equal welfare (CONTRACT.md section 3) in the components the class LP does not solve:
// exact components (numbers doubles cannot resolve: a 1e-7 or 1e12 intent, a 1e-6 limit), swap and soft-latency
// components (the circulation of multi.ts, in doubles or exactly), and their branch and bound over minimums
// (notes/solver.md, "Priority in exact and swap components (session 11)"). Judged by the exact oracle
// (test/oracle/ranked-lp.ts): the optimum welfare, then the least −(high units) + (low units). Welfare and
// certificate are the book's without priorities, and pricing the allocation without priorities gives its prices.
import { describe, expect, test } from "vitest";
import type { Intent } from "../../src/contract/schema.ts";
import { priceAllocation, solve, verify } from "../../src/solver/index.ts";
import { exactPriorityFault, familyBook, LATENCY, rankOf, type Family } from "../oracle/priority-books.ts";
import { exactRankedOptimum } from "../oracle/ranked-lp.ts";

/** A book in short form: agents by id, resource gpu, region eu-west unless given. */
const book = (short: (Partial<Intent> & { id: string })[]): Intent[] =>
  short.map((it) => ({ agent: it.id, resource: "gpu", region: "eu-west", ...it }) as Intent);
const filled = (r: { fills: { buy: string; sell: string; quantity: number }[] }, id: string) =>
  r.fills.reduce((q, f) => (f.buy === id || f.sell === id ? q + f.quantity : q), 0);
const unranked = (intents: Intent[]) => intents.map(({ priority: _, ...rest }) => rest as Intent);

/** The same keys with the same values, in any order. */
const sameRecord = (a: Record<string, number> = {}, b: Record<string, number> = {}) =>
  Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => Object.is(a[k], b[k]));

/**
 * What priority moved in a solve of `intents`, or null: welfare (beyond its summation order), the duals or
 * potentials, or a price (its allocation priced without priorities must give its prices). The bound and a branch-and-
 * bound tree may differ where the chosen leaf does (branch.ts lists no tree when priority searched ties).
 */
function priceFault(intents: Intent[]): string | null {
  const r = solve(intents, LATENCY);
  const plain = unranked(intents);
  const p = solve(plain, LATENCY);
  // Never less welfare; more only where the book without priorities stops short (a budget, with its gap stated).
  const welfareTol = 1e-12 * Math.max(1, Math.abs(p.welfare));
  if (r.welfare < p.welfare - welfareTol || (p.status === "optimal" && r.welfare > p.welfare + welfareTol)) return `welfare ${r.welfare} vs ${p.welfare} without priorities`;
  if (!sameRecord(r.certificate.duals, p.certificate.duals)) return "duals differ from the book's without priorities";
  if (!sameRecord(r.certificate.potentials, p.certificate.potentials)) return "potentials differ from the book's without priorities";
  const again = priceAllocation(plain, LATENCY, r.fills.map(({ price: _, ...f }) => f));
  if (JSON.stringify(again) !== JSON.stringify(r.fills)) return "its allocation priced without priorities has other prices";
  return null;
}

/** Both book orders, verified: the hostile high-priority intent fills nothing and its normal rival what it wins. */
function keepsOut(intents: Intent[], hostile: string, rival: { id: string; fill: number }) {
  for (const order of [intents, [...intents].reverse()]) {
    const r = solve(order, LATENCY);
    expect(verify(order, LATENCY, r)).toEqual({ ok: true });
    expect(filled(r, hostile)).toBe(0);
    expect(filled(r, rival.id)).toBe(rival.fill);
  }
}

/** Both book orders: the oracle's welfare and objective, optimal, verified, and no price effect. */
function check(intents: Intent[], favoured?: { id: string; fill: number }) {
  for (const order of [intents, [...intents].reverse()]) {
    const r = solve(order, LATENCY);
    expect(verify(order, LATENCY, r)).toEqual({ ok: true });
    expect(r.status).toBe("optimal");
    const best = exactRankedOptimum(order, LATENCY);
    expect(r.welfare).toBeCloseTo(best.welfare, 9);
    expect(rankOf(order, r.fills)).toBeCloseTo(best.rank, 9);
    expect(priceFault(order)).toBeNull();
    if (favoured) expect(filled(r, favoured.id)).toBe(favoured.fill);
  }
}

describe("priority in exact components (whales)", () => {
  test("a seller at 1e-6: its units go to the high buyer and the normal one, not the low one", () => {
    check(
      book([
        { id: "w", side: "sell", quantity: 4, limitPrice: 1e-6 },
        { id: "h", side: "buy", quantity: 2, limitPrice: 4, priority: "high" },
        { id: "l", side: "buy", quantity: 4, limitPrice: 4, priority: "low" },
        { id: "n", side: "buy", quantity: 10, limitPrice: 4, region: "eu-central" },
      ]),
      { id: "l", fill: 0 },
    );
  });

  test("a 1e12 buyer beside low buyers of its limit takes what the best buyer leaves", () => {
    check(
      book([
        { id: "b", side: "buy", quantity: 4, limitPrice: 6 },
        { id: "s", side: "sell", quantity: 10, limitPrice: 3, priority: "low" },
        { id: "w", side: "buy", quantity: 1e12, limitPrice: 4, region: "eu-central" },
        { id: "l1", side: "buy", quantity: 4, limitPrice: 4, region: "eu-central", priority: "low" },
        { id: "l2", side: "buy", quantity: 2, limitPrice: 4, priority: "low" },
      ]),
      { id: "w", fill: 6 },
    );
  });

  test("a high buyer of 1e-7 units gets them when a low buyer of its limit would otherwise", () => {
    check(
      book([
        { id: "b", side: "buy", quantity: 6, limitPrice: 8, region: "eu-central" },
        { id: "s", side: "sell", quantity: 6, limitPrice: 5, region: "eu-central", priority: "high" },
        { id: "w", side: "buy", quantity: 1e-7, limitPrice: 8, priority: "high" },
        { id: "l", side: "buy", quantity: 10, limitPrice: 6, region: "eu-central", priority: "low" },
      ]),
      { id: "w", fill: 1e-7 },
    );
  });

  test("minimums: of two leaves of equal welfare the branch and bound keeps the better-ranked one", () => {
    check(
      book([
        { id: "l", side: "buy", quantity: 2, limitPrice: 6, minQuantity: 2, priority: "low" },
        { id: "w", side: "buy", quantity: 1e12, limitPrice: 4, region: "eu-central" },
        { id: "h", side: "sell", quantity: 4, limitPrice: 5, minQuantity: 4, priority: "high" },
        { id: "s", side: "sell", quantity: 4, limitPrice: 3, minQuantity: 4 },
        { id: "b", side: "buy", quantity: 4, limitPrice: 8, region: "eu-central", minQuantity: 4 },
      ]),
    );
  });

  test("a hostile high bid a cent below a normal rival's in another region does not fill, beside a whale", () => {
    const intents = book([
      { id: "s", side: "sell", quantity: 2, limitPrice: 3 },
      { id: "n", side: "buy", quantity: 2, limitPrice: 6 },
      { id: "h", side: "buy", quantity: 2, limitPrice: 5.99, region: "eu-central", priority: "high" },
      { id: "w", side: "buy", quantity: 1e-7, limitPrice: 1 },
    ]);
    keepsOut(intents, "h", { id: "n", fill: 2 });
  });
});

describe("priority in the windowed path beside a whale", () => {
  const NOW = Date.UTC(2026, 11, 4, 17);
  const window = { start: new Date(NOW).toISOString(), end: new Date(NOW + 2 * 3_600_000).toISOString() };
  /** A buyer short of two sellers, one high; a buyer of 1e-7 units at 1e9 makes the simplex's eps 1e-3. */
  const whaleBook = (high: number) =>
    book([
      { id: "b", side: "buy", quantity: 2, limitPrice: 8, window },
      { id: "n", side: "sell", quantity: 2, limitPrice: 5 },
      { id: "h", side: "sell", quantity: 2, limitPrice: high, region: "eu-central", priority: "high" },
      { id: "w", side: "buy", quantity: 1e-7, limitPrice: 1e9 },
    ]);

  test("a high seller a millionth dearer than a normal one sells only what it would without priority", () => {
    const intents = whaleBook(5.000001);
    for (const order of [intents, [...intents].reverse()]) {
      const r = solve(order, LATENCY, { now: NOW });
      const plain = solve(unranked(order), LATENCY, { now: NOW });
      expect(verify(order, LATENCY, r, { now: NOW })).toEqual({ ok: true });
      expect(r.welfare).toBe(plain.welfare);
      expect(filled(r, "h")).toBe(filled(plain, "h"));
      expect(filled(r, "n")).toBe(2);
    }
  });

  test("a high seller of the normal one's limit sells both units (a tie)", () => {
    const intents = whaleBook(5);
    for (const order of [intents, [...intents].reverse()]) {
      const r = solve(order, LATENCY, { now: NOW });
      expect(verify(order, LATENCY, r, { now: NOW })).toEqual({ ok: true });
      expect(r.welfare).toBe(solve(unranked(order), LATENCY, { now: NOW }).welfare);
      expect(filled(r, "h")).toBe(2);
    }
  });
});

describe("priority in swap and soft-latency components", () => {
  test("a high swap gives its cpu before a low gpu seller sells: the chain through the swap fills", () => {
    check(
      book([
        { id: "b", side: "buy", quantity: 4, limitPrice: 6, region: "eu-central" },
        { id: "x", side: "sell", kind: "swap", resource: "cpu", quantity: 4, limitPrice: 2, swapFor: { resource: "gpu", limitPrice: 2 }, priority: "high" },
        { id: "l", side: "sell", quantity: 4, limitPrice: 3, region: "eu-central", priority: "low" },
        { id: "c1", side: "buy", resource: "cpu", quantity: 4, limitPrice: 6, region: "eu-central" },
        { id: "c2", side: "buy", resource: "cpu", quantity: 4, limitPrice: 4 },
      ]),
      { id: "x", fill: 8 },
    );
  });

  test("a swap with minimums: of two leaves of equal welfare the better-ranked one", () => {
    check(
      book([
        { id: "l", side: "buy", quantity: 10, limitPrice: 8, region: "eu-central", minQuantity: 4, priority: "low" },
        { id: "x", side: "sell", kind: "swap", resource: "cpu", quantity: 4, limitPrice: 2, region: "eu-central", swapFor: { resource: "gpu", limitPrice: 4 }, minQuantity: 4 },
        { id: "s", side: "sell", quantity: 10, limitPrice: 3, region: "eu-central", minQuantity: 10 },
        { id: "c", side: "buy", resource: "cpu", quantity: 4, limitPrice: 6 },
      ]),
    );
  });

  test("beside a buyer of 1e-7 at 1e9, a swap book's leaf 1e-7 poorer but better ranked does not win", () => {
    // Fails with minimums.ts's tie tolerance at its pruning tolerance (1e-9 of a welfare of ~150: a 1e-7-unit trade).
    check(
      book([
        { id: "h", side: "buy", quantity: 2, limitPrice: 6, region: "eu-central", minQuantity: 2, priority: "high" },
        { id: "s", side: "sell", quantity: 2, limitPrice: 3 },
        { id: "n", side: "buy", quantity: 6, limitPrice: 4, priority: "normal" },
        { id: "b", side: "buy", quantity: 6, limitPrice: 6 },
        { id: "l", side: "buy", quantity: 10, limitPrice: 8, minQuantity: 10, priority: "low" },
        { id: "d", side: "sell", quantity: 2, limitPrice: 7, priority: "normal" },
        { id: "c0", side: "sell", resource: "cpu", quantity: 6, limitPrice: 1, region: "eu-central" },
        { id: "c1", side: "sell", resource: "cpu", quantity: 6, limitPrice: 3 },
        { id: "c2", side: "sell", resource: "cpu", quantity: 2, limitPrice: 5, region: "eu-central" },
        { id: "x", side: "sell", kind: "swap", resource: "cpu", quantity: 2, limitPrice: 0, region: "eu-central", swapFor: { resource: "gpu", limitPrice: 0 }, priority: "low" },
        { id: "w", side: "buy", quantity: 1e-7, limitPrice: 1e9, priority: "high" },
      ]),
    );
  });

  test("soft latency: two sellers of one moved limit, the high one sells", () => {
    check(
      book([
        { id: "b", side: "buy", quantity: 6, limitPrice: 8 },
        { id: "s", side: "sell", quantity: 2, limitPrice: 3, region: "eu-central", preferLatencyMs: 14, latencyDiscount: 1 },
        { id: "h", side: "sell", quantity: 4, limitPrice: 3, priority: "high", preferLatencyMs: 0, latencyDiscount: 0 },
        { id: "hb", side: "buy", quantity: 10, limitPrice: 8, region: "eu-central", priority: "high" },
        { id: "n", side: "buy", quantity: 4, limitPrice: 4, preferLatencyMs: 0, latencyDiscount: 0 },
      ]),
      { id: "h", fill: 4 },
    );
  });

  test("exact swap circulation (a 1e12 buyer): the normal swap's chain rather than a low buyer", () => {
    check(
      book([
        { id: "l", side: "buy", quantity: 4, limitPrice: 4, priority: "low" },
        { id: "w", side: "buy", quantity: 1e12, limitPrice: 4 },
        { id: "x", side: "sell", kind: "swap", resource: "cpu", quantity: 4, limitPrice: 0, swapFor: { resource: "gpu", limitPrice: 4 } },
        { id: "s", side: "sell", quantity: 10, limitPrice: 3, region: "eu-central" },
        { id: "c", side: "sell", resource: "cpu", quantity: 2, limitPrice: 5 },
      ]),
      { id: "l", fill: 0 },
    );
  });

  test("exact soft circulation (a seller at 1e-6): the high intents trade", () => {
    check(
      book([
        { id: "h", side: "buy", quantity: 10, limitPrice: 4, priority: "high" },
        { id: "hs", side: "sell", quantity: 4, limitPrice: 3, region: "eu-central", priority: "high", preferLatencyMs: 0, latencyDiscount: 0 },
        { id: "b", side: "buy", quantity: 10, limitPrice: 8, region: "eu-central", preferLatencyMs: 12, latencyDiscount: 2 },
        { id: "w", side: "sell", quantity: 4, limitPrice: 1e-6 },
      ]),
    );
  });

  test("a hostile high swap whose chain gains a unit less does not displace the better chain", () => {
    const intents = book([
      { id: "b", side: "buy", quantity: 4, limitPrice: 6 },
      { id: "n", side: "sell", quantity: 4, limitPrice: 3 },
      { id: "x", side: "sell", kind: "swap", resource: "cpu", quantity: 4, limitPrice: 2, swapFor: { resource: "gpu", limitPrice: 1.99 }, priority: "high" },
      { id: "c", side: "buy", resource: "cpu", quantity: 4, limitPrice: 3 },
    ]);
    keepsOut(intents, "x", { id: "n", fill: 4 });
  });
});

describe("generated books against the exact oracle", () => {
  const families: Family[] = ["whale", "swap", "soft", "wide swap", "wide soft"];
  test.each(families)("600 timeless %s books: optimum welfare, then the best −high + low, no price effect", (family) => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 600; seed++) {
      const intents = familyBook(seed, family, false);
      const fault = exactPriorityFault(intents, false) ?? priceFault(intents);
      if (fault) failures.push(`seed ${seed}: ${fault}: ${JSON.stringify(intents)}`);
    }
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
  }, 120_000);

  // The windowed path has no exact mode: its time LP runs preferPriority (time-net.ts) in doubles whatever the numbers.
  // A guard (it passes on f4af14a too): whales, swaps and soft latency there. Books with a buyer at 1e9 are left out:
  // beside it the windowed path misses the optimum by ~2e-7 or its certificate is refused, with or without priorities
  // (notes/solver.md, "Priority in exact and swap components (session 11)").
  test.each(["whale", "swap", "soft"] as Family[])("300 windowed %s books against the exact oracle", (family) => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 300; seed++) {
      const intents = familyBook(seed, family, true);
      if (intents.some((it) => it.limitPrice >= 1e6)) continue;
      const fault = exactPriorityFault(intents, true);
      if (fault) failures.push(`seed ${seed}: ${fault}: ${JSON.stringify(intents)}`);
    }
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
  }, 120_000);
});
