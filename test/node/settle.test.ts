// Clearing as one pure step (settle) and the batch's close as a pure function returning what to write.
import { describe, expect, test } from "vitest";
import { candidates, closeBatch, resolution } from "../../src/market/batch.ts";
import type { IntentRecord } from "../../src/market/book.ts";
import { settle } from "../../src/market/settle.ts";
import { scoreCandidates } from "../../src/market/proposals.ts";
import { commit } from "../../src/model/commitment.ts";
import { ringCount } from "../../src/model/reward.ts";
import type { Intent } from "../../src/contract/schema.ts";
import { DEFAULT_LATENCY } from "../../src/solver/index.ts";

const NOW = 1_700_000_000_000;
const buy: Intent = { id: "b", agent: "B", side: "buy", resource: "gpu", quantity: 10, limitPrice: 2, region: "eu-west" };
const sell: Intent = { id: "s", agent: "S", side: "sell", resource: "gpu", quantity: 6, limitPrice: 1, region: "eu-west" };
const records = new Map<string, IntentRecord>([buy, sell].map((intent, k) => [intent.id, { intent, status: "open", filled: 0, seq: k + 1, createdAt: "t" }]));
const at = { records, book: [buy, sell], latency: DEFAULT_LATENCY, now: NOW };

describe("settle", () => {
  test("a verified optimum", () => {
    const s = settle([buy, sell], DEFAULT_LATENCY);
    expect(s.verified).toBe(true);
    expect(s.result).toMatchObject({ status: "optimal", welfare: 6, fills: [{ buy: "b", sell: "s", quantity: 6 }] });
  });

  test("an empty result is verified unless asked not to", () => {
    const apart = { ...sell, limitPrice: 3 };
    expect(settle([buy, apart], DEFAULT_LATENCY).verified).toBe(true);
    expect(settle([buy, apart], DEFAULT_LATENCY, { verifyEmpty: false })).toMatchObject({ verified: true, result: { fills: [] } });
  });
});

describe("the batch's close", () => {
  const builtin = { id: "p-2", result: settle([buy, sell], DEFAULT_LATENCY).result };

  test("the built-in proposal is listed last and inserted; an outside one of equal welfare settles", () => {
    const outside = { id: "p-1", proposer: "miner", fills: [{ buy: "b", sell: "s", resource: "gpu", quantity: 6 }] };
    const all = candidates(at, [outside], builtin);
    expect(all.map((c) => [c.id, c.proposer, c.welfare, c.errors.length])).toEqual([
      ["p-1", "miner", 6, 0],
      ["p-2", "market", 6, 0],
    ]);
    const close = closeBatch(at, { market: "m", batch: "b-1", settlementId: "s-1", builtin, candidates: all, scored: false });
    expect(close.proposals.map((p) => [p.id, p.view.settled, p.insert !== undefined])).toEqual([
      ["p-1", true, false],
      ["p-2", false, true],
    ]);
    expect(close.settled?.settlement).toMatchObject({ id: "s-1", market: "m", stats: { batch: "b-1", proposal: "p-1" }, scores: { settledOnWelfare: "p-1", unscored: expect.any(String) } });
    expect(close.settled?.updates).toEqual(expect.arrayContaining([{ id: "s", filled: 6, status: "filled" }, { id: "b", filled: 6, status: "partially_filled" }]));
  });

  test("an infeasible proposal is recorded with its errors and settles nothing", () => {
    const greedy = { id: "p-1", proposer: "miner", fills: [{ buy: "b", sell: "s", resource: "gpu", quantity: 60 }] };
    const all = candidates(at, [greedy], builtin);
    const close = closeBatch(at, { market: "m", batch: "b-1", settlementId: "s-1", builtin, candidates: all, scored: false });
    expect(close.proposals[0].view).toMatchObject({ feasible: false, settled: false });
    expect(close.settled?.settlement.stats.proposal).toBe("p-2");
  });

  test("without a built-in solve nothing settles, and the proposals still get their views", () => {
    const close = closeBatch(at, { market: "m", batch: "b-1", settlementId: "s-1", candidates: candidates(at, []), scored: false });
    expect(close).toEqual({ proposals: [] });
  });

  test("the exact re-solve labels proposals by welfare over the optimum", () => {
    const exact = settle([buy, sell], DEFAULT_LATENCY);
    const r = resolution("b-1", DEFAULT_LATENCY, exact, [], [{ id: "p-1", fills: [], welfare: 3 }]);
    expect(r.resolved).toEqual({ status: "optimal", optimum: 6, examples: 1 });
    expect(r.examples[0]).toMatchObject({ proposal: "p-1", label: 0.5 });
  });
});

describe("scores (docs/contract.md section 6, the worked example)", () => {
  // Three swaps that trade round (A gives storage for compute, B compute for bandwidth, C bandwidth for storage),
  // an all-or-none buyer D and a seller E: 5 parties, 1 with a minimum, 1 ring in the exact-welfare allocation.
  const swap = (id: string, give: string, want: string, limit: number, worth: number, quantity: number): Intent => ({
    id, agent: id, side: "sell", kind: "swap", resource: give, quantity, limitPrice: limit, region: "eu-west", swapFor: { resource: want, limitPrice: worth },
  });
  const book: Intent[] = [
    swap("A", "storage", "compute", 1.0, 1.5, 10),
    swap("B", "compute", "bandwidth", 1.2, 1.0, 8),
    swap("C", "bandwidth", "storage", 0.5, 0.6, 12),
    { id: "D", agent: "D", side: "buy", resource: "gpu", quantity: 5, minQuantity: 5, limitPrice: 2, region: "eu-west" },
    { id: "E", agent: "E", side: "sell", resource: "gpu", quantity: 5, limitPrice: 1, region: "eu-west" },
  ];
  const ringRecords = new Map<string, IntentRecord>(book.map((intent, k) => [intent.id, { intent, status: "open", filled: 0, seq: k + 1, createdAt: "t" }]));
  const OPEN = NOW - 1000; // a 1,000 ms batch closing at NOW
  const estimate = { score: async (xs: readonly Float32Array[]) => ({ estimates: new Float32Array(xs.length).fill(0.9), model: "fixed-0.9" }) };

  test("an outside proposal at +300 ms scores 0.9 × 1.6731 × 0.8409 = 1.2662; one at +800 ms weighs less; the built-in one least", async () => {
    const solved = settle(book, {}).result;
    const rings = ringCount(solved.fills);
    expect(rings).toBe(1);
    const at = { records: ringRecords, book, latency: {}, now: NOW, openedMs: OPEN };
    const fills = solved.fills.map(({ buy, sell, resource, quantity }) => ({ buy, sell, resource, quantity }));
    const all = candidates(at, [{ id: "p-1", proposer: "early", fills, receivedMs: OPEN + 300 }, { id: "p-2", proposer: "late", fills, receivedMs: OPEN + 800 }], { id: "p-3", result: solved });
    expect(all.map((c) => c.errors)).toEqual([[], [], []]);
    expect(all.map((c) => c.elapsedMs).slice(0, 2)).toEqual([300, 800]);
    expect(all[2].elapsedMs).toBeGreaterThanOrEqual(1000);
    const commitments = book.map((i) => commit(i, "00".repeat(16)));
    const [early, late, builtin] = await scoreCandidates(estimate, commitments, {}, all, { rings, intervalMs: 1000 });
    expect(early.score!.estimate).toBeCloseTo(0.9, 6);
    expect(early.score!.reward).toBeCloseTo(1.6731, 4); // 1 + log2(6)/8 + 0.5 × 1/5 + 0.25 × 1
    expect(early.score!.weight).toBeCloseTo(0.8409, 4); // 2^(−(300 − 50) / 1000)
    expect(early.score!.score).toBeCloseTo(1.2662, 4);
    expect(late.score!.weight).toBeCloseTo(0.5946, 4); // 2^(−(800 − 50) / 1000)
    expect(late.score!.score).toBeLessThan(early.score!.score);
    expect(builtin.score!.weight).toBeLessThan(late.score!.weight);
    // Scores never choose: equal welfare, so the one listed first settles (here the late one), whatever the scores.
    const close = closeBatch(at, { market: "m", batch: "b-1", settlementId: "s-1", builtin: { id: "p-3", result: solved }, candidates: [late, early, builtin], scored: true });
    expect(close.settled?.settlement.stats.proposal).toBe("p-2");
  });
});
