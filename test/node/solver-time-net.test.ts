// The time-expanded network's shape (notes/solver.md, "Time: speed (session 9)"): legs that admit every counterpart
// region at penalty 0 meet through region nodes, the others through hubs per region pair. Whatever the mix, every
// compatible pair must keep its path at its two penalties and no other pair may get one: HiGHS's time-indexed MILP
// (support/highs-time.ts, built from the contract) is the judge.
import { describe, expect, it } from "vitest";
import { solve, verify } from "../../src/solver/index.ts";
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";
import { generateWindowedMarket } from "../../support/generate-time.ts";
import { solveTimeIndexed } from "../../support/highs-time.ts";

const now = Date.parse("2026-12-04T17:13:00.000Z");
const w = (start: string, end: string) => ({ start: `2026-12-${start}:00:00.000Z`, end: `2026-12-${end}:00:00.000Z` });

function agrees(intents: Intent[], latency: LatencyTable, at: number, what: string) {
  const r = solve(intents, latency, { now: at, timeBudgetMs: 60_000 });
  const h = solveTimeIndexed(intents, latency, at);
  expect(Math.abs(r.welfare - h.welfare), `${what}: ${r.welfare} vs HiGHS ${h.welfare}`).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(h.welfare)));
  expect(verify(intents, latency, r, { now: at }), what).toEqual({ ok: true });
  return r;
}

describe("time network: open legs through region nodes, capped and soft legs through hubs", () => {
  it("a swap whose legs admit every region present trades beside a hub with nobody on the other side", () => {
    // The swap's gpu leg reaches both gpu buyers' regions (so it is open), and its inference leg is windowless: it is
    // active in slots where no inference seller is. Its legs must still reach the hubs where counterparts are.
    const latency: LatencyTable = { "us-west": { "us-east": 62, "us-west": 2 }, "eu-west": { "us-east": 76, "us-west": 136, "eu-central": 14 }, "us-east": { "eu-central": 88 }, "eu-central": { "us-west": 146, "eu-central": 1 } };
    const intents: Intent[] = [
      { id: "swap-9", agent: "a1", region: "eu-west", side: "sell", kind: "swap", resource: "gpu-h100-hr", quantity: 575, limitPrice: 1.6633, swapFor: { resource: "inference-mtok", limitPrice: 0.5464 }, maxLatencyMs: 146 },
      { id: "defer-16", agent: "a2", region: "us-west", side: "sell", kind: "deferral", resource: "gpu-h100-hr", quantity: 739, limitPrice: 0.45, window: w("06T14", "06T15"), swapFor: { resource: "gpu-h100-hr", window: w("06T15", "06T21"), limitPrice: 0 } },
      { id: "sell-19", agent: "a0", region: "eu-west", side: "sell", resource: "inference-mtok", quantity: 48, limitPrice: 0.2644, window: w("05T09", "05T18") },
      { id: "buy-21", agent: "a4", region: "eu-central", side: "buy", resource: "gpu-h100-hr", quantity: 98, limitPrice: 2.74, window: w("06T09", "06T15") },
    ];
    const r = agrees(intents, latency, now, "swap beside empty hubs");
    expect(r.welfare).toBeCloseTo(65.2176, 9);
    expect(r.fills.some((f) => f.buy === "buy-21" && f.sell === "swap-9")).toBe(true);
  });

  it("open, capped and soft legs mixed in every proportion: the same optimum as HiGHS on 60 generated books", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const share = [0, 0.3, 1][seed % 3];
      const m = generateWindowedMarket(seed, {
        size: 18 + (seed % 4) * 4, regions: 3 + (seed % 4), resources: 1 + (seed % 2), minQuantityShare: 0, allOrNoneShare: 0,
        latencyCapShare: share, softLatencyShare: share === 1 ? 0.5 : share, swapShare: seed % 5 === 0 ? 0.2 : 0, deferralShare: seed % 7 === 0 ? 0.2 : 0,
        agents: seed % 2 === 0 ? 10 : undefined,
      });
      agrees(m.intents, m.latency, m.now, `seed ${seed}`);
    }
  });
  it("an agent on both sides of a resource: legs that share a slot never trade with each other, the others meet through hubs", () => {
    // Agent a buys over 10–14 h and sells over 12–16 h (they share 12–14 h: a hub would pair them); deferral d gives
    // 10–12 h and takes 14–18 h (disjoint: its legs join hubs); deferral e gives 11–13 h and takes 12–15 h (shared).
    const latency: LatencyTable = { "us-east": { "us-east": 1 } };
    const at = Date.parse("2026-12-06T09:00:00.000Z");
    const plain = (id: string, agent: string, side: "buy" | "sell", limitPrice: number, window: { start: string; end: string }): Intent => ({ id, agent, region: "us-east", side, resource: "gpu", quantity: 10, limitPrice, window });
    const deferral = (id: string, agent: string, give: { start: string; end: string }, take: { start: string; end: string }): Intent => ({ id, agent, region: "us-east", side: "sell", kind: "deferral", resource: "gpu", quantity: 10, limitPrice: 0.2, window: give, swapFor: { resource: "gpu", window: take, limitPrice: 2.2 } });
    const intents: Intent[] = [
      plain("a-buy", "a", "buy", 3, w("06T10", "06T14")),
      plain("a-sell", "a", "sell", 1, w("06T12", "06T16")),
      deferral("d", "d", w("06T10", "06T12"), w("06T14", "06T18")),
      deferral("e", "e", w("06T11", "06T13"), w("06T12", "06T15")),
      plain("b-buy", "b", "buy", 2.5, w("06T12", "06T18")),
      plain("s-sell", "s", "sell", 0.5, w("06T10", "06T14")),
      plain("t-sell", "t", "sell", 0.8, w("06T12", "06T17")),
    ];
    const agentOf = new Map(intents.map((it) => [it.id, it.agent]));
    const r = agrees(intents, latency, at, "two-sided agents");
    expect(r.fills.length).toBeGreaterThan(0);
    for (const f of r.fills) expect(agentOf.get(f.buy), `${f.buy} ← ${f.sell}`).not.toBe(agentOf.get(f.sell));
    for (let seed = 1; seed <= 40; seed++) {
      const m = generateWindowedMarket(seed, { size: 16 + (seed % 3) * 6, regions: 1 + (seed % 3), resources: 1 + (seed % 2), agents: 3 + (seed % 3), deferralShare: 0.3, swapShare: seed % 2 ? 0.2 : 0, maxWindowHours: 24, minQuantityShare: 0, allOrNoneShare: 0 });
      const ids = new Map(m.intents.map((it) => [it.id, it.agent]));
      const out = agrees(m.intents, m.latency, m.now, `shared agents, seed ${seed}`);
      for (const f of out.fills) expect(ids.get(f.buy), `seed ${seed}: ${f.buy} ← ${f.sell}`).not.toBe(ids.get(f.sell));
    }
  });
});
