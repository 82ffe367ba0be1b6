// The market object's time-driven and operator behaviour: batch clearing and expiry on the alarm, operator
// configuration, the WebSocket event stream, and state that survives the object's restart.
import { SELF, env, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { agentKeyFromSeed } from "../../src/contract/auth.ts";
import { BASE, buyIntent, eventually, freshMarket, json, newAgent, sellIntent, signedFetch, sleep, submit } from "./helpers.ts";

/** A fixed operator key (seed 0x07 × 32), listed in OPERATOR_AGENTS for these tests only. */
const operator = await agentKeyFromSeed(new Uint8Array(32).fill(7));

async function withOperators<T>(keys: string | undefined, run: () => Promise<T>): Promise<T> {
  const vars = env as unknown as { OPERATOR_AGENTS?: string };
  const before = vars.OPERATOR_AGENTS;
  vars.OPERATOR_AGENTS = keys;
  try {
    return await run();
  } finally {
    vars.OPERATOR_AGENTS = before;
  }
}

function putConfig(agent: Awaited<ReturnType<typeof newAgent>>, m: string, config: unknown) {
  return signedFetch(agent, "PUT", `/v1/markets/${m}/config`, config);
}

describe("operator configuration", () => {
  test("no OPERATOR_AGENTS set: 403 with a clear message", async () => {
    await withOperators(undefined, async () => {
      const r = await putConfig(operator, freshMarket(), { clearing: "batch" });
      expect(r.status).toBe(403);
      expect((await json(r)).detail).toMatch(/OPERATOR_AGENTS/);
    });
  });

  test("a key not listed is 403; unsigned is 401; a bad config is 422; a listed key sets it", async () => {
    await withOperators(`someone-else, ${operator.publicKey}`, async () => {
      const m = freshMarket();
      expect((await putConfig(await newAgent(), m, { clearing: "batch" })).status).toBe(403);
      expect((await SELF.fetch(`${BASE}/v1/markets/${m}/config`, { method: "PUT", body: "{}" })).status).toBe(401);
      const bad = await putConfig(operator, m, { clearing: "sometimes", batchIntervalMs: 1 });
      expect(bad.status).toBe(422);
      expect((await json(bad)).errors.map((e: { field: string }) => e.field).sort()).toEqual(["batchIntervalMs", "clearing"]);
      const latency = { "eu-west": { "eu-west": 1, "us-east": 90 } };
      const ok = await putConfig(operator, m, { clearing: "batch", batchIntervalMs: 5000, latency });
      expect(ok.status).toBe(200);
      expect(await json(ok)).toEqual({ config: { clearing: "batch", batchIntervalMs: 5000, latency } });
      expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))).config).toEqual({ clearing: "batch", batchIntervalMs: 5000, latency });
    });
  });

  test("the market's latency table decides who may trade", async () => {
    await withOperators(operator.publicKey, async () => {
      const m = freshMarket();
      // Only eu-west is listed: a capped buyer in us-east cannot reach an eu-west seller.
      expect((await putConfig(operator, m, { latency: { "eu-west": { "eu-west": 0 } } })).status).toBe(200);
      const a = await newAgent();
      await submit(a, m, buyIntent({ region: "us-east", maxLatencyMs: 500 }));
      expect((await json(await submit(a, m, sellIntent()))).settlement).toBeUndefined();
    });
  });
});

describe("batch clearing", () => {
  test("intents wait for the alarm; the batch settles together", async () => {
    await withOperators(operator.publicKey, async () => {
      const m = freshMarket();
      expect((await putConfig(operator, m, { clearing: "batch", batchIntervalMs: 400 })).status).toBe(200);
      const [a, b] = [await newAgent(), await newAgent()]; // one agent's buy and sell never fill each other
      const r1 = await json(await submit(a, m, buyIntent({ id: "bb" })));
      const r2 = await json(await submit(b, m, sellIntent({ id: "bs" })));
      expect(r1.settlement).toBeUndefined();
      expect(r2.settlement).toBeUndefined();
      expect(r2.intent.status).toBe("open");
      const settled = await eventually(async () => {
        await runDurableObjectAlarm(env.MARKET.getByName(m)); // runs it now if still pending (the real alarm may win)
        const v = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/bb`));
        return v.status === "filled" ? v : undefined;
      });
      expect(settled.fills[0]).toMatchObject({ buy: "bb", sell: "bs", quantity: 100 });
      expect(settled.fills[0].price).toBeCloseTo(1.6, 9);
      expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))).counters.settlements).toBe(1);
    });
  });

  test("the alarm does not clear before the batch is due", async () => {
    await withOperators(operator.publicKey, async () => {
      const m = freshMarket();
      await putConfig(operator, m, { clearing: "batch", batchIntervalMs: 3_600_000 });
      const [a, b] = [await newAgent(), await newAgent()];
      await submit(a, m, buyIntent({ id: "w1" }));
      await submit(b, m, sellIntent());
      expect(await runDurableObjectAlarm(env.MARKET.getByName(m))).toBe(true);
      expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/w1`))).status).toBe("open");
      // Switching back to continuous clears what the batch held.
      await putConfig(operator, m, { clearing: "continuous" });
      expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/w1`))).status).toBe("filled");
    });
  });
});

describe("expiry", () => {
  test("the alarm marks an intent expired, and an expired intent never trades", async () => {
    const m = freshMarket();
    const a = await newAgent();
    const expiresAt = new Date(Date.now() + 600).toISOString();
    const r = await json(await submit(a, m, buyIntent({ id: "e1", expiresAt })));
    expect(r.intent).toMatchObject({ status: "open", expiresAt });
    await sleep(700);
    await runDurableObjectAlarm(env.MARKET.getByName(m)); // false if the real alarm already ran: either way it is due
    const stored = await env.MARKET.getByName(m).getIntent("e1");
    expect(stored).toMatchObject({ ok: true, value: { status: "expired", remainingQuantity: 0 } });
    const after = await json(await submit(a, m, sellIntent()));
    expect(after.settlement).toBeUndefined();
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/e1`))).status).toBe("expired");
    expect((await signedFetch(a, "DELETE", `/v1/markets/${m}/intents/e1`)).status).toBe(409);
  });
});

/** Makes market `m` exist (a stream, like every read, is 404 until a market took a write): one resting intent of
 *  another resource, before any stream is open. */
async function createMarket(m: string): Promise<void> {
  expect((await submit(await newAgent(), m, buyIntent({ resource: "elsewhere", limitPrice: 0.01 }))).status).toBe(201);
}

/** Opens market `m`'s stream (with `query`, e.g. `?types=…`) and collects its events. */
async function openStream(m: string, query = "") {
  const res = await SELF.fetch(`${BASE}/v1/markets/${m}/stream${query}`, { headers: { Upgrade: "websocket" } });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const events: { type: string; [k: string]: unknown }[] = [];
  ws.addEventListener("message", (e) => {
    events.push(JSON.parse(String(e.data)));
  });
  ws.accept();
  return { ws, events };
}

describe("WebSocket stream", () => {
  test("receives intent.accepted and settlement.committed", async () => {
    const m = freshMarket();
    await createMarket(m);
    const { ws, events } = await openStream(m);
    const [a, b] = [await newAgent(), await newAgent()]; // one agent's buy and sell never fill each other
    await submit(a, m, buyIntent({ id: "w-b" }));
    const answer = await json(await submit(b, m, sellIntent({ id: "w-s" })));
    await eventually(async () => (events.some((e) => e.type === "settlement.committed") ? true : undefined), 3000);
    expect(events[0]).toMatchObject({ type: "hello", market: m });
    expect(events.filter((e) => e.type === "intent.accepted").map((e) => (e.intent as { id: string }).id)).toEqual(["w-b", "w-s"]);
    expect(events.find((e) => e.type === "settlement.committed")).toMatchObject({ settlement: answer.settlement });
    ws.close(1000, "done");
  });

  test("?types= narrows a stream to those events; other streams still get everything", async () => {
    const m = freshMarket();
    await createMarket(m);
    const settlements = await openStream(m, "?types=settlement.committed");
    const cancels = await openStream(m, "?types=intent.cancelled,intent.accepted");
    const all = await openStream(m);
    const [a, b] = [await newAgent(), await newAgent()]; // one agent's buy and sell never fill each other
    await submit(a, m, buyIntent({ id: "f-b" }));
    await submit(a, m, buyIntent({ id: "f-rest", limitPrice: 0.5 }));
    await submit(b, m, sellIntent({ id: "f-s" }));
    expect((await signedFetch(a, "DELETE", `/v1/markets/${m}/intents/f-rest`)).status).toBe(200);
    await eventually(async () => (all.events.some((e) => e.type === "intent.cancelled") ? true : undefined), 3000);
    await sleep(100); // the same broadcasts went to the filtered sockets
    expect(settlements.events.map((e) => e.type)).toEqual(["hello", "settlement.committed"]);
    expect(cancels.events.map((e) => e.type)).toEqual(["hello", "intent.accepted", "intent.accepted", "intent.accepted", "intent.cancelled"]);
    expect(all.events.map((e) => e.type)).toEqual(["hello", "intent.accepted", "intent.accepted", "intent.accepted", "settlement.committed", "intent.cancelled"]);
    for (const s of [settlements, cancels, all]) s.ws.close(1000, "done");
  });

  test("an unknown or repeated ?types= is 400 naming the field, before any upgrade", async () => {
    for (const query of ["?types=", "?types=settlement", "?types=settlement.committed,settlement.committed", "?types=hello"]) {
      const r = await SELF.fetch(`${BASE}/v1/markets/${freshMarket()}/stream${query}`, { headers: { Upgrade: "websocket" } });
      expect(r.status, query).toBe(400);
      expect(r.headers.get("content-type")).toBe("application/problem+json");
      const body = await json(r);
      expect(body.type).toBe("urn:nash:problem:invalid-stream-types");
      expect(body.errors.map((e: { field: string }) => e.field.split(".")[0]), query).toContain("types");
    }
  });

  test("a plain GET on the stream is 426", async () => {
    const r = await SELF.fetch(`${BASE}/v1/markets/${freshMarket()}/stream`);
    expect(r.status).toBe(426);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("persistence", () => {
  test("intents, settlements, seen signatures and sequence numbers survive an object restart", async () => {
    const m = freshMarket();
    const stub = env.MARKET.getByName(m);
    const [a, b] = [await newAgent(), await newAgent()]; // one agent's buy and sell never fill each other
    await submit(a, m, buyIntent({ id: "p1" }));
    const first = await json(await submit(b, m, sellIntent({ id: "p2", quantity: 60 })));
    const { signRequest } = await import("../../src/contract/auth.ts");
    const path = `/v1/markets/${m}/intents`;
    const body = JSON.stringify(sellIntent({ id: "p3", quantity: 10 }));
    const headers = await signRequest({ privateKey: b.privateKey, method: "POST", path, body });
    expect((await SELF.fetch(BASE + path, { method: "POST", body, headers })).status).toBe(201);

    await evictDurableObject(stub);
    await sleep(10);

    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}/settlements/${first.settlement.id}`))).id).toBe(first.settlement.id);
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/p1`))).filledQuantity).toBe(70);
    // The replay guard survived the restart too.
    expect((await SELF.fetch(BASE + path, { method: "POST", body, headers })).status).toBe(401);
    // The settlement sequence continues: the next settlement gets a new id.
    const next = await json(await submit(b, m, sellIntent({ id: "p4", quantity: 30, limitPrice: 1.5 })));
    expect(next.settlement.id).not.toBe(first.settlement.id);
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))).counters).toMatchObject({ intents: 4, settlements: 3 });
  });
});
