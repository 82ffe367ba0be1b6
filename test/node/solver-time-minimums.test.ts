// Windowed books with minimums (notes/solver.md, "Time: minimums (session 9)"): branch and bound certifies its
// optimum by a tree per component (certificate.trees), which verify checks leaf by leaf; against HiGHS's
// time-indexed MILP on markets with many minimums; and hostile trees (a false bound, a leaf that does not cover
// its branch, a part that trades with another) refused.
import { describe, expect, test } from "vitest";
import type { Certificate, Intent, TimeTree } from "../../src/contract/schema.ts";
import { solve, verify, type SolveResult } from "../../src/solver/index.ts";
import { generateWindowedMarket, type WindowedMarketOptions } from "../../support/generate-time.ts";
import { judgeTimedMarket, type TimeInstance } from "../oracle/time-judge.ts";

/** Modes with many minimums and all-or-none intents (the oracle's own sweep has 30% / 20% in one mode of ten). */
const HEAVY: Record<string, WindowedMarketOptions> = {
  minimums: { minQuantityShare: 0.45, allOrNoneShare: 0.3, maxRateShare: 0.4 },
  "all-or-none": { minQuantityShare: 0.1, allOrNoneShare: 0.6, maxRateShare: 0.6 },
  "soft latency": { minQuantityShare: 0.35, allOrNoneShare: 0.2, softLatencyShare: 0.6, latencyCapShare: 0.2, windowlessShare: 0.3 },
  "shared agents": { agents: 4, minQuantityShare: 0.4, allOrNoneShare: 0.25, pastShare: 0.3 },
};
/** With swaps HiGHS's optimum may make a swap lose on its net (its model has no such row), which no settlement may. */
const WITH_SWAPS: WindowedMarketOptions = { resources: 2, swapShare: 0.2, deferralShare: 0.1, minQuantityShare: 0.35, allOrNoneShare: 0.2, maxRateShare: 0.5, softLatencyShare: 0.3 };

function instance(seed: number, size: number, modes: Record<string, WindowedMarketOptions>): TimeInstance {
  const names = Object.keys(modes);
  const mode = names[seed % names.length];
  const small = size <= 12;
  return { seed, mode, options: { size, regions: small ? 2 : 4, horizonHours: small ? 4 : 12, maxWindowHours: small ? 4 : 8, integerQuantities: seed % 2 === 0, ...modes[mode] } };
}

describe("windowed books with minimums against HiGHS's time-indexed MILP", () => {
  test("400 markets of 4-40 intents with many minimums: the same optimum, status optimal, verified; trees listed", () => {
    const failures: string[] = [];
    let trees = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const j = judgeTimedMarket(instance(seed, 4 + ((seed * 7) % 37), HEAVY), { solve, verify });
      if ((j.result as SolveResult).certificate.trees) trees++;
      if (j.problems.length > 0) failures.push(`seed ${seed} (${j.market.intents.length} intents): ${j.problems.join("; ").slice(0, 600)}`);
    }
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
    expect(trees).toBeGreaterThan(40);
  }, 600_000);

  test("120 markets with swaps and minimums: verified, and what a settlement claims holds against HiGHS", () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 120; seed++) {
      const j = judgeTimedMarket(instance(seed, 4 + ((seed * 7) % 37), { swaps: WITH_SWAPS }), { solve, verify });
      const r = j.result as SolveResult;
      const tol = 1e-6 * Math.max(1, j.highsWelfare);
      const claims = verify(j.market.intents, j.market.latency, r, { now: j.market.now });
      // Optimal, or a stated gap: HiGHS may do better only by a swap losing on its net, never beyond the proven bound.
      if (!claims.ok) failures.push(`seed ${seed}: verify: ${claims.errors.slice(0, 2).join("; ")}`);
      if (r.status === "optimal" && j.problems.length > 0) failures.push(`seed ${seed}: optimal claimed: ${j.problems.join("; ").slice(0, 400)}`);
      if (r.welfare + (r.gap ?? 0) < j.highsWelfare - tol && j.problems.some((p) => !p.startsWith("status")))
        failures.push(`seed ${seed}: bound ${r.welfare + (r.gap ?? 0)} below HiGHS's ${j.highsWelfare}`);
    }
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
  }, 600_000);
});

/** A windowed book whose branch and bound lists a tree with forced leaves (seed 1: 40 intents, 45% minimums). */
function treeBook(copies = 1): { intents: Intent[]; market: ReturnType<typeof generateWindowedMarket> } {
  const market = generateWindowedMarket(1, { size: 40, regions: 3, horizonHours: 12, maxWindowHours: 8, minQuantityShare: 0.45, allOrNoneShare: 0.3, maxRateShare: 0.4 });
  // Copies on renamed resources and agents: components that cannot trade with each other, each with its own tree.
  const intents = Array.from({ length: copies }, (_, c) =>
    market.intents.map((it) => (c === 0 ? it : { ...it, id: `c${c}-${it.id}`, agent: `c${c}-${it.agent}`, resource: `c${c}-${it.resource}` })),
  ).flat();
  return { intents, market };
}

const clone = <T>(x: T): T => structuredClone(x);

describe("windowed minimums: the tree certificate and hostile trees", () => {
  const { intents, market } = treeBook();
  const at = { now: market.now };
  const r = solve(intents, market.latency, { ...at, timeBudgetMs: 10_000 });
  const tree = () => r.certificate.trees![0];
  const refused = (cert: Certificate, pattern: RegExp, result: SolveResult = r) => {
    const v = verify(intents, market.latency, { ...result, certificate: cert }, at);
    expect(v.ok, JSON.stringify(v)).toBe(false);
    expect((v as { errors: string[] }).errors.join("\n")).toMatch(pattern);
  };
  /** A leaf with a forced intent whose dual is negative (the minimum costs welfare there). */
  const forcedLeaf = () => {
    const leaves = tree().leaves;
    const k = leaves.findIndex((l) => l.fixed.some(([id, w]) => w === 1 && (l.duals[id] ?? 0) < 0));
    const [id] = leaves[k].fixed.find(([i, w]) => w === 1 && (leaves[k].duals[i] ?? 0) < 0)!;
    return { k, id };
  };

  test("the solver's settlement: optimal, a tree whose bound is the welfare, verified", () => {
    expect(r.status).toBe("optimal");
    expect(tree().leaves.length).toBeGreaterThanOrEqual(4);
    expect(r.certificate.gap).toBeUndefined();
    expect(Math.abs(r.certificate.bound - r.welfare)).toBeLessThan(1e-9 * Math.max(1, r.welfare));
    expect(verify(intents, market.latency, r, at)).toEqual({ ok: true });
    // Without the tree the root duals prove only the relaxation: the same settlement must state its gap.
    const rootOnly = clone(r.certificate);
    delete rootOnly.trees;
    refused(rootOnly, /not proven optimal over schedules/);
  });

  test("a false bound: a forced intent's dual lowered (the leaf's bound with it) is refused", () => {
    const cert = clone(r.certificate);
    const { k, id } = forcedLeaf();
    cert.trees![0].leaves[k].duals[id] -= 1000;
    refused(cert, /trees\.0\.leaves\.\d+: duals violate/);
  });

  test("a false bound: a leaf's duals halved are refused", () => {
    const cert = clone(r.certificate);
    const leaves = cert.trees![0].leaves;
    let k = 0;
    for (let j = 0; j < leaves.length; j++) if (Object.keys(leaves[j].duals).length > Object.keys(leaves[k].duals).length) k = j;
    for (const id of Object.keys(leaves[k].duals)) leaves[k].duals[id] /= 2;
    for (const table of [leaves[k].rates, leaves[k].takeRates]) for (const per of Object.values(table ?? {})) for (const t of Object.keys(per)) per[t] /= 2;
    refused(cert, /trees\.0\.leaves\.\d+: .*violate/);
  });

  test("leaves that do not cover the space are refused: a leaf removed, a fixing moved to another intent", () => {
    const removed = clone(r.certificate);
    removed.trees![0].leaves.splice(forcedLeaf().k, 1);
    refused(removed, /missing one way|do not form a branching tree/);
    const moved = clone(r.certificate);
    const leaf = moved.trees![0].leaves[forcedLeaf().k];
    const other = intents.find((it) => (it.minQuantity ?? 0) > 0 && !leaf.fixed.some(([id]) => id === it.id))!;
    leaf.fixed[leaf.fixed.length - 1] = [other.id, leaf.fixed[leaf.fixed.length - 1][1]];
    refused(moved, /do not form a branching tree|missing one way/);
  });

  test("a leaf that fixes an intent without a minimum, or lists a dual outside its part, is refused", () => {
    const plain = intents.find((it) => !((it.minQuantity ?? 0) > 0) && r.certificate.duals[it.id] !== undefined)!;
    const noMin = clone(r.certificate);
    for (const leaf of noMin.trees![0].leaves) leaf.fixed.unshift([plain.id, leaf === noMin.trees![0].leaves[0] ? 0 : 1]);
    refused(noMin, /with a minimum|branching tree|missing one way/);
    const outside = clone(r.certificate);
    outside.trees![0].leaves[0].duals["no-such-intent"] = 1;
    refused(outside, /not an intent of this part/);
    const nan = clone(r.certificate);
    nan.trees![0].leaves[0].duals[plain.id] = Number.NaN;
    refused(nan, /not finite/);
    for (const junk of [{}, [{ intents: "x", leaves: [] }], [{ intents: [], leaves: [null] }]]) refused({ ...clone(r.certificate), trees: junk as unknown as TimeTree[] }, /certificate\.trees/);
  });

  test("a better allocation hidden is refused unless its gap is stated, and a bound below the tree's is refused", () => {
    // Fills of one pair without minimums dropped: the welfare restated, the certificate kept.
    const byId = new Map(intents.map((it) => [it.id, it]));
    const free = r.fills.find((f) => !byId.get(f.buy)!.minQuantity && !byId.get(f.sell)!.minQuantity)!;
    const fills = r.fills.filter((f) => !(f.buy === free.buy && f.sell === free.sell));
    const gain = r.fills.filter((f) => f.buy === free.buy && f.sell === free.sell).reduce((s, f) => s + f.quantity * (byId.get(f.buy)!.limitPrice - byId.get(f.sell)!.limitPrice), 0);
    const hidden = { ...r, fills, welfare: r.welfare - gain };
    refused(r.certificate, /not proven optimal over schedules: the proven bound/, hidden);
    const owned = { ...clone(r.certificate), gap: gain * (1 + 1e-6) };
    const v = verify(intents, market.latency, { ...hidden, certificate: owned }, at);
    // Prices of the rest may move once a pair is gone; what matters is that optimality no longer fails.
    expect(v.ok ? [] : v.errors.filter((e) => /not proven optimal/.test(e))).toEqual([]);
    refused({ ...clone(r.certificate), bound: r.welfare - 1 }, /certificate\.bound .* below/);
  });

  test("two components, a tree each; an intent moved to the other part (a pair across parts) is refused", () => {
    const two = treeBook(2);
    const r2 = solve(two.intents, market.latency, { ...at, timeBudgetMs: 10_000 });
    expect(r2.status).toBe("optimal");
    expect(r2.certificate.trees).toHaveLength(2);
    expect(verify(two.intents, market.latency, r2, at)).toEqual({ ok: true });
    const cert = clone(r2.certificate);
    const [a, b] = cert.trees!;
    // An intent that trades in part a, listed in part b instead.
    const traded = r2.fills.find((f) => a.intents.includes(f.buy))!.buy;
    a.intents = a.intents.filter((id) => id !== traded);
    b.intents.push(traded);
    for (const leaf of a.leaves) delete leaf.duals[traded];
    const v = verify(two.intents, market.latency, { ...r2, certificate: cert }, at);
    expect(v.ok).toBe(false);
    expect((v as { errors: string[] }).errors.join("\n")).toMatch(/may trade but are in different parts|not an intent of this part/);
  });
});

describe("windowed minimums under budgets", () => {
  test("time budget 0, 2–3 nodes, 1–3 certificate leaves: every settlement verifies, its gap stated where the tree does not close", () => {
    const modes: WindowedMarketOptions[] = [HEAVY.minimums, WITH_SWAPS, HEAVY["shared agents"]];
    const budgets = [{ timeBudgetMs: 0 }, { nodeBudget: 2 }, { nodeBudget: 3, maxCertificateLeaves: 1 }, { maxCertificateLeaves: 3 }];
    const failures: string[] = [];
    let withTrees = 0;
    for (let seed = 1; seed <= 90; seed++) {
      const m = generateWindowedMarket(seed, { size: 5 + (seed % 60), regions: 3, horizonHours: 12, maxWindowHours: 8, integerQuantities: seed % 3 === 0, ...modes[seed % modes.length] });
      for (const b of budgets) {
        const r = solve(m.intents, m.latency, { now: m.now, ...b });
        if (r.certificate.trees) withTrees++;
        const v = verify(m.intents, m.latency, r, { now: m.now });
        if (!v.ok) failures.push(`seed ${seed} ${JSON.stringify(b)}: ${v.errors.slice(0, 2).join("; ")}`);
        if (r.status !== "optimal" && !(r.gap! >= 0)) failures.push(`seed ${seed} ${JSON.stringify(b)}: ${r.status} without a gap`);
      }
    }
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
    expect(withTrees).toBeGreaterThan(50);
  }, 300_000);
});
