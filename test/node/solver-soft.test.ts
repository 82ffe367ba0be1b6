// Soft latency in the gains (CONTRACT.md section 1): past preferLatencyMs an intent's limit moves against the
// counterparty by latencyDiscount per ms, a buyer's down and a seller's up; maxLatencyMs stays the hard cap. The
// solver against HiGHS on the same gains (support/highs.ts, its own reading in support/soft-compat.ts), the oracle's
// checks, hostile intents, tampering refused by verify, and independence.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";
import { solve, verify } from "../../src/solver/index.ts";
import { generateMarket, TRUST_LATENCY, trustBook } from "../../support/generate.ts";
import { withSoftLatency } from "../../support/generate-soft.ts";
import { seededRandom } from "../../src/random.ts";
import { solveWithHighs } from "../../support/highs.ts";
import { checkCertificate, checkNetNash, checkSettlement, describeViolations } from "../oracle/checker.ts";

const EU: LatencyTable = { "eu-west": { "eu-west": 2, "eu-central": 14, "us-east": 76 } };
const intent = (id: string, side: "buy" | "sell", quantity: number, limitPrice: number, extra: Partial<Intent> = {}): Intent => ({
  id, agent: id, side, resource: "gpu", quantity, limitPrice, region: "eu-west", ...extra,
});
const close = (a: number, b: number, tol = 1e-9) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));

/** solve() checked by verify, the oracle (against HiGHS's optimum) and HiGHS's own certificate. */
function settleChecked(book: Intent[], latency: LatencyTable) {
  const r = solve(book, latency);
  const h = solveWithHighs(book, latency);
  expect(verify(book, latency, r)).toEqual({ ok: true });
  expect(describeViolations(checkSettlement(book, latency, r, h.welfare))).toBe("");
  expect(describeViolations(checkNetNash(book, latency, r.fills))).toBe("");
  if (h.duals) expect(describeViolations(checkCertificate(book, latency, { duals: h.duals, bound: h.welfare }, h.welfare))).toBe("");
  return { r, h };
}

describe("soft latency against HiGHS (gain per pair with moved limits)", () => {
  it("120 generated books with soft latency (some with minimums, some with unlisted pairs): same optimum, verified", () => {
    let moved = 0;
    for (let seed = 1; seed <= 120; seed++) {
      const m = generateMarket(seed, { size: 10 + (seed % 6) * 15, minQuantityShare: seed % 4 === 0 ? 0.1 : 0, unreachablePairs: seed % 3 });
      const book = withSoftLatency(m.intents, seed);
      const { r, h } = settleChecked(book, m.latency);
      expect(r.status, `seed ${seed}`).toBe("optimal");
      close(r.welfare, h.welfare, 1e-9);
      if (Math.abs(r.welfare - solve(m.intents, m.latency).welfare) > 1e-9) moved++;
    }
    expect(moved).toBeGreaterThan(100); // soft latency changes the optimum of most of these books
  });

  it("60 trust books with swaps and soft latency: verified, prices Nash on the net with moved limits", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const book = withSoftLatency(trustBook(seed, { n: 24, swapShare: 0.3 }), seed, { prefer: [0, 10, 30], discount: [0, 0.01, 0.05, 0.2] });
      const r = solve(book, TRUST_LATENCY);
      expect(verify(book, TRUST_LATENCY, r), `seed ${seed}`).toEqual({ ok: true });
      expect(describeViolations(checkNetNash(book, TRUST_LATENCY, r.fills)), `seed ${seed}`).toBe("");
    }
  });
});

describe("hostile soft latency", () => {
  it("latencyDiscount 1e9: the buyer never takes the cheaper seller 14 ms away, past its 10 ms", () => {
    const book = [
      intent("b", "buy", 10, 3, { preferLatencyMs: 10, latencyDiscount: 1e9 }),
      intent("near", "sell", 10, 2),
      intent("far", "sell", 10, 1, { region: "eu-central" }),
    ];
    const { r } = settleChecked(book, EU);
    expect(r.fills.map((f) => [f.sell, f.quantity])).toEqual([["near", 10]]);
    close(r.fills[0].price, 2.5);
    close(r.welfare, 10);
  });

  it("preferLatencyMs 0: the penalty starts at the first ms (2 ms in-region at 0.1 moves 3 to 2.8; midpoint 2.4)", () => {
    const book = [intent("b", "buy", 10, 3, { preferLatencyMs: 0, latencyDiscount: 0.1 }), intent("s", "sell", 10, 2)];
    const { r } = settleChecked(book, EU);
    close(r.fills[0].price, 2.4);
    close(r.welfare, 8);
  });

  it("a seller's limit moves up: 76 ms to us-east past 50 at 0.01 is +0.26", () => {
    const book = [intent("b", "buy", 10, 2, { region: "us-east" }), intent("s", "sell", 10, 1, { preferLatencyMs: 50, latencyDiscount: 0.01 })];
    const { r } = settleChecked(book, EU);
    close(r.welfare, (2 - 1.26) * 10);
    close(r.fills[0].price, (2 + 1.26) / 2);
  });

  it("an unlisted pair: soft latency rules it out even without a cap (hard caps alone would allow it)", () => {
    const soft = { preferLatencyMs: 30, latencyDiscount: 0 };
    for (const book of [
      [intent("b", "buy", 10, 3, { region: "mars", ...soft }), intent("s", "sell", 10, 1)],
      [intent("b", "buy", 10, 3, { region: "mars" }), intent("s", "sell", 10, 1, soft)],
    ]) {
      const { r } = settleChecked(book, EU);
      expect(r.fills).toEqual([]);
      const plain = book.map(({ preferLatencyMs: _p, latencyDiscount: _d, ...it }) => it);
      expect(solve(plain, EU).fills).toHaveLength(1);
      // A settlement that trades it anyway is refused.
      const forged = { fills: [{ buy: "b", sell: "s", resource: "gpu", quantity: 10, price: 2 }], welfare: 20, certificate: { duals: {}, bound: 20 } };
      expect(verify(book, EU, forged).ok).toBe(false);
    }
  });

  it("a penalty that makes the gain exactly 0: no fill (0.5 × 2 ms moves 3 to 2, the seller's limit)", () => {
    const book = [intent("b", "buy", 10, 3, { preferLatencyMs: 0, latencyDiscount: 0.5 }), intent("s", "sell", 10, 2), intent("c", "sell", 10, 2.5, { region: "eu-central" })];
    const { r, h } = settleChecked(book, EU);
    expect(r.fills).toEqual([]);
    expect(h.welfare).toBe(0);
  });

  it("maxLatencyMs stays the hard cap whatever the discount: 0 discount does not widen a cap", () => {
    const book = [intent("b", "buy", 10, 3, { maxLatencyMs: 10, preferLatencyMs: 100, latencyDiscount: 0 }), intent("s", "sell", 10, 1, { region: "eu-central" })];
    const { r } = settleChecked(book, EU);
    expect(r.fills).toEqual([]);
  });
});

describe("verify refuses tampered soft-latency settlements", () => {
  const m = generateMarket(7, { size: 80 });
  const book = withSoftLatency(m.intents, 7, { share: 0.6 });
  const L = m.latency;
  const good = solve(book, L);
  const clone = () => structuredClone({ fills: good.fills, welfare: good.welfare, certificate: good.certificate });
  const byId = new Map(book.map((i) => [i.id, i]));
  const softFill = good.fills.findIndex((f) => {
    const b = byId.get(f.buy)!;
    return b.latencyDiscount !== undefined && b.latencyDiscount > 0 && b.region !== byId.get(f.sell)!.region;
  });

  it("the untouched settlement verifies, and a soft buyer trades across regions in it", () => {
    expect(verify(book, L, clone())).toEqual({ ok: true });
    expect(softFill).toBeGreaterThanOrEqual(0);
  });
  it("a price above the buyer's moved limit (still below its own) is not individually rational", () => {
    const s = clone();
    const f = s.fills[softFill];
    const b = byId.get(f.buy)!;
    expect(b.limitPrice).toBeGreaterThan(f.price);
    f.price = b.limitPrice - 1e-6;
    expect(verify(book, L, s).ok).toBe(false);
  });
  it("welfare stated with unmoved limits is refused", () => {
    const s = clone();
    s.welfare = s.fills.reduce((w, f) => w + (byId.get(f.buy)!.limitPrice - byId.get(f.sell)!.limitPrice) * f.quantity, 0);
    expect(s.welfare).toBeGreaterThan(good.welfare + 1e-6);
    expect(verify(book, L, s).ok).toBe(false);
  });
  it("a nudged price is not Nash; a soft intent's dual lowered leaves a pair uncovered", () => {
    const s = clone();
    s.fills[softFill].price += 1e-3;
    expect(verify(book, L, s).ok).toBe(false);
    const t = clone();
    const id = good.fills[softFill].buy;
    expect(t.certificate.duals[id]).toBeGreaterThan(0);
    t.certificate.duals[id] = 0;
    t.certificate.bound = Math.max(t.welfare, t.certificate.bound - book.find((i) => i.id === id)!.quantity * good.certificate.duals[id]);
    expect(verify(book, L, t).ok).toBe(false);
  });
});

describe("independence with soft latency (property): intents soft latency keeps from a set never change it", () => {
  // Region d is 5 ms from every trust region: a buyer there with a 1e9 discount from 0 ms meets no seller, whatever
  // its limit; one in the unlisted region "far" with soft latency none either.
  const L: LatencyTable = { ...TRUST_LATENCY, d: { a: 5, b: 5, c: 5 } };
  it("solve(S ∪ T) restricted to S is solve(S), bit for bit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 6 }), fc.array(fc.nat(), { maxLength: 6 }), (seed, tn, positions) => {
        const S = withSoftLatency(trustBook(seed), seed, { prefer: [0, 10, 30], discount: [0, 0.01, 0.1] });
        const T: Intent[] = Array.from({ length: tn }, (_, k) => ({
          id: `t${k}`, agent: `t${k}`, side: k % 2 === 0 ? "buy" : "sell", resource: "x", quantity: 1 + k, limitPrice: k % 2 === 0 ? 1e9 : 0,
          region: k % 3 === 0 ? "far" : "d", preferLatencyMs: 0, latencyDiscount: k % 3 === 0 ? 0 : 1e9,
        }));
        const book = [...S];
        T.forEach((t, k) => book.splice((positions[k] ?? 0) % (book.length + 1), 0, t));
        const alone = solve(S, L);
        const together = solve(book, L);
        const ids = new Set(S.map((i) => i.id));
        expect(together.fills.filter((f) => ids.has(f.buy) || ids.has(f.sell))).toEqual(alone.fills);
        expect(verify(book, L, together)).toEqual({ ok: true });
      }),
      { numRuns: 150, seed: 16 },
    );
  });
});

describe("fuzz: soft latency with swaps, minimums, shared agents, odd scales and unlisted regions", () => {
  it("never throws, always verifies; the oracle's net Nash check finds nothing at ordinary scales (500 markets)", () => {
    const L: LatencyTable = { a: { b: 10, c: 50 }, b: { c: 30 }, d: { d: 5 } };
    for (let t = 0; t < 500; t++) {
      const r = seededRandom(5000 + t);
      const n = 1 + Math.floor(r() * 25);
      const wide = r() < 0.3;
      const scaleQ = wide ? [1e-6, 1, 1e6, 1e12][Math.floor(r() * 4)] : 1;
      const scaleP = wide ? [1e-6, 1, 1e6][Math.floor(r() * 3)] : 1;
      const xs: Intent[] = [];
      for (let k = 0; k < n; k++) {
        const q = (r() < 0.3 ? Math.ceil(r() * 5) : r() * 10 + 1e-3) * scaleQ;
        const it: Intent = {
          id: `i${k}`, agent: `g${Math.floor(r() * 8)}`, side: r() < 0.5 ? "buy" : "sell", resource: r() < 0.7 ? "x" : "y", quantity: q,
          limitPrice: (r() < 0.4 ? Math.round(r() * 4) : r() * 4) * scaleP, region: ["a", "b", "c", "d", "zz"][Math.floor(r() * 5)],
        };
        if (r() < 0.3) it.maxLatencyMs = [0, 5, 10, 30, 60][Math.floor(r() * 5)];
        const u = r();
        if (u < 0.15) it.minQuantity = q;
        else if (u < 0.25) it.minQuantity = q * r();
        if (r() < 0.15 && it.side === "sell") {
          it.swapFor = { resource: it.resource === "x" ? "y" : "x", limitPrice: r() * 4 * scaleP };
          it.minQuantity = undefined;
        }
        if (r() < 0.4) Object.assign(it, { preferLatencyMs: [0, 5, 10, 30][Math.floor(r() * 4)], latencyDiscount: [0, 0.01, 0.1, 1, 1e9][Math.floor(r() * 5)] * scaleP });
        xs.push(it);
      }
      const res = solve(xs, L, { timeBudgetMs: 20 });
      expect(verify(xs, L, res), `market ${t}`).toEqual({ ok: true });
      if (!wide) expect(describeViolations(checkNetNash(xs, L, res.fills)), `market ${t}`).toBe("");
    }
  });
});
