// Tests of the time oracle itself: the windowed generator, the time-indexed HiGHS model on hand-solved markets and
// against a second formulation (cycle cancelling, test/oracle/time-flow.ts) on hundreds of tiny ones, and the time
// checker, which must accept hand-computed Nash schedules and catch each kind of violation.
import { describe, expect, test } from "vitest";
import { type Fill, type Intent, IntentInput, type LatencyTable } from "../../src/contract/schema.ts";
import { timeGrid } from "../../support/compat-time.ts";
import { generateWindowedMarket, type WindowedMarketOptions } from "../../support/generate-time.ts";
import { scheduleFills, solveTimeIndexed } from "../../support/highs-time.ts";
import { checkTimedSettlement, TIME_NASH_RULES, type TimedMarket, type TimeRule } from "../oracle/time-checker.ts";
import { flowOptimum } from "../oracle/time-flow.ts";

const HOUR = 3_600_000;
const T = Date.UTC(2026, 11, 4, 17);
const at = (hours: number) => new Date(T + hours * HOUR).toISOString();
const win = (from: number, to: number) => ({ start: at(from), end: at(to) });
const LATENCY: LatencyTable = { "eu-west": { "eu-west": 2, "eu-central": 14, "us-east": 80 }, "eu-central": { "us-east": 88 } };

function intent(id: string, side: "buy" | "sell", quantity: number, limitPrice: number, extra: Partial<Intent> = {}): Intent {
  return { id, agent: `agent-${id}`, side, resource: "gpu-h100-hr", quantity, limitPrice, region: "eu-west", ...extra };
}
function fill(buy: string, sell: string, quantity: number, price: number, span?: [number, number]): Fill {
  const f: Fill = { buy, sell, resource: "gpu-h100-hr", quantity, price };
  return span ? { ...f, start: at(span[0]), end: at(span[1]) } : f;
}
const rules = (market: TimedMarket, fills: Fill[], welfare: number, optimum?: number): TimeRule[] =>
  [...new Set(checkTimedSettlement(market, { fills, welfare }, optimum).map((v) => v.rule))].sort();
/** HiGHS and cycle cancelling agree, and both give `expected`. */
function optimumIs(market: TimedMarket, expected: number) {
  const highs = solveTimeIndexed(market.intents, market.latency, market.now).welfare;
  expect(highs).toBeCloseTo(expected, 9);
  expect(flowOptimum(market.intents, market.latency, market.now)).toBeCloseTo(expected, 9);
}

// The seed's scenario with windows: inference needs 200 GPU-hours in the next 2 hours at most 2.00 (prefers 30 ms);
// storage holds them and defers its job 4 hours for a rebate of at least 0.30; compute offers 300 later at 1.20.
const CHAIN: TimedMarket = {
  now: T,
  latency: LATENCY,
  intents: [
    intent("inference", "buy", 200, 2.0, { maxLatencyMs: 30, window: win(0, 2), priority: "high", preferLatencyMs: 30, latencyDiscount: 0.01 }),
    intent("compute", "sell", 300, 1.2, { region: "us-east", window: win(4, 8) }),
    intent("storage", "sell", 200, 0.3, { region: "eu-central", kind: "deferral", window: win(0, 2), swapFor: { resource: "gpu-h100-hr", limitPrice: 0, window: win(4, 6) } }),
  ],
};
// Nash on the net: 0.50 per unit split three ways, each earning 1/6.
const CHAIN_FILLS = [fill("inference", "storage", 200, 2 - 1 / 6, [0, 2]), fill("storage", "compute", 200, 1.2 + 1 / 6, [4, 6])];

describe("generateWindowedMarket", () => {
  const rich: WindowedMarketOptions = { size: 60, resources: 2, swapShare: 0.1, deferralShare: 0.1, agents: 20, pastShare: 0.3 };

  test("is deterministic per seed and differs across seeds", () => {
    expect(generateWindowedMarket(5, rich)).toEqual(generateWindowedMarket(5, rich));
    expect(generateWindowedMarket(5, rich)).not.toEqual(generateWindowedMarket(6, rich));
  });

  test("gives contract-valid intents with unique ids, hour-aligned windows within the horizon and every feature", () => {
    const seen = { windowless: 0, startsBeforeNow: 0, endedBeforeNow: 0, maxRate: 0, allOrNone: 0, partialMin: 0, swap: 0, deferral: 0, soft: 0, sharedAgent: 0 };
    for (let seed = 1; seed <= 40; seed++) {
      const { intents, now } = generateWindowedMarket(seed, { ...rich, integerQuantities: seed % 2 === 0 });
      expect(new Set(intents.map((i) => i.id)).size).toBe(intents.length);
      const agents = new Map<string, Set<string>>();
      for (const i of intents) {
        expect(IntentInput.safeParse(i).success, JSON.stringify(i)).toBe(true);
        for (const w of [i.window, i.swapFor?.window]) {
          if (!w) continue;
          for (const t of [Date.parse(w.start), Date.parse(w.end)]) {
            expect(t % HOUR).toBe(0);
            expect(t).toBeGreaterThanOrEqual(now - 7 * HOUR);
            expect(t).toBeLessThanOrEqual(now + 48 * HOUR + 24 * HOUR); // a deferral's later slot may run past the horizon
          }
          if (Date.parse(w.start) < now) seen.startsBeforeNow++;
          if (Date.parse(w.end) <= now) seen.endedBeforeNow++;
        }
        if (!i.window && !i.swapFor) seen.windowless++;
        if (i.maxRate !== undefined) seen.maxRate++;
        if (i.minQuantity !== undefined) i.minQuantity === i.quantity ? seen.allOrNone++ : seen.partialMin++;
        if (i.kind === "swap") seen.swap++;
        if (i.kind === "deferral") {
          seen.deferral++;
          expect(i.swapFor?.resource).toBe(i.resource);
          expect(Date.parse(i.swapFor!.window!.start)).toBeGreaterThan(Date.parse(i.window!.start));
        }
        if (i.preferLatencyMs !== undefined) seen.soft++;
        agents.set(i.agent, new Set([...(agents.get(i.agent) ?? []), i.side]));
      }
      seen.sharedAgent += [...agents.values()].filter((sides) => sides.size === 2).length;
    }
    for (const [feature, count] of Object.entries(seen)) expect(count, feature).toBeGreaterThan(5);
  });

  test("honours its options: a given now, a horizon, no windows, all windows rate-capped", () => {
    const now = Date.UTC(2030, 0, 1, 9, 30);
    const m = generateWindowedMarket(3, { size: 50, now, horizonHours: 4, pastShare: 0, maxRateShare: 1, windowlessShare: 0 });
    expect(m.now).toBe(now);
    for (const i of m.intents) {
      expect(Date.parse(i.window!.start)).toBeGreaterThanOrEqual(Date.UTC(2030, 0, 1, 9));
      expect(Date.parse(i.window!.end)).toBeLessThanOrEqual(Date.UTC(2030, 0, 1, 13));
      expect(i.maxRate).toBeGreaterThan(0);
    }
    expect(generateWindowedMarket(3, { size: 30, windowlessShare: 1 }).intents.every((i) => i.window === undefined)).toBe(true);
  });
});

describe("time-indexed optimum on hand-solved markets (HiGHS and cycle cancelling)", () => {
  test("the seed's deferral chain settles 200 units for welfare 100", () => {
    optimumIs(CHAIN, 100);
    const r = solveTimeIndexed(CHAIN.intents, CHAIN.latency, CHAIN.now);
    expect(checkTimedSettlement(CHAIN, { fills: scheduleFills(r.schedule), welfare: r.welfare }, 100).filter((v) => !TIME_NASH_RULES.has(v.rule))).toEqual([]);
  });

  test("a binding rate cap: 2 per hour over 3 hours delivers 6 of 10", () => {
    const m: TimedMarket = { latency: LATENCY, intents: [intent("b", "buy", 10, 3), intent("s", "sell", 10, 1, { window: win(0, 3), maxRate: 2 })] };
    optimumIs(m, 12);
  });

  test("a rate cap shared over time: two buyers in different hours of one capped seller", () => {
    const m: TimedMarket = {
      latency: LATENCY,
      intents: [
        intent("early", "buy", 100, 3, { window: win(0, 1) }),
        intent("late", "buy", 100, 2, { window: win(1, 3) }),
        intent("s", "sell", 100, 1, { window: win(0, 3), maxRate: 5 }),
      ],
    };
    optimumIs(m, 5 * 2 + 10 * 1);
  });

  test("a buyer's rate cap binds on its own side too", () => {
    const m: TimedMarket = { latency: LATENCY, intents: [intent("b", "buy", 10, 3, { window: win(0, 4), maxRate: 1.5 }), intent("s", "sell", 10, 1)] };
    optimumIs(m, 6 * 2);
  });

  test("a window that ended before now trades nothing; one that straddles now trades only after it", () => {
    const ended: TimedMarket = { now: T, latency: LATENCY, intents: [intent("b", "buy", 10, 3), intent("s", "sell", 10, 1, { window: win(-3, -1) })] };
    optimumIs(ended, 0);
    const straddling: TimedMarket = { now: T + HOUR / 2, latency: LATENCY, intents: [intent("b", "buy", 10, 3), intent("s", "sell", 10, 1, { window: win(0, 2), maxRate: 4 })] };
    optimumIs(straddling, 1.5 * 4 * 2);
  });

  test("disjoint windows: no trade; an all-or-none buyer the rate cap cannot serve: no trade", () => {
    optimumIs({ latency: LATENCY, intents: [intent("b", "buy", 10, 3, { window: win(0, 2) }), intent("s", "sell", 10, 1, { window: win(3, 5) })] }, 0);
    optimumIs({ latency: LATENCY, intents: [intent("b", "buy", 10, 3, { minQuantity: 10 }), intent("s", "sell", 10, 1, { window: win(0, 3), maxRate: 2 })] }, 0);
  });

  test("soft latency moves the limits: 0.70 off the buyer's 2.00 at 80 ms against a 10 ms preference", () => {
    const buyer = intent("b", "buy", 10, 2, { preferLatencyMs: 10, latencyDiscount: 0.01 });
    optimumIs({ latency: LATENCY, intents: [buyer, intent("s", "sell", 10, 1.4, { region: "us-east" })] }, 0);
    optimumIs({ latency: LATENCY, intents: [buyer, intent("s", "sell", 10, 1.0, { region: "us-east" })] }, 3);
    optimumIs({ latency: LATENCY, intents: [buyer, intent("s", "sell", 10, 1.4, { region: "eu-central" })] }, 0.56 * 10);
  });

  test("a swap ring and a self-trade: two agents swap resources; one agent never trades with itself", () => {
    const m: TimedMarket = {
      latency: LATENCY,
      intents: [
        intent("x-for-y", "sell", 5, 1, { kind: "swap", window: win(0, 2), swapFor: { resource: "y", limitPrice: 2, window: win(2, 4) } }),
        intent("y-for-x", "sell", 8, 0.5, { resource: "y", kind: "swap", window: win(2, 4), swapFor: { resource: "gpu-h100-hr", limitPrice: 1.5 } }),
        intent("mine", "buy", 10, 9, { agent: "agent-x-for-y" }),
      ],
    };
    optimumIs(m, 5 * (2 - 0.5 + 1.5 - 1));
  });

  test("hostile times and rates: a century-long window, rates of 1e-6 and 1e12, a one-millisecond window", () => {
    const century = { start: "2000-01-01T00:00:00.000Z", end: "2099-12-31T00:00:00.000Z" };
    const hours = (Date.parse(century.end) - Date.parse(century.start)) / HOUR;
    const slow: TimedMarket = { latency: LATENCY, intents: [intent("b", "buy", 10, 3), intent("s", "sell", 10, 1, { window: century, maxRate: 1e-6 })] };
    optimumIs(slow, 2 * 1e-6 * hours);
    const fast: TimedMarket = { latency: LATENCY, intents: [intent("b", "buy", 1e12, 3, { window: century, maxRate: 1e12 }), intent("s", "sell", 1e12, 1)] };
    expect(solveTimeIndexed(fast.intents, fast.latency).welfare / 2e12).toBeCloseTo(1, 9);
    const blink = { start: at(1), end: new Date(T + HOUR + 1).toISOString() };
    const brief: TimedMarket = { now: T, latency: LATENCY, intents: [intent("b", "buy", 10, 3, { window: blink, maxRate: 3600 }), intent("s", "sell", 10, 1)] };
    optimumIs(brief, 2 * 0.001);
    const r = solveTimeIndexed(brief.intents, brief.latency, brief.now);
    expect(r.schedule.map((f) => [f.start, f.end])).toEqual([[T + HOUR, T + HOUR + 1]]);
  });
});

describe("time-indexed optimum against cycle cancelling on tiny generated markets", () => {
  test("400 markets of 3-6 intents over 2-4 hours agree; adding boundaries of an unrelated resource changes nothing", () => {
    let trading = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const m = generateWindowedMarket(seed, {
        size: 3 + (seed % 4), horizonHours: 2 + (seed % 3), maxWindowHours: 3, regions: 1 + (seed % 2), resources: seed % 3 === 0 ? 2 : 1,
        swapShare: 0.15, deferralShare: 0.15, minQuantityShare: 0.2, allOrNoneShare: 0.15, maxRateShare: 0.5, windowlessShare: 0.3,
        softLatencyShare: 0.3, agents: seed % 5 === 0 ? 3 : undefined, integerQuantities: seed % 2 === 0,
      });
      const highs = solveTimeIndexed(m.intents, m.latency, m.now).welfare;
      const flow = flowOptimum(m.intents, m.latency, m.now);
      expect(Math.abs(highs - flow), `seed ${seed}: HiGHS ${highs}, cycle cancelling ${flow}`).toBeLessThanOrEqual(1e-7 * Math.max(1, flow));
      if (highs > 0) trading++;
      // Extra boundaries (windows of a resource nobody else trades) refine the grid: the optimum stays.
      const noise = [0.5, 1.25, 2.75].map((h, k) => intent(`noise-${k}`, "sell", 1, 0, { resource: "noise", window: { start: new Date(m.now + h * HOUR).toISOString(), end: new Date(m.now + (h + 0.5) * HOUR).toISOString() } }));
      const refined = solveTimeIndexed([...m.intents, ...noise], m.latency, m.now);
      expect(refined.welfare).toBeCloseTo(highs, 7);
      expect(refined.intervals).toBeGreaterThan(timeGrid(m.intents, m.now).length - 1);
    }
    expect(trading).toBeGreaterThan(100);
  }, 120_000);

  test("HiGHS's own schedules pass the checker's feasibility rules on 200 larger markets", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const m = generateWindowedMarket(seed, { size: 10 + (seed % 30), resources: 2, swapShare: 0.1, deferralShare: 0.1, agents: seed % 3 === 0 ? 8 : undefined });
      const r = solveTimeIndexed(m.intents, m.latency, m.now);
      const issues = checkTimedSettlement(m, { fills: scheduleFills(r.schedule), welfare: r.welfare }, r.welfare, { tolerances: { quantity: 1e-8, welfareReport: 1e-8 } })
        .filter((v) => !TIME_NASH_RULES.has(v.rule) && v.rule !== "price-outside-limits" && v.rule !== "swap-irrational" && v.rule !== "split-price");
      expect(issues, `seed ${seed}`).toEqual([]);
    }
  }, 120_000);
});

describe("time checker", () => {
  const chainRules = (fills: Fill[], welfare = 100, optimum = 100) => rules(CHAIN, fills, welfare, optimum);

  test("accepts the chain at Nash prices on the net, also split over intervals", () => {
    expect(chainRules(CHAIN_FILLS)).toEqual([]);
    const split = [fill("inference", "storage", 120, 2 - 1 / 6, [0, 2]), fill("storage", "compute", 50, 1.2 + 1 / 6, [4, 6]), fill("storage", "compute", 150, 1.2 + 1 / 6, [4, 6])];
    expect(chainRules([fill("inference", "storage", 80, 2 - 1 / 6, [0, 2]), ...split])).toEqual([]);
  });

  test("catches prices off Nash on the net, split prices and an irrational swap", () => {
    expect(chainRules([CHAIN_FILLS[0], { ...CHAIN_FILLS[1], price: 1.4 }])).toEqual(["nash-interior"]);
    expect(chainRules([CHAIN_FILLS[0], { ...CHAIN_FILLS[1], quantity: 100 }, { ...CHAIN_FILLS[1], quantity: 100, price: 1.3 }])).toContain("split-price");
    // Storage paid 1.60 and pays 1.40: it nets 0.20 per unit, less than the 0.30 it asked for.
    expect(chainRules([{ ...CHAIN_FILLS[0], price: 1.6 }, { ...CHAIN_FILLS[1], price: 1.4 }])).toContain("swap-irrational");
  });

  test("catches schedules off the grid, outside a window, before now, unbalanced swaps and missing times", () => {
    expect(chainRules([CHAIN_FILLS[0], { ...CHAIN_FILLS[1], start: at(4.5) }])).toContain("off-grid");
    expect(chainRules([CHAIN_FILLS[0], { ...CHAIN_FILLS[1], start: at(2), end: at(4) }])).toContain("outside-window");
    const early: TimedMarket = { ...CHAIN, now: T + HOUR };
    expect(rules(early, CHAIN_FILLS, 100)).toContain("before-now");
    expect(chainRules([CHAIN_FILLS[0], { ...CHAIN_FILLS[1], quantity: 150 }], 75)).toContain("swap-unbalanced");
    expect(chainRules([CHAIN_FILLS[0], { ...CHAIN_FILLS[1], start: undefined, end: undefined }])).toContain("missing-time");
    expect(chainRules([CHAIN_FILLS[0], { ...CHAIN_FILLS[1], start: at(6), end: at(4) }])).toContain("bad-time");
  });

  test("hostile fills: a one-millisecond window to the unit, a millisecond past a window, times in other spellings", () => {
    const blink = { start: at(1), end: new Date(T + HOUR + 1).toISOString() };
    const m: TimedMarket = { now: T, latency: LATENCY, intents: [intent("b", "buy", 10, 3, { window: blink, maxRate: 3600 }), intent("s", "sell", 10, 1)] };
    const timed = (quantity: number, start: string, end: string): Fill => ({ ...fill("b", "s", quantity, 2), start, end });
    expect(rules(m, [timed(0.001, blink.start, blink.end)], 0.002, 0.002)).toEqual([]);
    expect(rules(m, [timed(0.0011, blink.start, blink.end)], 0.0022, 0.002)).toEqual(["above-optimum", "over-rate"]);
    const late = new Date(T + HOUR + 2).toISOString();
    expect(rules(m, [timed(0.001, blink.start, late)], 0.002, 0.002)).toEqual(["off-grid", "outside-window"]);
    // The same instant with an offset is the same boundary; a string that is no time is no start.
    expect(rules(m, [timed(0.001, "2026-12-04T19:00:00+01:00", blink.end)], 0.002, 0.002)).toEqual([]);
    expect(rules(m, [timed(0.001, "soon", blink.end)], 0.002, 0.002)).toEqual(["missing-time"]);
  });

  test("a rate sweep: overlapping fills add up; within the cap passes, above it fails", () => {
    const m: TimedMarket = { latency: LATENCY, intents: [intent("a", "buy", 10, 3), intent("b", "buy", 10, 3), intent("s", "sell", 10, 1, { window: win(0, 3), maxRate: 2 }), intent("w", "sell", 1, 1, { window: win(1, 2) })] };
    // a at 1/h over [0,3) and b at 1/h over [1,2): 2/h at most, the cap.
    expect(rules(m, [fill("a", "s", 3, 2, [0, 3]), fill("b", "s", 1, 2, [1, 2])], 8)).toEqual([]);
    expect(rules(m, [fill("a", "s", 3, 2, [0, 3]), fill("b", "s", 1.5, 2, [1, 2])], 9)).toEqual(["over-rate"]);
    expect(rules(m, [fill("a", "s", 7, 2, [0, 3])], 14)).toEqual(["over-rate"]);
  });

  test("plain rules: moved limits, minimums, quantities, self-trade, names, sides, welfare and optimality", () => {
    const soft = intent("b", "buy", 10, 2, { preferLatencyMs: 10, latencyDiscount: 0.01 });
    const m: TimedMarket = { latency: LATENCY, intents: [soft, intent("s", "sell", 10, 1.0, { region: "us-east" }), intent("t", "sell", 4, 1.0, { minQuantity: 4, agent: "agent-b" })] };
    // The buyer's limit is 1.30 against us-east: the midpoint is 1.15 (1.50 would be the raw midpoint).
    expect(rules(m, [fill("b", "s", 10, 1.15)], 3, 3)).toEqual([]);
    expect(rules(m, [fill("b", "s", 10, 1.5)], 3, 3)).toContain("price-outside-limits");
    expect(rules(m, [fill("b", "s", 10, 1.15, [0, 1])], 3, 3)).toEqual(["unexpected-time"]);
    expect(rules(m, [fill("b", "s", 11, 1.15)], 3.3, 3.3)).toEqual(["over-quantity"]);
    expect(rules(m, [fill("b", "s", 10, 1.15)], 3, 4)).toEqual(["not-optimal"]);
    expect(rules(m, [fill("b", "s", 10, 1.15)], 3, 2)).toEqual(["above-optimum"]);
    expect(rules(m, [fill("b", "s", 10, 1.15)], 4, 3)).toEqual(["welfare-misreported"]);
    expect(rules(m, [fill("b", "t", 2, 1.5)], 2, 2)).toEqual(expect.arrayContaining(["incompatible", "under-min-quantity"]));
    expect(rules(m, [fill("s", "b", 1, 1.15)], 0)).toEqual(["wrong-side"]);
    expect(rules(m, [fill("nobody", "s", 1, 1.15)], 0)).toEqual(["unknown-intent"]);
    expect(rules(m, [{ ...fill("b", "s", 10, 1.15), resource: "other" }], 3, 3)).toEqual(["resource-mismatch"]);
    expect(rules(m, [fill("b", "s", 0, 1.15)], 0, 0)).toEqual(["non-positive-quantity"]);
  });

  test("Nash at the limits: 1/3 per unit to the buyer and the cheap seller, the dear seller at the buyer's limit", () => {
    const m: TimedMarket = { latency: LATENCY, intents: [intent("b", "buy", 10, 2), intent("s1", "sell", 5, 1), intent("s2", "sell", 5, 1.8)] };
    expect(rules(m, [fill("b", "s1", 5, 4 / 3), fill("b", "s2", 5, 2.0)], 6, 6)).toEqual([]);
    expect(rules(m, [fill("b", "s1", 5, 1.5), fill("b", "s2", 5, 2.0)], 6, 6)).toEqual(["nash-interior"]);
    expect(rules(m, [fill("b", "s1", 5, 4 / 3), fill("b", "s2", 5, 1.9)], 6, 6)).toEqual(["nash-interior"]);
    expect(rules(m, [fill("b", "s1", 5, 2)], 5, 5)).toEqual(["nash-buyer-limit", "no-surplus"]);
    expect(rules(m, [fill("b", "s1", 5, 1)], 5, 5)).toEqual(["nash-seller-limit", "no-surplus"]);
  });
});
