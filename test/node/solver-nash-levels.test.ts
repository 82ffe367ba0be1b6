// Nash prices (src/solver/nash.ts) on fill graphs with cycles, where the density decomposition runs max flows on
// its parts: each intent's surplus per unit (its level) must be the decomposition's, found here independently, by
// brute force over subsets on small graphs and by the optimality conditions of max Σ q log s on larger ones.
import { describe, expect, it } from "vitest";
import { nashPrices, type NashInput } from "../../src/solver/nash.ts";

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/**
 * A random fill graph among `buyers` + `sellers` intents with about `perIntent` fills each (so it has cycles). With
 * `ties`, quantities and limits come from a few values, so many subsets share a density (levels tie exactly).
 */
function fillGraph(seed: number, buyers: number, sellers: number, perIntent: number, ties: boolean): NashInput {
  const r = rng(seed);
  const pick = (xs: number[]) => xs[Math.floor(r() * xs.length)];
  const buyLimit = Array.from({ length: buyers }, () => (ties ? pick([10, 12, 16]) : 8 + 10 * r()));
  const sellLimit = Array.from({ length: sellers }, () => (ties ? pick([2, 4, 6]) : 1 + 6 * r()));
  const fb: number[] = [];
  const fs: number[] = [];
  const fq: number[] = [];
  const seen = new Set<number>();
  const m = Math.round(((buyers + sellers) * perIntent) / 2);
  for (let t = 0; t < 4 * m && fb.length < m; t++) {
    const b = Math.floor(r() * buyers);
    const s = Math.floor(r() * sellers);
    if (seen.has(b * sellers + s)) continue;
    seen.add(b * sellers + s);
    fb.push(b);
    fs.push(buyers + s);
    fq.push(ties ? pick([1, 2, 3]) : Math.round(1 + 999 * r()) / 10);
  }
  return {
    n: buyers + sellers,
    fillBuy: Int32Array.from(fb),
    fillSell: Int32Array.from(fs),
    fillQty: Float64Array.from(fq),
    buyLimit: Float64Array.from(fb, (b) => buyLimit[b]),
    sellLimit: Float64Array.from(fs, (s) => sellLimit[s - buyers]),
  };
}

/** Each intent's surplus per unit at the given prices (NaN for an intent without fills). */
function levels(inp: NashInput, price: Float64Array): Float64Array {
  const s = new Float64Array(inp.n);
  const q = new Float64Array(inp.n);
  for (let f = 0; f < price.length; f++) {
    s[inp.fillBuy[f]] += (inp.buyLimit[f] - price[f]) * inp.fillQty[f];
    s[inp.fillSell[f]] += (price[f] - inp.sellLimit[f]) * inp.fillQty[f];
    q[inp.fillBuy[f]] += inp.fillQty[f];
    q[inp.fillSell[f]] += inp.fillQty[f];
  }
  return s.map((x, k) => (q[k] > 0 ? x / q[k] : NaN));
}

/**
 * The density decomposition by brute force: repeatedly the largest set T of the intents left minimising (gain of
 * the fills left touching T) / (volume of T) takes that level and those fills.
 */
function bruteLevels(inp: NashInput): Float64Array {
  const { n } = inp;
  const m = inp.fillQty.length;
  const q = new Float64Array(n);
  for (let f = 0; f < m; f++) {
    q[inp.fillBuy[f]] += inp.fillQty[f];
    q[inp.fillSell[f]] += inp.fillQty[f];
  }
  const gain = (f: number) => Math.max(0, inp.buyLimit[f] - inp.sellLimit[f]) * inp.fillQty[f];
  const out = new Float64Array(n).fill(NaN);
  let left = 0;
  for (let k = 0; k < n; k++) if (q[k] > 0) left |= 1 << k;
  const taken = new Uint8Array(m);
  while (left !== 0) {
    let best = Infinity;
    let bestSet = 0;
    for (let t = left; t > 0; t = (t - 1) & left) {
      let g = 0;
      let v = 0;
      for (let f = 0; f < m; f++) if (!taken[f] && (((t >> inp.fillBuy[f]) & 1) | ((t >> inp.fillSell[f]) & 1))) g += gain(f);
      for (let k = 0; k < n; k++) if ((t >> k) & 1) v += q[k];
      const d = g / v;
      if (d < best * (1 - 1e-12)) {
        best = d;
        bestSet = t;
      } else if (d <= best * (1 + 1e-12)) bestSet |= t;
    }
    for (let k = 0; k < n; k++) if ((bestSet >> k) & 1) out[k] = best;
    for (let f = 0; f < m; f++) if (((bestSet >> inp.fillBuy[f]) & 1) | ((bestSet >> inp.fillSell[f]) & 1)) taken[f] = 1;
    left &= ~bestSet;
  }
  return out;
}

/**
 * The optimality conditions of max Σ q log s over the prices, per fill with a gain: a price strictly inside the
 * limits needs equal levels on both sides; at the buyer's limit (all of it to the seller) the seller's level is at
 * most the buyer's; at the seller's limit the other way round. Returns the first violation, or "".
 */
function kktViolation(inp: NashInput, price: Float64Array): string {
  const level = levels(inp, price);
  for (let f = 0; f < price.length; f++) {
    const b = inp.buyLimit[f];
    const c = inp.sellLimit[f];
    if (!(b > c)) continue;
    const p = price[f];
    const lb = level[inp.fillBuy[f]];
    const ls = level[inp.fillSell[f]];
    const tol = 1e-9 * Math.max(lb, ls, b - c);
    if (!(p >= c - 1e-12 * b && p <= b + 1e-12 * b)) return `fill ${f}: price ${p} outside [${c}, ${b}]`;
    const atBuy = p >= b - 1e-12 * b;
    const atSell = p <= c + 1e-12 * b;
    if (!atBuy && !atSell && Math.abs(lb - ls) > tol) return `fill ${f}: inside its limits, levels ${lb} vs ${ls}`;
    if (atBuy && ls > lb + tol) return `fill ${f}: at the buyer's limit, seller's level ${ls} above buyer's ${lb}`;
    if (atSell && lb > ls + tol) return `fill ${f}: at the seller's limit, buyer's level ${lb} above seller's ${ls}`;
  }
  return "";
}

describe("Nash prices on fill graphs with cycles", () => {
  it("give every intent its level of the density decomposition (brute force over subsets, 400 graphs of ≤ 10 intents)", () => {
    let cyclic = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const buyers = 2 + (seed % 4);
      const inp = fillGraph(seed, buyers, 8 - buyers + (seed % 3), 2 + (seed % 3), seed % 2 === 0);
      if (inp.fillQty.length > inp.n - 1) cyclic++;
      const got = levels(inp, nashPrices(inp));
      const want = bruteLevels(inp);
      for (let k = 0; k < inp.n; k++) {
        if (Number.isNaN(want[k])) continue;
        expect(Math.abs(got[k] - want[k]), `seed ${seed} intent ${k}: ${got[k]} vs ${want[k]}`).toBeLessThanOrEqual(1e-9 * Math.max(1, want[k]));
      }
    }
    expect(cyclic).toBeGreaterThan(300);
  });

  it("meet the optimality conditions on every fill of 120 larger cyclic graphs (40–600 intents, with and without ties)", () => {
    for (let seed = 1; seed <= 120; seed++) {
      const size = [40, 120, 300, 600][seed % 4];
      const inp = fillGraph(1000 + seed, Math.round(size * (0.3 + 0.4 * ((seed * 7) % 5) / 4)), size, 2 + (seed % 4), seed % 3 === 0);
      const price = nashPrices(inp);
      expect(kktViolation(inp, price), `seed ${seed}`).toBe("");
      // Many distinct levels, so the decomposition went several parts deep.
      if (seed % 3 !== 0) expect(new Set(levels(inp, price).map((x) => Math.round(x * 1e6))).size).toBeGreaterThan(3);
    }
  });

  it("catch a price moved off the decomposition (the checks can fail)", () => {
    const inp = fillGraph(7, 20, 30, 3, false);
    const price = nashPrices(inp);
    expect(kktViolation(inp, price)).toBe("");
    const f = price.findIndex((p, i) => p > inp.sellLimit[i] + 1e-6 && p < inp.buyLimit[i] - 1e-6);
    expect(f).toBeGreaterThanOrEqual(0);
    price[f] += 1e-3;
    expect(kktViolation(inp, price)).not.toBe("");
  });
});
