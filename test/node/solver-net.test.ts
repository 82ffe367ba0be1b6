// Swap prices by Nash bargaining on the net surplus (CONTRACT.md section 2a): the solver's prices against the
// oracle's own KKT check and a numerical probe of the objective (test/oracle/checker.ts, no solver code), verify's
// refusal of tampered prices, and the seed's three-party chain.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Fill, Intent, LatencyTable } from "../../src/contract/schema.ts";
import { priceAllocation, solve, verify } from "../../src/solver/index.ts";
import { TRUST_LATENCY, trustBook } from "../../support/generate.ts";
import { checkNetNash, describeViolations, netNashObjective } from "../oracle/checker.ts";

const isSwapFill = (book: readonly Intent[], f: Fill) => [f.buy, f.sell].some((id) => book.find((i) => i.id === id)!.swapFor !== undefined);

/** Whether some move of one price by ±δ (relative) raises the Nash objective: the prices are then not optimal. */
function improvable(book: readonly Intent[], latency: LatencyTable, fills: Fill[]): string | undefined {
  const base = netNashObjective(book, latency, fills);
  for (let k = 0; k < fills.length; k++) {
    for (const d of [1e-4, -1e-4]) {
      const moved = fills.map((f, j) => (j === k ? { ...f, price: f.price + d * Math.max(1, Math.abs(f.price)) } : f));
      const value = netNashObjective(book, latency, moved);
      if (value > base + 1e-9 * Math.max(1, Math.abs(base))) return `fill ${k} moved by ${d} raises ${base} to ${value}`;
    }
  }
  return undefined;
}

describe("swap books: prices are Nash on the net (fails on 7e0d62b: 21 of these 40 books)", () => {
  const books = Array.from({ length: 40 }, (_, k) => trustBook(k + 1, { n: 30, swapShare: 0.5 }));
  it("40 generated timeless swap books: the oracle's KKT check, the objective probe and verify all accept", () => {
    let swapFills = 0;
    for (const [k, book] of books.entries()) {
      const r = solve(book, TRUST_LATENCY);
      swapFills += r.fills.filter((f) => isSwapFill(book, f)).length;
      expect(describeViolations(checkNetNash(book, TRUST_LATENCY, r.fills)), `book ${k + 1}`).toBe("");
      expect(improvable(book, TRUST_LATENCY, r.fills), `book ${k + 1}`).toBeUndefined();
      expect(verify(book, TRUST_LATENCY, r), `book ${k + 1}`).toEqual({ ok: true });
    }
    expect(swapFills).toBeGreaterThan(200); // not vacuous: most fills of these books touch a swap
  });

  it("a nudged price on a fill touching a swap is refused by verify and by the oracle", () => {
    let tried = 0;
    for (const book of books.slice(0, 10)) {
      const r = solve(book, TRUST_LATENCY);
      for (const k of r.fills.keys()) {
        if (!isSwapFill(book, r.fills[k])) continue;
        for (const d of [1e-3, -1e-3]) {
          const fills = r.fills.map((f, j) => (j === k ? { ...f, price: f.price + d } : f));
          const tampered = { ...r, fills };
          // A nudge that keeps every per-unit surplus (a ring's common shift) is still Nash; every other is refused.
          const oracle = checkNetNash(book, TRUST_LATENCY, fills);
          expect(verify(book, TRUST_LATENCY, tampered).ok, `fill ${k} ${d}`).toBe(oracle.length === 0);
          expect(oracle.length).toBeGreaterThan(0);
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(50);
  });

  it("an allocation's fills in any order, or each fill split in two, are priced Nash on the net, one price per pair", () => {
    for (const book of books.slice(0, 20)) {
      const r = solve(book, TRUST_LATENCY);
      const alloc = r.fills.map(({ buy, sell, resource, quantity }) => ({ buy, sell, resource, quantity }));
      const reversed = priceAllocation(book, TRUST_LATENCY, [...alloc].reverse());
      expect(describeViolations(checkNetNash(book, TRUST_LATENCY, reversed))).toBe("");
      expect(verify(book, TRUST_LATENCY, { ...r, fills: reversed })).toEqual({ ok: true });
      const split = alloc.flatMap((f) => [{ ...f, quantity: f.quantity / 4 }, { ...f, quantity: (3 * f.quantity) / 4 }]);
      const priced = priceAllocation(book, TRUST_LATENCY, split);
      expect(describeViolations(checkNetNash(book, TRUST_LATENCY, priced))).toBe("");
      expect(verify(book, TRUST_LATENCY, { ...r, fills: priced })).toEqual({ ok: true });
      const pairPrice = new Map<string, number>();
      for (const f of priced) {
        const key = `${f.buy} ${f.sell}`;
        if (pairPrice.has(key)) expect(f.price).toBe(pairPrice.get(key));
        pairPrice.set(key, f.price);
      }
    }
  });
});

describe("net surplus, worked", () => {
  const swap = (id: string, give: string, want: string, limit: number, wants: number, quantity: number): Intent => ({
    id, agent: id, side: "sell", kind: "swap", resource: give, quantity, limitPrice: limit, region: "a", swapFor: { resource: want, limitPrice: wants },
  });
  const plain = (id: string, side: "buy" | "sell", resource: string, quantity: number, limitPrice: number): Intent => ({
    id, agent: id, side, resource, quantity, limitPrice, region: "a",
  });
  const L: LatencyTable = {};

  it("a swap in two chains may lose on one of them: its net is what counts (per-trade shares would not allow it)", () => {
    // K gives x for y (worth 1 each way). Chain 1: b1 pays up to 3 for x, c1 sells y at 1: gain 2 per unit.
    // Chain 2: b2 pays up to 1.1 for x, c2 sells y at 1: gain 0.1. Five parties, one pool {K} whose good is
    // 10·2 + 10·0.1 = 21 over volumes 10 (b1, c1, b2, c2) and 20 (K): 21/60 = 0.35 per unit each.
    const book = [swap("K", "x", "y", 1, 1, 20), plain("b1", "buy", "x", 10, 3), plain("c1", "sell", "y", 10, 1), plain("b2", "buy", "x", 10, 1.1), plain("c2", "sell", "y", 10, 1)];
    const r = solve(book, L);
    expect(r.welfare).toBeCloseTo(21, 9);
    const price = (b: string, s: string) => r.fills.filter((f) => f.buy === b && f.sell === s).map((f) => f.price);
    for (const p of price("b1", "K")) expect(p).toBeCloseTo(3 - 0.35, 9);
    for (const p of price("b2", "K")) expect(p).toBeCloseTo(1.1 - 0.35, 9);
    for (const p of [...price("K", "c1"), ...price("K", "c2")]) expect(p).toBeCloseTo(1 + 0.35, 9);
    // On chain 2, K sells x at 0.75 and buys y at 1.35: it loses 0.6 a unit there, and gains 0.6·… on chain 1.
    expect(describeViolations(checkNetNash(book, L, r.fills))).toBe("");
    expect(verify(book, L, r)).toEqual({ ok: true });
  });

  it("the seed's three-party chain settles with welfare 100 at 1.8333… and 1.3666…", () => {
    const file = JSON.parse(readFileSync(new URL("../../examples/seed-three-party.json", import.meta.url), "utf8")) as { intents: Intent[]; latency: LatencyTable };
    const r = solve(file.intents, file.latency);
    expect(r.welfare).toBeCloseTo(100, 9);
    expect(r.fills.map((f) => [f.buy, f.sell, f.quantity])).toEqual([["inference-now", "storage-defer", 200], ["storage-defer", "compute-idle", 200]]);
    expect(r.fills[0].price).toBeCloseTo(2 - 0.5 / 3, 12);
    expect(r.fills[1].price).toBeCloseTo(1.2 + 0.5 / 3, 12);
    expect(verify(file.intents, file.latency, r)).toEqual({ ok: true });
  });
});
