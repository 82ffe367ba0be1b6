// The intent routes end to end inside workerd: submit with continuous clearing, read, cancel, settlements,
// idempotent retries and the market view.
import { describe, expect, test } from "vitest";
import { BASE, buyIntent, freshMarket, json, newAgent, sellIntent, signedFetch, submit } from "./helpers.ts";
import { SELF } from "cloudflare:test";

describe("continuous clearing", () => {
  test("the bilateral example: the POST answer carries the settlement (100 at 1.60)", async () => {
    const m = freshMarket();
    const [buyer, seller] = [await newAgent(), await newAgent()];
    const r1 = await submit(buyer, m, buyIntent({ id: "b1" }));
    expect(r1.status).toBe(201);
    const a1 = await json(r1);
    expect(a1.settlement).toBeUndefined();
    expect(a1.intent).toMatchObject({ id: "b1", agent: buyer.publicKey, status: "open", filledQuantity: 0, remainingQuantity: 100 });
    expect(r1.headers.get("location")).toBe(`/v1/markets/${m}/intents/b1`);

    const r2 = await submit(seller, m, sellIntent());
    expect(r2.status).toBe(201);
    const a2 = await json(r2);
    expect(a2.intent.id).toMatch(/^[0-9a-f-]{36}$/); // server-assigned
    expect(a2.intent).toMatchObject({ status: "partially_filled", filledQuantity: 100, remainingQuantity: 400 });
    const s = a2.settlement;
    expect(s).toMatchObject({ market: m, welfare: expect.closeTo(40, 6), stats: { status: "optimal" } });
    expect(s.fills).toHaveLength(1);
    expect(s.fills[0]).toMatchObject({ buy: "b1", sell: a2.intent.id, resource: "gpu-h100-hr", quantity: 100 });
    expect(s.fills[0].price).toBeCloseTo(1.6, 9);
    expect(typeof s.stats.solveMs).toBe("number");
    expect(s.certificate).toBeDefined();

    // GET settlement and GET intent agree with the answer.
    const rs = await SELF.fetch(`${BASE}/v1/markets/${m}/settlements/${s.id}`);
    expect(rs.status).toBe(200);
    expect(await json(rs)).toEqual(s);
    const ri = await SELF.fetch(`${BASE}/v1/markets/${m}/intents/b1`);
    expect(ri.status).toBe(200);
    const b1 = await json(ri);
    expect(b1).toMatchObject({ id: "b1", status: "filled", filledQuantity: 100, remainingQuantity: 0 });
    expect(b1.fills).toEqual([{ settlement: s.id, ...s.fills[0] }]);

    // The market view: the seller's rest is open; counters count what happened.
    const mv = await json(await SELF.fetch(`${BASE}/v1/markets/${m}`));
    expect(mv.market).toBe(m);
    expect(mv.openIntents.map((i: { id: string }) => i.id)).toEqual([a2.intent.id]);
    expect(mv.counters).toMatchObject({ intents: 2, openIntents: 1, settlements: 1, fills: 1, volume: 100 });
    expect(mv.counters.welfare).toBeCloseTo(40, 6);
    expect(mv.counters.notional).toBeCloseTo(160, 6);
    expect(mv.config).toMatchObject({ clearing: "continuous", batchIntervalMs: 1000 });
    expect(mv.config.latency).toBeTypeOf("object");
  });

  test("no cross, no settlement; intents stay open", async () => {
    const m = freshMarket();
    const a = await newAgent();
    await submit(a, m, buyIntent({ limitPrice: 1 }));
    const r = await json(await submit(a, m, sellIntent({ limitPrice: 2 })));
    expect(r.settlement).toBeUndefined();
    expect(r.intent.status).toBe("open");
  });

  test("settlement atomicity: fills never exceed quantities and statuses match the fills", async () => {
    const m = freshMarket();
    const [a, b] = [await newAgent(), await newAgent()]; // one agent's buy and sell never fill each other
    const ids: string[] = [];
    const spec = [
      buyIntent({ quantity: 30, limitPrice: 2.0 }),
      sellIntent({ quantity: 20, limitPrice: 1.0 }),
      buyIntent({ quantity: 15, limitPrice: 1.9 }),
      sellIntent({ quantity: 40, limitPrice: 1.2 }),
      buyIntent({ quantity: 25, limitPrice: 1.5, minQuantity: 25 }),
      sellIntent({ quantity: 5, limitPrice: 1.6 }),
    ];
    for (const intent of spec) ids.push((await json(await submit(intent.side === "sell" ? b : a, m, intent))).intent.id);
    let fillsSeen = 0;
    for (const id of ids) {
      const v = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/${id}`));
      const sum = v.fills.reduce((t: number, f: { quantity: number }) => t + f.quantity, 0);
      fillsSeen += v.fills.length;
      expect(sum).toBeLessThanOrEqual(v.quantity + 1e-9);
      expect(v.filledQuantity).toBeCloseTo(sum, 9);
      expect(v.remainingQuantity).toBeCloseTo(v.quantity - sum, 9);
      const expected = sum >= v.quantity - 1e-9 ? "filled" : sum > 0 ? "partially_filled" : "open";
      expect(v.status).toBe(expected);
      if (v.minQuantity !== undefined && sum > 0) expect(sum).toBeGreaterThanOrEqual(v.minQuantity - 1e-9);
    }
    const mv = await json(await SELF.fetch(`${BASE}/v1/markets/${m}`));
    expect(fillsSeen).toBe(2 * mv.counters.fills); // each fill seen once by its buy and once by its sell
    expect(mv.counters.fills).toBeGreaterThan(0);
  });
});

describe("ids", () => {
  test("a client id already used in the market is a 409 problem; other markets are separate", async () => {
    const m = freshMarket();
    const a = await newAgent();
    expect((await submit(a, m, buyIntent({ id: "dup" }))).status).toBe(201);
    const r = await submit(a, m, buyIntent({ id: "dup" }));
    expect(r.status).toBe(409);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
    expect(await json(r)).toMatchObject({ status: 409, errors: [{ field: "id" }] });
    expect((await submit(a, freshMarket(), buyIntent({ id: "dup" }))).status).toBe(201);
  });

  test("unknown intent and settlement are 404 problems", async () => {
    const m = freshMarket();
    await submit(await newAgent(), m, buyIntent({ resource: "elsewhere" })); // the market exists
    for (const path of [`/v1/markets/${m}/intents/nope`, `/v1/markets/${m}/settlements/s-99`]) {
      const r = await SELF.fetch(BASE + path);
      expect(r.status).toBe(404);
      expect(await json(r)).toMatchObject({ status: 404, type: "urn:nash:problem:not-found" });
    }
  });
});

describe("cancel", () => {
  test("own agent cancels; another agent gets 403; a second cancel is 409; cancelled never trades", async () => {
    const m = freshMarket();
    const [owner, other] = [await newAgent(), await newAgent()];
    await submit(owner, m, buyIntent({ id: "c1" }));
    const path = `/v1/markets/${m}/intents/c1`;
    const forbidden = await signedFetch(other, "DELETE", path);
    expect(forbidden.status).toBe(403);
    expect(await json(forbidden)).toMatchObject({ status: 403 });
    const ok = await signedFetch(owner, "DELETE", path);
    expect(ok.status).toBe(200);
    expect((await json(ok)).intent).toMatchObject({ id: "c1", status: "cancelled", remainingQuantity: 0 });
    expect((await signedFetch(owner, "DELETE", path)).status).toBe(409);
    expect((await signedFetch(owner, "DELETE", `/v1/markets/${m}/intents/none`)).status).toBe(404);
    const r = await json(await submit(other, m, sellIntent()));
    expect(r.settlement).toBeUndefined();
    expect((await json(await SELF.fetch(BASE + path))).status).toBe("cancelled");
  });

  test("unsigned cancel is 401 and changes nothing", async () => {
    const m = freshMarket();
    const owner = await newAgent();
    await submit(owner, m, buyIntent({ id: "c2" }));
    const r = await SELF.fetch(`${BASE}/v1/markets/${m}/intents/c2`, { method: "DELETE" });
    expect(r.status).toBe(401);
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/c2`))).status).toBe("open");
  });
});

describe("Idempotency-Key", () => {
  test("a re-signed retry with the same key and body gets the first answer, not a second intent", async () => {
    const m = freshMarket();
    const a = await newAgent();
    const body = JSON.stringify(buyIntent());
    const first = await signedFetch(a, "POST", `/v1/markets/${m}/intents`, body, { headers: { "idempotency-key": "k1" } });
    const second = await signedFetch(a, "POST", `/v1/markets/${m}/intents`, body, { headers: { "idempotency-key": "k1" }, timestamp: Date.now() + 1 });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(await json(second)).toEqual(await json(first));
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))).counters.intents).toBe(1);
  });

  test("a byte-identical resend (same signature) with the key gets the first answer, not a replay refusal", async () => {
    const m = freshMarket();
    const a = await newAgent();
    const { signRequest } = await import("../../src/contract/auth.ts");
    const path = `/v1/markets/${m}/intents`;
    const body = JSON.stringify(sellIntent());
    const headers = { ...(await signRequest({ privateKey: a.privateKey, method: "POST", path, body })), "idempotency-key": "same" };
    const r1 = await SELF.fetch(BASE + path, { method: "POST", body, headers });
    const r2 = await SELF.fetch(BASE + path, { method: "POST", body, headers });
    expect([r1.status, r2.status]).toEqual([201, 201]);
    expect(await json(r2)).toEqual(await json(r1));
  });

  test("the same key with a different body is a 422 problem and creates nothing", async () => {
    const m = freshMarket();
    const a = await newAgent();
    await submit(a, m, buyIntent(), { "idempotency-key": "k2" });
    const r = await submit(a, m, buyIntent({ quantity: 7 }), { "idempotency-key": "k2" });
    expect(r.status).toBe(422);
    expect(await json(r)).toMatchObject({ status: 422, type: "urn:nash:problem:idempotency-conflict", errors: [{ field: "Idempotency-Key" }] });
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))).counters.intents).toBe(1);
  });

  test("keys are per agent: another agent's same key is a fresh request", async () => {
    const m = freshMarket();
    const [a, b] = [await newAgent(), await newAgent()];
    await submit(a, m, buyIntent(), { "idempotency-key": "shared" });
    expect((await submit(b, m, buyIntent(), { "idempotency-key": "shared" })).status).toBe(201);
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))).counters.intents).toBe(2);
  });

  test("a malformed key is 400", async () => {
    const r = await submit(await newAgent(), freshMarket(), buyIntent(), { "idempotency-key": "has space" });
    expect(r.status).toBe(400);
  });
});

describe("settlement transaction", () => {
  test("a settlement that fails half way is rolled back entirely; the intents stay open and trade later", async () => {
    const { env, runInDurableObject } = await import("cloudflare:test");
    const m = freshMarket();
    const stub = env.MARKET.getByName(m);
    const [a, b] = [await newAgent(), await newAgent()]; // one agent's buy and sell never fill each other
    await submit(a, m, buyIntent({ id: "tb" }));
    // Plant a fills row under the id the next settlement will get: its settlement row inserts fine, then its
    // first fill collides, so only a real transaction leaves no trace of it.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("INSERT INTO fills (settlement_id, idx, buy, sell, resource, quantity, price) VALUES ('s-1', 0, 'x', 'y', 'z', 1, 1)");
    });
    const r = await submit(b, m, sellIntent({ id: "ts" }));
    expect(r.status).toBe(201);
    const answer = await json(r);
    expect(answer.settlement).toBeUndefined();
    expect(answer.intent).toMatchObject({ status: "open", filledQuantity: 0 });
    const rows = await runInDurableObject(stub, (_instance, state) => ({
      settlements: state.storage.sql.exec("SELECT COUNT(*) AS n FROM settlements").one().n,
      fills: state.storage.sql.exec("SELECT COUNT(*) AS n FROM fills").one().n,
      filled: state.storage.sql.exec("SELECT COALESCE(SUM(filled), 0) AS f FROM intents").one().f,
    }));
    expect(rows).toEqual({ settlements: 0, fills: 1, filled: 0 });
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/tb`))).status).toBe("open");
    // Remove the obstacle: the next clearing settles the whole book.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("DELETE FROM fills WHERE buy = 'x'");
    });
    const next = await json(await submit(a, m, buyIntent({ id: "tb2", quantity: 10 })));
    expect(next.settlement.fills.map((f: { buy: string }) => f.buy).sort()).toEqual(["tb", "tb2"]);
  });

  test("concurrent submits: every settlement is consistent with every intent", async () => {
    const m = freshMarket();
    const agents = await Promise.all(Array.from({ length: 4 }, () => newAgent()));
    const specs = Array.from({ length: 24 }, (_, k) =>
      k % 2 === 0
        ? buyIntent({ id: `cb${k}`, quantity: 5 + (k % 7), limitPrice: 1.5 + (k % 5) / 10, minQuantity: k % 6 === 0 ? 3 : undefined })
        : sellIntent({ id: `cs${k}`, quantity: 4 + (k % 9), limitPrice: 1.2 + (k % 4) / 10 }),
    );
    const answers = await Promise.all(specs.map((spec, k) => submit(agents[k % 4], m, spec)));
    expect(answers.map((r) => r.status)).toEqual(specs.map(() => 201));
    const mv = await json(await SELF.fetch(`${BASE}/v1/markets/${m}`));
    expect(mv.counters.intents).toBe(24);
    let volumeSeen = 0;
    for (const spec of specs) {
      const v = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/${spec.id}`));
      const sum = v.fills.reduce((t: number, f: { quantity: number }) => t + f.quantity, 0);
      expect(sum).toBeLessThanOrEqual(v.quantity + 1e-9);
      expect(v.filledQuantity).toBeCloseTo(sum, 9);
      if (spec.side === "buy") volumeSeen += sum;
      for (const f of v.fills) {
        const buyLimit = specs.find((s) => s.id === f.buy)!.limitPrice as number;
        const sellLimit = specs.find((s) => s.id === f.sell)!.limitPrice as number;
        expect(f.price).toBeGreaterThanOrEqual(sellLimit - 1e-9); // individually rational
        expect(f.price).toBeLessThanOrEqual(buyLimit + 1e-9);
      }
    }
    expect(volumeSeen).toBeCloseTo(mv.counters.volume, 6);
    expect(mv.counters.settlements).toBeGreaterThan(0);
  });
});
