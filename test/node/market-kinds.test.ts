// The market's bookkeeping with multi-party kinds (swaps, deferrals): real solver results applied to the book,
// statuses and remaining quantities across settlements, and tampered fills refused.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  applyFills,
  connectedResources,
  intentView,
  isSwap,
  mayTrade,
  remainingOf,
  solverBook,
  type IntentRecord,
  type IntentUpdate,
} from "../../src/market/book.ts";
import { LatencyTable, type Fill, type Intent } from "../../src/contract/schema.ts";
import { solve, verify } from "../../src/solver/index.ts";

const NOW = 1_700_000_000_000;
const L: LatencyTable = { "eu-west": { "eu-west": 2 } };

function record(intent: Intent, seq: number): IntentRecord {
  return { intent, status: "open", filled: 0, seq, createdAt: new Date(NOW).toISOString() };
}

function bookOf(intents: Intent[]): Map<string, IntentRecord> {
  return new Map(intents.map((i, k) => [i.id, record(i, k + 1)] as const));
}

const buy = (id: string, resource: string, quantity: number, limitPrice: number): Intent => ({
  id, agent: id, side: "buy", resource, quantity, limitPrice, region: "eu-west",
});
const sell = (id: string, resource: string, quantity: number, limitPrice: number): Intent => ({
  id, agent: id, side: "sell", resource, quantity, limitPrice, region: "eu-west",
});
const swap = (id: string, give: string, want: string, c: number, b: number, quantity: number): Intent => ({
  id, agent: id, side: "sell", kind: "swap", resource: give, quantity, limitPrice: c, region: "eu-west",
  swapFor: { resource: want, limitPrice: b },
});

/** Solves the live book as the market object does (verify, then applyFills) and persists the updates. */
function settle(records: Map<string, IntentRecord>, latency: LatencyTable = L): { fills: Fill[]; welfare: number; updates: IntentUpdate[] } {
  const book = solverBook(records.values(), NOW);
  expect(mayTrade(book)).toBe(true);
  const result = solve(book, latency);
  expect(verify(book, latency, result)).toEqual({ ok: true });
  const applied = applyFills(records, result.fills, NOW);
  if (!applied.ok) throw new Error(applied.errors.join("; "));
  for (const u of applied.updates) {
    const r = records.get(u.id)!;
    records.set(u.id, { ...r, filled: u.filled, status: u.status });
  }
  return { fills: result.fills, welfare: result.welfare, updates: applied.updates };
}

function loadSeed(): { latency: LatencyTable; intents: Intent[] } {
  const raw = JSON.parse(readFileSync(new URL("../fixtures/three-party-labels.json", import.meta.url), "utf8")) as {
    latency: unknown;
    intents: Intent[];
  };
  return { latency: LatencyTable.parse(raw.latency), intents: raw.intents };
}

describe("the seed's three-party example (inference ← storage's deferral ← compute's later slot)", () => {
  test("settles as one chain: 200 units, prices 1.8333…/1.3666…, welfare 100; statuses follow what each gave", () => {
    const seed = loadSeed();
    const records = bookOf(seed.intents);
    const { fills, welfare, updates } = settle(records, seed.latency);
    expect(welfare).toBeCloseTo(100, 9);
    expect(fills).toHaveLength(2);
    const now = fills.find((f) => f.resource === "gpu-h100-hr")!;
    const later = fills.find((f) => f.resource === "gpu-h100-hr:in-4h")!;
    expect(now).toMatchObject({ buy: "inference-now", sell: "storage-defer", quantity: 200 });
    expect(later).toMatchObject({ buy: "storage-defer", sell: "compute-idle", quantity: 200 });
    expect(now.price).toBeCloseTo(2 - 0.5 / 3, 9);
    expect(later.price).toBeCloseTo(1.2 + 0.5 / 3, 9);
    // Storage's filled quantity is what it gave (200, not 400: its buy fill is the other half of the same swap).
    expect(Object.fromEntries(updates.map((u) => [u.id, [u.filled, u.status]]))).toEqual({
      "inference-now": [200, "filled"],
      "storage-defer": [200, "filled"],
      "compute-idle": [200, "partially_filled"],
    });
    expect(remainingOf(records.get("compute-idle")!)).toBe(100);
    expect(solverBook(records.values(), NOW).map((i) => [i.id, i.quantity])).toEqual([["compute-idle", 100]]);
    // A swap's view lists both kinds of fills: what it gave and what it received.
    const view = intentView(records.get("storage-defer")!, fills.map((f) => ({ ...f, settlement: "s-1" })));
    expect(view).toMatchObject({ status: "filled", filledQuantity: 200, remainingQuantity: 0 });
  });

  test("without the deferral nothing can trade: the cheap pre-check skips the solver", () => {
    const seed = loadSeed();
    const plain = seed.intents.filter((i) => !isSwap(i));
    expect(mayTrade(solverBook(bookOf(plain).values(), NOW))).toBe(false);
    expect(solve(plain, seed.latency).fills).toEqual([]);
  });
});

describe("swaps in the bookkeeping", () => {
  test("isSwap and connectedResources: transitive, both directions, nothing else", () => {
    expect(isSwap(swap("a", "r1", "r2", 1, 1, 1))).toBe(true);
    expect(isSwap(sell("s", "r1", 1, 1))).toBe(false);
    expect(isSwap(buy("b", "r1", 1, 1))).toBe(false);
    const links = [
      { resource: "r1", wants: "r2" },
      { resource: "r3", wants: "r2" },
      { resource: "r3", wants: "r4" },
      { resource: "x", wants: "y" },
    ];
    for (const start of ["r1", "r2", "r3", "r4"]) expect([...connectedResources(start, links)].sort()).toEqual(["r1", "r2", "r3", "r4"]);
    expect([...connectedResources("y", links)].sort()).toEqual(["x", "y"]);
    expect([...connectedResources("alone", links)]).toEqual(["alone"]);
  });

  test("mayTrade is conservative with swaps: any swap in the book runs the solver", () => {
    // A losing swap alone cannot trade, but the pre-check must not decide chains: it says "maybe".
    expect(mayTrade([swap("a", "r1", "r2", 5, 0, 1)])).toBe(true);
    expect(mayTrade([buy("b", "r1", 1, 1), sell("s", "r1", 1, 2)])).toBe(false);
    expect(mayTrade([buy("b", "r1", 1, 1), sell("s", "r1", 1, 2), swap("a", "r2", "r1", 0, 3, 1)])).toBe(true);
  });

  test("a ring of three swaps settles; each swap gives what it receives", () => {
    // Alone each swap loses or barely gains; together 0.5 − 0.2 + 0.1 = 0.4 per unit over 8 units (B's quantity).
    const ring = [swap("A", "storage", "compute", 1.0, 1.5, 10), swap("B", "compute", "bandwidth", 1.2, 1.0, 8), swap("C", "bandwidth", "storage", 0.5, 0.6, 12)];
    const records = bookOf(ring);
    const { fills, welfare, updates } = settle(records);
    expect(welfare).toBeCloseTo(3.2, 9);
    for (const id of ["A", "B", "C"]) {
      const gave = fills.filter((f) => f.sell === id).reduce((s, f) => s + f.quantity, 0);
      const got = fills.filter((f) => f.buy === id).reduce((s, f) => s + f.quantity, 0);
      expect([gave, got]).toEqual([8, 8]);
    }
    expect(Object.fromEntries(updates.map((u) => [u.id, [u.filled, u.status]]))).toEqual({
      A: [8, "partially_filled"],
      B: [8, "filled"],
      C: [8, "partially_filled"],
    });
    // What is left cannot close the ring again (B is gone); the solver finds nothing.
    const rest = solverBook(records.values(), NOW);
    expect(rest.map((i) => [i.id, i.quantity])).toEqual([["A", 2], ["C", 4]]);
    expect(solve(rest, L).fills).toEqual([]);
  });

  test("a swap partly filled across two settlements: remaining and status follow what it gave", () => {
    // storage holds 300 now and wants the later slot; buyers of "now" arrive one at a time.
    const records = bookOf([swap("S", "now", "later", 0.3, 0, 300), sell("C", "later", 1000, 1.2)]);
    records.set("B1", record(buy("B1", "now", 100, 2), 3));
    const first = settle(records);
    expect(first.welfare).toBeCloseTo(50, 9);
    expect(records.get("S")).toMatchObject({ filled: 100, status: "partially_filled" });
    expect(remainingOf(records.get("S")!)).toBe(200);
    // The solver sees the swap with its open quantity only.
    expect(solverBook(records.values(), NOW).find((i) => i.id === "S")?.quantity).toBe(200);
    records.set("B2", record(buy("B2", "now", 250, 1.9), 4));
    const second = settle(records);
    expect(second.welfare).toBeCloseTo(200 * 0.4, 9);
    expect(records.get("S")).toMatchObject({ filled: 300, status: "filled" });
    expect(records.get("B2")).toMatchObject({ filled: 200, status: "partially_filled" });
    expect(records.get("C")).toMatchObject({ filled: 300, status: "partially_filled" });
    expect(intentView(records.get("S")!).remainingQuantity).toBe(0);
    // Nothing more: the swap is used up, so the pre-check sees a plain book that cannot cross.
    expect(mayTrade(solverBook(records.values(), NOW))).toBe(false);
  });
});

describe("tampered or broken fills are refused (nothing to commit)", () => {
  const seed = loadSeed();
  const good = (): { records: Map<string, IntentRecord>; fills: Fill[] } => {
    const records = bookOf(seed.intents);
    return { records, fills: solve(solverBook(records.values(), NOW), seed.latency).fills };
  };
  const errorsOf = (records: Map<string, IntentRecord>, fills: Fill[]) => {
    const r = applyFills(records, fills, NOW);
    return r.ok ? [] : r.errors;
  };

  test("the untouched result applies", () => {
    const { records, fills } = good();
    expect(applyFills(records, fills, NOW).ok).toBe(true);
  });

  test("give ≠ receive: one half of the chain changed or dropped", () => {
    const { records, fills } = good();
    const shrunk = fills.map((f) => (f.resource === "gpu-h100-hr:in-4h" ? { ...f, quantity: 150 } : f));
    expect(errorsOf(records, shrunk)).toEqual(["storage-defer: a swap gives 200 but receives 150"]);
    expect(errorsOf(records, fills.filter((f) => f.resource === "gpu-h100-hr"))).toEqual(["storage-defer: a swap gives 200 but receives 0"]);
    expect(errorsOf(records, fills.filter((f) => f.resource !== "gpu-h100-hr"))).toEqual(["storage-defer: a swap gives 0 but receives 200"]);
  });

  test("a swap receiving what it gives, or giving what it wants: wrong resource", () => {
    const { records } = good();
    const errors = errorsOf(records, [
      { buy: "storage-defer", sell: "compute-idle", resource: "gpu-h100-hr", quantity: 10, price: 1.3 },
      { buy: "inference-now", sell: "storage-defer", resource: "gpu-h100-hr:in-4h", quantity: 10, price: 1.8 },
    ]);
    expect(errors).toContain("fills.0.resource: does not match both intents");
    expect(errors).toContain("fills.1.resource: does not match both intents");
  });

  test("plain intents keep their checks: a buy as seller, a sell as buyer, over-fill, non-live", () => {
    const { records, fills } = good();
    expect(errorsOf(records, [{ buy: "compute-idle", sell: "inference-now", resource: "gpu-h100-hr", quantity: 1, price: 1.5 }])).toEqual(
      expect.arrayContaining(["fills.0.buy: not a live buy intent", "fills.0.sell: not a live sell intent"]),
    );
    const doubled = fills.map((f) => ({ ...f, quantity: 400 }));
    expect(errorsOf(records, doubled)).toEqual(
      expect.arrayContaining(["inference-now: fills total 400 but only 200 is open", "storage-defer: fills total 400 but only 200 is open"]),
    );
    const cancelled = new Map(records);
    cancelled.set("storage-defer", { ...records.get("storage-defer")!, status: "cancelled" });
    expect(errorsOf(cancelled, fills)).toEqual(["fills.0.sell: not a live sell intent", "fills.1.buy: not a live buy intent"]);
    expect(errorsOf(records, [...fills, { ...fills[0], buy: "ghost" }])).toContain("fills.2.buy: not a live buy intent");
  });

  test("a second settlement may not take more than the swap still has open", () => {
    const { records, fills } = good();
    const applied = applyFills(records, fills, NOW);
    if (!applied.ok) throw new Error(applied.errors.join("; "));
    for (const u of applied.updates) records.set(u.id, { ...records.get(u.id)!, filled: u.filled, status: u.status });
    // Replaying the same settlement: storage and inference are filled (not live) now.
    expect(errorsOf(records, fills)).toEqual(
      expect.arrayContaining(["fills.0.buy: not a live buy intent", "fills.0.sell: not a live sell intent", "fills.1.buy: not a live buy intent"]),
    );
  });
});
