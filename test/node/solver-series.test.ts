// Series contraction around the network simplex (src/solver/series.ts): chains of nodes with one in-arc and one
// out-arc become one arc, and the optimum is expanded back. Judged on the original graph against the plain network
// simplex: the same optimal cost, a feasible circulation, and potentials that satisfy complementary slackness arc by
// arc (an inner node's potential on the wrong side of its chain's tightest arc breaks it).
import { describe, expect, it } from "vitest";
import { networkSimplex, type FlowGraph, type FlowSolution } from "../../src/solver/simplex.ts";
import { chainGraph, expand, pricingOf } from "../../src/solver/series.ts";
import { sinkTree } from "../../src/solver/time-net.ts";
import { seededRandom as rng } from "../../src/random.ts";
import { magnitudes, problem, scales, total, type Scale } from "./flow-check.ts";

/**
 * Source 0 → buyers (convex: one or two pieces) → chains of inner nodes (rate caps, penalties) → hubs → chains →
 * sellers → sink 1, sink → source free; some hubs joined hub to hub. Chains have 1–3 arcs, capacities finite or not.
 */
function book(seed: number, scale: Scale): FlowGraph {
  const r = rng(seed);
  const src: number[] = [];
  const dst: number[] = [];
  const start: number[] = [0];
  const cost: number[] = [];
  const cap: number[] = [];
  let V = 2;
  const arc = (u: number, v: number, pieces: [number, number][]) => {
    src.push(u), dst.push(v);
    for (const [c, k] of pieces) cost.push(c), cap.push(k);
    start.push(cost.length);
  };
  const chain = (u: number, v: number) => {
    const len = 1 + Math.floor(r() * 3);
    let at = u;
    for (let j = 0; j < len; j++) {
      const next = j === len - 1 ? v : V++;
      const penalty = r() < 0.5 ? 0 : scale.p() * 0.1;
      arc(at, next, [[penalty, r() < 0.5 ? Infinity : scale.q()]]);
      at = next;
    }
  };
  const hubs = Array.from({ length: 2 + Math.floor(r() * 4) }, () => V++);
  const buyers = 3 + Math.floor(r() * 8);
  const sellers = 3 + Math.floor(r() * 8);
  for (let b = 0; b < buyers; b++) {
    const node = V++;
    const p = scale.p();
    arc(0, node, r() < 0.3 ? [[-p, scale.q()], [-p + scale.p() * 0.5, scale.q()]] : [[-p, scale.q()]]);
    for (const h of hubs) if (r() < 0.6) chain(node, h);
  }
  for (let s = 0; s < sellers; s++) {
    const node = V++;
    arc(node, 1, [[scale.p(), scale.q()]]);
    for (const h of hubs) if (r() < 0.6) chain(h, node);
  }
  for (let j = 0; j + 1 < hubs.length; j++) if (r() < 0.5) chain(hubs[j], hubs[j + 1]);
  arc(1, 0, [[0, Infinity]]);
  return { V, src: Int32Array.from(src), dst: Int32Array.from(dst), pieceStart: Int32Array.from(start), pieceCost: Float64Array.from(cost), pieceCap: Float64Array.from(cap) };
}

/** g's optimum as time-net.ts finds it: contracted in g's own order (source and sink kept), from sinkTree's start or none. */
function throughChains(g: FlowGraph, eps: number, fromSinkTree: boolean): FlowSolution {
  const c = chainGraph(g, null, 0, 2);
  const start = fromSinkTree ? sinkTree(c.graph) : undefined;
  return expand(g, c, networkSimplex(c.graph, eps, start?.pi, start?.tree, pricingOf(c)));
}

describe("series contraction around the network simplex", () => {
  it("a book of one chain through source and sink (all but one node inner) from the shortest-path start", () => {
    // A time-expanded component: source → buyer → … → seller's copy → seller → sink → source would be one cycle of
    // inner nodes closing at the seller's root (which also has a dead in-arc), were source and sink not kept as
    // nodes: the chains must stop at them, so the start's tree is not a self-loop of one chain.
    const arcs: [number, number, number, number][] = [
      [0, 2, -0.4308, 50], [3, 1, 0.2251, 149], [4, 3, 0, 56.441], [5, 3, 0, 16.126], [6, 5, 0, Infinity],
      [2, 7, 0, Infinity], [8, 6, 0, Infinity], [7, 8, 0, Infinity], [1, 0, 0, Infinity],
    ];
    const g: FlowGraph = {
      V: 9,
      src: Int32Array.from(arcs, (a) => a[0]),
      dst: Int32Array.from(arcs, (a) => a[1]),
      pieceStart: Int32Array.from({ length: arcs.length + 1 }, (_, j) => j),
      pieceCost: Float64Array.from(arcs, (a) => a[2]),
      pieceCap: Float64Array.from(arcs, (a) => a[3]),
    };
    const sol = throughChains(g, 1e-12, true);
    expect(total(g, sol.flow)).toBeCloseTo((0.2251 - 0.4308) * 16.126, 12);
    expect(problem(g, sol, 1e-12, 1e-12)).toBeUndefined();
  });

  it("the graph handed to the simplex in another arc order keeps the source and sink: the plain optimum, exact duals", () => {
    // time-net.ts hands the simplex its arcs in a scattered order, contracted in the same copy, and starts it from
    // sinkTree on that graph: source and sink must keep nodes 0 and 1 and the sink → source arc must stay last, even
    // where they only pass flow on, and the answer must land on the original arcs.
    const ring: FlowGraph = {
      V: 5,
      src: Int32Array.from([0, 2, 3, 4, 1]),
      dst: Int32Array.from([2, 3, 4, 1, 0]),
      pieceStart: Int32Array.from([0, 1, 2, 3, 4, 5]),
      pieceCost: Float64Array.from([-3, 0.5, 0, 1, 0]),
      pieceCap: Float64Array.from([7, Infinity, 4, 9, Infinity]),
    };
    // One buyer: the source passes flow on (one arc in, one out), the sink does not.
    const oneBuyer: FlowGraph = {
      V: 5,
      src: Int32Array.from([0, 2, 2, 3, 4, 1]),
      dst: Int32Array.from([2, 3, 4, 1, 1, 0]),
      pieceStart: Int32Array.from([0, 1, 2, 3, 4, 5, 6]),
      pieceCost: Float64Array.from([-3, 0, 0.2, 1, 2, 0]),
      pieceCap: Float64Array.from([7, Infinity, Infinity, 4, 9, Infinity]),
    };
    const graphs: FlowGraph[] = [ring, oneBuyer];
    for (let seed = 1; seed <= 60; seed++) graphs.push(book(seed, scales[["plain", "huge", "tiny", "ties"][seed % 4]](rng(2000 + seed))));
    let moved = 0;
    graphs.forEach((g, j) => {
      const m = g.src.length - 1;
      const r = rng(3000 + j);
      const order = new Int32Array(m + 1);
      for (let i = 0; i <= m; i++) order[i] = i;
      for (let i = m - 1; i > 0; i--) {
        const k = Math.floor(r() * (i + 1));
        [order[i], order[k]] = [order[k], order[i]];
      }
      for (const minNodes of [0, Infinity]) {
        const c = chainGraph(g, order, minNodes, 2);
        expect(c.nodeOf[0] === 0 && c.nodeOf[1] === 1, `graph ${j}: source and sink kept`).toBe(true);
        const last = c.graph.src.length - 1;
        expect([c.graph.src[last], c.graph.dst[last]], `graph ${j}: sink → source last`).toEqual([1, 0]);
        const { qMax, pMax } = magnitudes(g);
        const eps = 1e-12 * Math.max(pMax, 1e-300);
        const start = sinkTree(c.graph);
        const sol = expand(g, c, networkSimplex(c.graph, eps, start?.pi, start?.tree, pricingOf(c)));
        const want = total(g, networkSimplex(g, eps).flow);
        const got = total(g, sol.flow);
        expect(Math.abs(got - want), `graph ${j}: ${got} vs ${want}`).toBeLessThanOrEqual(1e-9 * Math.max(1e-300, Math.abs(want), pMax * qMax));
        expect(problem(g, sol, 1e-9 * qMax, 1e-9 * pMax), `graph ${j} minNodes ${minNodes}`).toBeUndefined();
        if (order.some((a, i) => a !== i && sol.flow[a] !== sol.flow[i])) moved++;
      }
    });
    // The shuffled order moves flows that differ (mapping them back by position would not pass).
    expect(moved).toBeGreaterThan(60);
  });

  for (const [name, make] of Object.entries(scales)) {
    it(`${name} numbers: 150 generated graphs with chains, the plain simplex's optimum, exact duals on every arc`, () => {
      let contracted = 0;
      for (let seed = 1; seed <= 150; seed++) {
        const r = rng(1000 + seed);
        const scale = make(r);
        const g = book(seed, scale);
        const { qMax, pMax } = magnitudes(g);
        const eps = 1e-12 * pMax;
        const plain = networkSimplex(g, eps);
        const series = throughChains(g, eps, seed % 2 === 0);
        const want = total(g, plain.flow);
        const got = total(g, series.flow);
        expect(Math.abs(got - want), `${name} ${seed}: ${got} vs ${want}`).toBeLessThanOrEqual(1e-9 * Math.max(1e-300, Math.abs(want), pMax * qMax));
        expect(problem(g, series, 1e-9 * qMax, 1e-9 * pMax), `${name} ${seed}`).toBeUndefined();
        const indeg = new Int32Array(g.V);
        const outdeg = new Int32Array(g.V);
        for (let a = 0; a < g.src.length; a++) indeg[g.dst[a]]++, outdeg[g.src[a]]++;
        if (indeg.some((d, v) => d === 1 && outdeg[v] === 1)) contracted++;
      }
      expect(contracted, "graphs with inner nodes").toBe(150);
    });
  }
});
