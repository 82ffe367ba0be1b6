// The market's store and operations on node:sqlite, with the statements the Durable Object runs: migrations,
// intake, fills, cancel and expiry, and the liveness rule in SQL checked against the TypeScript one.
import { DatabaseSync } from "node:sqlite";
import fc from "fast-check";
import { describe, expect, test, vi } from "vitest";
import { dueExpiries, isLive, nextExpiry, type IntentRecord } from "../../src/market/book.ts";
import { DEFAULT_OPEN_INTENT_CAPS, DEFAULT_RATE_LIMITS, WriteBudget } from "../../src/market/guards.ts";
import { Market, type SubmitAnswer } from "../../src/market/market.ts";
import { LIVE_AT_SQL, LIVE_STATUS_SQL, MIGRATIONS, MarketStore, migrate, schemaExists, type Transaction } from "../../src/market/store.ts";
import type { Outcome } from "../../src/market/outcome.ts";
import type { ClosedProposalView, IntentInput, IntentStatus, MarketEvent } from "../../src/contract/schema.ts";
import { sqliteExec } from "./bridge-fixtures.ts";

function nodeTransaction(db: DatabaseSync): Transaction {
  return (fn) => {
    db.exec("BEGIN");
    try {
      const out = fn();
      db.exec("COMMIT");
      return out;
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  };
}

function openStore(db = new DatabaseSync(":memory:")): { db: DatabaseSync; store: MarketStore } {
  migrate(sqliteExec(db));
  return { db, store: new MarketStore(sqliteExec(db), nodeTransaction(db)) };
}

/** A market over node:sqlite, with its events and alarm times recorded. */
function openMarket() {
  const { db, store } = openStore();
  const events: MarketEvent[] = [];
  const alarms: (number | null)[] = [];
  const budget = new WriteBudget(DEFAULT_RATE_LIMITS, { burst: 1e6, perSecond: 1e6 });
  const market = new Market("m1", store, { broadcast: (e) => events.push(e), setAlarm: (at) => alarms.push(at) }, { budget, openIntentCaps: DEFAULT_OPEN_INTENT_CAPS }, null);
  return { db, store, market, events, alarms };
}

let signatures = 0;
const auth = (agent: string) => ({ agent, signature: `sig-${++signatures}`, timestamp: Date.now() });
const intent = (agent: string, fields: Partial<IntentInput> & Pick<IntentInput, "id" | "side">): IntentInput => ({
  agent,
  resource: "gpu-h100-hr",
  quantity: 10,
  limitPrice: fields.side === "buy" ? 2 : 1,
  region: "eu-west",
  ...fields,
});

function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(JSON.stringify(outcome.problem));
  return outcome.value;
}

describe("migrations", () => {
  test("a fresh database reaches the newest version once; a second run changes nothing", () => {
    const db = new DatabaseSync(":memory:");
    const exec = sqliteExec(db);
    expect(schemaExists(exec)).toBe(false);
    expect(migrate(exec)).toBe(MIGRATIONS.length);
    expect(schemaExists(exec)).toBe(true);
    const tables = () => exec("SELECT name FROM sqlite_master ORDER BY name").map((r) => r.name);
    const before = tables();
    expect(migrate(exec)).toBe(MIGRATIONS.length);
    expect(tables()).toEqual(before);
    expect(before).toEqual(expect.arrayContaining(["intents", "settlements", "fills", "commitments", "proposals", "batches", "intents_live_price", "intents_open_minimum"]));
  });

  test("rows written under v3 read through the virtual columns v4 and v5 add", () => {
    const db = new DatabaseSync(":memory:");
    const exec = sqliteExec(db);
    exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    for (const statement of MIGRATIONS.slice(0, 3).flat()) exec(statement);
    exec("INSERT INTO meta (key, value) VALUES ('schema_version', '3')");
    const body = JSON.stringify({ id: "a", agent: "A", side: "sell", resource: "r", quantity: 5, limitPrice: 1.5, region: "eu-west", minQuantity: 2 });
    exec("INSERT INTO intents (id, seq, agent, resource, body, status, filled, created_at) VALUES ('a', 1, 'A', 'r', ?, 'open', 0, 'now')", body);
    expect(migrate(exec)).toBe(MIGRATIONS.length);
    expect(exec("SELECT side, limit_price, min_quantity FROM intents")).toEqual([{ side: "sell", limit_price: 1.5, min_quantity: 2 }]);
    const store = new MarketStore(exec, nodeTransaction(db));
    expect(store.bestLimit("r", "sell", Date.now())).toBe(1.5);
    expect(store.reachableMinimum("r", "sell", 2, Date.now())).toBe(true);
  });

  test("the live-status predicate is the one the v4 partial indexes were created with", () => {
    const partial = MIGRATIONS.flat().filter((s) => /intents_live_\w+ ON/.test(s));
    expect(partial).toHaveLength(3);
    for (const statement of partial) expect(statement.endsWith(`WHERE ${LIVE_STATUS_SQL}`)).toBe(true);
  });
});

describe("liveness in SQL is isLive, dueExpiries and nextExpiry", () => {
  const statuses: IntentStatus[] = ["open", "partially_filled", "filled", "cancelled", "expired"];
  const NOW = 1_700_000_000_000;
  const row = fc.record({
    status: fc.constantFrom(...statuses),
    expiresAtMs: fc.option(fc.integer({ min: NOW - 3, max: NOW + 3 }), { nil: undefined }),
  });

  test("on generated rows", () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 12 }), (rows) => {
        const { db, store } = openStore();
        const exec = sqliteExec(db);
        const records: IntentRecord[] = rows.map((r, k) => ({
          intent: { id: `i${k}`, agent: "A", side: "buy", resource: "r", quantity: 1, limitPrice: 1, region: "eu-west" },
          status: r.status,
          filled: 0,
          seq: k + 1,
          createdAt: "t",
          ...(r.expiresAtMs === undefined ? {} : { expiresAtMs: r.expiresAtMs }),
        }));
        for (const r of records) {
          exec(
            "INSERT INTO intents (id, seq, agent, resource, body, status, filled, expires_at_ms, created_at) VALUES (?, ?, 'A', 'r', ?, ?, 0, ?, 't')",
            r.intent.id,
            r.seq,
            JSON.stringify(r.intent),
            r.status,
            r.expiresAtMs ?? null,
          );
        }
        const live = exec(`SELECT id FROM intents WHERE ${LIVE_AT_SQL} ORDER BY seq`, NOW).map((r) => r.id);
        expect(live).toEqual(records.filter((r) => isLive(r, NOW)).map((r) => r.intent.id));
        expect(store.nextExpiry(NOW)).toBe(nextExpiry(records, NOW) ?? Infinity);
        expect(store.expireDue(NOW).sort()).toEqual(dueExpiries(records, NOW).sort());
        db.close();
      }),
      { numRuns: 200 },
    );
  });
});

describe("the market on node:sqlite", () => {
  test("intake, a continuous fill, views and counters", () => {
    const { market, store, events } = openMarket();
    const buy = value(market.submit(intent("B", { id: "b1", side: "buy", quantity: 10 }), auth("B")));
    expect(buy.intent).toMatchObject({ id: "b1", status: "open", filledQuantity: 0 });
    expect(buy.settlement).toBeUndefined();
    expect(buy.commitment?.id).toBe("b1");
    expect(buy.salt).toMatch(/^[0-9a-f]{64}$/);
    const sell: SubmitAnswer = value(market.submit(intent("S", { id: "s1", side: "sell", quantity: 4 }), auth("S")));
    expect(sell.intent).toMatchObject({ status: "filled", filledQuantity: 4, remainingQuantity: 0 });
    expect(sell.settlement).toMatchObject({ id: "s-1", market: "m1", fills: [{ buy: "b1", sell: "s1", quantity: 4 }] });
    expect(store.view("b1", true)).toMatchObject({ status: "partially_filled", filledQuantity: 4, remainingQuantity: 6, fills: [{ settlement: "s-1", quantity: 4 }] });
    expect(value(market.settlement("s-1"))).toEqual(sell.settlement);
    expect(market.overview()).toMatchObject({ market: "m1", counters: { intents: 2, openIntents: 1, settlements: 1, fills: 1, volume: 4 }, openIntentsTruncated: false });
    expect(events.map((e) => e.type)).toEqual(["intent.accepted", "intent.accepted", "settlement.committed"]);
    expect(market.clearing.bookSettled).toBe(true);
  });

  test("idempotent retries, replayed signatures, taken ids", () => {
    const { market } = openMarket();
    const idem = { key: "k1", fingerprint: "POST /x h" };
    const first = market.submit(intent("B", { id: "b1", side: "buy" }), auth("B"), idem);
    expect(market.submit(intent("B", { id: "b1", side: "buy" }), auth("B"), idem)).toEqual(first);
    expect(market.submit(intent("B", { id: "b2", side: "buy" }), auth("B"), { ...idem, fingerprint: "other" })).toMatchObject({ ok: false, problem: { code: "idempotency-conflict" } });
    const signed = auth("B");
    expect(market.submit(intent("B", { id: "b3", side: "buy" }), signed).ok).toBe(true);
    expect(market.submit(intent("B", { id: "b4", side: "buy" }), signed)).toMatchObject({ ok: false, problem: { status: 401, code: "replayed-signature" } });
    expect(market.submit(intent("B", { id: "b1", side: "buy" }), auth("B"))).toMatchObject({ ok: false, problem: { status: 409, code: "id-taken" } });
  });

  test("cancel: only the own agent, only while live", () => {
    const { market, events } = openMarket();
    market.submit(intent("B", { id: "b1", side: "buy" }), auth("B"));
    expect(market.cancel("b1", auth("X"))).toMatchObject({ ok: false, problem: { status: 403 } });
    expect(value(market.cancel("b1", auth("B"))).intent).toMatchObject({ status: "cancelled", remainingQuantity: 0 });
    expect(market.cancel("b1", auth("B"))).toMatchObject({ ok: false, problem: { status: 409 } });
    expect(market.cancel("nope", auth("B"))).toMatchObject({ ok: false, problem: { status: 404 } });
    expect(events.at(-1)).toMatchObject({ type: "intent.cancelled", intent: { id: "b1" } });
    // A cancelled intent no longer trades.
    expect(value(market.submit(intent("S", { id: "s1", side: "sell" }), auth("S"))).settlement).toBeUndefined();
  });

  test("expiry: due intents turn expired, are announced and never trade; the alarm waits for the next one", () => {
    const { market, store, events, alarms } = openMarket();
    const soon = Date.now() + 60_000;
    market.submit(intent("B", { id: "b1", side: "buy", expiresAt: new Date(soon).toISOString() }), auth("B"));
    expect(alarms.at(-1)).toBeGreaterThanOrEqual(soon);
    market.expireDue(soon);
    expect(store.record("b1")?.status).toBe("expired");
    expect(events.at(-1)).toMatchObject({ type: "intent.expired", ids: ["b1"] });
    market.schedule(soon);
    expect(alarms.at(-1)).toBeNull();
    expect(value(market.submit(intent("S", { id: "s1", side: "sell" }), auth("S"))).settlement).toBeUndefined();
  });

  test("a failed commit rolls back whole: no settlement, no fill, no filled quantity", () => {
    const { market, db, store } = openMarket();
    market.submit(intent("B", { id: "b1", side: "buy" }), auth("B"));
    db.exec("CREATE TRIGGER refuse_fills BEFORE INSERT ON fills BEGIN SELECT RAISE(ABORT, 'fills refused'); END");
    const sell = value(market.submit(intent("S", { id: "s1", side: "sell" }), auth("S")));
    expect(sell.settlement).toBeUndefined();
    expect(store.counters()).toMatchObject({ settlements: 0, fills: 0 });
    expect(store.record("b1")).toMatchObject({ status: "open", filled: 0 });
    expect(market.clearing.bookSettled).toBe(false);
    db.exec("DROP TRIGGER refuse_fills");
    // The next event clears the whole book again.
    expect(value(market.cancel("b1", auth("B"))).intent.status).toBe("cancelled");
  });
});

describe("a hostile swap beside an all-or-none intent (swaps with minimums)", () => {
  // The swap (sa-east, 1 ms cap) can trade with no one, but its resources link storage and gpu, so every gpu clearing
  // solves a book with a swap. The all-or-none seller's minimum costs welfare against the LP bound; before the fix
  // verify refused every such result ("not optimal: the dual bound … exceeds the welfare"), nothing was committed,
  // the book stayed unsettled, and from then on every clearing solved the whole book and was refused again.
  test("ordinary crossing pairs in the same resource and in another still trade", () => {
    const { market, store } = openMarket();
    const submit = (agent: string, fields: Partial<IntentInput> & Pick<IntentInput, "id" | "side">) => value(market.submit(intent(agent, fields), auth(agent)));
    const hostile = { kind: "swap" as const, resource: "storage-tb-day", swapFor: { resource: "gpu-h100-hr", limitPrice: 3.22 } };
    expect(submit("H", { id: "w", side: "sell", ...hostile, quantity: 1, limitPrice: 1, region: "sa-east", maxLatencyMs: 1 }).settlement).toBeUndefined();
    expect(submit("A", { id: "aon", side: "sell", quantity: 100, minQuantity: 100, limitPrice: 1.04 }).settlement).toBeUndefined();
    submit("B", { id: "b0", side: "buy", quantity: 1, limitPrice: 2.59 });
    expect(submit("S", { id: "s2", side: "sell", quantity: 5, limitPrice: 1 }).settlement?.fills).toMatchObject([{ buy: "b0", sell: "s2", quantity: 1 }]);
    // b2 and s2 cross (4 units at a gain of 1 each); the LP would also sell b2 1 unit of the all-or-none 100.
    const b2 = submit("C", { id: "b2", side: "buy", quantity: 5, limitPrice: 2 });
    expect(b2.settlement?.fills).toMatchObject([{ buy: "b2", sell: "s2", quantity: 4 }]);
    // Another resource, after the clearing above.
    submit("D", { id: "rb", side: "buy", resource: "ram-gb-hr", quantity: 5, limitPrice: 2 });
    const rs = submit("E", { id: "rs", side: "sell", resource: "ram-gb-hr", quantity: 5, limitPrice: 1 });
    expect(rs.settlement?.fills).toMatchObject([{ buy: "rb", sell: "rs", quantity: 5 }]);
    expect(store.record("aon")).toMatchObject({ status: "open", filled: 0 });
    expect(market.clearing.bookSettled).toBe(true);
  });
});

describe("a batch's scores on node:sqlite", () => {
  test("each outside proposal's time weight counts from the batch's open: a late one weighs less than an early one", async () => {
    const T0 = Date.parse("2026-12-04T12:00:00Z");
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(T0);
      const { market } = openMarket();
      expect(market.setConfig({ clearing: "batch", batchIntervalMs: 1000 }, auth("op")).ok).toBe(true);
      market.submit(intent("B", { id: "b1", side: "buy" }), auth("B"));
      market.submit(intent("S", { id: "s1", side: "sell" }), auth("S"));
      const fills = [{ buy: "b1", sell: "s1", resource: "gpu-h100-hr", quantity: 10 }];
      vi.setSystemTime(T0 + 200);
      expect(market.propose({ fills }, auth("M1"), () => {}).ok).toBe(true);
      vi.setSystemTime(T0 + 900);
      expect(market.propose({ fills }, auth("M2"), () => {}).ok).toBe(true);
      const scorer = { version: "fixed", score: async (xs: readonly Float32Array[]) => ({ estimates: new Float32Array(xs.length).fill(0.8), model: "fixed" }) };
      expect(market.takeDueBatch(T0 + 1000)).toBe(true);
      await market.closeBatch(T0 + 1000, scorer as never);
      const listed = value(market.proposals("b-1")).proposals as ClosedProposalView[];
      const [early, late, builtin] = listed;
      expect([early.elapsedMs, late.elapsedMs]).toEqual([200, 900]);
      expect(early.score!.weight).toBeCloseTo(2 ** (-150 / 1000), 12);
      expect(late.score!.weight).toBeCloseTo(2 ** (-850 / 1000), 12);
      expect(late.score!.score).toBeLessThan(early.score!.score);
      expect(builtin.proposer).toBe("market");
      expect(builtin.elapsedMs).toBeGreaterThanOrEqual(1000);
      // The allocation is still chosen by welfare: equal welfare, the earliest settles.
      expect(listed.map((p) => p.settled)).toEqual([true, false, false]);
    } finally {
      vi.useRealTimers();
    }
  });
});
