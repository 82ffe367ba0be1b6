// Network simplex for the class-level allocation problem: a min-cost flow source → buyer classes → seller classes
// → sink, where each class's arc from the source (to the sink) is convex piecewise linear, one segment per intent.
// Nodes: root, source, sink, buyer classes, seller classes. Arcs: one convex piecewise-linear arc per class
// (source → buyer class, seller class → sink; one linear piece per intent, sorted by price), one per compatible
// class pair, sink → source (not trading is free), and an artificial root arc per node (never carries flow).
// A convex arc is priced at its current breakpoint in both directions, so a pivot costs O(classes), not
// O(intents). The tree is kept strongly feasible (Cunningham's leaving-arc rule, as in LEMON).
import type { Intent } from "../contract/schema.ts";
import { Arena } from "./arena.ts";

/** A class-level transportation problem. Segment arrays are in fill order (buyers by price desc, sellers asc). */
export interface ClassProblem {
  nb: number;
  ns: number;
  /** Compatible class pairs: edge e joins buyer class edgeBuy[e] and seller class edgeSell[e]. */
  edgeBuy: Int32Array;
  edgeSell: Int32Array;
  buyAdj: Int32Array[];
  sellAdj: Int32Array[];
  buySegStart: Int32Array; // length nb + 1
  buySegPrice: Float64Array;
  buySegCap: Float64Array;
  sellSegStart: Int32Array; // length ns + 1
  sellSegPrice: Float64Array;
  sellSegCap: Float64Array;
  /**
   * Per segment its intent's priority, −1 high, +1 low, 0 normal (CONTRACT.md section 3); absent when no intent is
   * high or low. Among the optimal flows, one of least Σ weight × units is returned (`preferRanks`).
   */
  buySegWeight?: Int8Array;
  sellSegWeight?: Int8Array;
}

export interface ClassFlow {
  edgeFlow: Float64Array;
  buySegUsed: Float64Array;
  sellSegUsed: Float64Array;
  augmentations: number;
  /** Node potentials: reduced cost cost + pi[src] − pi[dst] ≥ 0 where flow can rise. */
  pi?: Float64Array;
}

/**
 * A min-cost circulation problem: arcs with convex piecewise-linear costs (pieces in order of increasing cost;
 * a plain arc has one piece, capacity possibly Infinity). Flow 0 everywhere is feasible.
 */
export interface FlowGraph {
  /** Number of nodes, 0..V−1. */
  V: number;
  src: Int32Array;
  dst: Int32Array;
  /** Pieces of arc a: pieceStart[a] .. pieceStart[a + 1] − 1. */
  pieceStart: Int32Array;
  pieceCost: Float64Array;
  pieceCap: Float64Array;
}

/** Optimal flows per arc, and node potentials (reduced cost cost + pi[src] − pi[dst] ≥ 0 where flow can rise). */
export interface FlowSolution {
  flow: Float64Array;
  pi: Float64Array;
  pivots: number;
  /** Per node the arc to its parent in the final basis (an index ≥ the arc count: hung from the root). */
  pred: Int32Array;
}


/**
 * How the simplex picks its entering arc. "list": candidate lists (a major scan lists up to ~½√m violating arcs, the
 * next pivots re-price only the list); a small change to a settled book violates few arcs, so most pivots skip the
 * full scan. "block" (LEMON's block search): each pivot prices blocks of ~⅕√m arcs (at least `MIN_BLOCK`) from
 * where the last one stopped and enters the most violated arc of the first block that has one; fresher choices than
 * a list's, so fewer pivots where most arcs keep being re-priced anyway (large time-expanded components). Block
 * search prices the graph's arcs only, not the artificial root arcs: those carry no flow, so the optimum of the
 * graph's arcs needs no condition on them, and they enter so rarely that pricing them costs more than it saves.
 */
export type Pricing = "list" | "block";

/**
 * The least block. Pricing a one-piece arc costs little against a pivot, and on the smaller graphs block search gets
 * (a windowed book of ~1,000 intents) blocks of this size cut more pivots than ⅕√m does; on the largest ⅕√m is
 * larger (notes/solver.md, "Time: block search's restart and size (session 12)").
 */
const MIN_BLOCK = 50;

const LOWER = 1;
const TREE = 0;
const UPPER = -1;

/** The class problem as a circulation: source 0, sink 1, buyer classes, seller classes. */
export function solveClassSimplex(p: ClassProblem, eps: number): ClassFlow {
  const { nb, ns } = p;
  const ne = p.edgeBuy.length;
  const m = nb + ns + ne + 1;
  const nPieces = p.buySegPrice.length + p.sellSegPrice.length + ne + 1;
  const used = p.buySegPrice.length + p.sellSegPrice.length;
  const arena = new Arena(2 * nPieces + 2 + nb + ns + used, 3 * m + 1, ns);
  const pieceCost = arena.f64(nPieces);
  const pieceCap = arena.f64(nPieces);
  const pi0 = arena.f64(2 + nb + ns);
  const buySegUsed = arena.f64(p.buySegPrice.length);
  const sellSegUsed = arena.f64(p.sellSegPrice.length);
  const src = arena.i32(m);
  const dst = arena.i32(m);
  const pieceStart = arena.i32(m + 1);
  const reached = arena.u8(ns);
  let k = 0;
  for (let a = 0; a < nb; a++) {
    src[a] = 0;
    dst[a] = 2 + a;
    pieceStart[a] = k;
    for (let s = p.buySegStart[a]; s < p.buySegStart[a + 1]; s++, k++) {
      pieceCost[k] = -p.buySegPrice[s];
      pieceCap[k] = p.buySegCap[s];
    }
  }
  for (let x = 0; x < ns; x++) {
    const e = nb + x;
    src[e] = 2 + nb + x;
    dst[e] = 1;
    pieceStart[e] = k;
    for (let s = p.sellSegStart[x]; s < p.sellSegStart[x + 1]; s++, k++) {
      pieceCost[k] = p.sellSegPrice[s];
      pieceCap[k] = p.sellSegCap[s];
    }
  }
  for (let e = 0; e < ne; e++) {
    const a = nb + ns + e;
    src[a] = 2 + p.edgeBuy[e];
    dst[a] = 2 + nb + p.edgeSell[e];
    pieceStart[a] = k;
    pieceCap[k++] = Infinity;
  }
  src[m - 1] = 1;
  dst[m - 1] = 0;
  pieceStart[m - 1] = k;
  pieceCap[k++] = Infinity;
  pieceStart[m] = k;
  // Starting potentials: shortest distances in the flow-free DAG (the SSP's), so that a book that does not cross
  // starts optimal and a crossing one starts close to its duals.
  for (let a = 0; a < nb; a++) pi0[2 + a] = p.buySegStart[a + 1] > p.buySegStart[a] ? -p.buySegPrice[p.buySegStart[a]] : 0;
  let piT = Infinity;
  for (let x = 0; x < ns; x++) {
    let best = Infinity;
    for (const e of p.sellAdj[x]) best = Math.min(best, pi0[2 + p.edgeBuy[e]]);
    if (best === Infinity) continue;
    reached[x] = 1;
    pi0[2 + nb + x] = best;
    if (p.sellSegStart[x + 1] > p.sellSegStart[x]) piT = Math.min(piT, best + p.sellSegPrice[p.sellSegStart[x]]);
  }
  if (piT === Infinity) piT = 0;
  pi0[1] = piT;
  for (let x = 0; x < ns; x++) if (!reached[x]) pi0[2 + nb + x] = piT;
  const graph = { V: 2 + nb + ns, src, dst, pieceStart, pieceCost, pieceCap };
  const sol = networkSimplex(graph, eps, pi0);
  const split = (a: number, out: Float64Array, base: number) => {
    let F = sol.flow[a];
    for (let j = pieceStart[a]; j < pieceStart[a + 1]; j++) {
      const u = Math.min(F, pieceCap[j]);
      out[base + j - pieceStart[a]] = u > 0 ? u : 0;
      F -= u;
    }
  };
  if (p.buySegWeight && p.sellSegWeight) {
    // Pieces are numbered buyer segments, seller segments, then one per edge and the sink → source arc.
    const used = new Float64Array(nPieces);
    for (let a = 0; a < m; a++) split(a, used, pieceStart[a]);
    const weight = new Int8Array(nPieces);
    weight.set(p.buySegWeight);
    weight.set(p.sellSegWeight, p.buySegPrice.length);
    preferRanks(graph, sol.pi, used, weight, eps);
    buySegUsed.set(used.subarray(0, p.buySegPrice.length));
    sellSegUsed.set(used.subarray(p.buySegPrice.length, used.length - ne - 1));
    const edgeFlow = used.subarray(used.length - ne - 1, used.length - 1);
    return { edgeFlow, buySegUsed, sellSegUsed, augmentations: sol.pivots, pi: sol.pi };
  }
  for (let a = 0; a < nb; a++) split(a, buySegUsed, p.buySegStart[a]);
  for (let x = 0; x < ns; x++) split(nb + x, sellSegUsed, p.sellSegStart[x]);
  const edgeFlow = sol.flow.subarray(nb + ns, nb + ns + ne);
  return { edgeFlow, buySegUsed, sellSegUsed, augmentations: sol.pivots, pi: sol.pi };
}

/**
 * An intent's priority as the tie-breaking passes weigh a unit of it (CONTRACT.md section 3): high −1, low +1, normal
 * 0. Lower is preferred among allocations of equal welfare.
 */
export function priorityWeight(it: Intent): -1 | 0 | 1 {
  return it.priority === "high" ? -1 : it.priority === "low" ? 1 : 0;
}

/**
 * Among the optimal flows, one that fills higher-priority pieces more (CONTRACT.md section 3; notes/solver.md,
 * "Priority across classes (session 10)"): `used` (per piece, optimal at potentials `pi`) moves by a second min-cost
 * circulation on the residual graph of the pieces of zero reduced cost, costing a unit through a piece its weight
 * (−1 high, +1 low; backward the opposite). A flow that differs only there is optimal too, with the same potentials,
 * so welfare and duals stay. Per piece rather than per arc: a class's pieces of one limit belong to intents of
 * different priorities, and a unit may leave any of them.
 */
export function preferRanks(g: FlowGraph, pi: Float64Array, used: Float64Array, weight: Int8Array, eps: number): void {
  const src: number[] = [];
  const dst: number[] = [];
  const cost: number[] = [];
  const cap: number[] = [];
  const pieceOf: number[] = []; // ~piece for a backward residual
  let gains = false;
  const add = (from: number, to: number, c: number, room: number, piece: number) => {
    src.push(from), dst.push(to), cost.push(c), cap.push(room), pieceOf.push(piece);
  };
  for (let a = 0; a < g.src.length; a++) {
    const d = pi[g.src[a]] - pi[g.dst[a]];
    for (let j = g.pieceStart[a]; j < g.pieceStart[a + 1]; j++) {
      if (!(Math.abs(g.pieceCost[j] + d) <= eps)) continue;
      const room = g.pieceCap[j] - used[j];
      if (room > 0) add(g.src[a], g.dst[a], weight[j], room, j);
      if (used[j] > 0) add(g.dst[a], g.src[a], -weight[j], used[j], ~j);
      if ((weight[j] < 0 && room > 0) || (weight[j] > 0 && used[j] > 0)) gains = true;
    }
  }
  // No high piece can fill more and no low one less at zero reduced cost: no improving cycle exists.
  if (!gains) return;
  const second = integerCirculation(g.V, src, dst, cost, cap);
  for (let r = 0; r < src.length; r++) {
    const y = second[r];
    if (!(y > 0)) continue;
    const j = pieceOf[r];
    if (j >= 0) used[j] = Math.min(g.pieceCap[j], used[j] + y);
    else used[~j] = Math.max(0, used[~j] - y);
  }
}

/**
 * A min-cost circulation on plain arcs of integer costs (the priority passes), from potentials 0 and, if given, the
 * basis `tree` (as networkSimplex's `initialTree`): its flow per arc.
 */
export function integerCirculation(V: number, src: number[], dst: number[], cost: number[], cap: number[], tree?: Int32Array): Float64Array {
  const graph: FlowGraph = {
    V,
    src: Int32Array.from(src),
    dst: Int32Array.from(dst),
    pieceStart: Int32Array.from({ length: src.length + 1 }, (_, j) => j),
    pieceCost: Float64Array.from(cost),
    pieceCap: Float64Array.from(cap),
  };
  return networkSimplex(graph, 0.5, new Float64Array(V), tree).flow; // integer costs: reduced costs are integers
}

/**
 * Minimum-cost circulation by the network simplex method (pieces of a convex arc are entered in order).
 * `initialPi` (optional) sets the starting potentials through the costs of the artificial root arcs, which never
 * carry flow (every cycle through the root crosses one of them backwards at flow 0), so the optimum is unchanged.
 * `initialTree` (optional, with `initialPi`) starts from another basis: per node the arc to its parent (its source
 * the node, flow 0, reduced cost 0 at `initialPi`), −1 to hang from the root; the arcs must form a forest.
 * `pricing` chooses the entering arc (see `Pricing`).
 */
export function networkSimplex(g: FlowGraph, eps: number, initialPi?: Float64Array, initialTree?: Int32Array, pricing: Pricing = "list"): FlowSolution {
  const ROOT = g.V;
  const V = g.V + 1;
  const nConvex = g.src.length;
  const m = nConvex + (V - 1);
  const INF = Infinity;
  const listSize = Math.max(10, Math.ceil(Math.sqrt(m) / 2));
  const block = pricing === "block" ? Math.max(MIN_BLOCK, Math.ceil(Math.sqrt(nConvex) / 5)) : 0;
  const arena = new Arena(4 * m + g.pieceCost.length + nConvex + V, 2 * m + 4 * nConvex + 10 * V + listSize, 2 * m + V);
  const flow = arena.f64(m);
  const pi = arena.f64(V);
  // Bounds of the current piece, arc e's lower at 2e and upper at 2e + 1: the leaving-arc search picks one by the
  // tree arc's direction as an index, not a branch (the direction is a coin flip per node of the cycle).
  const bound = arena.f64(2 * m);
  const cost = arena.f64(m); // cost of the current piece
  const cum = arena.f64(g.pieceCost.length + nConvex);
  const src = arena.i32(m);
  const dst = arena.i32(m);
  src.set(g.src);
  dst.set(g.dst);
  const segBase = arena.i32(nConvex);
  const segCount = arena.i32(nConvex);
  const cumBase = arena.i32(nConvex);
  const seg = arena.i32(nConvex);
  const parent = arena.i32(V);
  const pred = arena.i32(V);
  // Subtree sizes (LEMON's succ_num): the join of a cycle is found by climbing from the smaller subtree, and a pivot
  // updates sizes only along the cycle, not over the moved subtree.
  const size = arena.i32(V);
  // The tree in preorder (LEMON's thread): a circular list through every node from the root, so that a subtree is
  // one stretch of it, from the node to its last successor. The moved subtree's potentials shift by a walk along
  // the stretch, and a pivot rewrites the order only at the ends of the pieces it re-hangs (`rethread`).
  const thread = arena.i32(V);
  const revThread = arena.i32(V);
  const lastSucc = arena.i32(V);
  // Per node of a pivot's re-hung path: the node, and its old predecessor, last successor and the node after that.
  const path = arena.i32(V);
  const pathRev = arena.i32(V);
  const pathLast = arena.i32(V);
  const pathAfter = arena.i32(V);
  const cand = arena.i32(listSize);
  const state = arena.i8(m);
  const fwd = arena.u8(V); // the pred arc points from the node to its parent
  // Arcs of one piece (artificial ones too): priced and entered at their only piece, state alone saying which way.
  const plain = arena.u8(m);
  const { pieceCost, pieceStart, pieceCap } = g;
  // Each arc starts at its first piece, at its lower bound (0; `setPiece(b, e, 0)`, inline: the arrays are zeroed).
  for (let a = 0, c = 0; a < nConvex; a++) {
    const from = pieceStart[a];
    const to = pieceStart[a + 1];
    segBase[a] = from;
    segCount[a] = to - from;
    cumBase[a] = c;
    cum[c++] = 0;
    for (let j = from; j < to; j++, c++) cum[c] = cum[c - 1] + pieceCap[j];
    if (to > from) {
      bound[2 * a + 1] = cum[cumBase[a] + 1];
      cost[a] = pieceCost[from];
    }
    plain[a] = to - from === 1 ? 1 : 0;
    state[a] = LOWER;
  }
  const b: Basis = { m, nConvex, bound, cost, flow, cum, pi, src, dst, segBase, segCount, cumBase, seg, parent, pred, size, thread, revThread, lastSucc, path, pathRev, pathLast, pathAfter, cand, state, fwd, plain, pieceCost, priced: -1 };
  parent[ROOT] = -1;
  pred[ROOT] = -1;
  for (let v = 0, k = nConvex; v < g.V; v++, k++) {
    src[k] = v;
    dst[k] = ROOT;
    bound[2 * k + 1] = INF;
    plain[k] = 1;
    state[k] = TREE;
    parent[v] = ROOT;
    pred[v] = k;
    fwd[v] = 1;
    size[v] = 1;
    if (initialPi) {
      cost[k] = -initialPi[v];
      pi[v] = initialPi[v];
    }
  }
  const link = (u: number, v: number) => {
    thread[u] = v;
    revThread[v] = u;
  };
  if (initialTree) {
    // Each node's arc towards its parent (flow 0, pointing up: strongly feasible); its root arc leaves the tree.
    for (let v = 0, k = nConvex; v < g.V; v++, k++) {
      const a = initialTree[v];
      if (a < 0) continue;
      state[k] = LOWER;
      state[a] = TREE;
      parent[v] = dst[a];
      pred[v] = a;
    }
  }
  size[ROOT] = V;
  if (initialTree) preorder();
  else {
    // Every node hangs from the root: the preorder is the root, then the nodes in order.
    for (let v = 0; v < g.V; v++) {
      link(v === 0 ? ROOT : v - 1, v);
      lastSucc[v] = v;
    }
    const last = g.V > 0 ? g.V - 1 : ROOT;
    link(last, ROOT);
    lastSucc[ROOT] = last;
  }
  // The thread, last successors, sizes and potentials of a starting tree given by parents (the path arrays serve as
  // child lists, stack and order).
  function preorder() {
    const head = path.fill(-1);
    const sibling = pathRev;
    const stack = pathLast;
    const order = pathAfter;
    for (let v = 0; v < g.V; v++) {
      sibling[v] = head[parent[v]];
      head[parent[v]] = v;
    }
    let sp = 0;
    let n = 0;
    stack[sp++] = ROOT;
    pi[ROOT] = 0;
    while (sp > 0) {
      const u = stack[--sp];
      order[n++] = u;
      for (let w = head[u]; w !== -1; w = sibling[w]) {
        pi[w] = fwd[w] ? pi[u] - cost[pred[w]] : pi[u] + cost[pred[w]];
        stack[sp++] = w;
      }
    }
    for (let k = n - 1; k > 0; k--) size[parent[order[k]]] += size[order[k]];
    for (let k = 0; k < n; k++) {
      link(order[k], order[k + 1 < n ? k + 1 : 0]);
      lastSucc[order[k]] = order[k + size[order[k]] - 1];
    }
  }
  const pivots = pivot(b, eps, listSize, block);
  return { flow: flow.subarray(0, nConvex), pi: pi.subarray(0, g.V), pivots, pred: pred.subarray(0, g.V) };
}

/**
 * The simplex's arrays once started (`networkSimplex` builds them), one object for the pivot loop: a function that
 * takes them as an argument keeps them in its own locals, where closures sharing them would hold them in a context.
 */
interface Basis {
  m: number;
  nConvex: number;
  bound: Float64Array;
  cost: Float64Array;
  flow: Float64Array;
  cum: Float64Array;
  pi: Float64Array;
  src: Int32Array;
  dst: Int32Array;
  segBase: Int32Array;
  segCount: Int32Array;
  cumBase: Int32Array;
  seg: Int32Array;
  parent: Int32Array;
  pred: Int32Array;
  size: Int32Array;
  thread: Int32Array;
  revThread: Int32Array;
  lastSucc: Int32Array;
  path: Int32Array;
  pathRev: Int32Array;
  pathLast: Int32Array;
  pathAfter: Int32Array;
  cand: Int32Array;
  state: Int8Array;
  fwd: Uint8Array;
  plain: Uint8Array;
  pieceCost: Float64Array;
  /** The piece `convexViolation` priced last (negative: entering downwards into piece −priced − 1). */
  priced: number;
}

/** Arc e moves to its piece k: bounds and cost of that piece. */
function setPiece(b: Basis, e: number, k: number): void {
  b.seg[e] = k;
  b.bound[2 * e] = b.cum[b.cumBase[e] + k];
  b.bound[2 * e + 1] = b.cum[b.cumBase[e] + k + 1];
  b.cost[e] = b.pieceCost[b.segBase[e] + k];
}

/** Violation of a convex arc e in state st at the current potentials (< −eps: it should enter); sets `b.priced`. */
function convexViolation(b: Basis, e: number, st: number): number {
  if (st === TREE) return 0;
  const { pi, pieceCost, segBase } = b;
  const d = pi[b.src[e]] - pi[b.dst[e]];
  // At breakpoint k: up costs piece k, down refunds piece k − 1.
  const k = st === LOWER ? b.seg[e] : b.seg[e] + 1;
  let v = 0;
  if (k < b.segCount[e]) {
    v = pieceCost[segBase[e] + k] + d;
    b.priced = k;
  }
  if (k > 0) {
    const w = -(pieceCost[segBase[e] + k - 1] + d);
    if (w < v) {
      v = w;
      b.priced = -k;
    }
  }
  return v;
}

/** Thread order: v follows u. */
function link(thread: Int32Array, revThread: Int32Array, u: number, v: number): void {
  thread[u] = v;
  revThread[v] = u;
}

/**
 * A pivot re-hangs the subtree of uOut (one stretch of the thread) from vIn, re-rooted at uIn. Re-rooted, its
 * preorder is uIn's old subtree, then each node p of the path from uIn up to uOut followed by p's old subtree less
 * the branch the path came up by: the part of p's stretch before that branch and the part after it. So the order
 * changes only at the ends of these pieces; the stretch is then cut out and put in right after vIn.
 */
function rethread(b: Basis, uIn: number, uOut: number, vIn: number): number {
  const { parent, thread, revThread, lastSucc, path, pathRev, pathLast, pathAfter } = b;
  let k = 0;
  for (let u = uIn; ; u = parent[u]) {
    path[k] = u;
    pathRev[k] = revThread[u];
    pathLast[k] = lastSucc[u];
    pathAfter[k] = thread[lastSucc[u]];
    k++;
    if (u === uOut) break;
  }
  // Cut out: the ancestors whose stretch ended with it now end just before it.
  const cutLast = pathLast[k - 1];
  const before = pathRev[k - 1];
  link(thread, revThread, before, pathAfter[k - 1]);
  for (let u = parent[uOut]; u !== -1 && lastSucc[u] === cutLast; u = parent[u]) lastSucc[u] = before;
  let tail = pathLast[0];
  for (let i = 1; i < k; i++) {
    link(thread, revThread, tail, path[i]);
    tail = pathRev[i - 1];
    if (pathLast[i - 1] !== pathLast[i]) {
      link(thread, revThread, tail, pathAfter[i - 1]);
      tail = pathLast[i];
    }
  }
  // Every node of the path is now an ancestor of the rest of the stretch.
  for (let i = 0; i < k; i++) lastSucc[path[i]] = tail;
  // In after vIn, as its first child: the ancestors whose stretch ended at vIn now end with it.
  const after = thread[vIn];
  link(thread, revThread, vIn, uIn);
  link(thread, revThread, tail, after);
  for (let u = vIn; u !== -1 && lastSucc[u] === vIn; u = parent[u]) lastSucc[u] = tail;
  return k;
}

/**
 * Adds sigma to the potentials of a stretch of the thread: `n` nodes from `head` to `tail`. Each step loads the next
 * node from the last one, a chain of dependent loads, so the walk runs from both ends at once.
 */
function shiftStretch(b: Basis, head: number, tail: number, n: number, sigma: number): void {
  const { pi, thread, revThread } = b;
  for (let k = n >> 1; k > 0; k--) {
    pi[head] += sigma;
    pi[tail] += sigma;
    head = thread[head];
    tail = revThread[tail];
  }
  if (n & 1) pi[head] += sigma;
}

/**
 * Adds sigma to the potentials of two stretches at once, `n1` nodes from h1 to t1 and `n2` from h2 to t2: four
 * chains of loads while both last, then the rest of the longer one.
 */
function shiftStretches(b: Basis, h1: number, t1: number, n1: number, h2: number, t2: number, n2: number, sigma: number): void {
  const { pi, thread, revThread } = b;
  const both = Math.min(n1, n2) >> 1;
  for (let k = both; k > 0; k--) {
    pi[h1] += sigma;
    pi[t1] += sigma;
    pi[h2] += sigma;
    pi[t2] += sigma;
    h1 = thread[h1];
    t1 = revThread[t1];
    h2 = thread[h2];
    t2 = revThread[t2];
  }
  shiftStretch(b, h1, t1, n1 - 2 * both, sigma);
  shiftStretch(b, h2, t2, n2 - 2 * both, sigma);
}

/** Pivots from the started basis `b` until no arc violates by more than eps; the number of pivots. */
function pivot(b: Basis, eps: number, listSize: number, block: number): number {
  const { m, nConvex, bound, cost, flow, pi, src, dst, segBase, segCount, seg, parent, pred, size, revThread, lastSucc, cand, state, fwd, plain, pieceCost } = b;
  // Candidate lists: minor iterations pivot on the best listed arc until the list runs dry or `minorLimit` pivots
  // have passed.
  const minorLimit = Math.max(3, listSize >> 1);
  let allPlain = true;
  for (let e = 0; e < m && allPlain; e++) allPlain = plain[e] === 1;
  let nCand = 0;
  let minor = 0;
  let next = 0;
  let pivots = 0;
  let enter = -1;
  let enterPiece = -1;
  let second = -1;
  for (;;) {
    // The most violated arc priced in this iteration becomes `enter`.
    enter = -1;
    let best = -eps;
    if (block > 0) {
      // Blocks run on across the end of the graph's arcs; a scan prices each arc at most once.
      let e = next;
      for (let left = nConvex, inBlock = block; left > 0; ) {
        const stop = Math.min(nConvex, e + Math.min(inBlock, left));
        left -= stop - e;
        inBlock -= stop - e;
        // Without convex arcs (the time LP's graphs) the plain product alone, not a test per arc.
        if (allPlain)
          for (; e < stop; e++) {
            const v = state[e] * (cost[e] + (pi[src[e]] - pi[dst[e]]));
            if (v < best) {
              best = v;
              enter = e;
            }
          }
        else
          for (; e < stop; e++) {
            const st = state[e];
            const v = plain[e] ? st * (cost[e] + (pi[src[e]] - pi[dst[e]])) : convexViolation(b, e, st);
            if (v < best) {
              best = v;
              enter = e;
              enterPiece = b.priced;
            }
          }
        if (e === nConvex) e = 0;
        if (inBlock === 0) {
          if (enter >= 0) break;
          inBlock = block;
        }
      }
      next = e;
    } else {
      if (nCand > 0 && minor < minorLimit) {
        let kept = 0;
        for (let k = 0; k < nCand; k++) {
          const e = cand[k];
          const st = state[e];
          const v = plain[e] ? st * (cost[e] + (pi[src[e]] - pi[dst[e]])) : convexViolation(b, e, st);
          if (!(v < -eps)) continue;
          cand[kept++] = e;
          if (v < best) {
            best = v;
            enter = e;
            enterPiece = b.priced;
          }
        }
        nCand = kept;
        minor++;
      }
      if (enter < 0) {
        // Major scan.
        nCand = 0;
        minor = 0;
        for (let scanned = 0; scanned < m && nCand < listSize; scanned++) {
          const e = next;
          next = next + 1 === m ? 0 : next + 1;
          const st = state[e];
          const v = plain[e] ? st * (cost[e] + (pi[src[e]] - pi[dst[e]])) : convexViolation(b, e, st);
          if (!(v < -eps)) continue;
          cand[nCand++] = e;
          if (v < best) {
            best = v;
            enter = e;
            enterPiece = b.priced;
          }
        }
      }
    }
    if (enter < 0) break;
    pivots++;
    if (!plain[enter]) {
      if (enterPiece >= 0) {
        setPiece(b, enter, enterPiece);
        state[enter] = LOWER;
      } else {
        setPiece(b, enter, -enterPiece - 1);
        state[enter] = UPPER;
      }
    }

    // The cycle: first → second along the entering arc, then up the tree to the join, then down to first.
    let first: number, second: number;
    if (state[enter] === LOWER) {
      first = src[enter];
      second = dst[enter];
    } else {
      first = dst[enter];
      second = src[enter];
    }
    let u = first;
    let w = second;
    for (let su = size[u], sw = size[w]; u !== w; ) {
      // A node's ancestors have larger subtrees, so the smaller side is not the join.
      if (su < sw) su = size[(u = parent[u])];
      else sw = size[(w = parent[w])];
    }
    const join = u;
    let delta = 0;
    let uOut = -1;
    let result = 0;
    // While the entering convex arc is itself the bottleneck, the tree and potentials stay the same: if its next
    // piece still prices in, push it around the same cycle at once (one pivot fills a run of intents).
    for (;;) {
      delta = state[enter] === LOWER ? bound[2 * enter + 1] - flow[enter] : flow[enter] - bound[2 * enter];
      uOut = -1;
      result = 0;
      // Room on the tree arc of u in the cycle's direction: forward, flow − lo; backward, hi − flow, as −(flow − hi)
      // (exactly the same double).
      for (u = first; u !== join; u = parent[u]) {
        const a = pred[u];
        const f = fwd[u];
        const d = (2 * f - 1) * (flow[a] - bound[2 * a + 1 - f]);
        if (d < delta) {
          delta = d;
          uOut = u;
          result = 1;
        }
      }
      for (u = second; u !== join; u = parent[u]) {
        const a = pred[u];
        const f = fwd[u];
        const d = (1 - 2 * f) * (flow[a] - bound[2 * a + f]);
        if (d <= delta) {
          delta = d;
          uOut = u;
          result = 2;
        }
      }
      if (delta === Infinity) throw new Error("network simplex: unbounded cycle (a bug: every cycle crosses a finite arc)");
      if (delta > 0) {
        const val = state[enter] * delta;
        flow[enter] += val;
        for (u = src[enter]; u !== join; u = parent[u]) flow[pred[u]] += (1 - 2 * fwd[u]) * val;
        for (u = dst[enter]; u !== join; u = parent[u]) flow[pred[u]] += (2 * fwd[u] - 1) * val;
      }
      if (result !== 0) break;
      // The entering arc crossed its whole piece and stays out of the tree, at the other breakpoint.
      const up = state[enter] === LOWER;
      flow[enter] = bound[2 * enter + (up ? 1 : 0)];
      state[enter] = -state[enter];
      if (enter >= nConvex) break;
      const d = pi[src[enter]] - pi[dst[enter]];
      const k = up ? seg[enter] + 1 : seg[enter];
      if (up && k < segCount[enter] && pieceCost[segBase[enter] + k] + d < -eps) {
        setPiece(b, enter, k);
        state[enter] = LOWER;
      } else if (!up && k > 0 && -(pieceCost[segBase[enter] + k - 1] + d) < -eps) {
        setPiece(b, enter, k - 1);
        state[enter] = UPPER;
      } else break;
    }
    if (result === 0) continue;
    const leave = pred[uOut];
    // The leaving arc hit a bound: which one follows from the side of the cycle and its direction.
    const toUpper = result === 1 ? !fwd[uOut] : fwd[uOut] === 1;
    state[leave] = toUpper ? UPPER : LOWER;
    flow[leave] = bound[2 * leave + (toUpper ? 1 : 0)];
    state[enter] = TREE;
    // Re-hang the path from the entering arc's endpoint on uOut's side up to uOut: the subtree of uOut (s nodes)
    // leaves the path from its old parent up to the join and joins the path from vIn up to the join; on the path
    // itself, reversed, a node's new subtree is the moved one less the old subtree of the node below it.
    const uIn = result === 1 ? first : second;
    const vIn = result === 1 ? second : first;
    const s = size[uOut];
    for (u = parent[uOut]; u !== join; u = parent[u]) size[u] -= s;
    for (u = vIn; u !== join; u = parent[u]) size[u] += s;
    const k = rethread(b, uIn, uOut, vIn);
    // Re-rooted, the moved stretch is the path's pieces in order (`rethread`), and the pieces up to path node j make
    // j's old subtree: the boundary nearest the middle, from the old sizes, cuts the stretch in two.
    let cut = 0;
    if (k > 1) {
      const path = b.path;
      let j = 0;
      while (j < k - 2 && 2 * size[path[j]] < s) j++;
      if (j > 0 && s - 2 * size[path[j - 1]] < 2 * size[path[j]] - s) j--;
      cut = size[path[j]];
      second = path[j + 1];
    }
    let node = uIn;
    let newParent = vIn;
    let newPred = enter;
    let below = 0;
    for (;;) {
      const old = size[node];
      size[node] = s - below;
      below = old;
      const oldParent = parent[node];
      const oldPred = pred[node];
      parent[node] = newParent;
      pred[node] = newPred;
      fwd[node] = src[newPred] === node ? 1 : 0;
      if (node === uOut) break;
      newParent = node;
      newPred = oldPred;
      node = oldParent;
    }
    // Every potential in the moved subtree changes by the same amount (its tree arcs keep reduced cost 0).
    const sigma = (fwd[uIn] ? pi[vIn] - cost[enter] : pi[vIn] + cost[enter]) - pi[uIn];
    // Walked as two stretches where the path gave a cut: four independent chains of loads instead of two (at
    // 10,000 intents the moved subtrees total ~38 M nodes a solve; notes/solver.md, "the shift in four chains").
    if (cut === 0) shiftStretch(b, uIn, lastSucc[uIn], s, sigma);
    else shiftStretches(b, uIn, revThread[second], cut, second, lastSucc[uIn], s - cut, sigma);
  }

  return pivots;
}
