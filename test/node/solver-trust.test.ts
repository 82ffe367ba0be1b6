// Trust properties of the solver (issue #14): one pricing path (priceAllocation), tolerances relative to the
// intents concerned, no self-trade, prototype-free lookups, and independence of intents that cannot trade.
import { describe, expect, it } from "vitest";
import type { Intent } from "../../src/schema.ts";
import { DEFAULT_LATENCY, priceAllocation, solve } from "../../src/solver/index.ts";
import { generateMarket } from "../oracle/generate.ts";
import { trustBook, TRUST_LATENCY } from "./solver-trust-gen.ts";

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
