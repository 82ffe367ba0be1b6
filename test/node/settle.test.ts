// Clearing as one pure step (settle) and the batch's close as a pure function returning what to write.
import { describe, expect, test } from "vitest";
import { candidates, closeBatch, resolution } from "../../src/market/batch.ts";
import type { IntentRecord } from "../../src/market/book.ts";
import { settle } from "../../src/market/settle.ts";
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
