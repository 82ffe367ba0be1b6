// Trust properties of the solver (issue #14): one pricing path (priceAllocation), tolerances relative to the
// intents concerned, no self-trade, prototype-free lookups, and independence of intents that cannot trade.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Intent } from "../../src/contract/schema.ts";
import { compatible, DEFAULT_LATENCY, latencyBetween, priceAllocation, solve, verify } from "../../src/solver/index.ts";
import { checkSettlement, describeViolations } from "../oracle/checker.ts";
import { solveWithHighs } from "../../support/highs.ts";
import { generateMarket, trustBook, TRUST_LATENCY, wideBook } from "../../support/generate.ts";
import { exactOptimum, toNumber } from "../oracle/exact.ts";
import { afterFills, clearingFaults, crossedPairFaults, describeFaults } from "../oracle/hostile.ts";

const unpriced = (fills: readonly { buy: string; sell: string; resource: string; quantity: number }[]) =>
  fills.map(({ buy, sell, resource, quantity }) => ({ buy, sell, resource, quantity }));

describe("priceAllocation", () => {
  it("prices solve()'s own allocation exactly as solve() does: plain books", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const m = generateMarket(seed, { size: 20 + 10 * seed, minQuantityShare: 0.1 });
      const r = solve(m.intents, m.latency);
      expect(priceAllocation(m.intents, m.latency, unpriced(r.fills)), `seed ${seed}`).toEqual(r.fills);
    }
  });

  it("prices solve()'s own allocation exactly as solve() does: books with swaps (chains and rings)", () => {
    let swapFills = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const book = trustBook(seed, { swapShare: 0.4 });
      const r = solve(book, TRUST_LATENCY);
      swapFills += r.fills.filter((f) => book.find((i) => i.id === f.buy)!.swapFor).length;
      expect(priceAllocation(book, TRUST_LATENCY, unpriced(r.fills)), `seed ${seed}`).toEqual(r.fills);
    }
    expect(swapFills).toBeGreaterThan(50); // the swap path was exercised
  });

  it("prices a ring of swaps and a chain through a swap as solve() does", () => {
    const book: Intent[] = [
      { id: "k1", agent: "p", side: "sell", resource: "x", quantity: 5, limitPrice: 1, region: "a", swapFor: { resource: "y", limitPrice: 3 } },
      { id: "k2", agent: "q", side: "sell", resource: "y", quantity: 4, limitPrice: 1, region: "a", swapFor: { resource: "x", limitPrice: 2 } },
      { id: "b", agent: "u", side: "buy", resource: "y", quantity: 2, limitPrice: 4, region: "a" },
      { id: "s", agent: "v", side: "sell", resource: "x", quantity: 3, limitPrice: 0.5, region: "a" },
    ];
    const r = solve(book, TRUST_LATENCY);
    expect(r.fills.length).toBeGreaterThan(2);
    expect(priceAllocation(book, TRUST_LATENCY, unpriced(r.fills))).toEqual(r.fills);
  });

  it("prices a given allocation at the Nash price, not at a limit", () => {
    const book: Intent[] = [
      { id: "b", agent: "x", side: "buy", resource: "r", quantity: 100, limitPrice: 1.5, region: "eu-west" },
      { id: "s", agent: "y", side: "sell", resource: "r", quantity: 100, limitPrice: 1, region: "eu-west" },
    ];
    const [f] = priceAllocation(book, DEFAULT_LATENCY, [{ buy: "b", sell: "s", resource: "r", quantity: 100 }]);
    expect(f.price).toBe(1.25);
  });
});

const plain = (id: string, agent: string, side: "buy" | "sell", quantity: number, limitPrice: number, extra: Partial<Intent> = {}): Intent => ({
  id, agent, side, resource: "r", quantity, limitPrice, region: "eu-west", ...extra,
});
/** The victim's pair (issue #14 item 1): buy 100 @ 1.5, sell 100 @ 1.0, Nash price 1.25. */
const pair = () => [plain("b", "victim", "buy", 100, 1.5), plain("s", "miner", "sell", 100, 1)];
const pairCertificate = { duals: { b: 0.25, s: 0.25 }, bound: 50 };

describe("verify: tolerances relative to the intents each check concerns", () => {
  for (const junkPrice of [1e9, 1e15]) {
    for (const price of [1.5 + 1e-3, 1000]) {
      it(`refuses the pair priced at ${price} next to a junk sell 1 @ ${junkPrice} of another resource`, () => {
        const book = [...pair(), plain("junk", "miner", "sell", 1, junkPrice, { resource: "other" })];
        const res = verify(book, DEFAULT_LATENCY, {
          fills: [{ buy: "b", sell: "s", resource: "r", quantity: 100, price }],
          welfare: 50,
          certificate: pairCertificate,
        });
        expect(res.ok).toBe(false);
        expect(!res.ok && res.errors.some((e) => /price .* is outside/.test(e)), JSON.stringify(res)).toBe(true);
      });
    }
  }

  it("refuses a fill of 50 against an all-or-none buy 100 next to a junk 1e12-quantity intent", () => {
    const book = [
      plain("b", "victim", "buy", 100, 1.5, { minQuantity: 100 }),
      plain("s", "miner", "sell", 100, 1),
      plain("junk", "miner", "sell", 1e12, 5, { resource: "other" }),
    ];
    const res = verify(book, DEFAULT_LATENCY, {
      fills: [{ buy: "b", sell: "s", resource: "r", quantity: 50, price: 1.25 }],
      welfare: 25,
      certificate: { duals: { b: 0.25, s: 0.25 }, bound: 50, gap: 25 },
    });
    expect(!res.ok && res.errors.some((e) => /below minQuantity/.test(e)), JSON.stringify(res)).toBe(true);
  });
});

describe("no self-trade", () => {
  const L = DEFAULT_LATENCY;
  it("one agent's buy 10 @ 2 and sell 10 @ 1 never fill each other, but each trades with others", () => {
    const book = [plain("ab", "a", "buy", 10, 2), plain("as", "a", "sell", 10, 1)];
    expect(solve(book, L).fills).toEqual([]);
    const withOthers = [...book, plain("xs", "x", "sell", 10, 1.5), plain("yb", "y", "buy", 10, 1.8)];
    const r = solve(withOthers, L);
    expect(r.fills.map((f) => `${f.buy}/${f.sell}`).sort()).toEqual(["ab/xs", "yb/as"]);
    expect(verify(withOthers, L, r)).toEqual({ ok: true });
  });

  it("a two-swap ring of one agent does not settle; with another agent's it does", () => {
    const swap = (id: string, agent: string, give: string, take: string): Intent => ({
      id, agent, side: "sell", resource: give, quantity: 5, limitPrice: 1, region: "a", swapFor: { resource: take, limitPrice: 3 },
    });
    expect(solve([swap("k1", "a", "x", "y"), swap("k2", "a", "y", "x")], TRUST_LATENCY).fills).toEqual([]);
    expect(solve([swap("k1", "a", "x", "y"), swap("k2", "b", "y", "x")], TRUST_LATENCY).fills.length).toBe(2);
  });

  it("verify refuses a same-agent fill", () => {
    const book = [plain("ab", "a", "buy", 10, 2), plain("as", "a", "sell", 10, 1)];
    const res = verify(book, L, { fills: [{ buy: "ab", sell: "as", resource: "r", quantity: 10, price: 1.5 }], welfare: 10, certificate: { duals: {}, bound: 10 } });
    expect(!res.ok && res.errors.some((e) => /self-trade/.test(e)), JSON.stringify(res)).toBe(true);
  });
});

describe("prototype-free lookups", () => {
  it("a buyer in region `constructor` with maxLatencyMs 1 does not trade with a seller in region `length`", () => {
    const book = [
      plain("b", "x", "buy", 10, 2, { region: "constructor", maxLatencyMs: 1 }),
      plain("s", "y", "sell", 10, 1, { region: "length" }),
    ];
    expect(compatible(book[0], book[1], DEFAULT_LATENCY)).toBe(false);
    expect(solve(book, DEFAULT_LATENCY).fills).toEqual([]);
  });

  it("`toString` and `hasOwnProperty` regions are ordinary names", () => {
    const L = { toString: { hasOwnProperty: 5 } };
    const book = [
      plain("b", "x", "buy", 10, 2, { region: "toString", maxLatencyMs: 5 }),
      plain("s", "y", "sell", 10, 1, { region: "hasOwnProperty", maxLatencyMs: 5 }),
      plain("b2", "z", "buy", 10, 2, { region: "hasOwnProperty", maxLatencyMs: 0 }),
    ];
    const r = solve(book, L);
    expect(r.fills.map((f) => `${f.buy}/${f.sell}/${f.quantity}`)).toEqual(["b/s/10"]);
    expect(latencyBetween(L, "hasOwnProperty", "toString")).toBe(5);
    expect(latencyBetween(L, "constructor", "constructor")).toBe(0);
    expect(verify(book, L, r)).toEqual({ ok: true });
  });
});

describe("no threshold relative to the book's largest number", () => {
  const victim = () => [plain("b", "victim", "buy", 100, 1.5), plain("s", "seller", "sell", 100, 1)];
  const junk: [string, Intent][] = [
    ["sell 1e12 @ 1000 (same resource)", plain("j", "junk", "sell", 1e12, 1000)],
    ["buy 1e12 @ 2 of another resource", plain("j", "junk", "buy", 1e12, 2, { resource: "other" })],
    ["sell 1 @ 1e9 of another resource", plain("j", "junk", "sell", 1, 1e9, { resource: "other" })],
    ["a swap with limit 1e9", plain("j", "junk", "sell", 5, 1, { resource: "other", swapFor: { resource: "third", limitPrice: 1e9 } })],
  ];
  // The issue's own sizes (1e15: beyond the API's bounds, but the solver must not care).
  junk.push(
    ["sell 1e15 @ 1000 (same resource)", plain("j", "junk", "sell", 1e15, 1000)],
    ["buy 1e15 @ 2 of another resource", plain("j", "junk", "buy", 1e15, 2, { resource: "other" })],
    ["sell 1 @ 1e15 of another resource", plain("j", "junk", "sell", 1, 1e15, { resource: "other" })],
    ["a swap with limit 1e15", plain("j", "junk", "sell", 5, 1, { resource: "other", swapFor: { resource: "third", limitPrice: 1e15 } })],
  );
  for (const [what, j] of junk) {
    it(`buy 100 @ 1.5 and sell 100 @ 1 trade 100 @ 1.25 next to ${what}`, () => {
      const book = [...victim(), j];
      const r = solve(book, DEFAULT_LATENCY);
      expect(r.fills).toEqual([{ buy: "b", sell: "s", resource: "r", quantity: 100, price: 1.25 }]);
      expect(verify(book, DEFAULT_LATENCY, r)).toEqual({ ok: true });
    });
  }

  it("buy 1e12 @ 1 and sell 1 @ 0.3 trade exactly 1", () => {
    const book = [plain("b", "x", "buy", 1e12, 1), plain("s", "y", "sell", 1, 0.3)];
    const r = solve(book, DEFAULT_LATENCY);
    expect(r.fills.map((f) => f.quantity)).toEqual([1]);
    expect(verify(book, DEFAULT_LATENCY, r)).toEqual({ ok: true });
  });
});

describe("independence (property): intents that cannot trade with a set never change its fills or prices", () => {
  const qty = fc.oneof(fc.double({ min: 1e-6, max: 1e12, noNaN: true }), fc.integer({ min: 1, max: 100 }));
  const price = fc.oneof(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: 0, max: 4, noNaN: true }));
  /** Intents of T: other resources, an unreachable region behind their own cap, or prices that cannot meet S's. */
  const other = (k: number, lo: number, hi: number) =>
    fc.record({
      kind: fc.constantFrom("resource", "region", "price"),
      side: fc.constantFrom("buy" as const, "sell" as const),
      quantity: qty,
      limitPrice: price,
      swap: fc.boolean(),
      cap: fc.constantFrom(0, 10, 1000),
    }).map(({ kind, side, quantity, limitPrice, swap, cap }): Intent => {
      const it: Intent = { id: `t${k}`, agent: `t${k}`, side, resource: `t-${k % 2}`, quantity, limitPrice, region: "a" };
      if (kind === "region") Object.assign(it, { resource: "x", region: "far", maxLatencyMs: cap });
      // Below every S seller of x (strictly: a zero-gain pair may trade), or above every S buyer.
      if (kind === "price") Object.assign(it, side === "buy" && lo > 0 ? { resource: "x", limitPrice: lo * (limitPrice / 1e9) * 0.999 } : { resource: "x", side: "sell", limitPrice: hi + 1 + limitPrice });
      if (swap && side === "sell" && kind !== "price") it.swapFor = { resource: kind === "resource" ? `t-${(k + 1) % 2}` : "y", limitPrice };
      return it;
    });
  it("solve(S ∪ T) restricted to S is solve(S), bit for bit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 0, max: 10 }), fc.array(fc.nat(), { maxLength: 10 }), (seed, tn, positions) => {
        const S = trustBook(seed, { swapShare: seed % 3 === 0 ? 0.3 : 0 });
        const noSwaps = !S.some((i) => i.swapFor);
        const sells = S.filter((i) => i.side === "sell" && i.resource === "x").map((i) => i.limitPrice);
        const buys = S.filter((i) => i.side === "buy" && i.resource === "x").map((i) => i.limitPrice);
        const lo = Math.min(...sells, 4);
        const hi = Math.max(...buys, 0);
        const T = fc.sample(fc.tuple(...Array.from({ length: tn }, (_, k) => other(k, lo, hi))), { seed, numRuns: 1 })[0] ?? [];
        const Tok = T.filter((t) => noSwaps || t.resource.startsWith("t-") || t.region === "far");
        const book = [...S];
        Tok.forEach((t, k) => book.splice((positions[k] ?? 0) % (book.length + 1), 0, t));
        const alone = solve(S, TRUST_LATENCY);
        const together = solve(book, TRUST_LATENCY);
        const ids = new Set(S.map((i) => i.id));
        expect(together.fills.filter((f) => ids.has(f.buy) || ids.has(f.sell))).toEqual(alone.fills);
      }),
      { numRuns: 150, seed: 14 },
    );
  });
});

describe("books mixing the smallest and largest allowed sizes, against the independent oracle", () => {
  /** Resource x at one scale, y at another: quantities 1e-6..1e12 and prices 0..1e9 across the book. */
  const scales: [number, number][] = [[1e-6, 1], [1e12, 1e-3], [1, 1e9], [1e6, 1e6], [1e-3, 1e-6]];
  it("verify accepts and the contract checker finds nothing; the optimum matches HiGHS solved per resource", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const [qx, px] = scales[seed % scales.length];
      const [qy, py] = scales[(seed * 3 + 1) % scales.length];
      const book = trustBook(seed, { n: 24 }).map((it) => {
        const [q, p] = it.resource === "x" ? [qx, px] : [qy, py];
        return { ...it, quantity: Math.min(1e12, it.quantity * q), limitPrice: Math.min(1e9, it.limitPrice * p) };
      });
      const r = solve(book, TRUST_LATENCY);
      expect(verify(book, TRUST_LATENCY, r), `seed ${seed}`).toEqual({ ok: true });
      // HiGHS works to absolute 1e-9 feasibility tolerances, so it is trusted one scale at a time: per resource.
      let optimum = 0;
      for (const res of ["x", "y"]) optimum += solveWithHighs(book.filter((i) => i.resource === res), TRUST_LATENCY).welfare;
      const violations = checkSettlement(book, TRUST_LATENCY, r, optimum, { nash: 1e-9 });
      expect(violations, `seed ${seed}: ${describeViolations(violations)}`).toEqual([]);
    }
  });
});

describe("exact where doubles cannot decide: one component mixing 1e-6 and 1e12 (adversarial long run, seed 14)", () => {
  const island = (id: string, agent: string, side: "buy" | "sell", quantity: number, limitPrice: number, extra: Partial<Intent> = {}): Intent => ({
    id, agent, side, resource: "gpu", region: "island", quantity, limitPrice, ...extra,
  });
  /** Every property of the suite, judged by the checker against the exact rational optimum; then no crossed pair left. */
  const faultsOf = (book: Intent[]) => {
    const r = solve(book, {});
    const optimum = toNumber(exactOptimum(book, {}).welfare);
    const faults = [...clearingFaults(book, {}, r.fills, { optimum }), ...crossedPairFaults(afterFills(book, r.fills), {})];
    return { r, optimum, faults };
  };

  it("case 726: an all-or-none sell 1e12 @ 1e9 never sells 1e12 − 1 so that an all-or-none buy 1e12 takes 1 unit elsewhere", () => {
    const book = [
      island("t0", "a1", "sell", 1e12, 1e9, { minQuantity: 1e12, maxLatencyMs: 100 }),
      island("t1", "a3", "buy", 1e12, 1e9, { minQuantity: 1e12, maxLatencyMs: 0 }),
      island("t2", "a0", "sell", 1, 1, { minQuantity: 0.489041, maxLatencyMs: 0 }),
    ];
    const { r, optimum, faults } = faultsOf(book);
    expect(optimum).toBe(0);
    expect(r.welfare).toBe(0);
    expect(faults, describeFaults(faults)).toEqual([]);
    expect(verify(book, {}, r)).toEqual({ ok: true });
  });

  it("case 1877: a 1e-6 fill beside a 1e12 fill of the same seller is Nash-priced (no eps of the group's gain)", () => {
    const book = [
      island("t0", "a2", "buy", 1e12, 1.19, { minQuantity: 1e12, maxLatencyMs: 100 }),
      island("t2", "a0", "sell", 1e12, 0, { minQuantity: 1e12, maxLatencyMs: 1 }),
      island("t3", "a1", "buy", 1e-6, 3.59, { minQuantity: 1e-6, maxLatencyMs: 100 }),
    ];
    const { r, faults } = faultsOf(book);
    expect(faults, describeFaults(faults)).toEqual([]);
    expect(verify(book, {}, r)).toEqual({ ok: true });
    // Without minimums both fills are made, and the tiny one is priced where both sides earn alike.
    const plainBook = book.map(({ minQuantity: _, ...it }) => it);
    const plainCase = faultsOf(plainBook);
    expect(plainCase.r.fills).toHaveLength(2);
    expect(plainCase.faults, describeFaults(plainCase.faults)).toEqual([]);
  });

  it("a component solved exactly whose minimums cost welfare states the root LP's gap, and verify accepts it", () => {
    const book: Intent[] = [
      { id: "s0", agent: "a2", side: "buy", resource: "gpu", region: "eu", quantity: 100, limitPrice: 3.41, minQuantity: 100 },
      { id: "s1", agent: "a1", side: "sell", resource: "gpu", region: "eu", quantity: 1e12, limitPrice: 1, minQuantity: 13825800000, maxLatencyMs: 100 },
      { id: "s3", agent: "a3", side: "buy", resource: "gpu", region: "toString", quantity: 574, limitPrice: 2.44, minQuantity: 574, maxLatencyMs: 100 },
      { id: "s5", agent: "a0", side: "sell", resource: "gpu", region: "constructor", quantity: 100, limitPrice: 0.7, minQuantity: 100, maxLatencyMs: 100 },
    ];
    const latency = { constructor: { toString: 1 }, eu: { length: 5 }, toString: { toString: 1 } };
    const r = solve(book, latency);
    expect(r.welfare).toBeCloseTo(toNumber(exactOptimum(book, latency).welfare), 9);
    expect(r.certificate.gap).toBeGreaterThan(0);
    expect(verify(book, latency, r)).toEqual({ ok: true });
  });

  it("case 48252: buy 1e12 @ 1 and sell 1e-6 @ 0 do not both rest (1e12 − 1e-6 is 1e12 in a double)", () => {
    const book = [
      island("t0", "a1", "buy", 1e12, 1, { maxLatencyMs: 100 }),
      island("t1", "a0", "sell", 1e12, 0, { maxLatencyMs: 10 }),
      island("t2", "a0", "sell", 1e-6, 0, { minQuantity: 1e-6, maxLatencyMs: 10 }),
      island("t3", "a3", "buy", 1e12, 1e9, { minQuantity: 1e12, maxLatencyMs: 0 }),
    ];
    const { r, faults } = faultsOf(book);
    expect(faults, describeFaults(faults)).toEqual([]);
    expect(verify(book, {}, r)).toEqual({ ok: true });
  });
});

describe("wide components: 200 ordinary intents and whales (1e12 and 1e-6) in one component", () => {
  it("verify accepts every settlement, no compatible crossed pair rests, every minimum holds (seeds 1–36)", () => {
    for (let seed = 1; seed <= 36; seed++) {
      const { intents, latency } = wideBook(seed, 200);
      const r = solve(intents, latency);
      expect(verify(intents, latency, r), `seed ${seed}`).toEqual({ ok: true });
      const faults = [...clearingFaults(intents, latency, r.fills), ...crossedPairFaults(afterFills(intents, r.fills), latency)];
      expect(faults, `seed ${seed}: ${describeFaults(faults)}`).toEqual([]);
    }
  });
});

describe("wide components of any size: the exact LP over classes (a whale among 500 or 2,000 intents)", () => {
  const settles = (intents: Intent[], latency: Parameters<typeof solve>[1], label: string) => {
    const r = solve(intents, latency);
    expect(verify(intents, latency, r), label).toEqual({ ok: true });
    const faults = [...clearingFaults(intents, latency, r.fills), ...crossedPairFaults(afterFills(intents, r.fills), latency)];
    expect(faults, `${label}: ${describeFaults(faults)}`).toEqual([]);
    return r;
  };
  it("500 ordinary intents and the whales: verify accepts, no crossed pair rests, every minimum holds (seeds 1–40)", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { intents, latency } = wideBook(seed, 500);
      settles(intents, latency, `seed ${seed}`);
    }
  });
  it("small books with whales, minimums and two-sided agents: the exact rational oracle's optimum (seeds 1–30)", () => {
    for (let seed = 1; seed <= 30; seed++) {
      // Few agents, so many trade both sides (their classes never meet); every third intent all-or-none, every fifth
      // with half its quantity as minimum; the whales in resource x, region a.
      const book: Intent[] = trustBook(seed, { n: 18, agents: 5 }).map((it, k) => ({
        ...it, minQuantity: k % 3 === 0 ? it.quantity : k % 5 === 0 ? it.quantity / 2 : undefined,
      }));
      const whale = (id: string, side: "buy" | "sell", quantity: number, limitPrice: number, minQuantity?: number): Intent => ({
        id, agent: `g${seed % 5}`, side, resource: "x", region: "a", quantity, limitPrice, minQuantity,
      });
      book.push(whale("big-sell", "sell", 1e12, 0.5 + (seed % 3), seed % 2 ? 1e12 : undefined), whale("big-buy", "buy", 1e12 - 1, 3));
      book.push(whale("tiny-sell", "sell", 1e-6, 0.1), whale("tiny-buy", "buy", 1e-6, 1e9));
      const r = settles(book, TRUST_LATENCY, `seed ${seed}`);
      const optimum = toNumber(exactOptimum(book, TRUST_LATENCY).welfare);
      const faults = clearingFaults(book, TRUST_LATENCY, r.fills, { optimum });
      expect(faults, `seed ${seed}: ${describeFaults(faults)}`).toEqual([]);
    }
  });
  it("half the book all-or-none, the 1e12 seller and the 1e-6 buyer at 1e9 all-or-none too (500 intents, seeds 1–6)", () => {
    for (let seed = 1; seed <= 6; seed++) {
      const { intents, latency } = wideBook(seed, 500, { allOrNoneShare: 0.5, wholeWhales: true });
      settles(intents, latency, `seed ${seed}`);
    }
  });
  it("2,000 ordinary intents and the whales (seed 2)", () => {
    const { intents, latency } = wideBook(2, 2000);
    settles(intents, latency, "seed 2");
  });
  it("an agent on both sides of the whales' resource never fills itself, and an all-or-none whale stays whole", () => {
    for (let seed = 1; seed <= 6; seed++) {
      const { intents, latency } = wideBook(seed, 300);
      const whale = intents.find((it) => it.id === "big-sell")!;
      // The hostile agent: a dear buy and a cheap sell beside its own all-or-none 1e12 sell, all in the whales' class.
      const own = (id: string, side: "buy" | "sell", quantity: number, limitPrice: number, minQuantity?: number): Intent => ({
        ...whale, id, agent: "mallory", side, quantity, limitPrice, minQuantity,
      });
      const book = [...intents, own("m-buy", "buy", 1e12, 50), own("m-sell", "sell", 1e12, 0.01, 1e12), own("m-tiny", "sell", 1e-6, 0.001)];
      const r = settles(book, latency, `seed ${seed}`);
      const agent = new Map(book.map((it) => [it.id, it.agent]));
      expect(r.fills.filter((f) => agent.get(f.buy) === agent.get(f.sell)), `seed ${seed}`).toEqual([]);
      const sold = r.fills.filter((f) => f.sell === "m-sell").reduce((a, f) => a + f.quantity, 0);
      expect(sold === 0 || sold >= 1e12 * (1 - 1e-12), `seed ${seed}: m-sell sold ${sold}`).toBe(true);
    }
  });
});

describe("wide swap books without minimums: a 1e12 swap does not hide a trade of 1 unit or 1e-6", () => {
  const swap = (id: string, agent: string, region: string, quantity: number, limitPrice: number, resource: string, want: string, wantLimit: number): Intent => ({
    id, agent, side: "sell", kind: "swap", resource, quantity, limitPrice, region, swapFor: { resource: want, limitPrice: wantLimit },
  });
  it("a ring of 1 unit beside a swap of 1e12 settles (3.04) and verifies", () => {
    const latency = { eu: { eu: 1, length: 1, constructor: 5 }, length: { toString: 5 } };
    const book: Intent[] = [
      { id: "s0", agent: "a0", side: "sell", resource: "gpu", region: "constructor", quantity: 76, limitPrice: 1.5, maxLatencyMs: 100 },
      { id: "s1", agent: "a0", side: "sell", resource: "gpu", region: "toString", quantity: 1e-6, limitPrice: 1, maxLatencyMs: 10 },
      swap("w0", "a0", "toString", 1e12, 1, "gpu", "constructor", 3.52),
      swap("w1", "a3", "eu", 1, 1, "constructor", "gpu", 1.52),
    ];
    const r = solve(book, latency);
    expect(verify(book, latency, r)).toEqual({ ok: true });
    expect(r.welfare).toBeCloseTo(3.04, 9);
  });
  it("a ring of 1e-6 beside a swap of 1e12 settles (7e-7) and verifies", () => {
    const latency = { eu: { toString: 50 } };
    const book: Intent[] = [
      { id: "s0", agent: "a2", side: "sell", resource: "gpu", region: "eu", quantity: 538, limitPrice: 0, maxLatencyMs: 10 },
      { id: "s1", agent: "a3", side: "sell", resource: "gpu", region: "length", quantity: 81, limitPrice: 0.19, maxLatencyMs: 0 },
      swap("w0", "a1", "eu", 1, 2.05, "constructor", "gpu", 1),
      swap("w1", "a0", "eu", 1e12, 1.5, "constructor", "gpu", 1.7),
      swap("w2", "a2", "constructor", 1e-6, 1, "gpu", "constructor", 1.5),
    ];
    const r = solve(book, latency);
    expect(verify(book, latency, r)).toEqual({ ok: true });
    expect(r.welfare).toBeCloseTo(7e-7, 15);
  });
  it("no trade possible beside 1e9 limits: the certificate's bound is 0, not one ulp of 1e9", () => {
    const latency = { eu: { eu: 50, constructor: 5 } };
    const book: Intent[] = [
      { id: "s0", agent: "a0", side: "buy", resource: "constructor", region: "length", quantity: 1, limitPrice: 1, maxLatencyMs: 10 },
      { id: "s1", agent: "a2", side: "buy", resource: "gpu", region: "toString", quantity: 1, limitPrice: 1e9, maxLatencyMs: 1 },
      swap("w0", "a1", "constructor", 290, 1.5, "gpu", "constructor", 2.74),
      swap("w1", "a1", "toString", 1, 3.65, "gpu", "constructor", 1e9),
    ];
    const r = solve(book, latency);
    expect(verify(book, latency, r)).toEqual({ ok: true });
    expect(r.welfare).toBe(0);
  });
  it("a chain of 1 unit through a swap of 1e12 settles (2.18) and verifies", () => {
    const latency = { toString: { eu: 0 }, length: { eu: 5, length: 50 } };
    const book: Intent[] = [
      { id: "s0", agent: "a3", side: "sell", resource: "constructor", region: "eu", quantity: 1, limitPrice: 0.34 },
      { id: "s1", agent: "a1", side: "buy", resource: "gpu", region: "eu", quantity: 100, limitPrice: 0, maxLatencyMs: 100 },
      swap("w0", "a0", "length", 1e12, 0, "gpu", "constructor", 2.52),
    ];
    const r = solve(book, latency);
    expect(verify(book, latency, r)).toEqual({ ok: true });
    expect(r.welfare).toBeCloseTo(2.18, 9);
  });
});
