// Continuous clearing solves one arrival against only its best counterparties when the rest of the book is settled
// (MarketObject.bestCounterparties). These tests hold it to the whole-book optimum: after every arrival the
// settlement's welfare equals a solve of the whole live book before it plus the arrival, and the book left behind
// has nothing left to trade. Markets mix regions with latency caps, partial fills, minimums and cancels.
import { SELF, env, evictDurableObject } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import type { Intent } from "../../src/contract/schema.ts";
import { DEFAULT_LATENCY, solve } from "../../src/solver/index.ts";
import { seededRandom } from "../../src/random.ts";
import { BASE, freshMarket, json, newAgent, signedFetch, submit } from "./helpers.ts";

const REGIONS = ["eu-west", "eu-central", "us-east", "ap-northeast"];

/** The live book as the market reports it, in the solver's terms (open quantity; a minimum only until it trades). */
async function marketBook(market: string): Promise<Intent[]> {
  const r = await SELF.fetch(`${BASE}/v1/markets/${market}`);
  if (r.status === 404) return []; // never written yet
  const view = await json(r);
  return view.openIntents.map((v: Record<string, unknown>) => {
    const { status, filledQuantity, remainingQuantity, createdAt, fills, minQuantity, ...intent } = v;
    void status, createdAt, fills;
    const out = { ...intent, quantity: remainingQuantity } as Intent;
    if (minQuantity !== undefined && filledQuantity === 0) out.minQuantity = minQuantity as number;
    return out;
  });
}

function randomIntent(r: () => number, k: number, withMinimums: boolean): Record<string, unknown> {
  const buy = r() < 0.5;
  const intent: Record<string, unknown> = {
    id: `i${k}`,
    side: buy ? "buy" : "sell",
    resource: "gpu-h100-hr",
    quantity: 1 + Math.floor(r() * 40),
    // Overlapping bands, coarse so ties happen.
    limitPrice: Math.round((buy ? 1.2 + r() * 1.0 : 1.0 + r() * 1.0) * 20) / 20,
    region: REGIONS[Math.floor(r() * REGIONS.length)],
  };
  if (r() < 0.4) intent.maxLatencyMs = [20, 40, 90, 200][Math.floor(r() * 4)];
  if (withMinimums && r() < 0.2) intent.minQuantity = intent.quantity;
  return intent;
}

/**
 * Submits `intent` and holds its settlement to a whole-book solve of the live book before it plus the arrival, and
 * the book left behind to having nothing left to trade; returns the submit's answer.
 */
async function arriveOptimally(market: string, agent: Awaited<ReturnType<typeof newAgent>>, intent: Record<string, unknown>) {
  const before = await marketBook(market);
  const res = await submit(agent, market, { ...intent, agent: agent.publicKey });
  expect(res.status).toBe(201);
  const answer = await json(res);
  const whole = solve([...before, { ...intent, agent: agent.publicKey } as unknown as Intent], DEFAULT_LATENCY);
  expect(whole.status).toBe("optimal");
  expect(answer.settlement?.welfare ?? 0, `${intent.id}: settlement welfare vs a whole-book solve`).toBeCloseTo(whole.welfare, 6);
  expect(solve(await marketBook(market), DEFAULT_LATENCY).welfare, `${intent.id}: the book left behind still trades`).toBeLessThanOrEqual(1e-9);
  return answer;
}

const fillsOf = (answer: { settlement?: { fills: unknown[] } }) => answer.settlement?.fills.length ?? 0;

async function run(seed: number, arrivals: number, withMinimums: boolean): Promise<{ settlements: number }> {
  const r = seededRandom(seed);
  const market = freshMarket("cont");
  const agents = await Promise.all([newAgent(), newAgent(), newAgent()]);
  let settlements = 0;
  for (let k = 0; k < arrivals; k++) {
    const agent = agents[k % agents.length];
    const answer = await arriveOptimally(market, agent, randomIntent(r, k, withMinimums));
    if (answer.settlement) settlements += 1;
    // The answer's view of the new intent is the one the market reads back.
    const stored = await json(await SELF.fetch(`${BASE}/v1/markets/${market}/intents/${answer.intent.id}`));
    expect(answer.intent).toEqual(stored);
    // Now and then an agent cancels its oldest open intent; the book stays settled.
    if (r() < 0.15) {
      const open = (await marketBook(market)).find((i) => i.agent === agent.publicKey);
      if (open) expect((await signedFetch(agent, "DELETE", `/v1/markets/${market}/intents/${open.id}`)).status).toBe(200);
    }
    // And now and then the object restarts (the first arrival after it solves the whole book again).
    if (r() < 0.05) {
      await evictDurableObject(env.MARKET.getByName(market));
    }
  }
  return { settlements };
}

describe("continuous clearing of one arrival", () => {
  test("an arrival that needs more counterparties than the short walk, and more than the long one", async () => {
    const market = freshMarket("walk");
    const [seller, buyer] = await Promise.all([newAgent(), newAgent()]);
    // 100 one-unit asks at distinct prices; every third is far away, so a latency-capped buyer skips it.
    for (let k = 0; k < 100; k++) {
      const region = k % 3 === 2 ? "ap-northeast" : "eu-west";
      expect(fillsOf(await arriveOptimally(market, seller, { id: `s${k}`, side: "sell", resource: "gpu-h100-hr", quantity: 1, limitPrice: 1 + k / 100, region }))).toBe(0);
    }
    const buy = { side: "buy", resource: "gpu-h100-hr", limitPrice: 3, region: "eu-west", maxLatencyMs: 20 };
    expect(fillsOf(await arriveOptimally(market, buyer, { ...buy, id: "b-short", quantity: 3 }))).toBe(3); // within the first walk
    expect(fillsOf(await arriveOptimally(market, buyer, { ...buy, id: "b-long", quantity: 10 }))).toBe(10); // past it
    expect(fillsOf(await arriveOptimally(market, buyer, { ...buy, id: "b-past", quantity: 60 }))).toBeGreaterThan(0); // past both
  });

  test("plain intents with latency caps: each settlement is the whole-book optimum, nothing is left to trade", async () => {
    let total = 0;
    for (const seed of [1, 2, 3]) total += (await run(seed, 40, false)).settlements;
    expect(total).toBeGreaterThan(20);
  });
  test("with minimums (all-or-none) among them", async () => {
    let total = 0;
    for (const seed of [4, 5]) total += (await run(seed, 40, true)).settlements;
    expect(total).toBeGreaterThan(10);
  });
});
