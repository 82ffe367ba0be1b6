// The swap circulation in exact integers, for components whose numbers doubles cannot resolve (notes/solver.md,
// "Swap components exact"): beside a swapFor limit of 1e9 a potential of 0.42 carries ulps of 1e-7, and the float
// simplex's gain threshold (relative to the largest price) leaves trades of 1e-6 limits undone. Costs are exact
// differences of the intents' own limits, at a common binary scale (as exact.ts does for plain components);
// quantities likewise. Flows, duals and potentials are rounded to doubles once, at the end.
import { asDyadic, dyadicSum, scaled, toDouble } from "./exact.ts";
import { exactPriorityCirculation, routeExcess, shortest, type Residual } from "./exact-circulation.ts";

/**
 * A min-cost circulation (as networkSimplex takes it) whose piece costs are exact differences: piece j costs
 * costAdd[j] − costSub[j] (a swap: its limit less its swapFor limit, each a double of its own). Caps may be Infinity.
 */
export interface ExactFlowGraph {
  V: number;
  src: Int32Array;
  dst: Int32Array;
  pieceStart: Int32Array;
  pieceCap: Float64Array;
  costAdd: Float64Array;
  costSub: Float64Array;
}

/** A walk of the flow: pieces from source to sink, or around a cycle (a ring), and the volume it carries. */
export interface Walk {
  pieces: number[];
  ring: boolean;
  volume: number;
}

export interface ExactCirculation {
  /** Per arc its optimal flow, rounded once. */
  flow: Float64Array;
  /** The flow decomposed exactly into walks (those of zero cost, which change nothing, left out), volumes rounded once. */
  walks: Walk[];
  /** Per piece how much its reduced cost cost + π(src) − π(dst) is negative (else 0), rounded once. */
  pieceDual: Float64Array;
  /** π(u) − π(v) − x, exactly, rounded once. */
  potential(u: number, v: number, x: number): number;
}

/**
 * The optimal circulation, exactly: every piece of negative cost saturated first (the residual graph then has no
 * negative arc), then successive shortest paths (Bellman–Ford–Moore) carry each node's excess to the deficits; the
 * potentials are shortest distances in the final residual graph, so every reduced cost where flow can move is ≥ 0.
 * `weight` (per piece, −1 high, +1 low, 0 normal; absent when none counts): among the optimal circulations, one that
 * fills higher-priority pieces more, at the same potentials (CONTRACT.md section 3).
 */
export function solveExactCirculation(g: ExactFlowGraph, source: number, sink: number, weight?: Int8Array): ExactCirculation {
  const np = g.pieceCap.length;
  const c = scaled([...g.costAdd, ...g.costSub]);
  const q = scaled(Array.from(g.pieceCap, (x) => (x === Infinity ? 0 : x)));
  // More than any arc can carry: every cycle passes through a piece of finite capacity.
  let inf = 1n;
  for (const x of q.values) inf += x;
  // Residual arcs: piece j forward at 2j, backward at 2j + 1.
  const from = new Int32Array(2 * np);
  const to = new Int32Array(2 * np);
  const cost: bigint[] = new Array(2 * np);
  const cap: bigint[] = new Array(2 * np);
  const out: number[][] = Array.from({ length: g.V }, () => []);
  const excess: bigint[] = new Array(g.V).fill(0n);
  for (let a = 0; a < g.src.length; a++) {
    for (let j = g.pieceStart[a]; j < g.pieceStart[a + 1]; j++) {
      const u = g.src[a];
      const v = g.dst[a];
      const cj = c.values[j] - c.values[np + j];
      const capj = g.pieceCap[j] === Infinity ? inf : q.values[j];
      // A piece of negative cost starts saturated (its cap is finite: no cycle of uncapacitated arcs gains).
      const f = cj < 0n ? capj : 0n;
      from[2 * j] = u;
      to[2 * j] = v;
      cost[2 * j] = cj;
      cap[2 * j] = capj - f;
      from[2 * j + 1] = v;
      to[2 * j + 1] = u;
      cost[2 * j + 1] = -cj;
      cap[2 * j + 1] = f;
      out[u].push(2 * j);
      out[v].push(2 * j + 1);
      excess[v] += f;
      excess[u] -= f;
    }
  }
  const residual = { from, to, cost, cap, out };
  routeExcess(residual, excess);
  const pi = shortest(residual, null).dist as bigint[];
  if (weight) preferRanksExact(residual, weight, pi);
  const flow = new Float64Array(g.src.length);
  const pieceDual = new Float64Array(np);
  for (let a = 0; a < g.src.length; a++) {
    let sum = 0n;
    for (let j = g.pieceStart[a]; j < g.pieceStart[a + 1]; j++) {
      sum += cap[2 * j + 1];
      const reduced = cost[2 * j] + pi[g.src[a]] - pi[g.dst[a]];
      pieceDual[j] = reduced < 0n ? toDouble(-reduced, c.shift) : 0;
    }
    flow[a] = toDouble(sum, q.shift);
  }
  const potential = (u: number, v: number, x: number) => {
    const d = dyadicSum({ m: pi[u] - pi[v], shift: c.shift }, asDyadic(x), -1n);
    return toDouble(d.m, d.shift);
  };
  const pieceFlow = Array.from({ length: np }, (_, j) => cap[2 * j + 1]);
  const walks = decompose(residual, pieceFlow, source, sink).map(({ pieces, ring, volume }) => ({ pieces, ring, volume: toDouble(volume, q.shift) }));
  return { flow, walks, pieceDual, potential };
}

/**
 * The optimal residual `r` (pieces j at 2j, 2j + 1; potentials `pi`) moved, on its arcs of zero reduced cost, to the
 * optimum that fills higher-priority pieces more (`weight` per piece: −1 high, +1 low, 0 normal). `pi` stays optimal.
 */
function preferRanksExact(r: Residual, weight: Int8Array, pi: bigint[]): void {
  const arcs: [number, number, number, bigint][] = [];
  const codeOf: number[] = [];
  let gains = false;
  for (let k = 0; k < r.cap.length; k++) {
    if (r.cap[k] === 0n || r.cost[k] + pi[r.from[k]] - pi[r.to[k]] !== 0n) continue;
    const w = (k & 1) === 0 ? weight[k >> 1] : -weight[k >> 1];
    if (w < 0) gains = true;
    arcs.push([r.from[k], r.to[k], w, r.cap[k]]);
    codeOf.push(k);
  }
  // No high piece can fill more and no low one less at zero reduced cost: no improving cycle exists.
  if (!gains) return;
  const moved = exactPriorityCirculation(r.out.length, arcs);
  moved.forEach((y, j) => {
    if (y === 0n) return;
    r.cap[codeOf[j]] -= y;
    r.cap[codeOf[j] ^ 1] += y;
  });
}

/**
 * The pieces' flow (conserved exactly) as walks: from the source to the sink, splitting off each cycle a walk closes,
 * then cycles among what is left. Each walk takes its least flow off its pieces, so each empties one.
 */
function decompose(r: Residual, pieceFlow: bigint[], source: number, sink: number): { pieces: number[]; ring: boolean; volume: bigint }[] {
  const left = pieceFlow.slice();
  const V = r.out.length;
  // Pieces with flow, per node they leave (the sink → source arc closes the circulation: it is no step of a walk).
  const out: number[][] = Array.from({ length: V }, () => []);
  left.forEach((f, j) => {
    if (f > 0n && r.from[2 * j] !== sink) out[r.from[2 * j]].push(j);
  });
  const next = (u: number) => {
    const l = out[u];
    while (l.length > 0 && left[l[l.length - 1]] === 0n) l.pop();
    return l.length > 0 ? l[l.length - 1] : -1;
  };
  const walks: { pieces: number[]; ring: boolean; volume: bigint }[] = [];
  const take = (pieces: number[], ring: boolean) => {
    let volume = left[pieces[0]];
    let cost = 0n;
    for (const j of pieces) {
      if (left[j] < volume) volume = left[j];
      cost += r.cost[2 * j];
    }
    for (const j of pieces) left[j] -= volume;
    if (cost !== 0n) walks.push({ pieces, ring, volume });
  };
  for (const start of [source, ...out.keys()]) {
    for (;;) {
      const path: number[] = [];
      const at = new Map<number, number>([[start, 0]]);
      let u = start;
      while (!(u === sink && start === source)) {
        const j = next(u);
        if (j < 0) break;
        const v = r.to[2 * j];
        const from = at.get(v);
        if (from === undefined) {
          path.push(j);
          at.set(v, path.length);
        } else {
          const cycle = [...path.slice(from), j];
          for (const k of path.slice(from)) at.delete(r.to[2 * k]);
          path.length = from;
          at.set(v, from);
          take(cycle, true);
        }
        u = v;
      }
      if (u === sink && start === source) take(path, false);
      else if (path.length > 0) throw new Error("exact circulation: flow is not conserved");
      else break;
    }
  }
  return walks;
}
