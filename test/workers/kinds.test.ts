// Multi-party kinds through the HTTP routes inside workerd: the seed's three-party example (inference ← storage's
// deferral ← compute's later slot), signed, in continuous and in batch clearing.
import { SELF, env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import type { AgentKey } from "../../src/contract/auth.ts";
import seed from "../fixtures/three-party-labels.json";
import { BASE, eventually, freshMarket, json, newAgent, operator, signedFetch, submit, withOperator } from "./helpers.ts";


/** Submits the seed's intents in file order, one signing key per agent name (the body's agent is the key). */
async function submitSeed(m: string): Promise<{ answers: any[]; keys: Map<string, AgentKey> }> {
  const keys = new Map<string, AgentKey>();
  const answers: any[] = [];
  for (const { agent, ...intent } of seed.intents) {
    if (!keys.has(agent)) keys.set(agent, await newAgent());
    const r = await submit(keys.get(agent)!, m, intent);
    expect(r.status).toBe(201);
    answers.push(await json(r));
  }
  return { answers, keys };
}

const intentAt = async (m: string, id: string) => json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/${id}`));

/** The settlement the seed must give, and what each intent's view must say after it. */
async function expectThreePartySettlement(m: string, settlement: any): Promise<void> {
  expect(settlement).toMatchObject({ market: m, welfare: expect.closeTo(100, 9), stats: { status: "optimal" } });
  expect(settlement.fills).toHaveLength(2);
  const now = settlement.fills.find((f: any) => f.resource === "gpu-h100-hr");
  const later = settlement.fills.find((f: any) => f.resource === "gpu-h100-hr:in-4h");
  expect(now).toMatchObject({ buy: "inference-now", sell: "storage-defer", quantity: 200 });
  expect(later).toMatchObject({ buy: "storage-defer", sell: "compute-idle", quantity: 200 });
  expect(now.price).toBeCloseTo(1.8333333333, 9);
  expect(later.price).toBeCloseTo(1.3666666667, 9);
  expect(await json(await SELF.fetch(`${BASE}/v1/markets/${m}/settlements/${settlement.id}`))).toEqual(settlement);

  const inference = await intentAt(m, "inference-now");
  expect(inference).toMatchObject({ status: "filled", filledQuantity: 200, remainingQuantity: 0 });
  expect(inference.fills).toEqual([{ settlement: settlement.id, ...now }]);
  // The deferral's filled quantity is what it gave; its view lists both its fills (gave now, received later).
  const storage = await intentAt(m, "storage-defer");
  expect(storage).toMatchObject({ kind: "deferral", status: "filled", filledQuantity: 200, remainingQuantity: 0 });
  expect(storage.fills).toHaveLength(2);
  expect(storage.fills).toEqual(expect.arrayContaining([{ settlement: settlement.id, ...now }, { settlement: settlement.id, ...later }]));
  const compute = await intentAt(m, "compute-idle");
  expect(compute).toMatchObject({ status: "partially_filled", filledQuantity: 200, remainingQuantity: 100 });
  expect(compute.fills).toEqual([{ settlement: settlement.id, ...later }]);

  const market = await json(await SELF.fetch(`${BASE}/v1/markets/${m}`));
  // Volume counts units delivered per fill: 200 GPU-hours now and 200 in four hours.
  expect(market.counters).toMatchObject({ intents: 3, openIntents: 1, settlements: 1, fills: 2, volume: 400 });
  expect(market.counters.welfare).toBeCloseTo(100, 9);
  expect(market.counters.notional).toBeCloseTo(200 * (now.price + later.price), 6);
  expect(market.openIntents.map((i: any) => [i.id, i.remainingQuantity])).toEqual([["compute-idle", 100]]);
}

describe("the seed's three-party example over HTTP", () => {
  test("continuous: the deferral's arrival settles the chain; its POST answer carries the settlement", async () => {
    await withOperator(async () => {
      const m = freshMarket("kinds");
      expect((await signedFetch(operator, "PUT", `/v1/markets/${m}/config`, { latency: seed.latency })).status).toBe(200);
      const { answers } = await submitSeed(m);
      // Inference and compute alone cannot trade (different resources, and compute is over inference's cap).
      expect(answers[0].settlement).toBeUndefined();
      expect(answers[1].settlement).toBeUndefined();
      expect(answers[2].intent).toMatchObject({ id: "storage-defer", status: "filled", filledQuantity: 200 });
      await expectThreePartySettlement(m, answers[2].settlement);
    });
  });

  test("batch: all three wait for the alarm and settle together", async () => {
    await withOperator(async () => {
      const m = freshMarket("kinds");
      const config = { clearing: "batch", batchIntervalMs: 300, latency: seed.latency };
      expect((await signedFetch(operator, "PUT", `/v1/markets/${m}/config`, config)).status).toBe(200);
      const { answers } = await submitSeed(m);
      for (const a of answers) {
        expect(a.settlement).toBeUndefined();
        expect(a.intent.status).toBe("open");
      }
      const inference = await eventually(async () => {
        await runDurableObjectAlarm(env.MARKET.getByName(m)); // runs it now if still pending (the real alarm may win)
        const v = await intentAt(m, "inference-now");
        return v.status === "filled" ? v : undefined;
      });
      const settlement = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/settlements/${inference.fills[0].settlement}`));
      await expectThreePartySettlement(m, settlement);
    });
  });

  test("continuous: a later buyer of the same slot trades with what compute has left, plain and single-resource", async () => {
    await withOperator(async () => {
      const m = freshMarket("kinds");
      expect((await signedFetch(operator, "PUT", `/v1/markets/${m}/config`, { latency: seed.latency })).status).toBe(200);
      await submitSeed(m);
      const late = await json(
        await submit(await newAgent(), m, { id: "late", side: "buy", resource: "gpu-h100-hr:in-4h", quantity: 150, limitPrice: 1.4, region: "us-east" }),
      );
      expect(late.settlement.fills).toEqual([expect.objectContaining({ buy: "late", sell: "compute-idle", quantity: 100 })]);
      expect(await intentAt(m, "compute-idle")).toMatchObject({ status: "filled", filledQuantity: 300, remainingQuantity: 0 });
      // The settled deferral is not touched again.
      expect((await intentAt(m, "storage-defer")).fills).toHaveLength(2);
    });
  });

  test("continuous: a deferral's minQuantity is accepted and honoured (all of its minimum or nothing)", async () => {
    await withOperator(async () => {
      const m = freshMarket("kinds");
      expect((await signedFetch(operator, "PUT", `/v1/markets/${m}/config`, { latency: seed.latency })).status).toBe(200);
      const [inference, compute, deferral] = seed.intents.map(({ agent: _, ...intent }) => intent);
      for (const intent of [inference, compute]) expect((await submit(await newAgent(), m, intent)).status).toBe(201);
      // Inference takes 200 now: a deferral of 250 that must give all 250 cannot trade, one that must give 150 can.
      const whole = await submit(await newAgent(), m, { ...deferral, id: "whole", quantity: 250, minQuantity: 250 });
      expect(whole.status).toBe(201);
      const wholeAnswer = await json(whole);
      expect(wholeAnswer.settlement).toBeUndefined();
      expect(wholeAnswer.intent).toMatchObject({ id: "whole", status: "open", filledQuantity: 0, minQuantity: 250 });
      const part = await json(await submit(await newAgent(), m, { ...deferral, id: "part", quantity: 250, minQuantity: 150 }));
      expect(part.intent).toMatchObject({ id: "part", status: "partially_filled", filledQuantity: 200, remainingQuantity: 50 });
      expect(part.settlement.stats.status).toBe("optimal");
      expect(await intentAt(m, "whole")).toMatchObject({ status: "open", filledQuantity: 0 });
    });
  });
});
