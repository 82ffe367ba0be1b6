// The solver over schedules (CONTRACT.md section 2a): windows, rate caps, now, swaps and deferrals with windows;
// verify's time checks against tampered schedules; the optimum against HiGHS's time-indexed MILP on generated books.
import { describe, expect, it } from "vitest";
import { solve, verify } from "../../src/solver/index.ts";
import type { Fill, Intent, LatencyTable } from "../../src/contract/schema.ts";
import { generateWindowedMarket, type WindowedMarketOptions } from "../../support/generate-time.ts";
import { solveTimeIndexed } from "../../support/highs-time.ts";

const NOW = Date.UTC(2026, 11, 4, 17);
const at = (hours: number) => new Date(NOW + hours * 3_600_000).toISOString();
const win = (from: number, to: number) => ({ start: at(from), end: at(to) });
const EU: LatencyTable = { "eu-west": { "eu-west": 2, "eu-central": 14, "us-east": 76 }, "eu-central": { "us-east": 88 } };
const buy = (id: string, quantity: number, limitPrice: number, extra: Partial<Intent> = {}): Intent => ({
  id, agent: `agent-${id}`, side: "buy", resource: "gpu", quantity, limitPrice, region: "eu-west", ...extra,
});
const sell = (id: string, quantity: number, limitPrice: number, extra: Partial<Intent> = {}): Intent => ({
  id, agent: `agent-${id}`, side: "sell", resource: "gpu", quantity, limitPrice, region: "eu-west", ...extra,
});
const close = (a: number, b: number, tol = 1e-9) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
const ok = (intents: Intent[], r: { fills: Fill[]; welfare: number; certificate?: unknown }, now = NOW, latency = EU) =>
  expect(verify(intents, latency, r as Parameters<typeof verify>[2], { now })).toEqual({ ok: true });
const refused = (intents: Intent[], r: { fills: Fill[]; welfare: number; certificate?: unknown }, pattern: RegExp, now = NOW) => {
  const v = verify(intents, EU, r as Parameters<typeof verify>[2], { now });
  expect(v.ok).toBe(false);
  if (!v.ok) expect(v.errors.join("\n")).toMatch(pattern);
};
const copy = <T>(x: T): T => structuredClone(x);

/** The seed's three-party market with windows (README, notes/solver.md "Multi-party kinds"). */
const seed = (): Intent[] => [
  buy("inference", 200, 2.0, { resource: "gpu-h100-hr", maxLatencyMs: 30, window: win(0, 2) }),
  sell("storage", 200, 0.3, {
    resource: "gpu-h100-hr", region: "eu-central", kind: "deferral", window: win(0, 2),
    swapFor: { resource: "gpu-h100-hr", limitPrice: 0, window: win(4, 8) },
  }),
  sell("compute", 300, 1.2, { resource: "gpu-h100-hr", region: "us-east", window: win(4, 10) }),
];

describe("solve over schedules: worked examples", () => {
  it("settles the seed's chain natively: inference ← storage (deferred 4 hours) ← compute, welfare 100", () => {
    const intents = seed();
    const r = solve(intents, EU, { now: NOW });
    expect(r.status).toBe("optimal");
    close(r.welfare, 100);
    expect(r.fills).toHaveLength(2);
    expect(r.fills[0]).toMatchObject({ buy: "inference", sell: "storage", quantity: 200, start: at(0), end: at(2) });
    expect(r.fills[1]).toMatchObject({ buy: "storage", sell: "compute", quantity: 200, start: at(4), end: at(8) });
    close(r.fills[0].price, 2 - 0.5 / 3);
    close(r.fills[1].price, 1.2 + 0.5 / 3);
    ok(intents, r);
  });

  it("trades nothing across disjoint windows, nor in a window ended by now", () => {
    const disjoint = [buy("b", 10, 2, { window: win(0, 2) }), sell("s", 10, 1, { window: win(3, 5) })];
    const r = solve(disjoint, EU, { now: NOW });
    expect(r.fills).toEqual([]);
    ok(disjoint, r);
    const ended = [buy("b", 10, 2, { window: win(-3, -1) }), sell("s", 10, 1)];
    const r2 = solve(ended, EU, { now: NOW });
    expect(r2.fills).toEqual([]);
    ok(ended, r2);
  });

  it("never delivers before now: a window open since before now trades from now on, at its rate cap", () => {
    const intents = [buy("b", 100, 2, { window: win(-2, 3), maxRate: 10 }), sell("s", 100, 1)];
    const r = solve(intents, EU, { now: NOW });
    close(r.welfare, 30);
    expect(r.fills).toHaveLength(1);
    expect(r.fills[0]).toMatchObject({ start: at(0), end: at(3) });
    close(r.fills[0].quantity, 30);
    ok(intents, r);
    // Without now the whole window counts.
    const r2 = solve(intents, EU);
    close(r2.welfare, 50);
    expect(verify(intents, EU, r2)).toEqual({ ok: true });
  });

  it("a windowless pair has no start/end; a windowless seller meets a windowed buyer inside its window", () => {
    const intents = [buy("b1", 10, 3), sell("s1", 10, 1), buy("b2", 5, 2.5, { window: win(1, 2) }), sell("s2", 5, 1.2)];
    const r = solve(intents, EU, { now: NOW });
    close(r.welfare, 10 * 2 + 5 * 1.3);
    for (const f of r.fills) {
      if (f.buy === "b1") expect(f.start === undefined && f.end === undefined).toBe(true);
      else expect(f).toMatchObject({ start: at(1), end: at(2) });
    }
    ok(intents, r);
  });

  it("a pair delivered in two runs carries two fills at one price; equal rates over adjacent intervals merge", () => {
    // s sells 10/h over 6 hours; b2 (dearer) takes hours 2–4, so b gets hours 0–2 and 4–6 from s: two runs.
    const intents = [
      buy("b", 60, 2, { window: win(0, 6) }),
      buy("b2", 100, 3, { window: win(2, 4) }),
      sell("s", 100, 1, { window: win(0, 6), maxRate: 10 }),
      // Another resource's window puts a boundary at hour 1 (inside b's first run).
      sell("other", 1, 1, { resource: "cpu", window: win(1, 3) }),
    ];
    const r = solve(intents, EU, { now: NOW });
    close(r.welfare, 20 * 2 + 40 * 1);
    const bs = r.fills.filter((f) => f.buy === "b");
    expect(bs.map((f) => [f.start, f.end])).toEqual([[at(0), at(2)], [at(4), at(6)]]);
    for (const f of bs) close(f.quantity, 20);
    expect(bs[0].price).toBe(bs[1].price);
    ok(intents, r);
  });

  it("holds minQuantity exactly over schedules (all-or-none that a rate cap makes unreachable stays out)", () => {
    // b wants all 50 or nothing but s delivers at most 10/h over 4 hours: b cannot fill; b2 takes what there is.
    const intents = [buy("b", 50, 3, { minQuantity: 50, window: win(0, 4) }), buy("b2", 50, 1.5, { window: win(0, 4) }), sell("s", 100, 1, { window: win(0, 4), maxRate: 10 })];
    const r = solve(intents, EU, { now: NOW });
    expect(r.status).toBe("optimal");
    expect(r.fills.every((f) => f.buy === "b2")).toBe(true);
    close(r.welfare, 40 * 0.5);
    ok(intents, r);
    const h = solveTimeIndexed(intents, EU, NOW);
    close(r.welfare, h.welfare, 1e-7);
  });

  it("a ring of deferrals settles when every leg's window lines up", () => {
    // A holds gpu now and wants it later; B holds gpu later and wants it now (each values the other slot more).
    const intents = [
      sell("A", 10, 0.2, { kind: "deferral", window: win(0, 2), swapFor: { resource: "gpu", limitPrice: 1, window: win(4, 6) } }),
      sell("B", 10, 0.3, { kind: "deferral", window: win(4, 6), swapFor: { resource: "gpu", limitPrice: 1, window: win(0, 2) } }),
    ];
    const r = solve(intents, EU, { now: NOW });
    close(r.welfare, 10 * (0.8 + 0.7));
    expect(r.fills).toHaveLength(2);
    ok(intents, r);
  });
});

describe("solve over schedules: independence", () => {
  it("intents in disjoint windows never change each other's fills or prices", () => {
    const early = [buy("b1", 30, 2, { window: win(0, 3), maxRate: 20 }), buy("b2", 30, 1.7, { window: win(1, 3) }), sell("s1", 40, 1, { window: win(0, 2) }), sell("s2", 40, 1.5, { window: win(0, 3) })];
    const late = [buy("c1", 30, 2.2, { window: win(5, 9) }), sell("t1", 50, 1.1, { window: win(6, 8), maxRate: 10 }), sell("t2", 10, 0.9, { window: win(4, 7) })];
    const apart = [...solve(early, EU, { now: NOW }).fills, ...solve(late, EU, { now: NOW }).fills];
    const book = [...early, ...late];
    const together = solve(book, EU, { now: NOW });
    expect(together.fills).toEqual(apart);
    ok(book, together);
  });
});

describe("solve over schedules: priority among ties (CONTRACT.md section 3)", () => {
  const filled = (fills: Fill[], id: string) => fills.reduce((q, f) => (f.buy === id || f.sell === id ? q + f.quantity : q), 0);
  const plain = (intents: Intent[]) => intents.map(({ priority: _, ...rest }) => rest as Intent);
  /** The favoured intent takes `expected`; welfare and prices are the same book's with priorities removed. */
  const prefers = (intents: Intent[], favoured: string, expected: number) => {
    const r = solve(intents, EU, { now: NOW });
    const p = solve(plain(intents), EU, { now: NOW });
    close(filled(r.fills, favoured), expected, 1e-12);
    expect(r.welfare).toBe(p.welfare);
    expect(new Set(r.fills.map((f) => f.price))).toEqual(new Set(p.fills.map((f) => f.price)));
    expect(r.certificate).toEqual(p.certificate);
    ok(intents, r);
  };
  const both = (intents: Intent[], favoured: string, expected: number) => {
    prefers(intents, favoured, expected);
    prefers([...intents].reverse(), favoured, expected);
  };

  it("two buyers of one limit and a windowed seller short of both: the high-priority buyer fills, in either book order", () => {
    both([buy("n", 10, 2), buy("h", 10, 2, { priority: "high" }), sell("s", 10, 1, { window: win(0, 4) })], "h", 10);
    both([buy("n", 10, 2, { window: win(0, 4) }), buy("h", 10, 2, { window: win(1, 3), priority: "high" }), sell("s", 6, 1, { window: win(0, 4) })], "h", 6);
  });

  it("with rate caps on either side", () => {
    both([buy("n", 10, 2), buy("h", 10, 2, { priority: "high" }), sell("s", 100, 1, { window: win(0, 4), maxRate: 2 })], "h", 8);
    both(
      [buy("n", 10, 2, { window: win(0, 4), maxRate: 5 }), buy("h", 10, 2, { window: win(0, 4), maxRate: 5, priority: "high" }), sell("s", 12, 1, { window: win(0, 4) })],
      "h", 10,
    );
  });

  it("with a windowless counterpart (windowed buyers, windowless seller), and on the sellers' side", () => {
    both([buy("n", 10, 2, { window: win(0, 2) }), buy("h", 10, 2, { window: win(0, 2), priority: "high" }), sell("s", 10, 1)], "h", 10);
    both([sell("n", 10, 1, { window: win(0, 4) }), sell("h", 10, 1, { window: win(0, 4), priority: "high" }), buy("b", 10, 2)], "h", 10);
  });

  it("a low-priority intent fills last", () => {
    both([buy("l", 10, 2, { priority: "low" }), buy("n", 10, 2), sell("s", 10, 1, { window: win(0, 4) })], "n", 10);
  });

  it("on generated books with tied limits: the same welfare and bound, verified, and high fills no less (low no more)", () => {
    const tie = (p: number) => Math.round(p * 4) / 4;
    const ranks = ["high", "normal", "low"] as const;
    const score = (intents: Intent[], fills: Fill[]) =>
      intents.reduce((q, it) => q + (it.priority === "high" ? 1 : it.priority === "low" ? -1 : 0) * filled(fills, it.id), 0);
    let differ = 0;
    for (let s = 1; s <= 25; s++) {
      const m = generateWindowedMarket(s, { size: 24, resources: 2, swapShare: 0.1, deferralShare: 0.1, agents: 10 });
      const intents = m.intents.map((it, i): Intent => ({
        ...it, limitPrice: tie(it.limitPrice), priority: ranks[(i * 7 + s) % 3],
        ...(it.swapFor ? { swapFor: { ...it.swapFor, limitPrice: tie(it.swapFor.limitPrice ?? 0) } } : {}),
      }));
      const r = solve(intents, m.latency, { now: m.now, timeBudgetMs: 60_000 });
      const p = solve(plain(intents), m.latency, { now: m.now, timeBudgetMs: 60_000 });
      expect(r.status).toBe("optimal");
      close(r.welfare, p.welfare, 1e-12);
      close(r.certificate.bound, p.certificate.bound, 1e-12);
      expect(score(intents, r.fills)).toBeGreaterThanOrEqual(score(intents, p.fills) - 1e-9);
      if (score(intents, r.fills) > score(intents, p.fills) + 1e-9) differ++;
      expect(verify(intents, m.latency, r, { now: m.now })).toEqual({ ok: true });
    }
    expect(differ).toBeGreaterThan(0); // the books do have ties that priority decides
  });
});

describe("verify over schedules: tampered settlements are refused", () => {
  const book = () => [
    buy("b", 60, 2, { window: win(0, 6) }),
    buy("b2", 100, 3, { window: win(2, 4) }),
    sell("s", 100, 1, { window: win(-1, 6), maxRate: 10 }),
    buy("w", 5, 2, { resource: "cpu" }),
    sell("v", 5, 1, { resource: "cpu" }),
  ];
  const solved = () => {
    const intents = book();
    return { intents, r: solve(intents, EU, { now: NOW }) };
  };
  const fillOf = (r: { fills: Fill[] }, buyer: string) => r.fills.findIndex((f) => f.buy === buyer);

  it("accepts the solver's own", () => {
    const { intents, r } = solved();
    ok(intents, r);
  });
  it("refuses a fill outside a window", () => {
    const { intents, r } = solved();
    const t = copy(r);
    const k = fillOf(t, "b2");
    t.fills[k].start = at(0);
    t.fills[k].end = at(2);
    refused(intents, t, /outside a window/);
  });
  it("refuses a fill before now", () => {
    const { intents, r } = solved();
    const t = copy(r);
    const k = fillOf(t, "b");
    t.fills[k].start = at(-1);
    refused(intents, t, /before now/);
  });
  it("refuses a fill over a rate cap", () => {
    const { intents, r } = solved();
    const t = copy(r);
    const k = fillOf(t, "b2");
    t.fills[k].quantity += 5;
    t.welfare += 5 * 2;
    refused(intents, t, /exceed maxRate/);
  });
  it("refuses start/end off the interval boundaries", () => {
    const { intents, r } = solved();
    const t = copy(r);
    t.fills[fillOf(t, "b2")].end = new Date(NOW + 4 * 3_600_000 - 60_000).toISOString();
    refused(intents, t, /interval boundaries/);
  });
  it("refuses two prices for one pair", () => {
    const { intents, r } = solved();
    const t = copy(r);
    const k = t.fills.findLastIndex((f) => f.buy === "b");
    t.fills[k].price += 0.01;
    refused(intents, t, /second price/);
  });
  it("refuses start/end on a fill between two windowless intents, and a timed pair without them", () => {
    const { intents, r } = solved();
    const t = copy(r);
    Object.assign(t.fills[fillOf(t, "w")], { start: at(0), end: at(1) });
    refused(intents, t, /without windows/);
    const t2 = copy(r);
    delete t2.fills[fillOf(t2, "b2")].start;
    refused(intents, t2, /interval boundaries/);
  });
  it("refuses a schedule that hides a better one (the duals prove it)", () => {
    const { intents, r } = solved();
    const t = copy(r);
    const k = fillOf(t, "b2");
    t.welfare -= t.fills[k].quantity * 2;
    t.fills.splice(k, 1);
    refused(intents, t, /not optimal over schedules/);
  });
  it("refuses rate duals on an uncapped leg, or negative ones", () => {
    const { intents, r } = solved();
    const t = copy(r) as typeof r & { certificate: { rates?: Record<string, Record<string, number>> } };
    t.certificate.rates = { ...(t.certificate.rates ?? {}), b: { [at(0)]: 1 } };
    refused(intents, t, /capped leg/);
    const t2 = copy(r) as typeof t;
    t2.certificate.rates = { s: { [at(2)]: -1 } };
    refused(intents, t2, /capped leg/);
  });
  it("refuses a certificate whose duals do not cover a pair in an interval", () => {
    const { intents, r } = solved();
    const t = copy(r);
    t.certificate.duals = {};
    delete (t.certificate as Record<string, unknown>).rates;
    refused(intents, t, /violate|not optimal/);
  });
});

describe("solve over schedules vs HiGHS's time-indexed MILP (support/highs-time.ts)", () => {
  const cases: [string, WindowedMarketOptions, boolean][] = [
    ["plain, rate caps", { minQuantityShare: 0, allOrNoneShare: 0, softLatencyShare: 0 }, true],
    ["minimums and all-or-none", { softLatencyShare: 0, minQuantityShare: 0.2, allOrNoneShare: 0.1 }, true],
    ["swaps and deferrals, shared agents", { softLatencyShare: 0, minQuantityShare: 0, allOrNoneShare: 0, resources: 2, swapShare: 0.2, deferralShare: 0.2, agents: 8 }, true],
    ["soft latency, everything", { resources: 2, swapShare: 0.1, deferralShare: 0.1, agents: 10 }, true],
  ];
  for (const [name, options, verified] of cases)
    it(`${name}: the same optimum on 25 generated books${verified ? ", every settlement verified" : ""}`, () => {
      for (let s = 1; s <= 25; s++) {
        const m = generateWindowedMarket(s, { size: 24, ...options });
        // A budget no load on a shared machine reaches: the optimum is what is compared.
        const r = solve(m.intents, m.latency, { now: m.now, timeBudgetMs: 60_000 });
        const h = solveTimeIndexed(m.intents, m.latency, m.now);
        expect(r.status).toBe("optimal");
        expect(Math.abs(r.welfare - h.welfare)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(h.welfare)));
        if (verified) expect(verify(m.intents, m.latency, r, { now: m.now })).toEqual({ ok: true });
      }
    });
});
