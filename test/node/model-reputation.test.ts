// Per-proposer reputation from reveals (src/model/reputation.ts) and where the market uses it (scoreCandidates):
// a miner whose past estimates ran above their revealed shares has its next estimates discounted; an honest one,
// or one the scorer under-rated, is scored as before. The scorer is the committed model (the real thing).
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { Intent } from "../../src/contract/schema.ts";
import { DEFAULT_MODEL_PATH } from "../../src/cli/score.ts";
import { candidates } from "../../src/market/batch.ts";
import type { IntentRecord } from "../../src/market/book.ts";
import { scoreCandidates } from "../../src/market/proposals.ts";
import { commit } from "../../src/model/commitment.ts";
import { BIAS_TOLERANCE, discountedEstimate, PRIOR_REVEALS, reputationOf } from "../../src/model/reputation.ts";
import { createScorer } from "../../src/model/scorer-node.ts";
import { DEFAULT_LATENCY } from "../../src/solver/index.ts";

describe("reputation", () => {
  test("estimates that ran high discount the next estimate by the bias beyond the tolerance", () => {
    const gamer = reputationOf(Array.from({ length: 16 }, () => ({ estimate: 0.95, label: 0.55 })));
    expect(gamer.bias).toBeCloseTo((16 * 0.4) / (16 + PRIOR_REVEALS), 9);
    expect(discountedEstimate(0.9, gamer)).toBeCloseTo(0.9 - (gamer.bias - BIAS_TOLERANCE), 9);
    expect(discountedEstimate(0.1, gamer)).toBe(0); // never below 0
  });

  test("an honest proposer, an under-rated one and a newcomer keep their estimates", () => {
    const honest = reputationOf([{ estimate: 0.8, label: 0.79 }, { estimate: 0.6, label: 0.62 }, { estimate: 1, label: 1 }]);
    const underRated = reputationOf(Array.from({ length: 10 }, () => ({ estimate: 0.5, label: 0.9 })));
    expect(discountedEstimate(0.7, honest)).toBe(0.7);
    expect(discountedEstimate(0.7, underRated)).toBe(0.7); // no bonus to farm
    expect(discountedEstimate(0.7, undefined)).toBe(0.7);
    expect(discountedEstimate(0.7, reputationOf([]))).toBe(0.7);
  });

  test("one bad batch moves a reputation less than a run of them", () => {
    const once = reputationOf([{ estimate: 1, label: 0.6 }]);
    const often = reputationOf(Array.from({ length: 12 }, () => ({ estimate: 1, label: 0.6 })));
    expect(once.bias).toBeLessThan(often.bias / 2);
    expect(discountedEstimate(0.9, once)).toBeGreaterThan(discountedEstimate(0.9, often));
  });

  test("non-finite records are ignored rather than poisoning the bias", () => {
    expect(reputationOf([{ estimate: Number.NaN, label: 0.5 }, { estimate: 0.5, label: Infinity }]).bias).toBe(0);
  });
});

describe("scoreCandidates with reputations", () => {
  const NOW = 1_700_000_000_000;
  const book: Intent[] = [
    { id: "b1", agent: "x", side: "buy", resource: "gpu", quantity: 10, limitPrice: 3, region: "eu-west" },
    { id: "s1", agent: "y", side: "sell", resource: "gpu", quantity: 10, limitPrice: 1, region: "eu-west" },
    { id: "b2", agent: "z", side: "buy", resource: "gpu", quantity: 6, limitPrice: 2.5, region: "eu-west" },
    { id: "s2", agent: "w", side: "sell", resource: "gpu", quantity: 6, limitPrice: 1.5, region: "eu-west" },
  ];
  const records = new Map<string, IntentRecord>(book.map((intent, k) => [intent.id, { intent, status: "open", filled: 0, seq: k + 1, createdAt: "t" }]));
  const at = { records, book, latency: DEFAULT_LATENCY, now: NOW, openedMs: NOW - 1000 };
  const fills = [{ buy: "b1", sell: "s1", resource: "gpu", quantity: 10 }, { buy: "b2", sell: "s2", resource: "gpu", quantity: 6 }];

  test("the same allocation from a proposer whose estimates ran high scores lower, by the recorded discount", async () => {
    const scorer = await createScorer(readFileSync(DEFAULT_MODEL_PATH));
    const all = candidates(at, [
      { id: "p-1", proposer: "gamer", fills, receivedMs: NOW - 900 },
      { id: "p-2", proposer: "honest", fills, receivedMs: NOW - 900 },
    ]);
    const commitments = book.map((i) => commit(i, "00".repeat(16)));
    const reputations = new Map([
      ["gamer", reputationOf(Array.from({ length: 20 }, () => ({ estimate: 0.9, label: 0.6 })))],
      ["honest", reputationOf(Array.from({ length: 20 }, () => ({ estimate: 0.9, label: 0.9 })))],
    ]);
    const [gamer, honest] = await scoreCandidates(scorer, commitments, DEFAULT_LATENCY, all, { rings: 0, intervalMs: 1000, reputations });
    const plain = await scoreCandidates(scorer, commitments, DEFAULT_LATENCY, all, { rings: 0, intervalMs: 1000 });
    expect(honest.score).toEqual(plain[1].score);
    expect(honest.score!.discount).toBeUndefined();
    expect(gamer.score!.discount).toBeCloseTo(reputations.get("gamer")!.bias - BIAS_TOLERANCE, 6);
    expect(gamer.score!.estimate).toBeCloseTo(plain[0].score!.estimate - gamer.score!.discount!, 6);
    expect(gamer.score!.score).toBeLessThan(honest.score!.score);
  });
});
