// Priority among allocations of equal welfare across classes of the timeless LP (CONTRACT.md section 3;
// notes/solver.md, "Priority across classes (session 10)"): intents of one limit in two regions are two classes, so
// the class order (high first within a class) cannot break their tie. The solver's allocation has the optimum
// welfare and, among allocations of that welfare, the best −(high units) + (low units); welfare, prices and the
// certificate are those of the book without priorities.
import { describe, expect, test } from "vitest";
import type { Intent } from "../../src/contract/schema.ts";
import { solve, verify } from "../../src/solver/index.ts";
import { LATENCY, priorityFault, rankOf, tieBook } from "../oracle/priority-books.ts";
import { rankedOptimum } from "../oracle/time-flow.ts";

/** A book in short form: ids by position, agents a0…, resource gpu, region eu-west unless given. */
const book = (short: (Partial<Intent> & { id: string })[]): Intent[] =>
  short.map((it, k) => ({ agent: `a${k}`, resource: "gpu", region: "eu-west", ...it }) as Intent);
const filled = (r: { fills: { buy: string; sell: string; quantity: number }[] }, id: string) =>
  r.fills.reduce((q, f) => (f.buy === id || f.sell === id ? q + f.quantity : q), 0);
const prices = (r: { fills: { price: number }[] }) => [...new Set(r.fills.map((f) => f.price))].sort((a, b) => a - b);
const unranked = (intents: Intent[]) => intents.map(({ priority: _, ...rest }) => rest as Intent);

/** Both book orders: the favoured intent fills `expected`; welfare, prices and certificate are the unranked book's. */
function check(intents: Intent[], favoured: string, expected: number) {
  for (const order of [intents, [...intents].reverse()]) {
    const r = solve(order, LATENCY);
    const plain = solve(unranked(order), LATENCY);
    expect(verify(order, LATENCY, r)).toEqual({ ok: true });
    expect(r.status).toBe("optimal");
    expect(r.welfare).toBe(plain.welfare);
    expect(prices(r)).toEqual(prices(plain));
    expect(r.certificate).toEqual(plain.certificate);
    expect(rankOf(order, r.fills)).toBe(rankedOptimum(order, LATENCY).rank);
    expect(filled(r, favoured)).toBe(expected);
  }
}

/** Both book orders: the high buyer h, which must not gain by its priority here, gets nothing; the normal n all. */
function normalKeepsIt(short: (Partial<Intent> & { id: string })[]) {
  const intents = book(short);
    for (const order of [intents, [...intents].reverse()]) {
      const r = solve(order, LATENCY);
      expect(verify(order, LATENCY, r)).toEqual({ ok: true });
      expect(filled(r, "h")).toBe(0);
      expect(filled(r, "n")).toBe(2);
    }
}

describe("priority across classes of the timeless LP", () => {
  test("two buyers of one limit in two regions, a seller short of both: the high one fills, in either book order", () => {
    check(
      book([
        { id: "s", side: "sell", quantity: 2, limitPrice: 3 },
        { id: "n", side: "buy", quantity: 2, limitPrice: 6 },
        { id: "h", side: "buy", quantity: 2, limitPrice: 6, region: "eu-central", priority: "high" },
      ]),
      "h",
      2,
    );
  });

  test("two sellers of one limit in two regions, one low: the normal one fills", () => {
    check(
      book([
        { id: "b", side: "buy", quantity: 3, limitPrice: 8 },
        { id: "l", side: "sell", quantity: 3, limitPrice: 5, region: "eu-central", priority: "low" },
        { id: "n", side: "sell", quantity: 3, limitPrice: 5 },
      ]),
      "n",
      3,
    );
  });

  test("a class of a normal and a low buyer against a high one in another region: both of the class's units move", () => {
    check(
      book([
        { id: "s", side: "sell", quantity: 2, limitPrice: 3 },
        { id: "n", side: "buy", quantity: 1, limitPrice: 6 },
        { id: "l", side: "buy", quantity: 1, limitPrice: 6, priority: "low" },
        { id: "h", side: "buy", quantity: 2, limitPrice: 6, region: "eu-central", priority: "high" },
      ]),
      "h",
      2,
    );
  });

  test("a hostile high bid a cent below a normal rival's in another region does not fill", () => {
    normalKeepsIt([
      { id: "s", side: "sell", quantity: 2, limitPrice: 3 },
      { id: "n", side: "buy", quantity: 2, limitPrice: 6 },
      { id: "h", side: "buy", quantity: 2, limitPrice: 5.99, region: "eu-central", priority: "high" },
    ]);
  });

  test("a high bid beyond a seller's latency cap does not fill, whatever the book order", () => {
    normalKeepsIt([
      { id: "s", side: "sell", quantity: 2, limitPrice: 3, maxLatencyMs: 10 },
      { id: "n", side: "buy", quantity: 2, limitPrice: 6 },
      { id: "h", side: "buy", quantity: 2, limitPrice: 6, region: "eu-central", priority: "high" },
    ]);
  });

  test("3,000 generated timeless books in two regions: optimum welfare, then the best −high + low", () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 3000; seed++) {
      const intents = tieBook(seed, false, true);
      const fault = priorityFault(intents, false);
      if (fault) failures.push(`seed ${seed}: ${fault}: ${JSON.stringify(intents)}`);
    }
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
  }, 600_000);
});
