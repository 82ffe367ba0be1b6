// The solver's own tests: worked examples, degenerate cases, tampered settlements, and brute force on tiny MILPs.
// (The HiGHS oracle tests live apart, in test/oracle.)
import { describe, expect, it } from "vitest";
import { compatible, DEFAULT_LATENCY, latencyBetween, solve, verify } from "../../src/solver/index.ts";
import { solveWithHighs } from "../../support/highs.ts";
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";
import { seededRandom as rng } from "../../src/random.ts";
import { generateBook as generate } from "../../support/generate.ts";

const EU: LatencyTable = { "eu-west": { "eu-west": 2, "us-east": 80 } };
const buy = (id: string, quantity: number, limitPrice: number, extra: Partial<Intent> = {}): Intent => ({
  id, agent: `agent-${id}`, side: "buy", resource: "gpu", quantity, limitPrice, region: "eu-west", ...extra,
});
const sell = (id: string, quantity: number, limitPrice: number, extra: Partial<Intent> = {}): Intent => ({
  id, agent: `agent-${id}`, side: "sell", resource: "gpu", quantity, limitPrice, region: "eu-west", ...extra,
});
const close = (a: number, b: number, tol = 1e-9) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));

describe("latency helpers", () => {
  it("is symmetric, self is 0 unless listed, unknown pairs are undefined", () => {
    expect(latencyBetween(EU, "us-east", "eu-west")).toBe(80);
    expect(latencyBetween(EU, "eu-west", "eu-west")).toBe(2);
    expect(latencyBetween(EU, "us-east", "us-east")).toBe(0);
    expect(latencyBetween(EU, "us-east", "ap-south")).toBeUndefined();
    expect(latencyBetween(DEFAULT_LATENCY, "eu-central", "eu-west")).toBe(20);
  });
  it("applies both sides' caps, and an unlisted pair only blocks intents that set a cap", () => {
    expect(compatible(buy("b", 1, 2, { maxLatencyMs: 50 }), sell("s", 1, 1, { region: "us-east" }), EU)).toBe(false);
    expect(compatible(buy("b", 1, 2, { maxLatencyMs: 80 }), sell("s", 1, 1, { region: "us-east" }), EU)).toBe(true);
    expect(compatible(buy("b", 1, 2), sell("s", 1, 1, { region: "mars" }), EU)).toBe(true);
    expect(compatible(buy("b", 1, 2, { maxLatencyMs: 1e6 }), sell("s", 1, 1, { region: "mars" }), EU)).toBe(false);
    expect(compatible(buy("b", 1, 2), sell("s", 1, 1, { resource: "cpu" }), EU)).toBe(false);
  });
});

describe("solve: worked examples", () => {
  it("meets a lone buyer and seller at the midpoint (CONTRACT.md section 2)", () => {
    const intents = [buy("b", 100, 1.8, { maxLatencyMs: 50 }), sell("s", 500, 1.4)];
    const r = solve(intents, EU);
    expect(r.status).toBe("optimal");
    expect(r.fills).toHaveLength(1);
    expect(r.fills[0]).toMatchObject({ buy: "b", sell: "s", resource: "gpu", quantity: 100 });
    close(r.fills[0].price, 1.6);
    close(r.welfare, 40);
    close(r.certificate.bound, 40);
    expect(verify(intents, EU, r)).toEqual({ ok: true });
  });

  it("gives every unit the same surplus where no limit binds", () => {
    // Buyer 100 @ 2; sellers 50 @ 1.0 and 50 @ 1.6: gains 50 + 20 over 200 traded units → 0.35 each.
    const intents = [buy("b", 100, 2), sell("s1", 50, 1.0), sell("s2", 50, 1.6)];
    const r = solve(intents, EU);
    const p = Object.fromEntries(r.fills.map((f) => [f.sell, f.price]));
    close(p.s1, 1.35);
    close(p.s2, 1.95);
    expect(verify(intents, EU, r)).toEqual({ ok: true });
  });

  it("lets a limit bind: the thin-margin seller takes its whole fill's gain, the rest share", () => {
    // s2's fill gains only 5 (< 0.35 × 50): s2 gets all of it (price = the buyer's limit 2.0);
    // the buyer and s1 split 50 over 150 units → 1/3 each.
    const intents = [buy("b", 100, 2), sell("s1", 50, 1.0), sell("s2", 50, 1.9)];
    const r = solve(intents, EU);
    const p = Object.fromEntries(r.fills.map((f) => [f.sell, f.price]));
    close(p.s2, 2.0);
    close(p.s1, 1 + 1 / 3);
    expect(verify(intents, EU, r)).toEqual({ ok: true });
  });

  it("respects latency caps: the cheaper far seller is out of reach", () => {
    const intents = [buy("b", 10, 2, { maxLatencyMs: 30 }), sell("far", 10, 1, { region: "us-east" }), sell("near", 10, 1.5)];
    const r = solve(intents, EU);
    expect(r.fills.map((f) => f.sell)).toEqual(["near"]);
    close(r.welfare, 5);
    expect(verify(intents, EU, r)).toEqual({ ok: true });
  });
});

describe("solve: degenerate cases", () => {
  it("handles no intents and one side empty", () => {
    for (const intents of [[], [buy("b", 1, 2)], [sell("s", 1, 1)]]) {
      const r = solve(intents, EU);
      expect(r).toMatchObject({ fills: [], welfare: 0, status: "optimal" });
      expect(verify(intents, EU, r)).toEqual({ ok: true });
    }
  });
  it("does not emit zero-surplus fills", () => {
    const intents = [buy("b", 10, 1.5), sell("s", 10, 1.5)];
    const r = solve(intents, EU);
    expect(r.fills).toEqual([]);
    expect(verify(intents, EU, r)).toEqual({ ok: true });
  });
  it("splits identical intents and ties consistently and optimally", () => {
    const intents = [buy("b1", 10, 2), buy("b2", 10, 2), sell("s1", 5, 1), sell("s2", 5, 1), sell("s3", 5, 1)];
    const r = solve(intents, EU);
    close(r.welfare, 15);
    expect(r.fills.reduce((t, f) => t + f.quantity, 0)).toBeCloseTo(15, 12);
    for (const f of r.fills) close(f.price, 1.5);
    expect(verify(intents, EU, r)).toEqual({ ok: true });
  });
  it("trades nothing across unreachable regions", () => {
    const intents = [buy("b", 10, 5, { maxLatencyMs: 100 }), sell("s", 10, 1, { region: "nowhere" })];
    const r = solve(intents, EU);
    expect(r.fills).toEqual([]);
    expect(verify(intents, EU, r)).toEqual({ ok: true });
  });
  it("refuses beyond the size budget with a bound", () => {
    const r = solve([buy("b", 10, 2), sell("s", 10, 1)], EU, { maxIntents: 1 });
    expect(r.status).toBe("size_budget");
    expect(r.fills).toEqual([]);
    expect(r.gap).toBe(10);
  });
});

describe("solve: random markets are certified by verify", () => {
  for (const [n, seed, coarse] of [[50, 1, false], [300, 2, false], [300, 3, true], [2000, 4, false], [2000, 5, true]] as const) {
    it(`${n} intents, seed ${seed}${coarse ? ", coarse prices (ties)" : ""}`, () => {
      const intents = generate(n, seed, { ties: coarse });
      const r = solve(intents, DEFAULT_LATENCY);
      expect(r.status).toBe("optimal");
      expect(verify(intents, DEFAULT_LATENCY, r)).toEqual({ ok: true });
    });
  }

  it("the network simplex and HiGHS agree on the welfare", () => {
    for (let seed = 10; seed < 16; seed++) {
      const intents = generate(400, seed, { ties: seed % 2 === 0 });
      close(solve(intents, DEFAULT_LATENCY).welfare, solveWithHighs(intents, DEFAULT_LATENCY).welfare);
    }
  });
});

describe("verify rejects tampered settlements", () => {
  const intents = generate(200, 7);
  const good = solve(intents, DEFAULT_LATENCY);
  const clone = () => structuredClone({ fills: good.fills, welfare: good.welfare, certificate: good.certificate });
  const sellers = intents.filter((i) => i.side === "sell");

  it("accepts the untouched settlement", () => expect(verify(intents, DEFAULT_LATENCY, clone())).toEqual({ ok: true }));
  it("a fill moved to another seller", () => {
    const s = clone();
    const f = s.fills[0];
    f.sell = sellers.find((x) => x.id !== f.sell && x.resource === f.resource)!.id;
    expect(verify(intents, DEFAULT_LATENCY, s).ok).toBe(false);
  });
  it("a price nudged", () => {
    const s = clone();
    s.fills[0].price += 1e-4;
    expect(verify(intents, DEFAULT_LATENCY, s).ok).toBe(false);
  });
  it("a better allocation hidden (a fill dropped, welfare restated)", () => {
    const s = clone();
    const [f] = s.fills.splice(0, 1);
    const b = intents.find((i) => i.id === f.buy)!;
    const c = intents.find((i) => i.id === f.sell)!;
    s.welfare -= (b.limitPrice - c.limitPrice) * f.quantity;
    const v = verify(intents, DEFAULT_LATENCY, s);
    expect(v.ok).toBe(false);
  });
  it("a quantity inflated beyond the intent", () => {
    const s = clone();
    s.fills[0].quantity += 1000;
    expect(verify(intents, DEFAULT_LATENCY, s).ok).toBe(false);
  });
  it("welfare misstated, and a forged dual", () => {
    const s = clone();
    s.welfare += 1;
    expect(verify(intents, DEFAULT_LATENCY, s).ok).toBe(false);
    const t = clone();
    for (const k of Object.keys(t.certificate.duals)) t.certificate.duals[k] = 0;
    expect(verify(intents, DEFAULT_LATENCY, t).ok).toBe(false);
  });
  it("a fill across a latency cap", () => {
    const L: LatencyTable = { "eu-west": { "us-east": 80 } };
    const xs = [buy("b", 10, 2, { maxLatencyMs: 10 }), sell("s", 10, 1, { region: "us-east" })];
    const v = verify(xs, L, { fills: [{ buy: "b", sell: "s", resource: "gpu", quantity: 10, price: 1.5 }], welfare: 10, certificate: { duals: {}, bound: 10 } });
    expect(v.ok).toBe(false);
  });
});

describe("minQuantity: branch and bound against brute force on tiny markets", () => {
  /** Every integer allocation (data are integers, so an optimum is integral), individually rational pairs only. */
  function bruteForce(intents: Intent[], latency: LatencyTable): number {
    const B = intents.filter((i) => i.side === "buy");
    const S = intents.filter((i) => i.side === "sell");
    const pairs: [number, number][] = [];
    B.forEach((b, i) => S.forEach((s, j) => {
      if (compatible(b, s, latency) && b.limitPrice >= s.limitPrice) pairs.push([i, j]);
    }));
    let best = 0;
    const x = new Array(pairs.length).fill(0);
    const rec = (k: number) => {
      if (k === pairs.length) {
        const fb = B.map(() => 0);
        const fs = S.map(() => 0);
        let w = 0;
        pairs.forEach(([i, j], p) => {
          fb[i] += x[p];
          fs[j] += x[p];
          w += x[p] * (B[i].limitPrice - S[j].limitPrice);
        });
        const ok = (it: Intent, f: number) => f <= it.quantity && (f === 0 || f >= (it.minQuantity ?? 0));
        if (B.every((b, i) => ok(b, fb[i])) && S.every((s, j) => ok(s, fs[j]))) best = Math.max(best, w);
        return;
      }
      const [i, j] = pairs[k];
      for (let v = 0; v <= Math.min(B[i].quantity, S[j].quantity); v++) {
        x[k] = v;
        rec(k + 1);
      }
    };
    rec(0);
    return best;
  }

  it("matches on 60 random tiny markets with all-or-none and minimum fills", () => {
    const r = rng(42);
    let proven = 0;
    for (let t = 0; t < 60; t++) {
      const intents: Intent[] = [];
      const nb = 2 + Math.floor(r() * 2);
      const ns = 2 + Math.floor(r() * 2);
      for (let k = 0; k < nb + ns; k++) {
        const q = 1 + Math.floor(r() * 3);
        const it = (k < nb ? buy : sell)(`i${k}`, q, Math.round((k < nb ? 1.5 : 1) + r() * 10) / 10 + (k < nb ? 0.5 : 0));
        const u = r();
        if (u < 0.35) it.minQuantity = q;
        else if (u < 0.5) it.minQuantity = Math.max(1, q - 1);
        if (r() < 0.3) it.region = "us-east";
        if (r() < 0.3) it.maxLatencyMs = 50;
        intents.push(it);
      }
      const best = bruteForce(intents, EU);
      const res = solve(intents, EU);
      const v = verify(intents, EU, res);
      expect(v).toEqual({ ok: true });
      expect(res.welfare).toBeLessThanOrEqual(best + 1e-9);
      if (res.status === "optimal") {
        close(res.welfare, best);
        proven++;
      } else expect(res.welfare + (res.gap ?? 0)).toBeGreaterThanOrEqual(best - 1e-9);
    }
    expect(proven).toBeGreaterThan(50);
  });

  it("never meets a minimum through a counterpart beyond the intent's limit (individual rationality)", () => {
    // The buyer needs 47.108; only 46.495 is offered within its limit 2.15 (the 2.49 seller is out): no trade.
    const intents = [sell("s0", 46.495, 1.6), buy("b1", 81.749, 2.15, { minQuantity: 47.108 }), sell("s2", 55.865, 2.49)];
    const r = solve(intents, EU);
    expect(r).toMatchObject({ fills: [], welfare: 0, status: "optimal" });
    // With enough supply within the limit, it fills from the cheap sellers only.
    const more = [...intents, sell("s3", 5, 2.1)];
    const r2 = solve(more, EU);
    expect(r2.status).toBe("optimal");
    expect(r2.fills.map((f) => f.sell).sort()).toEqual(["s0", "s3"]);
    close(r2.welfare, 46.495 * 0.55 + 5 * 0.05);
    expect(verify(more, EU, r2)).toEqual({ ok: true });
  });

  it("with no time at all, still returns a feasible settlement and an honest gap", () => {
    for (const seed of [11, 12, 13]) {
      const intents = generate(400, seed, { allOrNoneShare: 0.4, minQuantityShare: 0.2 });
      const r = solve(intents, DEFAULT_LATENCY, { timeBudgetMs: 0 });
      expect(verify(intents, DEFAULT_LATENCY, r)).toEqual({ ok: true });
      const full = solve(intents, DEFAULT_LATENCY, { timeBudgetMs: 5_000 });
      expect(full.welfare).toBeGreaterThanOrEqual(r.welfare - 1e-9 * Math.max(1, r.welfare));
      if (r.status !== "optimal") expect(r.welfare + r.gap!).toBeGreaterThanOrEqual(full.welfare - 1e-6);
      if (full.status === "optimal" && r.status === "optimal") close(r.welfare, full.welfare);
    }
  });

  it("reports a proven gap when the node budget runs out", () => {
    const intents = generate(300, 9, { allOrNoneShare: 0.5 });
    const r = solve(intents, DEFAULT_LATENCY, { nodeBudget: 2 });
    if (r.status !== "optimal") {
      expect(r.gap).toBeGreaterThanOrEqual(0);
      expect(r.certificate.bound).toBeGreaterThanOrEqual(r.welfare);
    }
    expect(verify(intents, DEFAULT_LATENCY, r)).toEqual({ ok: true });
  });
});

describe("minQuantity: the branch-and-bound tree in the certificate proves optimality", () => {
  // Seeds whose root LP leaves all-or-none intents partly filled, so branch and bound runs.
  const markets = [3, 4, 5, 6, 7, 8].map((seed) => generate(150, seed, { allOrNoneShare: 0.3, minQuantityShare: 0.1 }));
  const solved = markets.map((intents) => ({ intents, r: solve(intents, DEFAULT_LATENCY, { timeBudgetMs: 5_000 }) }));
  const withTree = solved.filter(({ r }) => r.status === "optimal" && (r.certificate.tree?.length ?? 0) > 1);
  const gainOf = (intents: Intent[], f: { buy: string; sell: string; quantity: number }) =>
    (intents.find((i) => i.id === f.buy)!.limitPrice - intents.find((i) => i.id === f.sell)!.limitPrice) * f.quantity;

  it("certifies the settlements, with a tree whose bound is the welfare", () => {
    expect(withTree.length).toBeGreaterThanOrEqual(3);
    for (const { intents, r } of withTree) {
      expect(verify(intents, DEFAULT_LATENCY, r)).toEqual({ ok: true });
      close(r.certificate.bound, r.welfare, 1e-9);
      expect(r.certificate.gap).toBeUndefined();
    }
  });
  it("rejects a hidden better allocation (a fill of two intents without minimums dropped, welfare restated)", () => {
    for (const { intents, r } of withTree) {
      const s = structuredClone({ fills: r.fills, welfare: r.welfare, certificate: r.certificate });
      const plain = (id: string) => !(intents.find((i) => i.id === id)!.minQuantity ?? 0);
      const k = s.fills.findIndex((f) => plain(f.buy) && plain(f.sell) && gainOf(intents, f) > 1e-6);
      const [f] = s.fills.splice(k, 1);
      s.welfare -= gainOf(intents, f);
      const v = verify(intents, DEFAULT_LATENCY, s);
      expect(v.ok).toBe(false);
      expect(v.ok ? "" : v.errors.join("; ")).toContain("not proven optimal");
      // Owning up to the gap is honest: then the allocation is certified within it (the Nash prices of the fill's
      // neighbours no longer are, as the split changed).
      s.certificate.gap = r.welfare - s.welfare;
      const w = verify(intents, DEFAULT_LATENCY, s);
      expect(w.ok ? [] : w.errors.filter((e) => !e.includes("Nash") && !e.includes("limit favours"))).toEqual([]);
    }
  });
  it("beyond maxCertificateLeaves: no tree, the gap to the root LP bound is stated, and verify holds it to that", () => {
    for (const { intents } of withTree) {
      const r = solve(intents, DEFAULT_LATENCY, { timeBudgetMs: 5_000, maxCertificateLeaves: 1 });
      expect(r.certificate.tree).toBeUndefined();
      expect(r.certificate.gap).toBeGreaterThan(0);
      close(r.welfare + r.certificate.gap!, r.certificate.lpBound as number, 1e-9);
      expect(verify(intents, DEFAULT_LATENCY, r)).toEqual({ ok: true });
      const s = structuredClone({ fills: r.fills, welfare: r.welfare, certificate: r.certificate });
      delete s.certificate.gap;
      expect(verify(intents, DEFAULT_LATENCY, s).ok).toBe(false);
    }
  });
  it("rejects a settlement with nothing filled under the optimum's certificate", () => {
    const { intents, r } = withTree[0];
    expect(verify(intents, DEFAULT_LATENCY, { fills: [], welfare: 0, certificate: r.certificate }).ok).toBe(false);
  });
  it("rejects a tree with a leaf missing, a leaf's dual forged, or a leaf's fixing changed", () => {
    for (const { intents, r } of withTree) {
      const clone = () => structuredClone({ fills: r.fills, welfare: r.welfare, certificate: r.certificate });
      const a = clone();
      a.certificate.tree!.pop();
      expect(verify(intents, DEFAULT_LATENCY, a).ok).toBe(false);
      const b = clone();
      const leaf = b.certificate.tree!.find((l) => Object.keys(l.duals).length > 0)!;
      for (const id of Object.keys(leaf.duals)) leaf.duals[id] = 0;
      expect(verify(intents, DEFAULT_LATENCY, b).ok).toBe(false);
      const c = clone();
      const deep = c.certificate.tree!.find((l) => l.fixed.length > 0)!;
      deep.fixed[0][0] = intents.find((i) => i.id !== deep.fixed[0][0])!.id;
      expect(verify(intents, DEFAULT_LATENCY, c).ok).toBe(false);
    }
  });
});

describe("multi-party kinds: swaps and deferrals", () => {
  const L: LatencyTable = { "eu-west": { "eu-west": 2 } };
  const swap = (id: string, give: string, want: string, c: number, b: number, q = 10): Intent => ({
    id, agent: id, side: "sell", kind: "swap", resource: give, quantity: q, limitPrice: c, region: "eu-west",
    swapFor: { resource: want, limitPrice: b },
  });
  const surplusOf = (intents: Intent[], fills: { buy: string; sell: string; quantity: number; price: number }[], id: string) => {
    const it = intents.find((i) => i.id === id)!;
    let s = 0;
    for (const f of fills) {
      if (f.sell === id) s += (f.price - it.limitPrice) * f.quantity;
      if (f.buy === id) s += ((it.swapFor ? it.swapFor.limitPrice ?? 0 : it.limitPrice) - f.price) * f.quantity;
    }
    return s;
  };

  it("settles a resource triangle as a ring when only the ring helps everyone, with equal per-unit surplus", () => {
    // B alone would lose 0.2 per unit; the ring gains 0.5 − 0.2 + 0.1 = 0.4 per unit, 8 units (B's quantity).
    const ring = [swap("A", "storage", "compute", 1.0, 1.5), swap("B", "compute", "bandwidth", 1.2, 1.0, 8), swap("C", "bandwidth", "storage", 0.5, 0.6, 12)];
    const r = solve(ring, L);
    close(r.welfare, 3.2);
    expect(r.fills).toHaveLength(3);
    for (const id of ["A", "B", "C"]) close(surplusOf(ring, r.fills, id), 3.2 / 3);
    expect(verify(ring, L, r)).toEqual({ ok: true });
  });

  it("does not settle a ring that loses", () => {
    const ring = [swap("A", "storage", "compute", 1.0, 1.1), swap("B", "compute", "bandwidth", 1.2, 1.0), swap("C", "bandwidth", "storage", 0.5, 0.55)];
    expect(solve(ring, L).fills).toEqual([]);
  });

  it("chains a buyer through two swaps to a seller, beside a bilateral fill", () => {
    const intents: Intent[] = [
      buy("buyer", 10, 5, { resource: "r1" }),
      swap("S1", "r1", "r2", 1, 1.2),
      swap("S2", "r2", "r3", 1, 1.1),
      sell("seller", 6, 2, { resource: "r3" }),
      sell("direct", 3, 4.5, { resource: "r1" }),
    ];
    const r = solve(intents, L);
    // Chain: 6 × (5 − 2 + 0.2 + 0.1) = 19.8; direct: 3 × 0.5 = 1.5.
    close(r.welfare, 21.3);
    expect(verify(intents, L, r)).toEqual({ ok: true });
    const tampered = structuredClone({ fills: r.fills, welfare: r.welfare, certificate: r.certificate });
    tampered.fills = tampered.fills.filter((f) => f.sell !== "S2");
    expect(verify(intents, L, tampered).ok).toBe(false);
  });

  it("the seed's three-party example: a deferral frees near capacity, the batch job runs later on idle compute", async () => {
    const { readFileSync } = await import("node:fs");
    const { SolveFile } = await import("../../src/contract/schema.ts");
    const file = SolveFile.parse(JSON.parse(readFileSync(new URL("../fixtures/three-party-labels.json", import.meta.url), "utf8")));
    const intents = file.intents.map((it, k) => ({ ...it, id: it.id ?? `i${k}` }));
    const r = solve(intents, file.latency!);
    // 200 units; gain per unit 2.00 − 1.20 − 0.30 = 0.50, split three ways.
    close(r.welfare, 100);
    const price = Object.fromEntries(r.fills.map((f) => [`${f.buy}>${f.sell}`, f.price]));
    close(price["inference-now>storage-defer"], 2 - 0.5 / 3);
    close(price["storage-defer>compute-idle"], 1.2 + 0.5 / 3);
    close(surplusOf(intents, r.fills, "storage-defer"), 100 / 3);
    expect(verify(intents, file.latency!, r)).toEqual({ ok: true });
  });

  it("the bilateral seed example file", async () => {
    const { readFileSync } = await import("node:fs");
    const { SolveFile } = await import("../../src/contract/schema.ts");
    const file = SolveFile.parse(JSON.parse(readFileSync(new URL("../../examples/seed-bilateral.json", import.meta.url), "utf8")));
    const intents = file.intents.map((it, k) => ({ ...it, id: it.id ?? `i${k}` }));
    const r = solve(intents, file.latency!);
    expect(r.fills).toEqual([{ buy: "inference", sell: "compute", resource: "gpu-h100-hr", quantity: 100, price: r.fills[0].price }]);
    close(r.fills[0].price, 1.6);
  });

  it("random markets with swaps: verified, and never less welfare than without the swaps", () => {
    const r = rng(7);
    for (let t = 0; t < 20; t++) {
      const base = generate(120, 100 + t);
      const resources = [...new Set(base.map((i) => i.resource))];
      const swaps: Intent[] = [];
      for (let k = 0; k < 8; k++) {
        const give = resources[Math.floor(r() * resources.length)];
        const want = resources.find((x) => x !== give)!;
        const sw = swap(`sw${k}`, give, want, r() * 2, r() * 2, 1 + Math.floor(r() * 20));
        sw.region = base[Math.floor(r() * base.length)].region;
        if (r() < 0.4) sw.maxLatencyMs = 100;
        swaps.push(sw);
      }
      const plain = solve(base, DEFAULT_LATENCY);
      const all = [...base, ...swaps];
      const res = solve(all, DEFAULT_LATENCY);
      expect(verify(all, DEFAULT_LATENCY, res)).toEqual({ ok: true });
      expect(res.welfare).toBeGreaterThanOrEqual(plain.welfare - 1e-9 * Math.max(1, plain.welfare));
    }
  });

  it("the schema refuses a swap that is a buy, swaps a resource for itself, or sets minQuantity", async () => {
    const { IntentInput } = await import("../../src/contract/schema.ts");
    const base = { agent: "a", side: "sell", resource: "r1", quantity: 1, limitPrice: 1, region: "eu-west", swapFor: { resource: "r2" } };
    expect(IntentInput.safeParse(base).success).toBe(true);
    expect(IntentInput.safeParse({ ...base, side: "buy" }).success).toBe(false);
    expect(IntentInput.safeParse({ ...base, swapFor: { resource: "r1" } }).success).toBe(false);
    expect(IntentInput.safeParse({ ...base, minQuantity: 1 }).success).toBe(false);
    expect(IntentInput.safeParse({ agent: "a", side: "sell", resource: "r1", quantity: 1, limitPrice: 1, region: "x", kind: "deferral" }).success).toBe(false);
  });
});

describe("verify rejects tampered settlements with swaps (optimality from potentials, Nash on the net)", () => {
  const swap = (id: string, give: string, want: string, c: number, b: number, q = 10): Intent => ({
    id, agent: id, side: "sell", kind: "swap", resource: give, quantity: q, limitPrice: c, region: "eu-west",
    swapFor: { resource: want, limitPrice: b },
  });
  const intents: Intent[] = [
    ...generate(80, 11),
    // A ring that only works as a ring (3.2 of welfare) and a chain through two swaps beside a direct seller.
    swap("A", "x1", "x2", 1.0, 1.5), swap("B", "x2", "x3", 1.2, 1.0, 8), swap("C", "x3", "x1", 0.5, 0.6, 12),
    buy("buyer", 10, 5, { resource: "r1" }), swap("S1", "r1", "r2", 1, 1.2), swap("S2", "r2", "r3", 1, 1.1),
    sell("seller", 6, 2, { resource: "r3" }), sell("direct", 3, 4.5, { resource: "r1" }),
  ];
  const L = DEFAULT_LATENCY;
  const good = solve(intents, L);
  const clone = () => structuredClone({ fills: good.fills, welfare: good.welfare, certificate: good.certificate });
  const gainOf = (f: { buy: string; sell: string; quantity: number }) => {
    const b = intents.find((i) => i.id === f.buy)!;
    const c = intents.find((i) => i.id === f.sell)!;
    return ((b.swapFor ? b.swapFor.limitPrice ?? 0 : b.limitPrice) - c.limitPrice) * f.quantity;
  };
  const chainFill = (s: ReturnType<typeof clone>) => s.fills.findIndex((f) => f.buy === "S1" && f.sell === "S2");

  it("accepts the untouched settlement, whose certificate carries the swaps' potentials", () => {
    expect(verify(intents, L, clone())).toEqual({ ok: true });
    expect(Object.keys(good.certificate.potentials ?? {}).sort()).toEqual(["A", "B", "C", "S1", "S2"]);
    close(good.certificate.bound, good.welfare, 1e-9);
  });
  it("a price nudged inside a chain (the two swaps' shares move apart)", () => {
    const s = clone();
    s.fills[chainFill(s)].price += 1e-3;
    expect(verify(intents, L, s).ok).toBe(false);
  });
  it("a price nudged inside the ring", () => {
    const s = clone();
    s.fills.find((f) => f.buy === "A")!.price += 1e-3;
    expect(verify(intents, L, s).ok).toBe(false);
  });
  it("a fill moved to another swap", () => {
    const s = clone();
    s.fills[chainFill(s)].sell = "A";
    expect(verify(intents, L, s).ok).toBe(false);
  });
  it("a better allocation hidden: the profitable ring left out, welfare restated (with or without its potentials)", () => {
    const s = clone();
    const ring = s.fills.filter((f) => ["A", "B", "C"].includes(f.buy));
    expect(ring).toHaveLength(3);
    s.fills = s.fills.filter((f) => !ring.includes(f));
    for (const f of ring) s.welfare -= gainOf(f);
    expect(verify(intents, L, s).ok).toBe(false);
    for (const id of ["A", "B", "C"]) {
      s.certificate.potentials![id] = 0;
      delete s.certificate.duals[id];
    }
    expect(verify(intents, L, s).ok).toBe(false);
  });
  it("a better allocation hidden: the chain cut short", () => {
    const s = clone();
    const cut = s.fills.filter((f) => ["buyer", "S1", "S2"].includes(f.buy));
    s.fills = s.fills.filter((f) => !cut.includes(f));
    for (const f of cut) s.welfare -= gainOf(f);
    expect(verify(intents, L, s).ok).toBe(false);
  });
  it("a forged potential and a missing one are refused; fills out of trade order are not (Nash is on the net, CONTRACT 2a)", () => {
    const s = clone();
    s.certificate.potentials!.S1 += 1;
    expect(verify(intents, L, s).ok).toBe(false);
    const t = clone();
    delete t.certificate.potentials!.A;
    expect(verify(intents, L, t).ok).toBe(false);
    const u = clone();
    u.fills.reverse();
    expect(verify(intents, L, u)).toEqual({ ok: true });
  });
});

describe("fuzz: odd scales, regions missing from the table, caps of 0, swaps, minimums", () => {
  it("never throws and always verifies (400 random small markets)", () => {
    const L: LatencyTable = { a: { b: 10, c: 50 }, b: { c: 30 }, d: { d: 5 } };
    for (let t = 0; t < 400; t++) {
      const r = rng(1000 + t);
      const n = 1 + Math.floor(r() * 25);
      const scaleQ = [1e-6, 1, 1e6, 1e12][Math.floor(r() * 4)];
      const scaleP = [1e-6, 1, 1e6][Math.floor(r() * 3)];
      const xs: Intent[] = [];
      for (let k = 0; k < n; k++) {
        const q = (r() < 0.3 ? Math.ceil(r() * 5) : r() * 10 + 1e-3) * scaleQ;
        const it: Intent = {
          id: `i${k}`, agent: "a", side: r() < 0.5 ? "buy" : "sell", resource: r() < 0.7 ? "x" : "y", quantity: q,
          limitPrice: (r() < 0.4 ? Math.round(r() * 4) : r() * 4) * scaleP, region: ["a", "b", "c", "d", "zz"][Math.floor(r() * 5)],
        };
        if (r() < 0.4) it.maxLatencyMs = [0, 5, 10, 30, 60][Math.floor(r() * 5)];
        const u = r();
        if (u < 0.2) it.minQuantity = q;
        else if (u < 0.35) it.minQuantity = q * r();
        if (r() < 0.1 && it.side === "sell") {
          it.swapFor = { resource: it.resource === "x" ? "y" : "x", limitPrice: r() * 4 * scaleP };
          it.minQuantity = undefined;
        }
        xs.push(it);
      }
      const res = solve(xs, L, { timeBudgetMs: 20 });
      expect(verify(xs, L, res), `market ${t}`).toEqual({ ok: true });
    }
  });
});
