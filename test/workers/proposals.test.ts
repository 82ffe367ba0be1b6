// Learned validation wired into the market (notes/model.md "Phase 2"): published commitments, proposals as
// allocations (the feasible one of greatest welfare settles, priced by Nash bargaining; the ONNX model scores them
// for miner rewards), reveals that refuse mismatches and turn a fully revealed batch into training examples, and a
// model swapped in at run time. "Proposals cannot bend a settlement" holds issue #14's attacks as regressions.
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import modelBytes from "../../models/nash-scorer-v7.onnx";
import { signRequest, type AgentKey } from "../../src/contract/auth.ts";
import { allocationOf, fillsWelfare, settleOnWelfare, type Candidate } from "../../src/market/proposals.ts";
import { solve, verify } from "../../src/solver/index.ts";
import type { Intent } from "../../src/contract/schema.ts";
import { BASE, batchMarket, buyIntent, closeBatch, json, newAgent, operator, sellIntent, signedFetch, submit, withOperator } from "./helpers.ts";

const SALT = "00112233445566778899aabbccddeeff";

function propose(agent: AgentKey, m: string, body: unknown) {
  return signedFetch(agent, "POST", `/v1/markets/${m}/proposals`, body);
}

const optimal = [{ buy: "pb", sell: "ps", resource: "gpu-h100-hr", quantity: 100, price: 1.6 }];
const partial = [{ buy: "pb", sell: "ps", resource: "gpu-h100-hr", quantity: 40, price: 1.6 }];

/** Buyer pb (own salt) and seller ps (server salt) in an open batch; two outside proposals. */
async function scoredBatch() {
  const m = await batchMarket();
  const buyer = await newAgent();
  const seller = await newAgent();
  const miner = await newAgent();
  const b = await json(await submit(buyer, m, { ...buyIntent({ id: "pb" }), salt: SALT }));
  const s = await json(await submit(seller, m, sellIntent({ id: "ps" })));
  const good = await json(await propose(miner, m, { batch: "b-1", fills: optimal }));
  const weak = await json(await propose(miner, m, { fills: partial }));
  await closeBatch(m);
  return { m, buyer, seller, miner, b, s, good, weak };
}

describe("commitments", () => {
  test("each accepted intent is committed; a drawn salt goes only to its agent; the book's commitments are public", async () => {
    await withOperator(async () => {
      const m = await batchMarket();
      const a = await newAgent();
      const own = await json(await submit(a, m, { ...buyIntent({ id: "c1" }), salt: SALT }));
      expect(own.salt).toBeUndefined();
      expect(own.commitment).toMatchObject({ v: 1, id: "c1", features: { side: "buy", quantityBand: 26, priceBand: 27 } });
      expect(own.commitment.hash).toMatch(/^[0-9a-f]{64}$/);
      const drawn = await json(await submit(a, m, sellIntent({ id: "c2" })));
      expect(drawn.salt).toMatch(/^[0-9a-f]{64}$/);
      const bad = await submit(a, m, { ...buyIntent(), salt: "XYZ" });
      expect(bad.status).toBe(422);
      expect((await json(bad)).errors).toEqual([{ field: "salt", message: expect.any(String) }]);
      const listed = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/commitments`));
      expect(listed.batch).toBe("b-1");
      expect(listed.commitments.map((c: { id: string }) => c.id)).toEqual(["c1", "c2"]);
      expect(listed.commitments[0]).toEqual(own.commitment);
      // The salt is never shown to others: not in the commitments, the intent, or the market view.
      const everything = JSON.stringify([listed, await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/c2`)), await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))]);
      expect(everything).not.toContain(SALT);
      expect(everything).not.toContain(drawn.salt);
    });
  });
});

describe("proposals", () => {
  test("proposals are scored with the model's version; the greatest welfare settles; ties go to the earlier proposal", async () => {
    await withOperator(async () => {
      const { m, good, weak } = await scoredBatch();
      expect(good.proposal).toMatchObject({ id: "p-1", batch: "b-1" });
      expect(weak.proposal).toMatchObject({ id: "p-2", batch: "b-1" });
      const pb = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/pb`));
      expect(pb.status).toBe("filled");
      const settlement = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/settlements/${pb.fills[0].settlement}`));
      expect(settlement.stats).toMatchObject({ batch: "b-1", proposal: "p-1" });
      expect(settlement.fills).toEqual(optimal);
      const { scores } = settlement;
      expect(scores).toMatchObject({ batch: "b-1", model: "nash-scorer-v7", settledOnWelfare: "p-1" });
      expect(scores.proposals.map((p: { settled: boolean }) => p.settled)).toEqual([true, false, false]);
      expect(scores.proposals.map((p: { id: string; proposer: string }) => [p.id, p.proposer === "market"])).toEqual([
        ["p-1", false],
        ["p-2", false],
        ["p-3", true],
      ]);
      const [p1, p2, p3] = scores.proposals;
      for (const p of scores.proposals) {
        expect(p.feasible).toBe(true);
        expect(p.score.model).toBe("nash-scorer-v7");
        expect(p.score.score).toBeCloseTo(p.score.estimate * p.score.reward * p.score.weight, 12);
      }
      // Same fills as the built-in optimum: same estimate; the miner's arrived first and wins the tie.
      expect(p3.score.estimate).toBe(p1.score.estimate);
      expect(p2.score.estimate).toBeLessThan(p1.score.estimate);
      expect(p2.welfare).toBeCloseTo(0.4 * p1.welfare, 9);
      const listed = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/proposals?batch=b-1`));
      expect(listed.proposals).toEqual(scores.proposals);
      expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))).model).toMatchObject({ version: "nash-scorer-v7", loaded: true });
    });
  });

  test("a proposal's time weight counts from the batch's open (a later one weighs less); the reward counts the batch's ring", async () => {
    await withOperator(async () => {
      const m = await batchMarket();
      const swap = (id: string, give: string, want: string, limit: number, worth: number, quantity: number) =>
        sellIntent({ id, kind: "swap", resource: give, quantity, limitPrice: limit, swapFor: { resource: want, limitPrice: worth } });
      for (const intent of [swap("ra", "storage", "compute", 1.0, 1.5, 10), swap("rb", "compute", "bandwidth", 1.2, 1.0, 8), swap("rc", "bandwidth", "storage", 0.5, 0.6, 12)]) {
        expect((await submit(await newAgent(), m, intent)).status).toBe(201);
      }
      const ring = [
        { buy: "ra", sell: "rb", resource: "compute", quantity: 8 },
        { buy: "rb", sell: "rc", resource: "bandwidth", quantity: 8 },
        { buy: "rc", sell: "ra", resource: "storage", quantity: 8 },
      ];
      expect((await propose(await newAgent(), m, { fills: ring })).status).toBe(202);
      await new Promise((r) => setTimeout(r, 300));
      expect((await propose(await newAgent(), m, { fills: ring })).status).toBe(202);
      await closeBatch(m);
      const { proposals } = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/proposals?batch=b-1`));
      const [early, late, builtin] = proposals;
      expect(late.elapsedMs - early.elapsedMs).toBeGreaterThanOrEqual(300);
      expect(late.score.estimate).toBe(early.score.estimate);
      expect(late.score.weight).toBeLessThan(early.score.weight);
      expect(builtin.score.weight).toBeLessThan(late.score.weight);
      // 3 parties, none constrained, 1 ring: 1 + log2(4)/8 + 0.25.
      for (const p of proposals) expect(p.score.reward).toBeCloseTo(1.5, 12);
      expect(proposals.map((p: { settled: boolean }) => p.settled)).toEqual([true, false, false]);
    });
  });

  test("a batch with only the built-in proposal settles unscored without loading the model; the first proposal loads it", async () => {
    await withOperator(async () => {
      const m = await batchMarket();
      const a = await newAgent();
      const b = await newAgent();
      await submit(a, m, buyIntent({ id: "u1" }));
      await submit(b, m, sellIntent({ id: "u2" }));
      await closeBatch(m);
      const first = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/u1`));
      expect(first.status).toBe("filled");
      const s1 = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/settlements/${first.fills[0].settlement}`));
      expect(s1.scores).toMatchObject({ batch: "b-1", model: null, settledOnWelfare: "p-1", unscored: expect.any(String) });
      expect(s1.scores.proposals[0]).toMatchObject({ id: "p-1", proposer: "market", feasible: true, settled: true, chosen: true });
      expect(s1.scores.proposals[0].score).toBeUndefined();
      expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))).model).toMatchObject({ version: "nash-scorer-v7", loaded: false });
      await submit(a, m, buyIntent({ id: "u3" }));
      await submit(b, m, sellIntent({ id: "u4" }));
      expect((await propose(a, m, { batch: "b-2", fills: [{ ...optimal[0], buy: "u3", sell: "u4" }] })).status).toBe(202);
      await closeBatch(m);
      const second = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/u3`));
      const s2 = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/settlements/${second.fills[0].settlement}`));
      expect(s2.scores).toMatchObject({ batch: "b-2", model: "nash-scorer-v7", settledOnWelfare: "p-2" });
      expect(s2.scores.proposals.map((p: { score: { model: string } }) => p.score.model)).toEqual(["nash-scorer-v7", "nash-scorer-v7"]);
      expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))).model.loaded).toBe(true);
    });
  }, 150_000);

  test("infeasible proposals are refused with field errors; none is taken outside a batch window", async () => {
    await withOperator(async () => {
      const m = await batchMarket();
      const a = await newAgent();
      const b = await newAgent();
      await submit(a, m, buyIntent({ id: "ib", minQuantity: 100 }));
      await submit(b, m, sellIntent({ id: "is" }));
      await submit(b, m, sellIntent({ id: "far", region: "us-east", maxLatencyMs: 1 }));
      const fill = { buy: "ib", sell: "is", resource: "gpu-h100-hr", quantity: 100 };
      const refusal = async (f: Record<string, unknown>) => (await json(await propose(a, m, { fills: [{ ...fill, ...f }] }))).errors;
      expect(await refusal({ sell: "far" })).toEqual([{ field: "fills.0", message: "regions are outside a latency cap" }]);
      expect(await refusal({ resource: "cpu-hr" })).toEqual([{ field: "fills.0.resource", message: "does not match both intents" }]);
      expect(await refusal({ quantity: -100 })).toContainEqual({ field: "fills.0.quantity", message: "must be > 0" });
      const unknown = await propose(a, m, { fills: [{ ...optimal[0], buy: "ghost", sell: "is" }] });
      expect(unknown.status).toBe(422);
      expect((await json(unknown)).errors).toEqual([{ field: "fills.0.buy", message: "unknown intent ghost" }]);
      const tooMuch = await json(await propose(a, m, { fills: [{ buy: "ib", sell: "is", resource: "gpu-h100-hr", quantity: 150, price: 1.6 }] }));
      expect(tooMuch.errors).toContainEqual({ field: "intents.ib", message: expect.stringMatching(/only 100 is open/) });
      const belowMin = await json(await propose(a, m, { fills: [{ buy: "ib", sell: "is", resource: "gpu-h100-hr", quantity: 50, price: 1.6 }] }));
      expect(belowMin.errors).toContainEqual({ field: "intents.ib", message: expect.stringMatching(/below minQuantity/) });
      // A proposal is an allocation: a price outside the limits is ignored, not refused (the market prices it).
      expect((await propose(a, m, { fills: [{ buy: "ib", sell: "is", resource: "gpu-h100-hr", quantity: 100, price: 2.5 }] })).status).toBe(202);
      const shape = await propose(a, m, { fills: [{ buy: "ib" }], extra: 1 });
      expect(shape.status).toBe(422);
      expect((await json(shape)).errors.map((e: { field: string }) => e.field)).toContain("fills.0.sell");
      const stale = await propose(a, m, { batch: "b-7", fills: optimal });
      expect(stale.status).toBe(409);
      await closeBatch(m);
      const late = await propose(a, m, { fills: [{ buy: "ib", sell: "is", resource: "gpu-h100-hr", quantity: 100, price: 1.6 }] });
      expect(late.status).toBe(409);
      expect((await json(late)).type).toBe("urn:nash:problem:no-open-batch");
    });
  });
});

/** The settlement that filled `intentId` (the first one of its fills). */
async function settlementOf(m: string, intentId: string) {
  const intent = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/${intentId}`));
  expect(intent.fills?.length, `${intentId} traded`).toBeGreaterThan(0);
  return json(await SELF.fetch(`${BASE}/v1/markets/${m}/settlements/${intent.fills[0].settlement}`));
}

/**
 * Issue #14's book: a victim `buy 100 @ 1.5` (vb) and a miner's `sell 100 @ 1.0` (ms) in an open batch, plus
 * whatever `extra` the miner rests beside them; the Nash price of the pair is 1.25.
 */
async function victimBatch(extra: Record<string, unknown>[] = [], buy: Record<string, unknown> = {}) {
  const m = await batchMarket();
  const victim = await newAgent();
  const miner = await newAgent();
  expect((await submit(victim, m, buyIntent({ id: "vb", limitPrice: 1.5, ...buy }))).status).toBe(201);
  expect((await submit(miner, m, sellIntent({ id: "ms", quantity: 100, limitPrice: 1 }))).status).toBe(201);
  for (const intent of extra) expect((await submit(miner, m, intent)).status).toBe(201);
  return { m, victim, miner };
}

const pair = (quantity: number, price?: number) => [{ buy: "vb", sell: "ms", resource: "gpu-h100-hr", quantity, ...(price === undefined ? {} : { price }) }];
/** A sell of another resource at the price bound: on d6afe2f it widened every price tolerance to 1. */
const junkPrice = sellIntent({ id: "junk", resource: "junk-hr", quantity: 1, limitPrice: 1e9 });

describe("proposals cannot bend a settlement (issue #14)", () => {
  test("a miner's price is ignored: the pair settles at the Nash price 1.25, within the victim's limit", async () => {
    await withOperator(async () => {
      const { m, miner } = await victimBatch([junkPrice]);
      // 2.4 was within d6afe2f's tolerance (1e-9 × the junk's 1e9); 1000 is accepted too now: prices are not read.
      expect((await propose(miner, m, { fills: pair(100, 2.4) })).status).toBe(202);
      const thousand = await propose(miner, m, { fills: pair(100, 1000) });
      await closeBatch(m);
      const settlement = await settlementOf(m, "vb");
      expect(settlement.fills).toEqual(pair(100, 1.25));
      expect(settlement.stats).toMatchObject({ status: "optimal", proposal: "p-1" });
      expect(settlement.welfare).toBeCloseTo(50, 9);
      expect(thousand.status).toBe(202);
    });
  });

  test("an all-or-none buy cannot be filled by half, whatever else rests in the book (POST and close)", async () => {
    await withOperator(async () => {
      const junkQuantity = sellIntent({ id: "junk", resource: "junk-hr", quantity: 1e12, limitPrice: 1 });
      const { m, miner } = await victimBatch([junkQuantity], { minQuantity: 100 });
      const half = await propose(miner, m, { fills: pair(50, 1.25) });
      expect(half.status).toBe(422);
      expect((await json(half)).errors).toEqual([{ field: "intents.vb", message: "fills 50 are below minQuantity 100" }]);
      // The close checks again (the book may have moved since a proposal arrived): one stored past POST is refused.
      await runInDurableObject(env.MARKET.getByName(m), async (_i, state) => {
        state.storage.sql.exec("INSERT INTO proposals (id, seq, batch, proposer, fills, received_ms) VALUES ('p-1', 1, 'b-1', 'x', ?, ?)", JSON.stringify(pair(50)), Date.now());
      });
      await closeBatch(m);
      const settlement = await settlementOf(m, "vb");
      expect(settlement.fills).toEqual(pair(100, 1.25));
      expect(settlement.scores.proposals[0]).toMatchObject({ id: "p-1", feasible: false, settled: false, errors: [{ field: "intents.vb" }] });
    });
  });

  test("the optimal allocation priced at the buyer's limit wins the tie and settles at the Nash price", async () => {
    await withOperator(async () => {
      const { m, miner } = await victimBatch();
      expect((await propose(miner, m, { fills: pair(100, 1.5) })).status).toBe(202);
      await closeBatch(m);
      const settlement = await settlementOf(m, "vb");
      expect(settlement.stats).toMatchObject({ status: "optimal", proposal: "p-1" });
      expect(settlement.fills).toEqual(pair(100, 1.25));
    });
  });

  test("a worse allocation never wins: 99.9 of 100 loses; an equal-welfare one that arrived first wins the tie", async () => {
    await withOperator(async () => {
      const alone = await victimBatch();
      expect((await propose(alone.miner, alone.m, { fills: pair(99.9, 1.25) })).status).toBe(202);
      await closeBatch(alone.m);
      const s1 = await settlementOf(alone.m, "vb");
      expect(s1.stats).toMatchObject({ status: "optimal", proposal: "p-2" });
      expect(s1.stats.gap).toBeUndefined();
      expect(s1.fills).toEqual(pair(100, 1.25));
      expect(s1.welfare).toBeCloseTo(50, 9);
      const [worse, market] = s1.scores.proposals;
      expect(worse).toMatchObject({ proposer: alone.miner.publicKey, feasible: true, settled: false, score: { model: "nash-scorer-v7" } });
      expect(market).toMatchObject({ proposer: "market", settled: true });

      const both = await victimBatch();
      expect((await propose(both.miner, both.m, { fills: pair(99.9, 1.25) })).status).toBe(202);
      expect((await propose(both.miner, both.m, { fills: pair(100) })).status).toBe(202); // no price: none is needed
      await closeBatch(both.m);
      const s2 = await settlementOf(both.m, "vb");
      expect(s2.stats).toMatchObject({ status: "optimal", proposal: "p-2" });
      expect(s2.scores.settledOnWelfare).toBe("p-2");
      expect(s2.fills).toEqual(pair(100, 1.25));
    });
  }, 120_000);

  test("a better allocation than a budget-limited built-in solve settles, stating the gap to the proven bound", () => {
    // 14 all-or-none pairs: three branch-and-bound nodes prove a bound but find no trade; a full solve finds the optimum.
    let seed = 7;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const book: Intent[] = [];
    for (let i = 0; i < 14; i++) {
      const [qb, qs] = [10 + Math.floor(rnd() * 90), 10 + Math.floor(rnd() * 90)];
      book.push({ id: `b${i}`, agent: `a${i}`, side: "buy", resource: "r", quantity: qb, minQuantity: qb, limitPrice: 1.5 + rnd(), region: "eu-west" });
      book.push({ id: `s${i}`, agent: `z${i}`, side: "sell", resource: "r", quantity: qs, minQuantity: qs, limitPrice: 1 + rnd(), region: "eu-west" });
    }
    const cut = solve(book, {}, { nodeBudget: 3 });
    const best = solve(book, {}, { nodeBudget: 1_000_000, timeBudgetMs: 10_000 });
    expect(cut.status).toBe("node_budget");
    expect(best.status).toBe("optimal");
    const candidate = (id: string, fills: { buy: string; sell: string; resource: string; quantity: number }[]): Candidate => ({
      id,
      proposer: id,
      fills: allocationOf(fills),
      welfare: fillsWelfare(book, {}, fills),
      elapsedMs: 0,
      errors: [],
    });
    const settled = settleOnWelfare(book, {}, [candidate("miner", best.fills), candidate("market", cut.fills)], cut)!;
    expect(settled.winner.id).toBe("miner");
    expect(settled.status).toBe("node_budget");
    expect(settled.gap).toBeCloseTo(cut.certificate.bound - best.welfare, 9);
    expect(settled.fills).toEqual(best.fills);
    expect(verify(book, {}, settled)).toEqual({ ok: true });
  });

  test("a self-trade proposal is refused with a field error", async () => {
    await withOperator(async () => {
      const m = await batchMarket();
      const agent = await newAgent();
      await submit(agent, m, buyIntent({ id: "own-b", quantity: 10, limitPrice: 2 }));
      await submit(agent, m, sellIntent({ id: "own-s", quantity: 10, limitPrice: 1 }));
      const r = await propose(await newAgent(), m, { fills: [{ buy: "own-b", sell: "own-s", resource: "gpu-h100-hr", quantity: 10, price: 1.5 }] });
      expect(r.status).toBe(422);
      expect((await json(r)).errors).toEqual([{ field: "fills.0", message: expect.stringMatching(/no self-trade/) }]);
    });
  });
});

describe("reveals and training examples", () => {
  test("a mismatching reveal is refused with its reason; a full reveal yields examples with true ratios", async () => {
    await withOperator(async () => {
      const { m, buyer, seller, s } = await scoredBatch();
      const reveal = (agent: AgentKey, body: unknown) => signedFetch(agent, "POST", `/v1/markets/${m}/reveals`, body);
      const wrongSalt = await reveal(buyer, { intentId: "pb", salt: "ff".repeat(16) });
      expect(wrongSalt.status).toBe(422);
      expect(await json(wrongSalt)).toMatchObject({ type: "urn:nash:problem:reveal-mismatch", errors: [{ field: "salt", message: expect.stringMatching(/^hash_mismatch/) }] });
      const lie = await reveal(buyer, { intentId: "pb", salt: SALT, intent: { ...buyIntent(), agent: buyer.publicKey, quantity: 101 } });
      expect(await json(lie)).toMatchObject({ status: 422, errors: [{ field: "intent", message: expect.stringMatching(/^hash_mismatch/) }] });
      expect((await reveal(seller, { intentId: "pb", salt: SALT })).status).toBe(403);
      const first = await json(await reveal(buyer, { intentId: "pb", salt: SALT, intent: { ...buyIntent(), agent: buyer.publicKey } }));
      expect(first.batches).toEqual([{ id: "b-1", revealed: 1, intents: 2 }]);
      expect(await (await SELF.fetch(`${BASE}/v1/markets/${m}/training-examples`)).text()).toBe("");
      const last = await json(await reveal(seller, { intentId: "ps", salt: s.salt }));
      expect(last.batches[0]).toMatchObject({ id: "b-1", revealed: 2, intents: 2, resolved: { status: "optimal", examples: 3 } });
      expect(last.batches[0].resolved.optimum).toBeCloseTo(40, 9);
      const res = await SELF.fetch(`${BASE}/v1/markets/${m}/training-examples`);
      expect(res.headers.get("content-type")).toMatch(/ndjson/);
      const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.map((e) => [e.proposal, e.label])).toEqual([
        ["p-1", 1],
        ["p-2", expect.closeTo(0.4, 9)],
        ["p-3", 1],
      ]);
      for (const e of lines) {
        expect(e.commitments.map((c: { id: string }) => c.id)).toEqual(["pb", "ps"]);
        expect(e.latency).toBeTypeOf("object");
        expect(e.model).toBe("nash-scorer-v7");
      }
      const commitments = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/commitments?batch=b-1`));
      expect(commitments.commitments).toEqual(lines[0].commitments);
    });
  });

  test("no reveal before the intent's batch settled", async () => {
    await withOperator(async () => {
      const m = await batchMarket();
      const a = await newAgent();
      await submit(a, m, { ...buyIntent({ id: "early" }), salt: SALT });
      const r = await signedFetch(a, "POST", `/v1/markets/${m}/reveals`, { intentId: "early", salt: SALT });
      expect(r.status).toBe(409);
    });
  });
});

describe("model swap", () => {
  test("an operator loads a new model version at run time; later scores carry it", async () => {
    await withOperator(async () => {
      const m = await batchMarket();
      const v9 = new Uint8Array(modelBytes.slice(0));
      const text = new TextDecoder("latin1").decode(v9);
      // Every "nash-scorer-v7" (graph name, metadata) becomes "nash-scorer-v9": same length, the protobuf stays valid.
      let patched = 0;
      for (let at = text.indexOf("nash-scorer-v7"); at >= 0; at = text.indexOf("nash-scorer-v7", at + 1), patched++) v9[at + 13] = "9".charCodeAt(0);
      expect(patched).toBeGreaterThan(0);
      const a = await newAgent();
      const put = (agent: AgentKey, body: BodyInit, type: string) =>
        signedFetch(agent, "PUT", `/v1/markets/${m}/model`, body as string, { headers: { "content-type": type } });
      expect((await put(a, JSON.stringify({ model: btoa(String.fromCharCode(...v9)) }), "application/json")).status).toBe(403);
      expect((await put(operator, JSON.stringify({ model: btoa("not a model") }), "application/json")).status).toBe(422);
      const ok = await put(operator, JSON.stringify({ model: btoa(String.fromCharCode(...v9)) }), "application/json");
      expect(ok.status).toBe(200);
      expect((await json(ok)).model).toMatchObject({ version: "nash-scorer-v9", replaced: true, loaded: true });
      // Raw bytes work too (application/octet-stream): the bundled v1 back, then v9 again.
      const path = `/v1/markets/${m}/model`;
      for (const [bytes, version] of [[new Uint8Array(modelBytes), "nash-scorer-v7"], [v9, "nash-scorer-v9"]] as const) {
        const headers = await signRequest({ privateKey: operator.privateKey, publicKey: operator.publicKey, method: "PUT", path, body: bytes });
        const raw = await SELF.fetch(BASE + path, { method: "PUT", body: bytes, headers: { ...headers, "content-type": "application/octet-stream" } });
        expect((await json(raw)).model.version).toBe(version);
      }
      expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))).model.version).toBe("nash-scorer-v9");
      await submit(a, m, buyIntent({ id: "mb" }));
      await submit(await newAgent(), m, sellIntent({ id: "ms" }));
      await closeBatch(m);
      const pb = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/mb`));
      const settlement = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/settlements/${pb.fills[0].settlement}`));
      expect(settlement.scores.model).toBe("nash-scorer-v9");
      expect(settlement.scores.proposals[0].score.model).toBe("nash-scorer-v9");
    });
  });
});
