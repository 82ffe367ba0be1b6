// Series contraction around the network simplex: a node with one in-arc and one out-arc (each of one piece) only
// passes flow on, so a chain u → c₁ → … → v of such nodes is one arc (cost the sum, capacity the least). The
// contracted circulation is the same LP with fewer nodes; its optimum is expanded back exactly: every arc of a chain
// carries the chain's flow, and the inner nodes' potentials put the chain's reduced cost on its first tightest arc
// (the others at reduced cost 0), which keeps complementary slackness arc by arc. In time-expanded books a
// rate-capped leg's interval copy joining one hub or region node is such a node (a third of the nodes).
import type { FlowGraph, FlowSolution } from "./simplex.ts";

/** The graph the simplex sees: per arc (a chain) its original arcs in flow order. */
export interface Chains {
  graph: FlowGraph;
  /** Whether any node was contracted (else every chain is one arc and the nodes are the original ones). */
  contracted: boolean;
  /** Per contracted node its original index, per original node its contracted one (−1: an inner node). */
  nodeOf: Int32Array;
  newNode: Int32Array;
  chainStart: Int32Array;
  chainArcs: Int32Array;
}

/**
 * Graphs below this many nodes are solved as they are, with candidate lists: their pivots move small subtrees, so
 * contracting and block search save less than they cost (a continuous arrival's component is tens of nodes). From
 * ~2,000 nodes (a windowed book of ~500 intents) contracted block search breaks even, and it gains at ~3,500
 * (notes/solver.md, "Time: the 1,000-intent LP (session 11)").
 */
export const CONTRACT_FROM = 2048;

/**
 * Block search on contracted graphs: on components this large most arcs are re-priced between pivots anyway, and
 * fresher entering arcs save more pivots than candidate lists save scans (notes/solver.md, "Time: the simplex's
 * tree (session 11)"); candidate lists on the graphs left as they are.
 */
export const pricingOf = (c: Chains): "block" | "list" => (c.contracted ? "block" : "list");

/**
 * The graph handed to the simplex in one copy of g's arcs: its arc i is the chain that starts at g's arc order[i]
 * (order null: g's own order; arcs that start inside a chain are skipped), so the simplex sees g's arcs in another
 * order and, from `minNodes` nodes on, series contracted. Nodes below `keep` are never inner (they keep their
 * numbers: a source and sink at 0 and 1).
 */
export function chainGraph(g: FlowGraph, order: Int32Array | null, minNodes: number, keep: number): Chains {
  // Left as it is: no inner nodes (so no cycle of them).
  return (g.V >= minNodes ? contract(g, order, keep) : undefined) ?? link(g, order, new Uint8Array(g.V), new Int32Array(0), 0)!;
}

/** The contracted graph, or undefined when no node contracts (or a cycle consists of inner nodes only). */
function contract(g: FlowGraph, order: Int32Array | null, keep: number): Chains | undefined {
  const m = g.src.length;
  const indeg = new Int32Array(g.V);
  const outdeg = new Int32Array(g.V);
  const inArc = new Int32Array(g.V);
  const outArc = new Int32Array(g.V);
  for (let a = 0; a < m; a++) {
    indeg[g.dst[a]]++;
    outdeg[g.src[a]]++;
    inArc[g.dst[a]] = a;
    outArc[g.src[a]] = a;
  }
  const single = (a: number) => g.pieceStart[a + 1] - g.pieceStart[a] === 1;
  const inner = new Uint8Array(g.V);
  let inners = 0;
  for (let v = keep; v < g.V; v++) {
    if (indeg[v] === 1 && outdeg[v] === 1 && inArc[v] !== outArc[v] && single(inArc[v]) && single(outArc[v])) {
      inner[v] = 1;
      inners++;
    }
  }
  if (inners === 0) return undefined;
  return link(g, order, inner, outArc, inners);
}

/**
 * The chains of g in `order` (contracting the nodes marked `inner`, each left by its only arc `outArc`); undefined
 * when a cycle has only inner nodes.
 */
function link(g: FlowGraph, order: Int32Array | null, inner: Uint8Array, outArc: Int32Array, inners: number): Chains | undefined {
  const m = g.src.length;
  const { src: gSrc, dst: gDst, pieceStart: gStart, pieceCost: gCost, pieceCap: gCap } = g;
  const V = g.V - inners;
  const newNode = inners > 0 ? new Int32Array(g.V).fill(-1) : identity(g.V);
  const nodeOf = inners > 0 ? new Int32Array(V) : newNode;
  if (inners > 0) for (let v = 0, k = 0; v < g.V; v++) if (!inner[v]) (newNode[v] = k), (nodeOf[k++] = v);
  // At most one chain (and its pieces) per original arc.
  const src = new Int32Array(m);
  const dst = new Int32Array(m);
  const pieceStart = new Int32Array(m + 1);
  const pieceCost = new Float64Array(gCost.length);
  const pieceCap = new Float64Array(gCost.length);
  const chainStart = new Int32Array(m + 1);
  const chainArcs = new Int32Array(m);
  let k = 0;
  let p = 0;
  let n = 0;
  // newNode < 0 marks an inner node (one load per node visited: the arcs come in a scattered order, so each load
  // is likely a cache miss).
  for (let i = 0; i < m; i++) {
    const a = order ? order[i] : i;
    const tail = newNode[gSrc[a]];
    if (tail < 0) continue; // inside a chain started elsewhere
    src[k] = tail;
    pieceStart[k] = p;
    chainStart[k] = n;
    chainArcs[n++] = a;
    let head = gDst[a];
    let to = newNode[head];
    if (to >= 0) {
      // An arc outside any chain keeps its pieces.
      for (let j = gStart[a]; j < gStart[a + 1]; j++, p++) (pieceCost[p] = gCost[j]), (pieceCap[p] = gCap[j]);
    } else {
      let C = gCost[gStart[a]];
      let U = gCap[gStart[a]];
      do {
        const e = outArc[head];
        chainArcs[n++] = e;
        C += gCost[gStart[e]];
        U = Math.min(U, gCap[gStart[e]]);
        head = gDst[e];
        to = newNode[head];
      } while (to < 0);
      pieceCost[p] = C;
      pieceCap[p++] = U;
    }
    dst[k++] = to;
  }
  if (n < m) return undefined; // a cycle of inner nodes: left as it is
  pieceStart[k] = p;
  chainStart[k] = n;
  return {
    graph: {
      V,
      src: src.subarray(0, k),
      dst: dst.subarray(0, k),
      pieceStart: pieceStart.subarray(0, k + 1),
      pieceCost: pieceCost.subarray(0, p),
      pieceCap: pieceCap.subarray(0, p),
    },
    contracted: inners > 0,
    nodeOf,
    newNode,
    chainStart: chainStart.subarray(0, k + 1),
    chainArcs,
  };
}

function identity(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let v = 0; v < n; v++) out[v] = v;
  return out;
}

/** The simplex's optimum on the chains in the original graph: flows along chains, inner potentials, parents. */
export function expand(g: FlowGraph, c: Chains, sol: FlowSolution): FlowSolution {
  const { newNode, chainStart, chainArcs } = c;
  const m = g.src.length;
  const flow = new Float64Array(m);
  const pred = new Int32Array(g.V);
  const k = chainStart.length - 1;
  if (!c.contracted) {
    for (let a = 0; a < k; a++) flow[chainArcs[a]] = sol.flow[a];
    // An index past the arcs is an artificial arc (hung from the root), the same in both numberings.
    for (let v = 0; v < g.V; v++) pred[v] = sol.pred[v] < k ? chainArcs[sol.pred[v]] : sol.pred[v];
    return { flow, pi: sol.pi, pivots: sol.pivots, pred };
  }
  const pi = new Float64Array(g.V);
  for (let j = 0; j < c.nodeOf.length; j++) pi[c.nodeOf[j]] = sol.pi[j];
  for (let ch = 0; ch < k; ch++) {
    const from = chainStart[ch];
    const to = chainStart[ch + 1];
    for (let j = from; j < to; j++) flow[chainArcs[j]] = sol.flow[ch];
    if (to - from === 1) continue;
    // The first tightest arc carries the chain's reduced cost: inner nodes before it from the chain's tail,
    // after it from its head.
    let tight = from;
    for (let j = from + 1; j < to; j++) if (g.pieceCap[g.pieceStart[chainArcs[j]]] < g.pieceCap[g.pieceStart[chainArcs[tight]]]) tight = j;
    for (let j = from; j < tight; j++) {
      const a = chainArcs[j];
      pi[g.dst[a]] = pi[g.src[a]] + g.pieceCost[g.pieceStart[a]];
    }
    for (let j = to - 1; j > tight; j--) {
      const a = chainArcs[j];
      pi[g.src[a]] = pi[g.dst[a]] - g.pieceCost[g.pieceStart[a]];
    }
  }
  // Parents: a node whose tree arc is a chain keeps the chain's arc next to it; inner nodes hang from the root.
  for (let v = 0; v < g.V; v++) {
    const nv = newNode[v];
    if (nv < 0) {
      pred[v] = m + v;
      continue;
    }
    const ch = sol.pred[nv];
    if (ch >= k) pred[v] = m + v;
    else pred[v] = g.src[chainArcs[chainStart[ch]]] === v ? chainArcs[chainStart[ch]] : chainArcs[chainStart[ch + 1] - 1];
  }
  return { flow, pi, pivots: sol.pivots, pred };
}
