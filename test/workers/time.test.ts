// Priority and time in the market object, through the HTTP routes inside workerd (CONTRACT.md sections 2a and 3):
// a "high" arrival clears at once in a batch market (its own trades only), a "low" one waits for the close or the
// continuous market's sweep, a window's end expires an intent as expiresAt does (the alarm announces it, and it
// trades no more), fills start no earlier than the settlement's time, and hostile times are refused by field.
import { SELF, env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import seed from "../../examples/seed-three-party.json";
import { shiftedToNow } from "../../scripts/seed-time.ts";
import { BASE, buyIntent, eventually, freshMarket, json, newAgent, operator, sellIntent, signedFetch, sleep, submit, withOperator } from "./helpers.ts";

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const intentAt = async (m: string, id: string) => json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/${id}`));

/** A market with this configuration (the operator sets it before any intent arrives). */
async function configured(config: Record<string, unknown>): Promise<string> {
  const m = freshMarket("time");
  await withOperator(async () => expect((await signedFetch(operator, "PUT", `/v1/markets/${m}/config`, config)).status).toBe(200));
  return m;
}

/** Runs the market's alarm until `id` reaches `status` (the real alarm may run it first). */
async function untilStatus(m: string, id: string, status: string, timeoutMs = 5000): Promise<any> {
  return eventually(async () => {
    await runDurableObjectAlarm(env.MARKET.getByName(m));
    const v = await intentAt(m, id);
    return v.status === status ? v : undefined;
  }, timeoutMs);
}

describe("priority", () => {
  test('batch market: a "high" arrival clears at once against the resting book, only its own trades; the rest waits for the close', async () => {
    const m = await configured({ clearing: "batch", batchIntervalMs: 60_000 });
    const [s, b, h] = [await newAgent(), await newAgent(), await newAgent()];
    expect((await submit(s, m, sellIntent({ id: "s", quantity: 100, limitPrice: 1 }))).status).toBe(201);
    // A normal buyer that crosses the seller waits for the close.
    const waiting = await json(await submit(b, m, buyIntent({ id: "b", quantity: 50, limitPrice: 1.5 })));
    expect(waiting.settlement).toBeUndefined();
    expect(waiting.intent.status).toBe("open");
    const high = await json(await submit(h, m, buyIntent({ id: "h", quantity: 30, limitPrice: 2, priority: "high" })));
    expect(high.intent).toMatchObject({ id: "h", priority: "high", status: "filled", filledQuantity: 30 });
    expect(high.settlement.fills).toEqual([expect.objectContaining({ buy: "h", sell: "s", quantity: 30 })]);
    // Its trade alone, priced by Nash bargaining between its two intents: the midpoint.
    expect(high.settlement.fills[0].price).toBeCloseTo(1.5, 9);
    expect(await intentAt(m, "b")).toMatchObject({ status: "open", filledQuantity: 0 });
    expect(await intentAt(m, "s")).toMatchObject({ status: "partially_filled", filledQuantity: 30 });
  });

  test('batch market: the close settles what a "high" arrival left, and a "low" intent waits for it like a normal one', async () => {
    const m = await configured({ clearing: "batch", batchIntervalMs: 400 });
    const [s, b, h] = [await newAgent(), await newAgent(), await newAgent()];
    await submit(s, m, sellIntent({ id: "s", quantity: 100, limitPrice: 1 }));
    const low = await json(await submit(b, m, buyIntent({ id: "b", quantity: 50, limitPrice: 1.5, priority: "low" })));
    expect(low.settlement).toBeUndefined();
    const high = await json(await submit(h, m, buyIntent({ id: "h", quantity: 30, limitPrice: 2, priority: "high" })));
    expect(high.settlement.fills).toEqual([expect.objectContaining({ buy: "h", sell: "s", quantity: 30 })]);
    const b2 = await untilStatus(m, "b", "filled");
    expect(b2.fills).toEqual([expect.objectContaining({ buy: "b", sell: "s", quantity: 50 })]);
    expect(b2.fills[0].settlement).not.toBe(high.settlement.id);
  });

  test('continuous market: a "low" arrival does not clear on arrival; the next sweep (every batchIntervalMs) settles it', async () => {
    const m = await configured({ clearing: "continuous", batchIntervalMs: 300 });
    const [s, b] = [await newAgent(), await newAgent()];
    await submit(s, m, sellIntent({ id: "s", quantity: 100, limitPrice: 1 }));
    const low = await json(await submit(b, m, buyIntent({ id: "b", quantity: 40, limitPrice: 1.5, priority: "low" })));
    expect(low.settlement).toBeUndefined();
    expect(low.intent.status).toBe("open");
    const swept = await untilStatus(m, "b", "filled");
    expect(swept.fills).toEqual([expect.objectContaining({ buy: "b", sell: "s", quantity: 40 })]);
    expect(swept.fills[0].price).toBeCloseTo(1.25, 9);
  });

  test("continuous market: a normal arrival clears on arrival as before, and priority never moves a price", async () => {
    const prices: number[] = [];
    for (const priority of ["high", "normal", undefined]) {
      const m = await configured({ clearing: "continuous" });
      await submit(await newAgent(), m, sellIntent({ id: "s", quantity: 100, limitPrice: 1.2 }));
      const answer = await json(await submit(await newAgent(), m, buyIntent({ id: "b", quantity: 40, limitPrice: 1.8, ...(priority ? { priority } : {}) })));
      expect(answer.intent.status).toBe("filled");
      prices.push(answer.settlement.fills[0].price);
    }
    expect(prices).toEqual([prices[0], prices[0], prices[0]]);
    expect(prices[0]).toBeCloseTo(1.5, 9);
  });
});

describe("windows", () => {
  test("a window's end expires the intent (the alarm announces it) and it trades no more", async () => {
    const m = await configured({ clearing: "continuous" });
    const s = await newAgent();
    const now = Date.now();
    const window = { start: iso(now - HOUR), end: iso(now + 1500) };
    const ws = await SELF.fetch(`${BASE}/v1/markets/${m}/stream`, { headers: { Upgrade: "websocket" } });
    const socket = ws.webSocket!;
    const events: any[] = [];
    socket.accept();
    socket.addEventListener("message", (e) => events.push(JSON.parse(String(e.data))));
    const accepted = await json(await submit(s, m, sellIntent({ id: "s", quantity: 100, limitPrice: 1, window, maxRate: 40, priority: "low" })));
    // The answer, the book view and the stream carry the window (and rate, priority) as given.
    expect(accepted.intent).toMatchObject({ id: "s", status: "open", window, maxRate: 40, priority: "low" });
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))).openIntents[0]).toMatchObject({ window, maxRate: 40 });
    const streamed = await eventually(async () => events.find((e) => e.type === "intent.accepted"));
    expect(streamed.intent).toMatchObject({ id: "s", window, maxRate: 40, priority: "low" });
    await sleep(Math.max(0, now + 1600 - Date.now()));
    await untilStatus(m, "s", "expired");
    await eventually(async () => (events.some((e) => e.type === "intent.expired" && e.ids.includes("s")) ? true : undefined));
    socket.close();
    const buy = await json(await submit(await newAgent(), m, buyIntent({ id: "b", quantity: 10, limitPrice: 5 })));
    expect(buy.settlement).toBeUndefined();
    expect(await intentAt(m, "s")).toMatchObject({ status: "expired", filledQuantity: 0, remainingQuantity: 0 });
  });

  test("a swap stops trading when either of its windows ends", async () => {
    const m = await configured({ clearing: "continuous" });
    const now = Date.now();
    const swap = sellIntent({
      id: "d",
      kind: "swap",
      quantity: 10,
      limitPrice: 0.3,
      window: { start: iso(now), end: iso(now + 4 * HOUR) },
      swapFor: { resource: "gpu-h100-hr", window: { start: iso(now + 4 * HOUR), end: iso(now + 5 * HOUR) } },
    });
    expect((await submit(await newAgent(), m, swap)).status).toBe(201);
    const shortTaken = { ...swap, id: "d2", swapFor: { resource: "gpu-h100-hr", window: { start: iso(now - HOUR), end: iso(now + 600) } } };
    expect((await submit(await newAgent(), m, shortTaken)).status).toBe(201);
    await sleep(700);
    await untilStatus(m, "d2", "expired");
    expect((await intentAt(m, "d")).status).toBe("open");
  });

  test("fills start no earlier than the settlement's time, inside both windows", async () => {
    const m = await configured({ clearing: "continuous" });
    const now = Date.now();
    // The seller's window began an hour ago: what is left of it starts now.
    const sell = sellIntent({ id: "s", quantity: 100, limitPrice: 1, window: { start: iso(now - HOUR), end: iso(now + 3 * HOUR) } });
    await submit(await newAgent(), m, sell);
    const answer = await json(await submit(await newAgent(), m, buyIntent({ id: "b", quantity: 50, limitPrice: 2 })));
    const fill = answer.settlement.fills[0];
    expect(fill).toMatchObject({ buy: "b", sell: "s", quantity: 50 });
    const at = Date.parse(answer.settlement.createdAt);
    expect(Date.parse(fill.start)).toBeGreaterThanOrEqual(at);
    expect(Date.parse(fill.start)).toBeGreaterThanOrEqual(now);
    expect(Date.parse(fill.end)).toBeLessThanOrEqual(now + 3 * HOUR);
    expect(Date.parse(fill.start)).toBeLessThan(Date.parse(fill.end));
    // Stored with the fill: the intent's own view shows when.
    const view = await intentAt(m, "b");
    expect(view.fills[0]).toMatchObject({ start: fill.start, end: fill.end });
  });
});

describe("hostile times and priorities", () => {
  test("each is refused with 422 naming the field, and nothing is stored", async () => {
    const m = await configured({ clearing: "continuous" });
    const a = await newAgent();
    const now = Date.now();
    const cases: [Record<string, unknown>, string][] = [
      [{ window: { start: iso(now - 2 * HOUR), end: iso(now - HOUR) } }, "window.end"],
      [{ kind: "swap", side: "sell", swapFor: { resource: "cpu-hr", window: { start: iso(now - 2 * HOUR), end: iso(now - 1) } } }, "swapFor.window.end"],
      [{ window: { start: iso(now + HOUR), end: iso(now + HOUR) } }, "window.end"],
      [{ maxRate: 10 }, "maxRate"],
      [{ priority: "urgent" }, "priority"],
      [{ preferLatencyMs: 30 }, "latencyDiscount"],
      [{ window: { start: "tomorrow", end: iso(now + HOUR) } }, "window.start"],
      [{ window: { start: iso(now), end: "2200-01-01T00:00:00Z" } }, "window.end"],
    ];
    for (const [patch, field] of cases) {
      const r = await submit(a, m, buyIntent(patch));
      expect(r.status, JSON.stringify(patch)).toBe(422);
      const body = await json(r);
      expect(body.errors.map((e: { field: string }) => e.field), JSON.stringify(patch)).toContain(field);
    }
    expect((await json(await SELF.fetch(`${BASE}/v1/markets/${m}`))).counters.intents).toBe(0);
  });

  test("a 1-ms window in the future is a window like any other: accepted exactly, and it expires at its end", async () => {
    const m = await configured({ clearing: "continuous" });
    const start = Date.now() + 800;
    const window = { start: iso(start), end: iso(start + 1) };
    const answer = await json(await submit(await newAgent(), m, sellIntent({ id: "tiny", quantity: 1e6, window, maxRate: 1 })));
    expect(answer.intent).toMatchObject({ status: "open", window, maxRate: 1 });
    await sleep(900);
    await untilStatus(m, "tiny", "expired");
  });
});

describe("the seed's three-party scenario, natively", () => {
  test("batch market: compute and storage rest; inference (priority high) arrives and clears the chain at once, inside the windows", async () => {
    const m = await configured({ clearing: "batch", batchIntervalMs: 60_000, latency: seed.latency });
    const intents = shiftedToNow(seed.intents, seed.now, Date.now());
    const answers = new Map<string, any>();
    for (const { agent: _agent, ...intent } of intents) {
      const r = await submit(await newAgent(), m, intent);
      expect(r.status).toBe(201);
      answers.set(intent.id as string, await json(r));
    }
    expect(answers.get("compute-idle").settlement).toBeUndefined();
    expect(answers.get("storage-defer").settlement).toBeUndefined();
    const { intent, settlement } = answers.get("inference-now");
    expect(intent).toMatchObject({ status: "filled", priority: "high", preferLatencyMs: 30 });
    expect(settlement.welfare).toBeCloseTo(100, 9);
    const byPair = Object.fromEntries(settlement.fills.map((f: any) => [`${f.buy}<${f.sell}`, f]));
    expect(Object.keys(byPair).sort()).toEqual(["inference-now<storage-defer", "storage-defer<compute-idle"]);
    const shifted = Object.fromEntries(intents.map((i) => [i.id, i])) as Record<string, any>;
    const now = byPair["inference-now<storage-defer"];
    expect(now).toMatchObject({ quantity: 200, end: shifted["inference-now"].window.end });
    expect(Date.parse(now.start)).toBeGreaterThanOrEqual(Date.parse(settlement.createdAt));
    const later = byPair["storage-defer<compute-idle"];
    expect(later.quantity).toBe(200);
    expect(Date.parse(later.start)).toBeGreaterThanOrEqual(Date.parse(shifted["compute-idle"].window.start));
    expect(Date.parse(later.end)).toBeLessThanOrEqual(Date.parse(shifted["storage-defer"].swapFor.window.end));
    expect(now.price).toBeCloseTo(2 - 0.5 / 3, 9);
    expect(later.price).toBeCloseTo(1.2 + 0.5 / 3, 9);
    expect(await intentAt(m, "compute-idle")).toMatchObject({ status: "partially_filled", filledQuantity: 200 });
  });
});
