// Tests of the oracle itself: the generator, the contract's compatibility rules, the HiGHS model on hand-solved
// markets, and the checker, which must accept hand-computed Nash settlements and catch each kind of violation.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { IntentInput, LatencyTable, type Fill, type Intent } from "../../src/contract/schema.ts";
import { checkCertificate, checkSettlement, checkStatedGap, NASH_RULES, type Rule, type Violation } from "../oracle/checker.ts";
import { incompatibility, latencyBetween, tradablePairs } from "../oracle/compat.ts";
import { buildLatencyTable, generateMarket } from "../oracle/generate.ts";
import { buildAllocationLp, solveWithHighs, witnessFills } from "../oracle/highs.ts";

const EU = { "eu-west": { "us-east": 80, "eu-central": 14 } };

function intent(id: string, side: "buy" | "sell", quantity: number, limitPrice: number, extra: Partial<Intent> = {}): Intent {
  return { id, agent: `agent-${id}`, side, resource: "gpu-h100-hr", quantity, limitPrice, region: "eu-west", ...extra };
}
function fill(buy: string, sell: string, quantity: number, price: number, resource = "gpu-h100-hr"): Fill {
  return { buy, sell, resource, quantity, price };
}
const welfareOf = (intents: Intent[], fills: Fill[]) => {
  const limit = new Map(intents.map((i) => [i.id, i.limitPrice]));
  return fills.reduce((w, f) => w + ((limit.get(f.buy) ?? 0) - (limit.get(f.sell) ?? 0)) * f.quantity, 0);
};
const rules = (vs: Violation[]) => [...new Set(vs.map((v) => v.rule))].sort();
/** Checks a settlement whose reported welfare is its true welfare and is also the optimum. */
function check(intents: Intent[], fills: Fill[], optimum = welfareOf(intents, fills), latency: LatencyTable = EU): Rule[] {
  return rules(checkSettlement(intents, latency, { fills, welfare: welfareOf(intents, fills) }, optimum));
}

describe("generateMarket", () => {
  test("is deterministic per seed and differs across seeds", () => {
    const opts = { size: 40, minQuantityShare: 0.3, allOrNoneShare: 0.1, identicalShare: 0.1, zeroSurplusShare: 0.2 };
    expect(generateMarket(11, opts)).toEqual(generateMarket(11, opts));
    expect(generateMarket(11, opts)).not.toEqual(generateMarket(12, opts));
  });

  test("produces contract-valid intents and latency tables with unique ids", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const m = generateMarket(seed, { size: 50, integerQuantities: seed % 2 === 0, minQuantityShare: 0.3, allOrNoneShare: 0.2, identicalShare: 0.2, unreachablePairs: 3 });
      for (const i of m.intents) expect(IntentInput.safeParse(i).success, JSON.stringify(i)).toBe(true);
      expect(LatencyTable.safeParse(m.latency).success).toBe(true);
      expect(new Set(m.intents.map((i) => i.id)).size).toBe(50);
    }
  });

  test("honours its options", () => {
    const one = generateMarket(3, { size: 60, oneSide: "sell", identicalShare: 0.3 });
    expect(one.intents.every((i) => i.side === "sell")).toBe(true);

    const aon = generateMarket(4, { size: 200, allOrNoneShare: 1 });
    expect(aon.intents.every((i) => i.minQuantity === i.quantity)).toBe(true);

    const mins = generateMarket(5, { size: 200, minQuantityShare: 1, integerQuantities: false });
    expect(mins.intents.every((i) => i.minQuantity !== undefined && i.minQuantity < i.quantity && i.minQuantity > 0)).toBe(true);
    expect(mins.intents.some((i) => !Number.isInteger(i.quantity))).toBe(true);

    const ints = generateMarket(6, { size: 200, minQuantityShare: 0.5 });
    expect(ints.intents.every((i) => Number.isInteger(i.quantity) && Number.isInteger(i.minQuantity ?? 0))).toBe(true);

    const capped = generateMarket(7, { size: 400 }).intents.filter((i) => i.maxLatencyMs !== undefined).length;
    expect(capped).toBeGreaterThan(120);
    expect(capped).toBeLessThan(200);

    const tied = generateMarket(8, { size: 100, ties: true, resources: 1 });
    expect(new Set(tied.intents.map((i) => i.limitPrice)).size).toBeLessThanOrEqual(4);

    const zero = generateMarket(9, { size: 100, zeroSurplusShare: 1 });
    const sellPrices = new Set(zero.intents.filter((i) => i.side === "sell").map((i) => `${i.resource}@${i.limitPrice}`));
    const buys = zero.intents.filter((i) => i.side === "buy");
    expect(buys.filter((b) => sellPrices.has(`${b.resource}@${b.limitPrice}`)).length).toBe(buys.length);

    const twins = generateMarket(10, { size: 100, identicalShare: 0.5 });
    const shapes = twins.intents.map(({ id: _id, agent: _agent, ...rest }) => JSON.stringify(rest));
    expect(new Set(shapes).size).toBeLessThan(70);

    const regions = generateMarket(12, { size: 100, regions: 2, resources: 1 });
    expect(new Set(regions.intents.map((i) => i.region)).size).toBeLessThanOrEqual(2);
    expect(new Set(regions.intents.map((i) => i.resource))).toEqual(new Set(["gpu-h100-hr"]));
  });

  test("buildLatencyTable lists each pair once, some self-latencies, and drops pairs on request", () => {
    const full = buildLatencyTable(6);
    const count = (t: LatencyTable) => Object.entries(t).reduce((n, [a, row]) => n + Object.keys(row).filter((b) => b !== a).length, 0);
    expect(count(full)).toBe(15);
    expect(latencyBetween(full, "eu-west", "eu-central")).toBe(14);
    expect(latencyBetween(full, "eu-central", "eu-west")).toBe(14);
    expect(Object.entries(full).some(([a, row]) => row[a] !== undefined && row[a] > 0)).toBe(true);
    expect(count(buildLatencyTable(6, 4, 99))).toBe(11);
  });
});

describe("compatibility (CONTRACT.md sections 1 and 3)", () => {
  const table: LatencyTable = { "eu-west": { "us-east": 80 }, "us-west": { "us-west": 3 } };
  test("latency is symmetric, a region to itself is 0 unless listed, unlisted pairs are undefined", () => {
    expect(latencyBetween(table, "eu-west", "us-east")).toBe(80);
    expect(latencyBetween(table, "us-east", "eu-west")).toBe(80);
    expect(latencyBetween(table, "eu-central", "eu-central")).toBe(0);
    expect(latencyBetween(table, "us-west", "us-west")).toBe(3);
    expect(latencyBetween(table, "us-west", "eu-west")).toBeUndefined();
  });
  test("caps apply to both sides; equality passes; unlisted pairs only block capped intents", () => {
    const b = intent("b", "buy", 1, 2, { region: "eu-west" });
    const s = intent("s", "sell", 1, 1, { region: "us-east" });
    expect(incompatibility(b, s, table)).toBeUndefined();
    expect(incompatibility({ ...b, maxLatencyMs: 80 }, s, table)).toBeUndefined();
    expect(incompatibility({ ...b, maxLatencyMs: 79 }, s, table)).toMatch(/buyer's cap/);
    expect(incompatibility(b, { ...s, maxLatencyMs: 79 }, table)).toMatch(/seller's cap/);
    const far = { ...s, region: "ap-south" };
    expect(incompatibility(b, far, table)).toBeUndefined();
    expect(incompatibility({ ...b, maxLatencyMs: 1000 }, far, table)).toMatch(/no latency listed/);
    const home = { ...s, region: "us-west" };
    expect(incompatibility({ ...b, region: "us-west", maxLatencyMs: 0 }, home, table)).toMatch(/buyer's cap/);
    expect(incompatibility({ ...b, region: "eu-central", maxLatencyMs: 0 }, { ...s, region: "eu-central" }, table)).toBeUndefined();
    expect(incompatibility(b, { ...s, resource: "inference-mtok" }, table)).toMatch(/resources differ/);
  });
  test("tradable pairs exclude buy limit < sell limit but keep zero-gain pairs", () => {
    const intents = [intent("b", "buy", 1, 1.5), intent("s1", "sell", 1, 1.5), intent("s2", "sell", 1, 1.6)];
    expect(tradablePairs(intents, EU).map((p) => `${p.buy.id}|${p.sell.id}|${p.gain}`)).toEqual(["b|s1|0"]);
  });
});

describe("solveWithHighs on hand-solved markets", () => {
  test("the contract's midpoint example: welfare 40", () => {
    const r = solveWithHighs([intent("b", "buy", 100, 1.8), intent("s", "sell", 500, 1.4)], EU);
    expect(r.welfare).toBeCloseTo(40, 9);
    expect(r.x.get("b|s")).toBeCloseTo(100, 9);
  });
  test("all-or-none blocks a trade that cannot be filled whole", () => {
    const intents = [intent("b", "buy", 100, 1.8, { minQuantity: 100 }), intent("s", "sell", 60, 1.4)];
    expect(solveWithHighs(intents, EU).welfare).toBe(0);
    const partial = [intent("b", "buy", 100, 1.8, { minQuantity: 50 }), intent("s", "sell", 60, 1.4)];
    expect(solveWithHighs(partial, EU).welfare).toBeCloseTo(24, 9);
  });
  test("a zero-gain pair can be what makes a minQuantity reachable", () => {
    const intents = [
      intent("s", "sell", 10, 1, { minQuantity: 10 }),
      intent("rich", "buy", 5, 2),
      intent("even", "buy", 5, 1),
    ];
    const r = solveWithHighs(intents, EU);
    expect(r.welfare).toBeCloseTo(5, 9);
    expect(r.x.get("even|s")).toBeCloseTo(5, 9);
    expect(solveWithHighs(intents.slice(0, 2), EU).welfare).toBe(0);
  });
  test("a pair with buy limit below sell limit never trades, even to reach a minQuantity", () => {
    const intents = [intent("s", "sell", 10, 1, { minQuantity: 10 }), intent("rich", "buy", 5, 2), intent("poor", "buy", 5, 0.9)];
    expect(solveWithHighs(intents, EU).welfare).toBe(0);
  });
  test("latency caps, and pairs missing from the table, shape the optimum", () => {
    const intents = [
      intent("b", "buy", 10, 3, { region: "us-east", maxLatencyMs: 80 }),
      intent("near", "sell", 10, 2, { region: "eu-west" }),
      intent("cheap", "sell", 10, 1, { region: "ap-south" }),
    ];
    expect(solveWithHighs(intents, EU).welfare).toBeCloseTo(10, 9);
    const uncapped = intents.map((i) => ({ ...i, maxLatencyMs: undefined }));
    expect(solveWithHighs(uncapped, EU).welfare).toBeCloseTo(20, 9);
  });
  test("numbers that print in exponent form (1e-7, 1e+21 scale) and id characters outside LP syntax survive", () => {
    const intents = [
      intent("b:1.x~y", "buy", 2e-7, 3e-6, { resource: "inference-mtok" }),
      intent("s-1_z", "sell", 1e-7, 1e-6, { resource: "inference-mtok" }),
      intent("big.buy", "buy", 1e12, 2.5),
      intent("big.sell", "sell", 5e11, 0.5, { minQuantity: 5e11 }),
    ];
    const r = solveWithHighs(intents, EU);
    expect(r.welfare).toBeCloseTo(5e11 * 2, 0);
    expect(r.x.get("b:1.x~y|s-1_z")).toBeCloseTo(1e-7, 12);
    expect(r.x.get("big.buy|big.sell")).toBeCloseTo(5e11, 0);
  });
  test("LP text has no -0, no NaN, short lines and generated names only", () => {
    const m = generateMarket(21, { size: 120, minQuantityShare: 0.3, integerQuantities: false });
    const { text } = buildAllocationLp(m.intents, m.latency);
    expect(text).not.toMatch(/-0\b(?!\.)/);
    expect(text).not.toMatch(/NaN|Infinity/);
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBeLessThan(255);
    expect(text).not.toMatch(/buy-|sell-/);
  });
  test("without minQuantity its optimum is certified by its own duals through checkCertificate", () => {
    let certified = 0;
    for (let seed = 200; seed < 260; seed++) {
      const m = generateMarket(seed, { size: 5 + (seed % 60), integerQuantities: seed % 2 === 0, ties: seed % 3 === 0, zeroSurplusShare: seed % 4 === 0 ? 0.3 : 0 });
      const r = solveWithHighs(m.intents, m.latency);
      expect(r.duals, `seed ${seed}`).toBeDefined();
      const issues = checkCertificate(m.intents, m.latency, { duals: r.duals ?? {}, bound: r.welfare }, r.welfare, 1e-7);
      expect(issues, `seed ${seed}`).toEqual([]);
      if (r.welfare > 0) certified++;
    }
    expect(certified).toBeGreaterThan(50);
    expect(solveWithHighs(generateMarket(1, { size: 20, minQuantityShare: 0.5 }).intents, {}).duals).toBeUndefined();
  });
  test("its x is feasible by the checker's rules and its objective is Σ gain·x", () => {
    for (let seed = 100; seed < 140; seed++) {
      const m = generateMarket(seed, { size: 30, minQuantityShare: 0.3, allOrNoneShare: 0.2, integerQuantities: seed % 2 === 0, zeroSurplusShare: 0.1, ties: seed % 3 === 0 });
      const r = solveWithHighs(m.intents, m.latency);
      const fills = witnessFills(m.intents, r.x);
      const w = welfareOf(m.intents, fills);
      expect(Math.abs(w - r.welfare)).toBeLessThan(1e-6 * Math.max(1, r.welfare));
      // HiGHS's x is feasible up to its 1e-9 tolerances; the prices above are not Nash prices, so skip those rules.
      const feasibility = checkSettlement(m.intents, m.latency, { fills, welfare: w }, r.welfare, { quantity: 1e-8 }).filter(
        (v) => !NASH_RULES.has(v.rule),
      );
      expect(feasibility, `seed ${seed}`).toEqual([]);
    }
  });
});

describe("checkSettlement accepts Nash settlements computed by hand", () => {
  test("the contract's midpoint example: 100 at 1.60", () => {
    const intents = [intent("b", "buy", 100, 1.8), intent("s", "sell", 500, 1.4)];
    expect(check(intents, [fill("b", "s", 100, 1.6)], 40)).toEqual([]);
  });
  test("one seller, two buyers, no limit binding: everyone earns 0.4 per unit", () => {
    const intents = [intent("s", "sell", 200, 1), intent("b1", "buy", 100, 2), intent("b2", "buy", 100, 1.6)];
    expect(check(intents, [fill("b1", "s", 100, 1.6), fill("b2", "s", 100, 1.2)])).toEqual([]);
  });
  test("a binding seller limit: the weak buyer pays the seller's limit, the rest split at 1/3", () => {
    const intents = [intent("s", "sell", 200, 1), intent("b1", "buy", 100, 2), intent("b2", "buy", 100, 1.1)];
    expect(check(intents, [fill("b1", "s", 100, 5 / 3), fill("b2", "s", 100, 1)])).toEqual([]);
  });
  test("zero-gain convention: an intent with only zero-gain fills is out; its volume still counts for its partner", () => {
    const intents = [intent("s", "sell", 100, 1), intent("even", "buy", 50, 1), intent("rich", "buy", 50, 2)];
    expect(check(intents, [fill("even", "s", 50, 1), fill("rich", "s", 50, 5 / 3)])).toEqual([]);
    const bilateral = [intent("b", "buy", 10, 1.4), intent("s", "sell", 10, 1.4)];
    expect(check(bilateral, [fill("b", "s", 10, 1.4)], 0)).toEqual([]);
  });
  test("a settlement with no fills is fine when nothing can trade", () => {
    expect(check([intent("b", "buy", 10, 1), intent("s", "sell", 10, 2)], [], 0)).toEqual([]);
  });
});

describe("checkSettlement catches each kind of violation", () => {
  const pair = [intent("b", "buy", 100, 1.8), intent("s", "sell", 500, 1.4)];
  const mid = fill("b", "s", 100, 1.6);

  test("unknown-intent", () => expect(check(pair, [mid, fill("b", "ghost", 1, 1.6)], 40)).toContain("unknown-intent"));
  test("wrong-side", () => {
    const two = [...pair, intent("s2", "sell", 10, 1.4)];
    expect(check(two, [fill("s2", "s", 10, 1.4)], 0)).toContain("wrong-side");
  });
  test("resource-mismatch: the fill's resource, or the two intents' resources", () => {
    expect(check(pair, [fill("b", "s", 100, 1.6, "inference-mtok")], 40)).toContain("resource-mismatch");
    const mixed = [pair[0], intent("s", "sell", 500, 1.4, { resource: "inference-mtok" })];
    expect(check(mixed, [fill("b", "s", 100, 1.6)], 0)).toContain("resource-mismatch");
  });
  test("incompatible: a latency cap, or a capped intent facing an unlisted region", () => {
    const capped = [intent("b", "buy", 100, 1.8, { maxLatencyMs: 50 }), intent("s", "sell", 500, 1.4, { region: "us-east" })];
    expect(check(capped, [mid], 40)).toContain("incompatible");
    const sellerCap = [intent("b", "buy", 100, 1.8), intent("s", "sell", 500, 1.4, { region: "us-east", maxLatencyMs: 79 })];
    expect(check(sellerCap, [mid], 40)).toContain("incompatible");
    const unlisted = [intent("b", "buy", 100, 1.8), intent("s", "sell", 500, 1.4, { region: "ap-south", maxLatencyMs: 500 })];
    expect(check(unlisted, [mid], 40)).toContain("incompatible");
    const ok = [intent("b", "buy", 100, 1.8), intent("s", "sell", 500, 1.4, { region: "us-east", maxLatencyMs: 80 })];
    expect(check(ok, [mid], 40)).toEqual([]);
  });
  test("bad-number", () => {
    expect(check(pair, [fill("b", "s", Number.NaN, 1.6)], 40)).toContain("bad-number");
    expect(rules(checkSettlement(pair, EU, { fills: [mid], welfare: Number.NaN }, 40))).toContain("bad-number");
  });
  test("non-positive-quantity", () => {
    expect(check(pair, [mid, fill("b", "s", 0, 1.6)], 40)).toContain("non-positive-quantity");
    expect(check(pair, [mid, fill("b", "s", -1, 1.6), fill("b", "s", 1, 1.6)], 40)).toContain("non-positive-quantity");
  });
  test("over-quantity: one fill, or several adding up", () => {
    expect(check(pair, [fill("b", "s", 100.001, 1.6)], 40)).toContain("over-quantity");
    expect(check(pair, [fill("b", "s", 60, 1.6), fill("b", "s", 41, 1.6)], 40)).toContain("over-quantity");
    expect(check(pair, [fill("b", "s", 60, 1.6), fill("b", "s", 40, 1.6)], 40)).toEqual([]);
  });
  test("under-min-quantity, including all-or-none", () => {
    const min = [intent("b", "buy", 100, 1.8, { minQuantity: 80 }), intent("s", "sell", 500, 1.4)];
    expect(check(min, [fill("b", "s", 79, 1.6)], 31.6)).toContain("under-min-quantity");
    expect(check(min, [fill("b", "s", 80, 1.6)], 32)).toEqual([]);
    const aon = [intent("b", "buy", 100, 1.8), intent("s", "sell", 500, 1.4, { minQuantity: 500 })];
    expect(check(aon, [fill("b", "s", 100, 1.6)], 40)).toContain("under-min-quantity");
  });
  test("welfare-misreported", () => {
    expect(rules(checkSettlement(pair, EU, { fills: [mid], welfare: 40.001 }, 40))).toEqual(["welfare-misreported"]);
    expect(rules(checkSettlement(pair, EU, { fills: [mid], welfare: 40 + 1e-12 }, 40))).toEqual([]);
  });
  test("not-optimal and above-optimum", () => {
    expect(check(pair, [fill("b", "s", 99, 1.6)], 40)).toEqual(["not-optimal"]);
    expect(check(pair, [mid], 41)).toEqual(["not-optimal"]);
    expect(check(pair, [mid], 39)).toEqual(["above-optimum"]);
    expect(check(pair, [mid], 40 - 1e-9)).toEqual([]);
  });
  test("price-outside-limits (individual rationality), on either side", () => {
    expect(check(pair, [fill("b", "s", 100, 1.81)], 40)).toContain("price-outside-limits");
    expect(check(pair, [fill("b", "s", 100, 1.39)], 40)).toContain("price-outside-limits");
  });
  test("nash-interior: the midpoint example priced off the midpoint", () => {
    expect(check(pair, [fill("b", "s", 100, 1.55)], 40)).toEqual(["nash-interior"]);
    expect(check(pair, [fill("b", "s", 100, 1.6 + 1e-4)], 40)).toEqual(["nash-interior"]);
  });
  test("nash-seller-limit: a fill at the seller's limit while the seller earns less per unit than that buyer", () => {
    const intents = [intent("s", "sell", 200, 1), intent("b1", "buy", 100, 2), intent("b2", "buy", 100, 1.6)];
    expect(check(intents, [fill("b1", "s", 100, 5 / 3), fill("b2", "s", 100, 1)])).toEqual(["nash-seller-limit"]);
  });
  test("nash-buyer-limit: a fill at the buyer's limit while the buyer earns less per unit than that seller", () => {
    const intents = [intent("b", "buy", 200, 2), intent("s1", "sell", 100, 1), intent("s2", "sell", 100, 1.5)];
    expect(check(intents, [fill("b", "s1", 100, 4 / 3), fill("b", "s2", 100, 2)])).toEqual(["nash-buyer-limit"]);
    expect(check(intents, [fill("b", "s1", 100, 1.375), fill("b", "s2", 100, 1.875)])).toEqual([]);
  });
  test("no-surplus: an intent on a pair with gains left with nothing", () => {
    expect(check(pair, [fill("b", "s", 100, 1.8)], 40)).toContain("no-surplus");
  });
});

describe("checkStatedGap", () => {
  test("a budget-limited settlement must state a gap at least as large as the true one", () => {
    expect(checkStatedGap({ welfare: 40, status: "optimal" }, 40)).toEqual([]);
    expect(checkStatedGap({ welfare: 30, status: "node_budget", gap: 10 }, 40)).toEqual([]);
    expect(checkStatedGap({ welfare: 30, status: "node_budget", gap: 12 }, 40)).toEqual([]);
    expect(rules(checkStatedGap({ welfare: 30, status: "time_budget", gap: 9 }, 40))).toEqual(["gap-unproven"]);
    expect(rules(checkStatedGap({ welfare: 30, status: "time_budget" }, 40))).toEqual(["gap-unproven"]);
  });
});

describe("checkCertificate", () => {
  const intents = [intent("s", "sell", 200, 1), intent("b1", "buy", 100, 2), intent("b2", "buy", 100, 1.6)];
  // Optimum 160 with both buyers and the seller full: (u_b1, u_b2, v_s) = (1, 0.6, 0) and (0.6, 0.2, 0.4) are optimal duals.
  const good = { duals: { b1: 1, b2: 0.6, s: 0 }, bound: 160 };
  test("accepts optimal duals with a closed gap", () => {
    expect(checkCertificate(intents, EU, good, 160)).toEqual([]);
    expect(checkCertificate(intents, EU, { duals: { b1: 0.6, b2: 0.2, s: 0.4 }, bound: 160 }, 160)).toEqual([]);
  });
  test("catches negative duals, violated pairs and unproven or open bounds", () => {
    expect(rules(checkCertificate(intents, EU, { duals: { b1: 1.2, b2: 0.8, s: -0.2 }, bound: 160 }))).toContain("certificate-negative-dual");
    expect(rules(checkCertificate(intents, EU, { duals: { b1: 1, b2: 0.5, s: 0 }, bound: 150 }))).toContain("certificate-infeasible-dual");
    expect(rules(checkCertificate(intents, EU, { ...good, bound: 159 }))).toEqual(["certificate-bound"]);
    expect(rules(checkCertificate(intents, EU, { duals: { b1: 1, b2: 0.6, s: 0.1 }, bound: 180 }, 160))).toEqual(["certificate-bound"]);
  });
});

describe("checkSettlement properties (fast-check)", () => {
  const limits = fc
    .tuple(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0.001, max: 100, noNaN: true }))
    .map(([c, g]) => ({ c, b: c + g }));
  const quantities = fc.tuple(fc.double({ min: 0.001, max: 1e4, noNaN: true }), fc.double({ min: 0.001, max: 1e4, noNaN: true }));

  test("a lone buyer and seller: the midpoint is accepted, a price 1% of the gain away is not", () => {
    fc.assert(
      fc.property(limits, quantities, fc.boolean(), ({ c, b }, [qb, qs], up) => {
        const intents = [intent("b", "buy", qb, b), intent("s", "sell", qs, c)];
        const q = Math.min(qb, qs);
        const optimum = (b - c) * q;
        const at = (price: number) => checkSettlement(intents, EU, { fills: [fill("b", "s", q, price)], welfare: optimum }, optimum, { nash: 1e-9 });
        expect(at((b + c) / 2)).toEqual([]);
        expect(rules(at((b + c) / 2 + (up ? 1 : -1) * 0.01 * (b - c)))).toEqual(["nash-interior"]);
      }),
      { numRuns: 300 },
    );
  });

  test("one seller, n buyers, no binding limit: every intent earns welfare / volume per unit", () => {
    // Buyers' limits sit high enough above the seller's that the common per-unit surplus keeps every price inside.
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 500 }), fc.double({ min: 1, max: 2, noNaN: true })), { minLength: 1, maxLength: 8 }), (buyers) => {
        const c = 1;
        const volume = buyers.reduce((v, [q]) => v + q, 0);
        const intents = [intent("s", "sell", volume, c), ...buyers.map(([q, g], k) => intent(`b${k}`, "buy", q, c + g))];
        const welfare = buyers.reduce((w, [q, g]) => w + q * g, 0);
        const a = welfare / (2 * volume); // total filled volume counts the seller's units and the buyers' units
        fc.pre(buyers.every(([, g]) => g > a));
        const fills = buyers.map(([q, g], k) => fill(`b${k}`, "s", q, c + g - a));
        expect(checkSettlement(intents, EU, { fills, welfare }, welfare, { nash: 1e-9 })).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
