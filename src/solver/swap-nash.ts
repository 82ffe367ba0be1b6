// Nash shares of multi-party trades (chains through swaps, rings) in exact integers, for groups whose volumes or
// gains doubles cannot resolve: nash.ts's max flows stop at 1e-12 of the group's gain, so beside a ring of 1e12 units
// a 1e-6 chain's buyer would get no share and pay its limit. The same density decomposition as nashTradeShares, at
// a common binary scale (as exact.ts's exactNashPrices does for plain fills); each share is rounded once.
import { asDyadic, dyadicSum, ratioToDouble, residualGraph, scaled, type Dyadic } from "./exact.ts";

/**
 * nashTradeShares's max flows stop at 1e-12 of a part's gain, so a party of volume q may miss up to 1e-12·gain / q
 * per unit; verify allows 1e-7 of the prices concerned. Beyond this ratio of gain per least volume to the average
 * surplus per unit (or 1, the tolerances' floor) the float decomposition is not trusted.
 */
const SHARE_SPAN = 2 ** 16;
/** Groups beyond this many goods stay on the float path (the exact max flows are BigInt). */
const EXACT_MAX_GOODS = 400;

/**
 * Sums of money (price × volume) as price.ts's poolPrices keeps them while it prices the pairs among swaps: in
 * doubles, or exactly. Beside pairs of 1e12 units at 1e9 a double sum carries ulps of 1e5, which over a pair of
 * 1e-6 units is 1e11 per unit; exact sums leave only each price's own rounding.
 */
export interface Ledger<T> {
  zero: T;
  /** (x − y) · q */
  times(x: number, y: number, q: number): T;
  plus(a: T, b: T): T;
  neg(a: T): T;
  /** a / q, rounded to a double. */
  per(a: T, q: number): number;
  /**
   * Root each pool's tree at the member giving the most units: the pool's root keeps what the other prices' rounding
   * leaves, and beside pairs of 1e12 units that is ulps of 1e9 × 1e12 (exact sums keep it exactly, so it must land
   * where it is least per unit). Doubles keep the first member by index, as before.
   */
  rootAtLargest: boolean;
}

/** Beyond this ratio of the largest money of a pair (limit × volume) to the least volume, sums go exact (EXACT_LEDGER). */
const MONEY_SPAN = 2 ** 26;

/**
 * Whether poolPrices needs exact sums: the largest |limit| × volume of the pairs (volumes `pq`, moved limits `pB`,
 * `pS`) over the least volume exceeds MONEY_SPAN (a double's rounding of such sums, per unit of the least pair,
 * would pass 1e-8 of 1, the floor of verify's tolerances).
 */
export function needsExactMoney(pq: readonly number[], pB: readonly number[], pS: readonly number[]): boolean {
  let most = 0;
  let least = Infinity;
  pq.forEach((q, p) => {
    most = Math.max(most, Math.abs(pB[p]) * q, Math.abs(pS[p]) * q);
    if (q > 0 && q < least) least = q;
  });
  return most > MONEY_SPAN * least;
}

export const FLOAT_LEDGER: Ledger<number> = { zero: 0, times: (x, y, q) => (x - y) * q, plus: (a, b) => a + b, neg: (a) => -a, per: (a, q) => a / q, rootAtLargest: false };

export const EXACT_LEDGER: Ledger<Dyadic> = {
  zero: { m: 0n, shift: 0 },
  times: (x, y, q) => {
    const d = dyadicSum(asDyadic(x), asDyadic(y), -1n);
    const v = asDyadic(q);
    return { m: d.m * v.m, shift: d.shift + v.shift };
  },
  plus: (a, b) => dyadicSum(a, b, 1n),
  neg: (a) => ({ m: -a.m, shift: a.shift }),
  per: (a, q) => {
    // a / q = (a.m / v.m) · 2^(v.shift − a.shift): one fraction of integers, rounded once.
    const v = asDyadic(q);
    const k = v.shift - a.shift;
    return k >= 0 ? ratioToDouble(a.m << BigInt(k), v.m) : ratioToDouble(a.m, v.m << BigInt(-k));
  },
  rootAtLargest: true,
};

/** Whether the goods' gains `G` over the parties' volumes `q` need exact shares (see SHARE_SPAN). */
export function needsExactShares(G: Float64Array, q: Float64Array): boolean {
  if (G.length > EXACT_MAX_GOODS) return false;
  let gain = 0;
  let volume = 0;
  let least = Infinity;
  for (const x of G) if (x > 0) gain += x;
  for (const x of q) {
    volume += x;
    if (x > 0 && x < least) least = x;
  }
  return gain > SHARE_SPAN * least * Math.max(1, gain / volume);
}

/**
 * nashTradeShares exactly: trade g's gain G[g] (> 0; others get no shares) split among its parties `takers[g]`,
 * maximising Σ q_k log s_k. Per part of parties, at λ = its gain over its volume, one max flow either splits every
 * good at level λ or separates the parties below λ (not reachable from the source) from the rest.
 */
export function exactTradeShares(n: number, takers: readonly Int32Array[], G: Float64Array, q: Float64Array): Float64Array[] {
  const shares = takers.map((t) => new Float64Array(t.length));
  const g = scaled(Array.from(G, (x) => (x > 0 ? x : 0)));
  const v = scaled(Array.from(q));
  const goods0 = takers.map((_, k) => k).filter((k) => g.values[k] > 0n);
  for (const { nodes, goods } of components(n, takers, goods0)) {
    const stack = [{ nodes, goods }];
    while (stack.length > 0) {
      const part = stack.pop()!;
      const at = new Map(part.nodes.map((k, i) => [k, i]));
      let gTot = 0n;
      let qTot = 0n;
      for (const k of part.goods) gTot += g.values[k];
      for (const k of part.nodes) qTot += v.values[k];
      // Source 0, goods 1.., the part's parties after them, sink last; demands λ·q scaled by qTot.
      const ng = part.goods.length;
      const sink = 1 + ng + part.nodes.length;
      const arcs: [number, number, bigint][] = [];
      const arcOf: number[][] = [];
      const inf = gTot * qTot + 1n;
      part.goods.forEach((k, j) => {
        arcs.push([0, 1 + j, g.values[k] * qTot]);
        arcOf.push([...takers[k]].map((p) => (at.has(p) ? arcs.push([1 + j, 1 + ng + at.get(p)!, inf]) - 1 : -1)));
      });
      part.nodes.forEach((k, i) => arcs.push([1 + ng + i, sink, gTot * v.values[k]]));
      const mf = maxFlow(sink + 1, arcs, 0, sink);
      if (part.nodes.length === 1 || mf.flow === gTot * qTot) {
        // Everyone at level λ: the flow is the split, each share flow / qTot.
        part.goods.forEach((k, j) => {
          let given = 0;
          let first = -1;
          arcOf[j].forEach((a, t) => {
            shares[k][t] = a >= 0 && part.nodes.length > 1 ? ratioToDouble(mf.flowOn(a), qTot << BigInt(g.shift)) : 0;
            given += shares[k][t];
            if (a >= 0 && first < 0) first = t;
          });
          if (first >= 0) shares[k][first] += G[k] - given; // the rounding remainder (all of it for a lone party)
        });
        continue;
      }
      const low = new Set(part.nodes.filter((_, i) => !mf.reach[1 + ng + i]));
      const lowGoods = part.goods.filter((k) => [...takers[k]].some((p) => low.has(p)));
      stack.push({ nodes: [...low], goods: lowGoods }, { nodes: part.nodes.filter((p) => !low.has(p)), goods: part.goods.filter((k) => !lowGoods.includes(k)) });
    }
  }
  return shares;
}

/** The goods' connected groups over their parties (a party in no good is in none). */
function components(n: number, takers: readonly Int32Array[], goods: number[]): { nodes: number[]; goods: number[] }[] {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (const k of goods) for (const p of takers[k]) parent[find(p)] = find(takers[k][0]);
  const byRoot = new Map<number, { nodes: Set<number>; goods: number[] }>();
  for (const k of goods) {
    const r = find(takers[k][0]);
    const c = byRoot.get(r) ?? byRoot.set(r, { nodes: new Set(), goods: [] }).get(r)!;
    c.goods.push(k);
    for (const p of takers[k]) c.nodes.add(p);
  }
  return [...byRoot.values()].map((c) => ({ nodes: [...c.nodes], goods: c.goods }));
}

/**
 * Max flow (Edmonds–Karp) with BigInt capacities; arcs as [from, to, cap]; the flow per arc and the source's side.
 * Not exact.ts's Dinic: at one level the shares are this flow's split of each good, which another max flow may split
 * otherwise where a party takes from several goods (other prices, equally Nash).
 */
function maxFlow(nv: number, arcs: [number, number, bigint][], source: number, sink: number) {
  const { to, cap, adj } = residualGraph(nv, arcs);
  let flow = 0n;
  for (;;) {
    const via = new Array<number>(nv).fill(-1);
    const reach = new Array<boolean>(nv).fill(false);
    reach[source] = true;
    const queue = [source];
    for (let h = 0; h < queue.length && !reach[sink]; h++)
      for (const k of adj[queue[h]])
        if (cap[k] > 0n && !reach[to[k]]) {
          reach[to[k]] = true;
          via[to[k]] = k;
          queue.push(to[k]);
        }
    if (!reach[sink]) return { flow, reach, flowOn: (a: number) => cap[2 * a + 1] };
    let push = -1n;
    for (let w = sink; w !== source; w = to[via[w] ^ 1]) if (push < 0n || cap[via[w]] < push) push = cap[via[w]];
    for (let w = sink; w !== source; w = to[via[w] ^ 1]) {
      cap[via[w]] -= push;
      cap[via[w] ^ 1] += push;
    }
    flow += push;
  }
}
