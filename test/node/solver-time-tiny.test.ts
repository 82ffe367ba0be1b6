// Tiny windowed books with minimums end `optimal` (notes/solver.md, "A tiny book at the node budget (session 10)"):
// branch and bound over a handful of intents must close its tree, with leaf duals that prove every leaf under the
// welfare, never stop at a budget with a stated gap. Welfare against the brute-force oracle (test/oracle/time-flow.ts).
import { describe, expect, test } from "vitest";
import type { Intent } from "../../src/contract/schema.ts";
import { solve, verify } from "../../src/solver/index.ts";
import { LATENCY, NOW, tieBook } from "../oracle/priority-books.ts";
import { flowOptimum } from "../oracle/time-flow.ts";

const W = (from: number, to: number) => ({ start: new Date(NOW + from * 3_600_000).toISOString(), end: new Date(NOW + to * 3_600_000).toISOString() });
/** A book in short form: ids i0…, agents a0…, resource gpu. */
const book = (short: Partial<Intent>[]): Intent[] => short.map((it, k) => ({ id: `i${k}`, agent: `a${k}`, resource: "gpu", ...it }) as Intent);

/** What is wrong with the solver's answer on a book: not verified, not `optimal`, a gap, or not the oracle's welfare. */
function fault(intents: Intent[]): string | null {
  const r = solve(intents, LATENCY, { now: NOW });
  const v = verify(intents, LATENCY, r, { now: NOW });
  if (!v.ok) return `verify: ${v.errors.join("; ")}`;
  if (r.status !== "optimal" || r.gap !== undefined || r.certificate.gap !== undefined) return `status ${r.status}, gap ${r.gap}`;
  const best = flowOptimum(intents, LATENCY, NOW);
  if (Math.abs(r.welfare - best) > 1e-9 * Math.max(1, best)) return `welfare ${r.welfare}, the optimum ${best}`;
  return null;
}

/** Books of the windowed priority sweep (tieBook seeds) that ended node_budget at their optimum on 6691d46. */
describe("tiny windowed books that stopped at the node budget", () => {
  test("a forced buyer short of its minimum and its forced seller (seed 1892, welfare 0, was gap 4)", () => {
    const intents = book([
      { side: "buy", quantity: 6, limitPrice: 8, region: "eu-west", minQuantity: 6, priority: "high", window: W(2, 4), maxRate: 4 },
      { side: "sell", quantity: 4, limitPrice: 5, region: "eu-central", minQuantity: 4, priority: "low", window: W(2, 4), maxRate: 4 },
      { side: "buy", quantity: 6, limitPrice: 6, region: "eu-central", minQuantity: 6, priority: "high" },
      { side: "sell", quantity: 4, limitPrice: 5, region: "eu-central", minQuantity: 4, priority: "low" },
      { side: "buy", quantity: 2, limitPrice: 4, region: "eu-west", minQuantity: 2, priority: "normal", window: W(2, 4) },
    ]);
    expect(fault(intents)).toBeNull();
    const r = solve(intents, LATENCY, { now: NOW });
    expect(r.welfare).toBe(0);
    // Hostile: a forced intent's negative leaf dual lowered by 1 more than its pairs allow is refused.
    const leaves = r.certificate.trees![0].leaves;
    const at = leaves.findIndex((l) => Object.values(l.duals).some((d) => d < 0));
    expect(at).toBeGreaterThanOrEqual(0);
    const forged = structuredClone(r);
    const duals = forged.certificate.trees![0].leaves[at].duals;
    const id = Object.keys(duals).find((k) => duals[k] < 0)!;
    duals[id] -= 1;
    const v = verify(intents, LATENCY, forged, { now: NOW });
    expect(v.ok).toBe(false);
    expect(v.ok ? "" : v.errors.join("; ")).toMatch(/duals violate .* \(forced\)/);
  });

  test("two forced partners that both meet their minimums: the bonus off both duals (seed 5261, welfare 20, was gap 468)", () => {
    const intents = book([
      { side: "buy", quantity: 6, limitPrice: 6, region: "eu-central", minQuantity: 6, window: W(2, 3) },
      { side: "sell", quantity: 10, limitPrice: 5, region: "eu-west", minQuantity: 10, priority: "low" },
      { side: "buy", quantity: 6, limitPrice: 8, region: "eu-central", minQuantity: 6, priority: "high", window: W(2, 3) },
      { side: "sell", quantity: 2, limitPrice: 7, region: "eu-west", priority: "high", window: W(2, 3) },
      { side: "sell", quantity: 4, limitPrice: 5, region: "eu-central", minQuantity: 4, priority: "high", window: W(2, 3) },
    ]);
    expect(fault(intents)).toBeNull();
    expect(solve(intents, LATENCY, { now: NOW }).welfare).toBe(20);
  });

  test("a minimum cut whose partner is forced: the dead intent lowered first (seed 10795, was gap 4)", () => {
    const intents = book([
      { side: "buy", quantity: 4, limitPrice: 6, region: "eu-west", minQuantity: 4, priority: "high", window: W(1, 2) },
      { side: "sell", quantity: 6, limitPrice: 7, region: "eu-central", minQuantity: 6, window: W(1, 2) },
      { side: "buy", quantity: 4, limitPrice: 8, region: "eu-central", minQuantity: 4, window: W(1, 2) },
      { side: "sell", quantity: 6, limitPrice: 5, region: "eu-west", minQuantity: 6, priority: "low" },
    ]);
    expect(fault(intents)).toBeNull();
  });
});

describe("tiny windowed books with minimums: status optimal and the oracle's welfare", () => {
  test("6,000 books of 2-6 intents (tieBook, windowed; those with a minimum), priorities kept and dropped", () => {
    const failures: string[] = [];
    let searched = 0;
    for (let seed = 1; seed <= 6000; seed++) {
      const ranked = tieBook(seed, true);
      if (!ranked.some((it) => (it.minQuantity ?? 0) > 0)) continue;
      for (const intents of [ranked, ranked.map(({ priority: _, ...rest }) => rest as Intent)]) {
        searched++;
        const f = fault(intents);
        if (f) failures.push(`seed ${seed}: ${f}: ${JSON.stringify(intents)}`);
      }
    }
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
    expect(searched).toBeGreaterThan(6000);
  }, 600_000);
});
