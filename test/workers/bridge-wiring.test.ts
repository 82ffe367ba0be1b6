// The bridge wired into the edge inside workerd: the market object's outbox (written in the settlement's own
// transaction, rolled back with it, drained by the shared alarm with backoff, shown in GET /v1/markets/{m}),
// and POST /NashChallenge through the real route with its rejection paths and nonces that survive eviction.
// Nothing listens on 127.0.0.1:8919, so the relay's attempts here are refused connections (the delivery to a
// real node is covered under wrangler dev by test/node/bridge-e2e.test.ts).
import { SELF, env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { keypairFromUriOrThrow } from "../../src/bridge/keys.ts";
import { NASH_CHALLENGE, readAxonResponse, signDendriteRequest } from "../../src/bridge/synapse.ts";
import { MarketView } from "../../src/contract/schema.ts";
import { BASE, buyIntent, eventually, freshMarket, json, newAgent, sellIntent, signedFetch, submit } from "./helpers.ts";

const BOB = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
const CHARLIE = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
const BRIDGE = { MINER_NODE_URL: "http://127.0.0.1:8919", MINER_HOTKEY_URI: "//Alice", AXON_HOTKEY: BOB, VALIDATOR_HOTKEYS: CHARLIE };
const vars = env as unknown as Record<string, string | undefined>;

/** The bridge variables as the worker and new objects see them (the test shares their env object). */
function bridge(on: boolean): void {
  for (const [k, v] of Object.entries(BRIDGE)) {
    if (on) vars[k] = v;
    else delete vars[k];
  }
}
afterEach(() => {
  bridge(false);
  delete vars.OPERATOR_AGENTS;
});

async function marketView(m: string) {
  return json(await SELF.fetch(`${BASE}/v1/markets/${m}`));
}

/** Sells, then buys across: the second POST commits settlement s-1 (continuous clearing). */
async function cross(m: string) {
  const seller = await newAgent();
  const buyer = await newAgent();
  expect((await submit(seller, m, sellIntent())).status).toBe(201);
  const res = await submit(buyer, m, buyIntent());
  expect(res.status).toBe(201);
  return json(res);
}

describe("settlement outbox in the market object", () => {
  it("bridge off: no outbox table, no rows, and the market view says off", async () => {
    bridge(false);
    const m = freshMarket("off");
    const answer = await cross(m);
    expect(answer.settlement.id).toBe("s-1");
    const view = await marketView(m);
    expect(view.counters.settlements).toBe(1);
    expect(view.outbox).toEqual({ relay: "off" });
    expect(MarketView.safeParse(view).success).toBe(true);
    await runInDurableObject(env.MARKET.getByName(m), async (_i, state) => {
      expect(state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name LIKE 'bridge_%'").toArray()).toEqual([]);
    });
  });

  it("enqueues in the settlement's transaction, and the alarm drains with backoff when the node refuses", async () => {
    bridge(true);
    const m = freshMarket("relay");
    const answer = await cross(m);
    const stub = env.MARKET.getByName(m);
    await runInDurableObject(stub, async (_i, state) => {
      const rows = state.storage.sql.exec<{ key: string; settlement_id: string; payload: string }>("SELECT key, settlement_id, payload FROM bridge_outbox").toArray();
      // The alarm may already have tried once; the row stays until the node acknowledges.
      expect(rows.map((r) => r.key)).toEqual([`nash:${m}:s-1`]);
      const message = JSON.parse(rows[0].payload);
      expect(message).toMatchObject({ kind: "nash.settlement", v: 1, key: `nash:${m}:s-1`, market: m });
      expect(message.settlement).toEqual(answer.settlement);
    });
    // The shared alarm fires at once (next_attempt_at = commit time), is refused, and backs off.
    const view = await eventually(async () => {
      const v = await marketView(m);
      return v.outbox.counters.failed_attempts >= 1 ? v : undefined;
    }, 10_000);
    expect(view.outbox).toMatchObject({ relay: "on", target: BRIDGE.MINER_NODE_URL, pending: 1, capacity: 20_000, full: false });
    expect(view.outbox.counters).toMatchObject({ enqueued: 1, delivered: 0, refused_full: 0 });
    expect(MarketView.safeParse(view).success).toBe(true); // the contract's schema (src/contract/schema.ts) describes it
    await runInDurableObject(stub, async (_i, state) => {
      const row = state.storage.sql.exec<{ next_attempt_at: number; attempts: number; last_error: string }>("SELECT * FROM bridge_outbox").one();
      expect(row.attempts).toBeGreaterThanOrEqual(1);
      expect(row.last_error).toBeTruthy();
      // The alarm waits for the retry (≥ 0.5 s after the first failure, with jitter): it does not spin.
      const alarm = await state.storage.getAlarm();
      expect(alarm).toBe(row.next_attempt_at);
    });
  });

  it("an outbox failure rolls the settlement back: no settlement, the intents stay open", async () => {
    bridge(true);
    const m = freshMarket("rb1");
    const seller = await newAgent();
    const buyer = await newAgent();
    expect((await submit(seller, m, sellIntent())).status).toBe(201);
    await runInDurableObject(env.MARKET.getByName(m), async (_i, state) => {
      // The outbox insert inside the settlement's transaction now fails (reads of the table still work).
      state.storage.sql.exec("CREATE TRIGGER refuse_outbox BEFORE INSERT ON bridge_outbox BEGIN SELECT RAISE(ABORT, 'outbox write failed'); END");
    });
    const res = await submit(buyer, m, buyIntent());
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.settlement).toBeUndefined();
    expect(body.intent.status).toBe("open");
    const view = await marketView(m);
    expect(view.counters).toMatchObject({ settlements: 0, fills: 0, openIntents: 2 });
    expect(view.outbox).toMatchObject({ pending: 0, counters: { enqueued: 0 } });
  });

  it("a settlement failure rolls the outbox row back: nothing is relayed that was not committed", async () => {
    bridge(true);
    const m = freshMarket("rb2");
    const seller = await newAgent();
    const buyer = await newAgent();
    expect((await submit(seller, m, sellIntent())).status).toBe(201);
    await runInDurableObject(env.MARKET.getByName(m), async (_i, state) => {
      // A row already holding id s-1 makes the settlement insert fail after the enqueue ran.
      state.storage.sql.exec("INSERT INTO settlements (id, seq, body, welfare, created_at) VALUES ('s-1', 999, '{}', 0, '')");
    });
    const body = await json(await submit(buyer, m, buyIntent()));
    expect(body.settlement).toBeUndefined();
    const view = await marketView(m);
    expect(view.outbox).toMatchObject({ pending: 0, counters: { enqueued: 0 } });
    expect(view.counters).toMatchObject({ fills: 0, openIntents: 2 });
  });
});

describe("one alarm for batch clearing, expiry and the relay", () => {
  it("a batch settled by the alarm is relayed, and the alarm is the minimum of the next expiry and the retry", async () => {
    bridge(true);
    const operator = await newAgent();
    vars.OPERATOR_AGENTS = operator.publicKey;
    const m = freshMarket("batch");
    const put = await signedFetch(operator, "PUT", `/v1/markets/${m}/config`, { clearing: "batch", batchIntervalMs: 200 });
    expect(put.status).toBe(200);
    const [a, b] = [await newAgent(), await newAgent()]; // one agent's buy and sell never fill each other
    expect((await json(await submit(a, m, buyIntent()))).settlement).toBeUndefined();
    expect((await json(await submit(b, m, sellIntent()))).settlement).toBeUndefined();
    // An intent that cannot trade but expires: a third want for the same alarm.
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    expect((await submit(a, m, buyIntent({ resource: "other", expiresAt }))).status).toBe(201);
    // The batch alarm settles; the relay's attempt follows (refused) and backs off.
    const view = await eventually(async () => {
      const v = await marketView(m);
      return v.counters.settlements === 1 && v.outbox.counters.failed_attempts >= 1 ? v : undefined;
    }, 10_000);
    expect(view.outbox).toMatchObject({ pending: 1, counters: { enqueued: 1 } });
    await runInDurableObject(env.MARKET.getByName(m), async (_i, state) => {
      const retry = state.storage.sql.exec<{ t: number }>("SELECT next_attempt_at AS t FROM bridge_outbox").one().t;
      expect(await state.storage.getAlarm()).toBe(Math.min(retry, Date.parse(expiresAt)));
    });
  });
});

describe("POST /NashChallenge", () => {
  const charlie = keypairFromUriOrThrow("//Charlie");
  const dave = keypairFromUriOrThrow("//Dave");
  let nonce = BigInt(Date.now()) * 1_000_000n;
  const challenge = JSON.stringify({ market: "axon-test", intents: [{ agent: "a", ...buyIntent() }, { agent: "b", ...sellIntent() }] });

  function signed(keypair = charlie, uuid = "11111111-2222-3333-4444-555555555555", fields = { challenge }) {
    nonce = (BigInt(Date.now()) * 1_000_000n > nonce ? BigInt(Date.now()) * 1_000_000n : nonce) + 1n;
    return signDendriteRequest({ synapse: NASH_CHALLENGE, fields, keypair, axonHotkey: BOB, timeoutSec: 12, nonce, uuid });
  }
  function post(req: { headers: Record<string, string>; body: string }, headers: Record<string, string> = {}) {
    return SELF.fetch(`${BASE}/NashChallenge`, { method: "POST", headers: { ...req.headers, "content-type": "application/json", ...headers }, body: req.body });
  }

  it("is 404 while the bridge is off", async () => {
    bridge(false);
    const res = await post(signed());
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });

  it("answers an allowed validator with the market's settlement, as a synapse with axon headers", async () => {
    bridge(true);
    const res = await post(signed());
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get("bt_header_axon_status_code")).toBe("200");
    expect(res.headers.get("bt_header_axon_hotkey")).toBe(BOB);
    const read = readAxonResponse(res.status, res.headers, text);
    const settlement = JSON.parse(read.fields!.settlement as string);
    expect(settlement).toMatchObject({ market: "axon-test", fills: [{ buy: "c1", sell: "c2", quantity: 100 }] });
    expect(settlement.fills[0].price).toBeCloseTo(1.6, 9);
    // The live book is untouched: the market was never written, so it reads as not found.
    expect((await SELF.fetch(`${BASE}/v1/markets/axon-test`)).status).toBe(404);
  });

  it("rejects like an axon: 403 stranger, 401 bad signature, 400 bad header, 500 body hash, 400 bad challenge", async () => {
    bridge(true);
    expect((await post(signed(dave))).status).toBe(403);
    const forged = signed();
    const flipped = forged.headers.bt_header_dendrite_signature.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
    const r401 = await post(forged, { bt_header_dendrite_signature: flipped });
    expect(r401.status).toBe(401);
    expect(r401.headers.get("bt_header_axon_status_code")).toBe("401");
    expect((await post(signed(), { timeout: "soon" })).status).toBe(400);
    const tampered = signed();
    const changed = tampered.body.replace('\\"agent\\":\\"a\\"', '\\"agent\\":\\"z\\"');
    expect(changed).not.toBe(tampered.body);
    expect((await post({ headers: tampered.headers, body: changed })).status).toBe(500);
    expect((await post(signed(charlie, undefined, { challenge: '{"market":"axon-test"}' }))).status).toBe(400);
    const huge = await SELF.fetch(`${BASE}/NashChallenge`, { method: "POST", headers: signed().headers, body: "x".repeat(5 * 1024 * 1024) });
    expect(huge.status).toBe(413);
  });

  it("refuses a replay, also after the axon object was evicted (nonces are in its SQLite)", async () => {
    bridge(true);
    const req = signed(charlie, "99999999-2222-3333-4444-555555555555");
    expect((await post(req)).status).toBe(200);
    expect((await post(req)).status).toBe(401);
    // (worker-configuration.d.ts predates the AXON binding: `npm run types` regenerates it.)
    await evictDurableObject((env as unknown as { AXON: DurableObjectNamespace }).AXON.getByName(`validator:${CHARLIE}`));
    const again = await post(req);
    expect(again.status).toBe(401);
    expect(again.headers.get("bt_header_axon_status_message")).toContain("Nonce is too old");
    // A fresh nonce on the same endpoint still works.
    expect((await post(signed(charlie, "99999999-2222-3333-4444-555555555555"))).status).toBe(200);
  });
});
