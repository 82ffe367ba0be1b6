// Issue 14, the market's side: bounded numbers, ids that are path segments, prototype-free labels, reads that
// create nothing, no cheap lock-out, and a book never left settled with a compatible crossing pair in it.
// Each test is an attack that worked on d6afe2f.
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import type { MarketObject } from "../../src/durable/market.ts";
import type { OpenIntentCaps } from "../../src/market/guards.ts";
import { crossedPair } from "../../src/market/book.ts";
import type { Intent } from "../../src/contract/schema.ts";
import { BASE, buyIntent, freshMarket, json, newAgent, sellIntent, signedFetch, submit, withOperator, operator } from "./helpers.ts";

/** The fields a 422 names. */
async function fieldsOf(r: Response): Promise<string[]> {
  expect(r.status).toBe(422);
  return ((await json(r)).errors ?? []).map((e: { field: string }) => e.field);
}

describe("bounds, ids and labels (422 naming the field)", () => {
  test("quantities past 1e12 and prices past 1e9 are refused", async () => {
    const a = await newAgent();
    const m = freshMarket();
    const cases: [Record<string, unknown>, string][] = [
      [buyIntent({ quantity: 1.000001e12 }), "quantity"],
      [buyIntent({ quantity: 2e12, minQuantity: 1.5e12 }), "minQuantity"],
      [buyIntent({ limitPrice: 1.000001e9 }), "limitPrice"],
      [sellIntent({ kind: "swap", swapFor: { resource: "gpu-a100-hr", limitPrice: 2e9 } }), "swapFor.limitPrice"],
      [buyIntent({ maxLatencyMs: 1e12 }), "maxLatencyMs"],
    ];
    for (const [intent, field] of cases) expect(await fieldsOf(await submit(a, m, intent)), field).toContain(field);
    // The largest legal numbers are accepted.
    expect((await submit(a, m, sellIntent({ quantity: 1e12, limitPrice: 1e9 }))).status).toBe(201);
  });

  test("ids . and .. are refused (a URL folds them, so they could never be read or cancelled)", async () => {
    const a = await newAgent();
    const m = freshMarket();
    for (const id of [".", ".."]) expect(await fieldsOf(await submit(a, m, buyIntent({ id })))).toContain("id");
    expect((await submit(a, m, buyIntent({ id: "..." }))).status).toBe(201); // only the dot segments themselves
  });

  test("__proto__ is no region, resource or latency-table key; constructor and length are ordinary names", async () => {
    const a = await newAgent();
    const m = freshMarket();
    expect(await fieldsOf(await submit(a, m, buyIntent({ region: "__proto__" })))).toContain("region");
    expect(await fieldsOf(await submit(a, m, buyIntent({ resource: "__proto__" })))).toContain("resource");
    expect(await fieldsOf(await submit(a, m, sellIntent({ kind: "swap", swapFor: { resource: "__proto__" } })))).toContain("swapFor.resource");
    expect((await submit(a, m, buyIntent({ region: "constructor", resource: "length" }))).status).toBe(201);
    await withOperator(async () => {
      // Raw JSON text: in a JS object literal `__proto__` would set the prototype instead of a key.
      for (const [latency, field] of [
        ['{"__proto__": {"eu-west": 5}}', "latency.__proto__"],
        ['{"eu-west": {"__proto__": 5}}', "latency.eu-west.__proto__"],
      ]) {
        const r = await signedFetch(operator, "PUT", `/v1/markets/${m}/config`, `{"latency": ${latency}}`);
        expect(await fieldsOf(r)).toContain(field);
      }
    });
  });
});

describe("reads of a never-written market: 404, and nothing created", () => {
  test("every read route answers 404 market-not-found and the market object holds no table", async () => {
    const m = freshMarket();
    for (const path of ["", "/intents/i-1", "/settlements/s-1", "/commitments", "/proposals", "/training-examples"]) {
      const r = await SELF.fetch(`${BASE}/v1/markets/${m}${path}`);
      expect(r.status, path).toBe(404);
      expect(await json(r), path).toMatchObject({ status: 404, type: "urn:nash:problem:market-not-found", detail: expect.stringMatching(/market not found/) });
    }
    const stream = await SELF.fetch(`${BASE}/v1/markets/${m}/stream`, { headers: { Upgrade: "websocket" } });
    expect(stream.status).toBe(404);
    expect(await (await signedFetch(await newAgent(), "DELETE", `/v1/markets/${m}/intents/i-1`)).json()).toMatchObject({ status: 404 });
    const tables = await runInDurableObject(env.MARKET.getByName(m), (_i, state) => ({
      names: state.storage.sql.exec("SELECT name FROM sqlite_master").toArray(),
    }));
    expect(tables.names).toEqual([]);
    // Once written, the market reads as usual.
    expect((await submit(await newAgent(), m, buyIntent())).status).toBe(201);
    expect((await SELF.fetch(`${BASE}/v1/markets/${m}`)).status).toBe(200);
  });
});

/** Replaces market `m`'s open-intent caps (the object keeps them in a field, replaceable in tests). */
async function setCaps(m: string, caps: OpenIntentCaps): Promise<void> {
  // A write first, so that the object exists and keeps these caps for the test.
  expect((await submit(await newAgent(), m, buyIntent({ resource: "warm-up", limitPrice: 0.01 }))).status).toBe(201);
  await runInDurableObject(env.MARKET.getByName(m), (instance: MarketObject) => {
    instance.openIntentCaps = caps;
  });
}

describe("no cheap lock-out", () => {
  const caps: OpenIntentCaps = { perAgent: 20, perNewAgent: 5, perTradedIntent: 2, perMarket: 30 };
  const junk = (k: number, i: number) => buyIntent({ id: `junk-${k}-${i}`, resource: "junk", quantity: 1e12, limitPrice: 0.01 });

  test("fresh keys filling the market with never-crossing intents do not lock a competitive agent out", async () => {
    const m = freshMarket();
    await setCaps(m, caps);
    const seller = await newAgent();
    expect((await submit(seller, m, sellIntent({ id: "ask", quantity: 10, limitPrice: 1.2 }))).status).toBe(201);
    // The attack: fresh keys, each as many resting intents as it may place, until the market is full.
    const statuses: number[] = [];
    for (let k = 0; k < 6; k++) {
      const attacker = await newAgent();
      for (let i = 0; i < 10; i++) statuses.push((await submit(attacker, m, junk(k, i))).status);
    }
    // A new key holds at most 5; the market took 28 of them (30 with the warm-up and the ask).
    expect(statuses.filter((s) => s === 201).length).toBe(28);
    expect(statuses.filter((s) => s !== 201 && s !== 409)).toEqual([]);
    // An arrival no more competitive than the worst resting intent is still refused.
    const late = await submit(await newAgent(), m, buyIntent({ resource: "junk-2", limitPrice: 0.01 }));
    expect(late.status).toBe(409);
    expect((await json(late)).type).toBe("urn:nash:problem:open-intents-limit");
    // A competitive buyer gets in: the newest of the least competitive (no seller of junk at all) makes room.
    const buyer = await newAgent();
    const bid = await submit(buyer, m, buyIntent({ id: "bid", quantity: 10, limitPrice: 1.0 }));
    expect(bid.status).toBe(201);
    const evicted = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/junk-5-2`));
    expect(evicted.status).toBe("cancelled");
    // And a crossing one trades.
    const cross = await json(await submit(buyer, m, buyIntent({ id: "cross", quantity: 10, limitPrice: 1.3 })));
    expect(cross.intent.status).toBe("filled");
  });

  test("a key's own cap grows with its traded intents", async () => {
    const m = freshMarket();
    await setCaps(m, caps);
    const a = await newAgent();
    for (let i = 0; i < 5; i++) expect((await submit(a, m, buyIntent({ id: `a-${i}`, limitPrice: 0.5 }))).status).toBe(201);
    const refused = await submit(a, m, buyIntent({ id: "a-5", limitPrice: 0.5 }));
    expect(refused.status).toBe(409);
    expect((await json(refused)).detail).toMatch(/agent/);
    // One of its intents trades: two more may rest.
    expect((await json(await submit(await newAgent(), m, sellIntent({ quantity: 1, limitPrice: 0.4 })))).settlement).toBeDefined();
    for (const id of ["a-5", "a-6"]) expect((await submit(a, m, buyIntent({ id, limitPrice: 0.5 }))).status).toBe(201);
    expect((await submit(a, m, buyIntent({ id: "a-7", limitPrice: 0.5 }))).status).toBe(409);
  });
});

describe("a settled book holds no compatible crossing pair", () => {
  const intent = (o: Partial<Intent> & Pick<Intent, "id" | "side" | "limitPrice">): Intent => ({
    agent: o.id, resource: "r", quantity: 10, region: "eu-west", ...o,
  });

  test("crossedPair finds a pair that could trade alone, and only such a pair", () => {
    const latency = {};
    expect(crossedPair([intent({ id: "b", side: "buy", limitPrice: 1.5 }), intent({ id: "s", side: "sell", limitPrice: 1 })], latency)).toEqual({ buy: "b", sell: "s" });
    // Within 1e-9 of their own limits, one agent, another resource, a minimum the other cannot meet: no pair.
    expect(crossedPair([intent({ id: "b", side: "buy", limitPrice: 1 + 1e-10 }), intent({ id: "s", side: "sell", limitPrice: 1 })], latency)).toBeUndefined();
    expect(crossedPair([intent({ id: "b", side: "buy", limitPrice: 2, agent: "x" }), intent({ id: "s", side: "sell", limitPrice: 1, agent: "x" })], latency)).toBeUndefined();
    expect(crossedPair([intent({ id: "b", side: "buy", limitPrice: 2 }), intent({ id: "s", side: "sell", limitPrice: 1, resource: "q" })], latency)).toBeUndefined();
    expect(crossedPair([intent({ id: "b", side: "buy", limitPrice: 2, minQuantity: 10 }), intent({ id: "s", side: "sell", limitPrice: 1, quantity: 5 })], latency)).toBeUndefined();
    // Far regions with a latency cap: not compatible.
    expect(crossedPair([intent({ id: "b", side: "buy", limitPrice: 2, maxLatencyMs: 10 }), intent({ id: "s", side: "sell", limitPrice: 1, region: "ap-southeast" })], { "eu-west": { "ap-southeast": 170 } })).toBeUndefined();
  });

  test("a crossing pair trades in a market that also holds big but legal intents, one of them cancelled", async () => {
    const m = freshMarket();
    const big = await newAgent();
    expect((await submit(big, m, sellIntent({ resource: "big-a", quantity: 1e12, limitPrice: 1000 }))).status).toBe(201);
    expect((await submit(big, m, buyIntent({ resource: "big-b", quantity: 1e12, limitPrice: 2 }))).status).toBe(201);
    expect((await submit(big, m, sellIntent({ id: "huge", quantity: 1, limitPrice: 1e9 }))).status).toBe(201);
    expect((await signedFetch(big, "DELETE", `/v1/markets/${m}/intents/huge`)).status).toBe(200);
    await submit(await newAgent(), m, buyIntent({ id: "pair-b", quantity: 100, limitPrice: 1.5 }));
    const sell = await json(await submit(await newAgent(), m, sellIntent({ id: "pair-s", quantity: 100, limitPrice: 1.0 })));
    expect(sell.intent.status).toBe("filled");
    // The same with the smallest sizes beside the largest (the solver dropped quantities below 1e-12 of the book's largest).
    await submit(await newAgent(), m, buyIntent({ id: "tiny-b", quantity: 0.5, limitPrice: 1.5 }));
    const tiny = await json(await submit(await newAgent(), m, sellIntent({ id: "tiny-s", quantity: 0.5, limitPrice: 1.0 })));
    expect(tiny.intent.status).toBe("filled");
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/pair-b`))).status).toBe("filled");
  });

  test("buy 1e12 @ 1 and sell 1 @ 0.3 trade (the smallest and largest sizes in one book)", async () => {
    const m = freshMarket();
    await submit(await newAgent(), m, buyIntent({ id: "big", quantity: 1e12, limitPrice: 1 }));
    const sell = await json(await submit(await newAgent(), m, sellIntent({ id: "small", quantity: 1, limitPrice: 0.3 })));
    expect(sell.intent.status).toBe("filled");
  });

  test("a big intent never keeps a crossing trade apart: buy 1e12 @ 1 takes sell 1 @ 0.3 (d6afe2f's solver dropped it)", async () => {
    const m = freshMarket();
    expect((await submit(await newAgent(), m, buyIntent({ id: "big", quantity: 1e12, limitPrice: 1 }))).status).toBe(201);
    await submit(await newAgent(), m, buyIntent({ id: "pair-b", quantity: 1, limitPrice: 0.5 }));
    const answer = await json(await submit(await newAgent(), m, sellIntent({ id: "pair-s", quantity: 1, limitPrice: 0.3 })));
    // The better bid takes the unit, at the midpoint of the two limits.
    expect(answer.settlement.fills).toEqual([{ buy: "big", sell: "pair-s", resource: "gpu-h100-hr", quantity: 1, price: expect.closeTo(0.65, 12) }]);
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/pair-b`))).status).toBe("open");
  });

  test("an optimal clearing that left a crossing pair is caught: the whole book is cleared again", async () => {
    const m = freshMarket();
    const stub = env.MARKET.getByName(m);
    expect((await submit(await newAgent(), m, buyIntent({ id: "b", quantity: 100, limitPrice: 1.5 }))).status).toBe(201);
    // A faulty solve: the first clearing after this claims "optimal" and trades nothing (what the solver's
    // thresholds did with a big intent in the book).
    await runInDurableObject(stub, (instance: MarketObject) => {
      const clearing = (instance as unknown as { market: { clearing: { pass: (...a: unknown[]) => unknown } } }).market.clearing;
      const real = clearing.pass.bind(clearing);
      clearing.pass = () => {
        clearing.pass = real;
        return { settled: true, optimal: true }; // committed nothing, claimed optimal: the book reads as settled
      };
    });
    await submit(await newAgent(), m, sellIntent({ id: "s", quantity: 100, limitPrice: 1.0 }));
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/b`))).status).toBe("filled");
  });
});
