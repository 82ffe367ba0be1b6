// The "may trade" graph and its connected components (notes/solver.md, "Components"). Edges: a compatible buy and
// sell whose limits meet (buy limit ≥ sell limit: a zero-gain pair can carry an intent to its minQuantity), and any
// compatible pair where a side is a swap; never two
// intents of one agent (compatible() and the classes keep them apart). solve() solves each component on its own,
// with thresholds from its own numbers, so intents that cannot trade with a set never change its fills or prices,
// and an intent in no edge is not in any problem at all.
import type { Intent, LatencyTable } from "../contract/schema.ts";
import type { ClassIndex } from "./classes.ts";
import { compatible } from "./latency.ts";
import { swapBuyView } from "./multi.ts";

/** The components with an edge, each as its intent indices in input order, ordered by their first index. */
export function tradeComponents(intents: readonly Intent[], latency: LatencyTable, idx: ClassIndex): Int32Array[] {
  const n = intents.length;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const inEdge = new Uint8Array(n);
  const join = (a: number, b: number) => {
    inEdge[a] = inEdge[b] = 1;
    const x = find(a);
    const y = find(b);
    if (x !== y) parent[x] = y;
  };
  crossingPairs(intents, idx, join);
  if (intents.some((it) => it.swapFor !== undefined)) swapPairs(intents, latency, join);
  // Per root its component (numbered by first index), then the members, counted first so each is one allocation.
  const compOf = new Int32Array(n).fill(-1);
  const count: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!inEdge[i]) continue;
    const r = find(i);
    if (compOf[r] < 0) {
      compOf[r] = count.length;
      count.push(0);
    }
    count[compOf[r]]++;
  }
  const comps = count.map((c) => new Int32Array(c));
  const fillAt = new Int32Array(count.length);
  for (let i = 0; i < n; i++) if (inEdge[i]) comps[compOf[find(i)]][fillAt[compOf[find(i)]]++] = i;
  return comps;
}

/**
 * Meeting pairs per compatible class pair (A, X), members best price first: every buyer of A at or above X's cheapest
 * seller is joined to that seller, every seller of X at or below A's dearest buyer to that buyer, so one pass over each
 * class's longest crossing prefix joins exactly the components of the crossing pairs.
 */
function crossingPairs(intents: readonly Intent[], idx: ClassIndex, join: (a: number, b: number) => void): void {
  const buyPrefix = new Int32Array(idx.buy.length);
  const sellPrefix = new Int32Array(idx.sell.length);
  for (let e = 0; e < idx.edgeBuy.length; e++) {
    const A = idx.buy[idx.edgeBuy[e]].members;
    const X = idx.sell[idx.edgeSell[e]].members;
    if (A.length === 0 || X.length === 0) continue;
    const cheapest = intents[X[0]].limitPrice;
    const dearest = intents[A[0]].limitPrice;
    if (!(dearest >= cheapest)) continue;
    join(A[0], X[0]);
    let a = buyPrefix[idx.edgeBuy[e]];
    while (a < A.length && intents[A[a]].limitPrice >= cheapest) a++;
    buyPrefix[idx.edgeBuy[e]] = a;
    let x = sellPrefix[idx.edgeSell[e]];
    while (x < X.length && intents[X[x]].limitPrice <= dearest) x++;
    sellPrefix[idx.edgeSell[e]] = x;
  }
  idx.buy.forEach((c, a) => {
    for (let k = 1; k < buyPrefix[a]; k++) join(c.members[0], c.members[k]);
  });
  idx.sell.forEach((c, x) => {
    for (let k = 1; k < sellPrefix[x]; k++) join(c.members[0], c.members[k]);
  });
}

/** Pairs with a swap side, at any prices: a swap's value to a trade is its whole chain or ring. */
function swapPairs(intents: readonly Intent[], latency: LatencyTable, join: (a: number, b: number) => void): void {
  const n = intents.length;
  const sellView = (it: Intent): Intent => (it.swapFor ? { ...it, swapFor: undefined } : it);
  const buyView = (it: Intent): Intent | null => (it.swapFor ? swapBuyView(it) : it.side === "buy" ? it : null);
  for (let k = 0; k < n; k++) {
    const K = intents[k];
    if (!K.swapFor || !(K.quantity > 0)) continue;
    const asSeller = sellView(K);
    const asBuyer = swapBuyView(K);
    for (let j = 0; j < n; j++) {
      const J = intents[j];
      if (j === k || !(J.quantity > 0)) continue;
      const jb = buyView(J);
      if ((jb && compatible(jb, asSeller, latency)) || (J.side === "sell" && compatible(asBuyer, sellView(J), latency))) join(k, j);
    }
  }
}
