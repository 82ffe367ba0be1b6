// The allocation LP on intent classes: a min-cost flow source → buyer classes → seller classes → sink, where each
// class's arc from the source (to the sink) is convex piecewise linear, one segment per intent sorted by price.
// This module holds the problem's shape and a successive-shortest-path solver (Dijkstra with potentials on the
// small class graph). The solver uses the network simplex (simplex.ts), which is faster on large books; this one
// stays as an independent implementation that the tests compare it with.

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
}

export interface ClassFlow {
  edgeFlow: Float64Array;
  buySegUsed: Float64Array;
  sellSegUsed: Float64Array;
  augmentations: number;
  /** Node potentials (network simplex only): reduced cost cost + pi[src] − pi[dst] ≥ 0 where flow can rise. */
  pi?: Float64Array;
}

/**
 * Maximises Σ buy segment price × used − Σ sell segment price × used over class flows. Stops when the best
 * augmenting path gains at most `eps` per unit, so paths of zero gain (ties) are not taken.
 */
export function solveClassFlow(p: ClassProblem, eps: number): ClassFlow {
  const { nb, ns, edgeBuy, edgeSell, buyAdj, sellAdj } = p;
  const V = 2 + nb + ns;
  const S = 0;
  const T = 1;
  const edgeFlow = new Float64Array(edgeBuy.length);
  const buyRem = Float64Array.from(p.buySegCap);
  const sellRem = Float64Array.from(p.sellSegCap);
  const buyPtr = new Int32Array(nb);
  const sellPtr = new Int32Array(ns);
  for (let a = 0; a < nb; a++) {
    let k = p.buySegStart[a];
    while (k < p.buySegStart[a + 1] && !(buyRem[k] > 0)) k++;
    buyPtr[a] = k;
  }
  for (let x = 0; x < ns; x++) {
    let k = p.sellSegStart[x];
    while (k < p.sellSegStart[x + 1] && !(sellRem[k] > 0)) k++;
    sellPtr[x] = k;
  }

  // Initial potentials: shortest distances in the flow-free DAG (costs −buy price, 0, +sell price).
  const pot = new Float64Array(V);
  for (let a = 0; a < nb; a++) pot[2 + a] = buyPtr[a] < p.buySegStart[a + 1] ? -p.buySegPrice[buyPtr[a]] : 0;
  let potT = Infinity;
  const reachable = new Uint8Array(ns);
  for (let x = 0; x < ns; x++) {
    let best = Infinity;
    for (const e of sellAdj[x]) best = Math.min(best, pot[2 + edgeBuy[e]]);
    if (best < Infinity) {
      reachable[x] = 1;
      pot[2 + nb + x] = best;
      if (sellPtr[x] < p.sellSegStart[x + 1]) potT = Math.min(potT, best + p.sellSegPrice[sellPtr[x]]);
    }
  }
  if (potT === Infinity) potT = 0;
  pot[T] = potT;
  for (let x = 0; x < ns; x++) if (!reachable[x]) pot[2 + nb + x] = potT;

  const dist = new Float64Array(V);
  const done = new Uint8Array(V);
  const pred = new Int32Array(V); // predecessor node
  const predEdge = new Int32Array(V); // class edge used to enter (−1 for source/sink arcs)
  const heap = new MinHeap(V * 4);
  let augmentations = 0;

  for (;;) {
    dist.fill(Infinity);
    done.fill(0);
    heap.clear();
    dist[S] = 0;
    heap.push(0, S);
    while (heap.size > 0) {
      const d = heap.topKey();
      const u = heap.pop();
      if (done[u]) continue;
      done[u] = 1;
      if (u === T) break;
      if (u === S) {
        for (let a = 0; a < nb; a++) {
          const k = buyPtr[a];
          if (k >= p.buySegStart[a + 1]) continue;
          const v = 2 + a;
          const nd = d + (-p.buySegPrice[k] + pot[S] - pot[v]);
          if (nd < dist[v]) {
            dist[v] = nd;
            pred[v] = S;
            predEdge[v] = -1;
            heap.push(nd, v);
          }
        }
      } else if (u < 2 + nb) {
        const a = u - 2;
        const adj = buyAdj[a];
        for (let i = 0; i < adj.length; i++) {
          const e = adj[i];
          const v = 2 + nb + edgeSell[e];
          if (done[v]) continue;
          const nd = d + (pot[u] - pot[v]);
          if (nd < dist[v]) {
            dist[v] = nd;
            pred[v] = u;
            predEdge[v] = e;
            heap.push(nd, v);
          }
        }
      } else {
        const x = u - 2 - nb;
        const adj = sellAdj[x];
        for (let i = 0; i < adj.length; i++) {
          const e = adj[i];
          if (!(edgeFlow[e] > 0)) continue;
          const v = 2 + edgeBuy[e];
          if (done[v]) continue;
          const nd = d + (pot[u] - pot[v]);
          if (nd < dist[v]) {
            dist[v] = nd;
            pred[v] = u;
            predEdge[v] = e;
            heap.push(nd, v);
          }
        }
        const k = sellPtr[x];
        if (k < p.sellSegStart[x + 1]) {
          const nd = d + (p.sellSegPrice[k] + pot[u] - pot[T]);
          if (nd < dist[T]) {
            dist[T] = nd;
            pred[T] = u;
            predEdge[T] = -1;
            heap.push(nd, T);
          }
        }
      }
    }
    if (!done[T]) break;
    const dT = dist[T];
    const pathCost = dT + pot[T] - pot[S];
    // Keep reduced costs non-negative: settled nodes move by their distance, the rest by the sink's.
    for (let v = 0; v < V; v++) pot[v] += done[v] && dist[v] < dT ? dist[v] : dT;
    if (pathCost >= -eps) break;

    // Bottleneck along the path t ← X ← … ← A ← s.
    const xLast = pred[T] - 2 - nb;
    let cap = sellRem[sellPtr[xLast]];
    let v = pred[T];
    while (pred[v] !== S) {
      const u = pred[v];
      if (u >= 2 + nb) cap = Math.min(cap, edgeFlow[predEdge[v]]); // reverse arc X → A
      v = u;
    }
    const aFirst = v - 2;
    cap = Math.min(cap, buyRem[buyPtr[aFirst]]);

    // Augment.
    sellRem[sellPtr[xLast]] -= cap;
    v = pred[T];
    while (pred[v] !== S) {
      const u = pred[v];
      if (u >= 2 + nb) edgeFlow[predEdge[v]] -= cap;
      else edgeFlow[predEdge[v]] += cap;
      v = u;
    }
    buyRem[buyPtr[aFirst]] -= cap;
    let k = buyPtr[aFirst];
    while (k < p.buySegStart[aFirst + 1] && !(buyRem[k] > 0)) k++;
    buyPtr[aFirst] = k;
    k = sellPtr[xLast];
    while (k < p.sellSegStart[xLast + 1] && !(sellRem[k] > 0)) k++;
    sellPtr[xLast] = k;
    augmentations++;
  }

  const buySegUsed = new Float64Array(buyRem.length);
  for (let k = 0; k < buyRem.length; k++) buySegUsed[k] = p.buySegCap[k] - buyRem[k];
  const sellSegUsed = new Float64Array(sellRem.length);
  for (let k = 0; k < sellRem.length; k++) sellSegUsed[k] = p.sellSegCap[k] - sellRem[k];
  return { edgeFlow, buySegUsed, sellSegUsed, augmentations };
}

/** Binary min-heap of (key, node) with lazy deletion by the caller. */
class MinHeap {
  private keys: Float64Array;
  private vals: Int32Array;
  size = 0;
  constructor(capacity: number) {
    this.keys = new Float64Array(Math.max(4, capacity));
    this.vals = new Int32Array(Math.max(4, capacity));
  }
  clear(): void {
    this.size = 0;
  }
  topKey(): number {
    return this.keys[0];
  }
  push(key: number, val: number): void {
    if (this.size === this.keys.length) {
      const k = new Float64Array(this.size * 2);
      k.set(this.keys);
      this.keys = k;
      const v = new Int32Array(this.size * 2);
      v.set(this.vals);
      this.vals = v;
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent] <= key) break;
      this.keys[i] = this.keys[parent];
      this.vals[i] = this.vals[parent];
      i = parent;
    }
    this.keys[i] = key;
    this.vals[i] = val;
  }
  pop(): number {
    const top = this.vals[0];
    const n = --this.size;
    if (n > 0) {
      const key = this.keys[n];
      const val = this.vals[n];
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && this.keys[c + 1] < this.keys[c]) c++;
        if (this.keys[c] >= key) break;
        this.keys[i] = this.keys[c];
        this.vals[i] = this.vals[c];
        i = c;
      }
      this.keys[i] = key;
      this.vals[i] = val;
    }
    return top;
  }
}
