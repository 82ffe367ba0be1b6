// A min-cost circulation in exact integers (BigInt capacities and costs) on a residual graph, shared by the exact
// swap circulation (swap-exact.ts) and the priority passes of the exact paths (exact-flow.ts, swap-exact.ts): arcs
// whose cost is negative start saturated, then successive shortest paths (Bellman–Ford–Moore) carry each excess to a
// deficit. Exact whatever the numbers, so no threshold decides a reduced cost.

export interface Residual {
  from: Int32Array;
  to: Int32Array;
  cost: bigint[];
  cap: bigint[];
  out: number[][];
}

/**
 * Shortest distances over arcs with residual capacity, from the nodes with positive excess (or, without `excess`,
 * from every node at 0: potentials), by a queue of changed nodes; `via` is each node's last arc (−1 at a start).
 */
export function shortest(r: Residual, excess: bigint[] | null): { dist: (bigint | null)[]; via: Int32Array } {
  const V = r.out.length;
  const dist: (bigint | null)[] = new Array(V).fill(null);
  const via = new Int32Array(V).fill(-1);
  const queued = new Uint8Array(V);
  const queue: number[] = [];
  for (let v = 0; v < V; v++) {
    if (excess !== null && !(excess[v] > 0n)) continue;
    dist[v] = 0n;
    queue.push(v);
    queued[v] = 1;
  }
  for (let h = 0; h < queue.length; h++) {
    const u = queue[h];
    queued[u] = 0;
    const du = dist[u]!;
    for (const k of r.out[u]) {
      if (r.cap[k] === 0n) continue;
      const v = r.to[k];
      const d = du + r.cost[k];
      if (dist[v] === null || d < dist[v]!) {
        dist[v] = d;
        via[v] = k;
        if (!queued[v]) {
          queued[v] = 1;
          queue.push(v);
        }
      }
    }
  }
  return { dist, via };
}

/**
 * Successive shortest paths (Bellman–Ford–Moore) carry each node's excess to the deficits, on a residual graph with
 * no negative cycle: it stays so, and at the end the flow is a min-cost circulation.
 */
export function routeExcess(r: Residual, excess: bigint[]): void {
  const { from, cap } = r;
  for (;;) {
    const { dist, via } = shortest(r, excess);
    let t = -1;
    for (let v = 0; v < excess.length; v++) if (excess[v] < 0n && dist[v] !== null && (t < 0 || dist[v]! < dist[t]!)) t = v;
    if (t < 0) {
      // A node's excess came in on saturated arcs, whose backward arcs lead towards a deficit: none left means done.
      if (excess.some((e) => e > 0n)) throw new Error("exact circulation: an excess reaches no deficit");
      return;
    }
    let push = -excess[t];
    let s = t;
    for (; via[s] >= 0; s = from[via[s]]) if (cap[via[s]] < push) push = cap[via[s]];
    if (excess[s] < push) push = excess[s];
    for (let v = t; via[v] >= 0; v = from[via[v]]) {
      cap[via[v]] -= push;
      cap[via[v] ^ 1] += push;
    }
    excess[s] -= push;
    excess[t] += push;
  }
}

/**
 * Arcs [from, to, weight, room] of small integer weights as a residual graph whose negative arcs start saturated
 * (`excess` holds what that moved), for `routeExcess`: arc k forward at 2k, its reverse at 2k + 1 (its flow at the
 * end: cap[2k + 1]).
 */
function weightedResidual(V: number, arcs: readonly [number, number, number, bigint][]): { r: Residual; excess: bigint[] } {
  const n = arcs.length;
  const r: Residual = { from: new Int32Array(2 * n), to: new Int32Array(2 * n), cost: new Array(2 * n), cap: new Array(2 * n), out: Array.from({ length: V }, () => []) };
  const excess: bigint[] = new Array(V).fill(0n);
  arcs.forEach(([u, v, w, room], k) => {
    const f = w < 0 ? room : 0n;
    r.from[2 * k] = u, r.to[2 * k] = v, r.cost[2 * k] = BigInt(w), r.cap[2 * k] = room - f;
    r.from[2 * k + 1] = v, r.to[2 * k + 1] = u, r.cost[2 * k + 1] = BigInt(-w), r.cap[2 * k + 1] = f;
    r.out[u].push(2 * k), r.out[v].push(2 * k + 1);
    excess[v] += f;
    excess[u] -= f;
  });
  return { r, excess };
}

/**
 * Among the min-cost circulations, one of least Σ weight × units (CONTRACT.md section 3; notes/solver.md, "Priority
 * in exact and swap components (session 11)"), exactly: arcs [from, to, weight, room] are the residual arcs of zero
 * reduced cost at the first circulation's optimal potentials (a unit through a high-priority intent's piece weighs
 * −1, a low one's +1, backward the opposite; others 0), and any circulation on them moves the first flow to another
 * optimal one with the same potentials. Returns the second circulation's flow per arc. Its weights are integers, so
 * its own min-cost circulation (negative arcs saturated, then successive shortest paths) is exact in BigInt.
 */
export function exactPriorityCirculation(V: number, arcs: readonly [number, number, number, bigint][]): bigint[] {
  const { r, excess } = weightedResidual(V, arcs);
  routeExcess(r, excess);
  return arcs.map((_, k) => r.cap[2 * k + 1]);
}
