// The network simplex's tree (src/solver/simplex.ts): a preorder thread that each pivot re-hangs, with potentials
// shifted along the moved stretch. Graphs here are rings with chords, so trees grow deep and pivots re-root long
// paths; arcs are convex (one to three pieces). A flow that is feasible and satisfies complementary slackness piece by
// piece with the returned potentials is optimal, so every solve is checked on its own, and the four ways to run it
// (candidate lists or block search, from the root or from a given starting tree) must reach the same cost.
import { describe, expect, it } from "vitest";
import { networkSimplex, type FlowGraph, type Pricing } from "../../src/solver/simplex.ts";
import { seededRandom as rng } from "../../src/random.ts";
import { magnitudes, problem, scales, total, type Scale } from "./flow-check.ts";

/**
 * A ring of V nodes (both directions) with random chords; negative pieces have finite capacity (bounded optimum).
 * Arcs have 1 to `maxPieces` pieces.
 */
function ring(seed: number, scale: Scale, maxPieces = 3): FlowGraph {
  const r = rng(seed);
  const V = 40 + Math.floor(r() * 160);
  const perm = Array.from({ length: V }, (_, i) => i);
  for (let i = V - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const src: number[] = [];
  const dst: number[] = [];
  const start: number[] = [0];
  const cost: number[] = [];
  const cap: number[] = [];
  const arc = (u: number, v: number) => {
    src.push(u), dst.push(v);
    const pieces = 1 + Math.floor(r() * maxPieces);
    let c = r() < 0.3 ? -scale.p() : scale.p() * (r() < 0.3 ? 0 : 0.2);
    for (let k = 0; k < pieces; k++) {
      const last = k === pieces - 1;
      cost.push(c);
      cap.push(c < 0 || !last || r() < 0.5 ? scale.q() : Infinity);
      c += r() < 0.2 ? 0 : scale.p() * 0.5;
    }
    start.push(cost.length);
  };
  for (let i = 0; i < V; i++) {
    arc(perm[i], perm[(i + 1) % V]);
    if (r() < 0.7) arc(perm[(i + 1) % V], perm[i]);
  }
  const chords = Math.floor(V * r());
  for (let k = 0; k < chords; k++) {
    const u = Math.floor(r() * V);
    const v = Math.floor(r() * V);
    if (u !== v) arc(u, v);
  }
  return { V, src: Int32Array.from(src), dst: Int32Array.from(dst), pieceStart: Int32Array.from(start), pieceCost: Float64Array.from(cost), pieceCap: Float64Array.from(cap) };
}

/**
 * A random starting forest (each node's arc to its parent leaves it, flow 0) and potentials that price it at 0; a
 * tree's top node gets a potential within ±5 × `unit` (the costs' scale, so that rounding stays on their scale).
 */
function startingTree(g: FlowGraph, seed: number, unit: number): { pi: Float64Array; tree: Int32Array } {
  const r = rng(seed);
  const order = Array.from({ length: g.V }, (_, i) => i).sort(() => r() - 0.5);
  const attached = new Uint8Array(g.V);
  const tree = new Int32Array(g.V).fill(-1);
  const pi = new Float64Array(g.V);
  for (const v of order) {
    const out: number[] = [];
    for (let a = 0; a < g.src.length; a++) if (g.src[a] === v && attached[g.dst[a]]) out.push(a);
    if (out.length > 0 && r() < 0.9) {
      const a = out[Math.floor(r() * out.length)];
      tree[v] = a;
      pi[v] = pi[g.dst[a]] - g.pieceCost[g.pieceStart[a]];
    } else pi[v] = (Math.round(r() * 10) - 5) * unit;
    attached[v] = 1;
  }
  return { pi, tree };
}

describe("network simplex on deep trees (thread, re-rooting, block search)", () => {
  // One-piece arcs only, as in the time LP's graphs: block search then prices every arc by the plain product alone.
  for (const [pieces, what] of [[3, "convex arcs"], [1, "one-piece arcs"]] as const) {
    for (const [name, make] of Object.entries(scales)) {
      it(`${name} numbers, ${what}: 60 rings with chords, four ways to solve, one optimal cost, exact duals on every piece`, () => {
        solveRings(name, pieces, make);
      });
    }
  }
});

/** Each ring solved four ways (candidate lists or block search, from the root or a starting tree). */
function solveRings(name: string, maxPieces: number, make: (r: () => number) => Scale): void {
  let pivots = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const scale = make(rng(7000 + seed));
    const g = ring(seed, scale, maxPieces);
    const { qMax, pMax } = magnitudes(g);
    const eps = 1e-12 * pMax;
    const start = startingTree(g, seed, pMax);
    const costs: number[] = [];
    for (const pricing of ["list", "block"] as Pricing[]) {
      for (const from of [undefined, start]) {
        const sol = networkSimplex(g, eps, from?.pi, from?.tree, pricing);
        const at = `${name} ${maxPieces} ${seed} ${pricing}${from ? " from a tree" : ""}`;
        expect(problem(g, sol, 1e-9 * qMax, 1e-9 * pMax), at).toBeUndefined();
        costs.push(total(g, sol.flow));
        pivots += sol.pivots;
      }
    }
    for (const c of costs) expect(Math.abs(c - costs[0]), `${name} ${maxPieces} ${seed}: ${costs}`).toBeLessThanOrEqual(1e-9 * pMax * qMax);
    expect(costs[0], `${name} ${maxPieces} ${seed}: a negative cycle to cancel`).toBeLessThan(0);
  }
  expect(pivots, "pivots").toBeGreaterThan(60 * 4 * 20);
}
