// An outside proposal on a windowed book over HTTP inside workerd (CONTRACT.md section 2a, issue 16): the market's
// own optimal allocation, with its fills' start/end, is accepted and settles as it is; a fill that starts before
// now, or that drops its schedule, is refused with 422 naming the fill.
import { SELF } from "cloudflare:test";
import { expect, test } from "vitest";
import type { Intent } from "../../src/contract/schema.ts";
import { allocationOf } from "../../src/market/proposals.ts";
import { DEFAULT_LATENCY, solve } from "../../src/solver/index.ts";
import { BASE, batchMarket, buyIntent, closeBatch, json, newAgent, sellIntent, signedFetch, submit, withOperator } from "./helpers.ts";

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

test("a windowed book's own optimal allocation, posted with its schedule, settles; a fill before now or without start/end is refused", async () => {
  await withOperator(async () => {
    const m = await batchMarket("pt");
    // Two buyers in the next hours, a rate-capped seller whose window began an hour ago, a windowless seller.
    const hour = Math.ceil(Date.now() / HOUR) * HOUR;
    const book: Record<string, unknown>[] = [
      buyIntent({ id: "wb1", quantity: 30, limitPrice: 2, window: { start: iso(hour + HOUR), end: iso(hour + 3 * HOUR) } }),
      buyIntent({ id: "wb2", quantity: 50, limitPrice: 1.7, window: { start: iso(hour), end: iso(hour + 2 * HOUR) } }),
      sellIntent({ id: "ws1", quantity: 60, limitPrice: 1.2, maxRate: 20, window: { start: iso(hour - 2 * HOUR), end: iso(hour + 4 * HOUR) } }),
      sellIntent({ id: "ws2", quantity: 10, limitPrice: 1.5 }),
    ];
    for (const intent of book) expect((await submit(await newAgent(), m, intent)).status).toBe(201);
    // The market's optimum, recomputed on the same intents (agents apart, only their distinctness matters).
    const intents = book.map((it, k) => ({ ...it, agent: `a${k}` }) as unknown as Intent);
    const own = solve(intents, DEFAULT_LATENCY, { now: Date.now() });
    const fills = allocationOf(own.fills);
    expect(fills.some((f) => f.start !== undefined && f.end !== undefined)).toBe(true);
    const miner = await newAgent();
    const post = (body: unknown) => signedFetch(miner, "POST", `/v1/markets/${m}/proposals`, body);

    // Delivery before now: the rate-capped seller's window began two hours ago, a boundary of the intervals.
    const k = fills.findIndex((f) => f.sell === "ws1" && f.start !== undefined);
    const early = fills.map((f, j) => (j === k ? { ...f, start: iso(hour - 2 * HOUR) } : f));
    const before = await post({ fills: early });
    expect(before.status).toBe(422);
    expect((await json(before)).errors).toContainEqual({ field: `fills.${k}`, message: "starts before now" });
    // The schedule dropped: a fill with a windowed side needs interval boundaries.
    const stripped = fills.map(({ start: _s, end: _e, ...f }) => f);
    const bare = await post({ fills: stripped });
    expect(bare.status).toBe(422);
    expect((await json(bare)).errors).toContainEqual({ field: `fills.${k}`, message: expect.stringMatching(/start and end must be interval boundaries/) });

    const accepted = await post({ batch: "b-1", fills });
    expect(accepted.status).toBe(202);
    expect((await json(accepted)).proposal).toMatchObject({ id: "p-1", batch: "b-1" });
    await closeBatch(m);
    const wb1 = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/intents/wb1`));
    const settlement = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/settlements/${wb1.fills[0].settlement}`));
    // The outside proposal arrived first and ties the built-in one: it settles, its schedule kept fill by fill.
    expect(settlement.stats).toMatchObject({ batch: "b-1", proposal: "p-1" });
    const schedule = (fs: { buy: string; sell: string; quantity: number; start?: string; end?: string }[]) =>
      fs.map((f) => `${f.buy}<${f.sell} ${f.quantity.toFixed(9)} ${f.start ?? "-"} ${f.end ?? "-"}`).sort();
    expect(schedule(settlement.fills)).toEqual(schedule(fills));
    expect(settlement.welfare).toBeCloseTo(own.welfare, 9);
    const { proposals } = await json(await SELF.fetch(`${BASE}/v1/markets/${m}/proposals?batch=b-1`));
    expect(proposals.map((p: { id: string; feasible: boolean; settled: boolean }) => [p.id, p.feasible, p.settled])).toEqual([
      ["p-1", true, true],
      ["p-2", true, false],
    ]);
  });
}, 150_000); // the close loads the scorer model for the first proposal
