// Per-proposer reputation from reveals (src/model/reputation.ts) and where the market uses it (scoreCandidates):
// a miner whose past estimates ran above their revealed shares has its next estimates discounted; an honest one,
// or one the scorer under-rated, is scored as before. The scorer is the committed model (the real thing).
import { readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, test, vi } from "vitest";
import type { Intent } from "../../src/contract/schema.ts";
import { DEFAULT_MODEL_PATH } from "../../src/cli/score.ts";
import { candidates } from "../../src/market/batch.ts";
import type { IntentRecord } from "../../src/market/book.ts";
import { scoreCandidates } from "../../src/market/proposals.ts";
import { commit } from "../../src/model/commitment.ts";
import { BIAS_TOLERANCE, discountedEstimate, PRIOR_REVEALS, reputationOf } from "../../src/model/reputation.ts";
import { createScorer } from "../../src/model/scorer-node.ts";
import { DEFAULT_LATENCY } from "../../src/solver/index.ts";
import { DEFAULT_OPEN_INTENT_CAPS, DEFAULT_RATE_LIMITS, WriteBudget } from "../../src/market/guards.ts";
import { Market } from "../../src/market/market.ts";
import { MarketStore, migrate } from "../../src/market/store.ts";
import type { ClosedProposalView, IntentInput } from "../../src/contract/schema.ts";
import { sqliteExec } from "./bridge-fixtures.ts";

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

describe("a market keeps reputations from reveals (node:sqlite)", () => {
  test("after a revealed batch where a miner's proposal was over-rated, its next proposal is discounted; the honest miner's is not", async () => {
    const T0 = Date.parse("2026-12-04T12:00:00Z");
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(T0);
      const db = new DatabaseSync(":memory:");
      migrate(sqliteExec(db));
      const store = new MarketStore(sqliteExec(db), (fn) => fn());
      const budget = new WriteBudget(DEFAULT_RATE_LIMITS, { burst: 1e6, perSecond: 1e6 });
      const market = new Market("m1", store, { broadcast: () => {}, setAlarm: () => {} }, { budget, openIntentCaps: DEFAULT_OPEN_INTENT_CAPS }, null);
      let n = 0;
      const auth = (agent: string) => ({ agent, signature: `sig-${++n}`, timestamp: Date.now() });
      expect(market.setConfig({ clearing: "batch", batchIntervalMs: 1000 }, auth("op")).ok).toBe(true);
      // A scorer fooled alike by every proposal (0.95): what a crafted proposal aims for.
      const fooled = { version: "fooled", score: async (xs: readonly Float32Array[]) => ({ estimates: new Float32Array(xs.length).fill(0.95), model: "fooled" }) };
      const salts = new Map<string, string>();
      const submit = (agent: string, input: Omit<IntentInput, "agent" | "resource" | "region">) => {
        const out = market.submit({ agent, resource: "gpu", region: "eu-west", ...input } as IntentInput, auth(agent));
        if (!out.ok) throw new Error(JSON.stringify(out.problem));
        salts.set(input.id!, (out.value as { salt: string }).salt);
      };
      const batch = async (k: number, gamerFills: object[], honestFills: object[]) => {
        const open = Date.now();
        submit(`B${k}`, { id: `b${k}`, side: "buy", quantity: 10, limitPrice: 3 });
        submit(`S${k}`, { id: `s${k}`, side: "sell", quantity: 10, limitPrice: 1 });
        submit(`C${k}`, { id: `c${k}`, side: "buy", quantity: 6, limitPrice: 2.5 });
        submit(`D${k}`, { id: `d${k}`, side: "sell", quantity: 6, limitPrice: 1.5 });
        vi.setSystemTime(open + 200);
        expect(market.propose({ fills: gamerFills } as never, auth("gamer"), () => {}).ok).toBe(true);
        expect(market.propose({ fills: honestFills } as never, auth("honest"), () => {}).ok).toBe(true);
        expect(market.takeDueBatch(open + 1000)).toBe(true);
        await market.closeBatch(open + 1000, fooled as never);
        vi.setSystemTime(open + 1001);
        const views = (market.proposals(`b-${k}`) as { ok: true; value: { proposals: ClosedProposalView[] } }).value.proposals;
        return new Map(views.map((v) => [v.proposer, v]));
      };
      const optimum = (k: number) => [{ buy: `b${k}`, sell: `s${k}`, resource: "gpu", quantity: 10 }, { buy: `c${k}`, sell: `d${k}`, resource: "gpu", quantity: 6 }];
      // Batch 1: the gamer's proposal wastes most of the welfare (6 of 26), the fooled scorer rates it 0.95.
      const first = await batch(1, [{ buy: "c1", sell: "d1", resource: "gpu", quantity: 6 }], optimum(1));
      expect(first.get("gamer")!.score!.estimate).toBeCloseTo(0.95, 6);
      expect(first.get("gamer")!.score!.discount).toBeUndefined();
      for (const [id, agent] of [["b1", "B1"], ["s1", "S1"], ["c1", "C1"], ["d1", "D1"]]) {
        expect(market.reveal({ intentId: id, salt: salts.get(id)! }, auth(agent)).ok).toBe(true);
      }
      // Batch 2: both send the optimum; the gamer's estimate is discounted by its revealed bias, the honest one's not.
      const second = await batch(2, optimum(2), optimum(2));
      const bias = (Math.fround(0.95) - 6 / 26) / (1 + PRIOR_REVEALS);
      expect(second.get("gamer")!.score!.discount).toBeCloseTo(bias - BIAS_TOLERANCE, 5);
      expect(second.get("gamer")!.score!.estimate).toBeCloseTo(0.95 - (bias - BIAS_TOLERANCE), 5);
      expect(second.get("honest")!.score!.discount).toBeUndefined();
      expect(second.get("gamer")!.score!.score).toBeLessThan(second.get("honest")!.score!.score);
    } finally {
      vi.useRealTimers();
    }
  });
});
