// Checks shared by the network simplex tests: a circulation's cost, and whether a solution is optimal by its own
// certificate (a feasible flow whose potentials satisfy complementary slackness piece by piece is optimal), plus the
// number scales the generated graphs are drawn at.
import type { FlowGraph, FlowSolution } from "../../src/solver/simplex.ts";

export type Scale = { q: () => number; p: () => number };

/** The largest finite capacity and the largest |cost| of a graph's pieces (the scales tolerances are relative to). */
export function magnitudes(g: FlowGraph): { qMax: number; pMax: number } {
  let qMax = 0;
  let pMax = 0;
  for (let j = 0; j < g.pieceCost.length; j++) {
    if (g.pieceCap[j] < Infinity) qMax = Math.max(qMax, g.pieceCap[j]);
    pMax = Math.max(pMax, Math.abs(g.pieceCost[j]));
  }
  return { qMax, pMax };
}

/** The cost of a flow, its pieces filled in order. */
export function total(g: FlowGraph, flow: Float64Array): number {
  let c = 0;
  for (let a = 0; a < g.src.length; a++) {
    let left = flow[a];
    for (let j = g.pieceStart[a]; j < g.pieceStart[a + 1] && left > 0; j++) {
      const u = Math.min(left, g.pieceCap[j]);
      c += u * g.pieceCost[j];
      left -= u;
    }
  }
  return c;
}

/** Feasible flow, complementary slackness per piece, and parents forming a forest; the first problem found. */
export function problem(g: FlowGraph, sol: FlowSolution, qTol: number, pTol: number): string | undefined {
  const net = new Float64Array(g.V);
  for (let a = 0; a < g.src.length; a++) {
    const f = sol.flow[a];
    let hi = 0;
    for (let j = g.pieceStart[a]; j < g.pieceStart[a + 1]; j++) hi += g.pieceCap[j];
    if (f < -qTol || f > hi + qTol) return `arc ${a}: flow ${f} outside [0, ${hi}]`;
    net[g.src[a]] -= f;
    net[g.dst[a]] += f;
    const d = sol.pi[g.src[a]] - sol.pi[g.dst[a]];
    let lo = 0;
    for (let j = g.pieceStart[a]; j < g.pieceStart[a + 1]; j++) {
      const top = lo + g.pieceCap[j];
      const rc = g.pieceCost[j] + d;
      if (f < top - qTol && rc < -pTol) return `arc ${a} piece ${j}: room left at reduced cost ${rc}`;
      if (f > lo + qTol && rc > pTol) return `arc ${a} piece ${j}: flow at reduced cost ${rc}`;
      lo = top;
    }
  }
  for (let v = 0; v < g.V; v++) if (Math.abs(net[v]) > qTol) return `node ${v}: imbalance ${net[v]}`;
  const m = g.src.length;
  for (let v = 0; v < g.V; v++) {
    let u = v;
    for (let steps = 0; ; steps++) {
      if (steps > g.V) return `parents of ${v} loop`;
      const a = sol.pred[u];
      if (a >= m) break;
      if (g.src[a] !== u && g.dst[a] !== u) return `node ${u}: parent arc ${a} does not touch it`;
      u = g.src[a] === u ? g.dst[a] : g.src[a];
    }
  }
  return undefined;
}

export const scales: Record<string, (r: () => number) => Scale> = {
  plain: (r) => ({ q: () => 1 + Math.round(r() * 100), p: () => 1 + Math.round(r() * 300) / 100 }),
  huge: (r) => ({ q: () => 1e12 * (1 + Math.round(r() * 9)), p: () => 1e12 * (1 + r()) }),
  tiny: (r) => ({ q: () => 1e-6 * (1 + Math.round(r() * 9)), p: () => 1e-6 * (1 + r()) }),
  ties: (r) => ({ q: () => (r() < 0.5 ? 1 : 2), p: () => (r() < 0.5 ? 1 : 2) }),
};
