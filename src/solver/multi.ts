// Multi-party settlements: swaps (a sell that takes another resource in return, one for one) and deferrals (a
// swap of capacity held now for a later slot, for a rebate). The allocation is a min-cost circulation on the
// class graph plus two nodes per swap; the flow is decomposed into trades (chains buyer → swaps → seller, and
// rings of swaps), listed as fills; priceAllocation (price.ts) prices them by Nash bargaining on the net. Intents
// with soft latency are solved here too: each in a class of its own, its penalties on its pair arcs.
// A component whose numbers doubles cannot resolve (1e9 limits beside 1, 1e12 units beside 1e-6) has its
// circulation solved and decomposed in exact integers (swap-exact.ts).
import type { Certificate, Intent, LatencyTable } from "../contract/schema.ts";
import { buildClasses, splitClasses } from "./classes.ts";
import { compatible, softPenalty, withinCap } from "./latency.ts";
import { isSoft, pairLimits, type AllocationFill } from "./price.ts";
import { walkFlow } from "./decompose.ts";
import { networkSimplex, preferRanks, priorityWeight, type FlowGraph, type FlowSolution } from "./simplex.ts";
import { needsExact } from "./exact.ts";
import { solveExactCirculation, type Walk } from "./swap-exact.ts";

export interface MultiResult {
  /** Unpriced: solve() prices them with priceAllocation. */
  fills: AllocationFill[];
  welfare: number;
  certificate: Certificate;
  /** Per intent: units filled (a swap: units given, which equal units received). */
  amount: Float64Array;
  /** A forced minimum the circulation could not fill (branch and bound: the node is infeasible). */
  infeasible: boolean;
  /** Every trade's gain is ≥ 0 (a forced minimum may have been met only through a losing trade). */
  rational: boolean;
}

/**
 * Intents left out, and intents forced to fill at least `min` (branch and bound over minimums): a forced intent's
 * first `min` units carry a bonus larger than any path's gain, so they fill first whenever they can (exact penalty),
 * as in index.ts's class LP.
 */
export interface MultiFixings {
  excluded: Uint8Array;
  forced: Uint8Array;
  min: Float64Array;
}

/** The intent as the buyer of what it takes in exchange. */
export function swapBuyView(k: Intent): Intent {
  return { ...k, side: "buy", resource: k.swapFor!.resource, limitPrice: k.swapFor!.limitPrice ?? 0, minQuantity: undefined };
}

/**
 * The circulation's optimum over the intents not left out, minimums relaxed (fills of any size up to quantity) except
 * those `fix` forces: solve() branches on intents it fills between 0 and their minimum (notes/solver.md, "Swaps
 * with minimums"). Without `fix` the certificate proves the optimum of that relaxation.
 */
export function solveMulti(intents: readonly Intent[], latency: LatencyTable, eps: number, fix: MultiFixings | null = null): MultiResult {
  const n = intents.length;
  const isSwap = (i: number) => intents[i].swapFor !== undefined;
  const plain: number[] = [];
  const swaps: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!(intents[i].quantity > 0) || (fix && fix.excluded[i])) continue;
    if (isSwap(i)) swaps.push(i);
    else plain.push(i);
  }
  // Classes over plain intents, with the swaps' two views added so that reach sets include their regions.
  const views: Intent[] = plain.map((i) => intents[i]);
  for (const k of swaps) views.push({ ...intents[k], swapFor: undefined }, swapBuyView(intents[k]));
  // Intents with soft latency get classes of their own, one per penalty profile (CONTRACT.md section 1), and their
  // penalties go on their pair arcs.
  const anySoft = views.some(isSoft);
  const profile = anySoft ? penaltyProfiles(views, latency) : null;
  const idx = profile ? splitClasses(buildClasses(views, latency), (v) => profile[v]) : buildClasses(views, latency);
  const nb = idx.buy.length;
  const ns = idx.sell.length;
  const ks = swaps.length;
  const S = 0;
  const T = 1;
  const buyNode = (a: number) => 2 + a;
  const sellNode = (x: number) => 2 + nb + x;
  const inNode = (s: number) => 2 + nb + ns + 2 * s;
  const outNode = (s: number) => 3 + nb + ns + 2 * s;
  const V = 2 + nb + ns + 2 * ks;

  const src: number[] = [];
  const dst: number[] = [];
  const pieceStart: number[] = [];
  const pieceCost: number[] = [];
  const pieceCap: number[] = [];
  const pieceIntent: number[] = [];
  // A piece's cost as the exact circulation reads it: costAdd − costSub, each an intent's own number.
  const costAdd: number[] = [];
  const costSub: number[] = [];
  const arc = (u: number, v: number, pieces: Piece[]) => {
    src.push(u);
    dst.push(v);
    pieceStart.push(pieceCost.length);
    for (const [c, cap, who, add, sub] of pieces) {
      pieceCost.push(c);
      pieceCap.push(cap);
      pieceIntent.push(who);
      costAdd.push(add);
      costSub.push(sub);
    }
    return src.length - 1;
  };
  const plainCount = plain.length;
  const members = (cls: typeof idx.buy[number]) => [...cls.members].filter((v) => v < plainCount).map((v) => plain[v]);
  const bonus = fix ? forcingBonus(intents, V) : 0;
  const forced = (i: number) => fix !== null && fix.forced[i] === 1 && fix.min[i] > 0;
  // One piece per intent at cost −gain per unit (add − sub), best first; a forced intent's minimum first of all, with
  // the bonus (its rounding does not matter: it only has to outweigh any path's gain).
  const pieces = (list: number[], cost: (i: number) => [number, number]): Piece[] => [
    ...list.filter(forced).map((i): Piece => {
      const [add, sub] = cost(i);
      return [add - sub - bonus, fix!.min[i], i, add - bonus, sub];
    }),
    ...list.map((i): Piece => {
      const [add, sub] = cost(i);
      return [add - sub, intents[i].quantity - (forced(i) ? fix!.min[i] : 0), i, add, sub];
    }).filter((p) => p[1] > 0),
  ];
  const buyArc = idx.buy.map((c, a) => arc(S, buyNode(a), pieces(members(c), (i) => [0, intents[i].limitPrice])));
  const sellArc = idx.sell.map((c, x) => arc(sellNode(x), T, pieces(members(c), (i) => [intents[i].limitPrice, 0])));
  // Soft latency: a pair arc costs both sides' penalties (per unit); an infinite one is no arc.
  // A class of soft intents: its members share one penalty profile, so its first stands for all.
  const softOf = (c: typeof idx.buy[number]): Intent | null => (profile && c.members.length > 0 && profile[c.members[0]] >= 0 ? views[c.members[0]] : null);
  const penalty = (buyer: Intent | null, buyerRegion: string, seller: Intent | null, sellerRegion: string) =>
    (buyer ? softPenalty(latency, buyer, sellerRegion) : 0) + (seller ? softPenalty(latency, seller, buyerRegion) : 0);
  const pairArc = (u: number, v: number, cost: number) => {
    if (cost < Infinity) arc(u, v, [[cost, Infinity, -1, cost, 0]]);
  };
  for (let e = 0; e < idx.edgeBuy.length; e++) {
    const A = idx.buy[idx.edgeBuy[e]];
    const X = idx.sell[idx.edgeSell[e]];
    pairArc(buyNode(idx.edgeBuy[e]), sellNode(idx.edgeSell[e]), anySoft ? penalty(softOf(A), A.region, softOf(X), X.region) : 0);
  }
  // A swap's cost is its limit less its swapFor limit, −swapValue: as two numbers, exact however far apart they are.
  const swapArc = swaps.map((k, s) => arc(inNode(s), outNode(s), pieces([k], (i) => [intents[i].limitPrice, intents[i].swapFor!.limitPrice ?? 0])));
  // Class ↔ swap and swap ↔ swap arcs (flow runs from a buyer of a resource to its seller).
  // A class of the swap's own agent is never its counterpart (no self-trade; such classes are the agent's alone).
  const classAdmits = (c: typeof idx.buy[number], K: Intent) => (c.reach === null || c.reach.has(K.region)) && c.agent !== K.agent;
  swaps.forEach((k, s) => {
    const K = intents[k];
    const asBuyer = swapBuyView(K);
    const softK = isSoft(K) ? K : null;
    idx.buy.forEach((c, a) => {
      if (c.resource === K.resource && classAdmits(c, K) && withinCap(latency, K.region, K.maxLatencyMs, c.region))
        pairArc(buyNode(a), inNode(s), anySoft ? penalty(softOf(c), c.region, softK, K.region) : 0);
    });
    idx.sell.forEach((c, x) => {
      if (c.resource === asBuyer.resource && classAdmits(c, K) && withinCap(latency, K.region, K.maxLatencyMs, c.region))
        pairArc(outNode(s), sellNode(x), anySoft ? penalty(softK, K.region, softOf(c), c.region) : 0);
    });
    swaps.forEach((k2, s2) => {
      const K2 = intents[k2];
      if (s2 !== s && compatible(asBuyer, { ...K2, swapFor: undefined }, latency))
        pairArc(outNode(s), inNode(s2), anySoft ? penalty(softK, K.region, isSoft(K2) ? K2 : null, K2.region) : 0);
    });
  });
  arc(T, S, [[0, Infinity, -1, 0, 0]]);
  pieceStart.push(pieceCost.length);
  const graph = { V, src: Int32Array.from(src), dst: Int32Array.from(dst), pieceStart: Int32Array.from(pieceStart), pieceCap: Float64Array.from(pieceCap) };
  const wide = farApart(intents, plain, swaps);
  // Priority among optimal circulations (CONTRACT.md section 3): per piece its intent's weight, null when none counts.
  const weight = pieceWeights(intents, pieceIntent);
  // Numbers doubles cannot resolve: the exact circulation, whatever the component's size (in doubles such a book is
  // refused by verify, so nothing in the component would ever clear: one hostile swap would stall it).
  const circulate = (w: Int8Array | null): Circulation => {
    if (wide) return solveExactCirculation({ ...graph, costAdd: Float64Array.from(costAdd), costSub: Float64Array.from(costSub) }, S, T, w ?? undefined);
    const floatGraph = { ...graph, pieceCost: Float64Array.from(pieceCost) };
    const first = networkSimplex(floatGraph, eps);
    return floatSolution(w ? { ...first, flow: preferRanksOnArcs(floatGraph, first, w, eps) } : first, graph, pieceCost);
  };

  // A hop's gain per unit: the buyer's value less the seller's limit, as soft latency moves them for the pair.
  const hopGain = (buyer: number, seller: number) => {
    const [b, c] = pairLimits(latency, intents[buyer], intents[seller]);
    return b - c;
  };
  const net: Network = { V, S, T, src, dst, pieceStart, pieceCap, pieceIntent, buyArc, sellArc, swapArc, swaps, firstSwapNode: inNode(0) };
  const tradesOf = (c: Circulation) => (c.walks ? walkTrades(c.walks, pieceIntent, hopGain) : floatTrades(net, c.flow, n, hopGain));
  let sol = circulate(weight);
  let trades = tradesOf(sol);
  // A forced minimum's bonus can make a losing trade as good as a gaining one: where the priority pass moved the flow
  // onto one whose trades lose and the first flow's do not, the first flow is kept (priority never costs a leaf).
  if (weight && fix && trades.some((t) => t.gain < -eps)) {
    const plain = circulate(null);
    const plainTrades = tradesOf(plain);
    if (plainTrades.every((t) => t.gain >= -eps)) [sol, trades] = [plain, plainTrades];
  }

  // The allocation, one fill per hop of each trade (consecutively, so priceAllocation finds the same trades).
  const fills: AllocationFill[] = [];
  const amount = new Float64Array(n);
  let welfare = 0;
  let rational = true;
  for (const t of trades) {
    if (t.gain < -eps) rational = false;
    for (const k of t.parties) amount[k] += t.volume; // each party once per trade
    const P = t.parties.map((k) => intents[k]);
    const L = P.length;
    const ring = P.every((k) => k.swapFor !== undefined);
    for (let j = 0; j < (ring ? L : L - 1); j++) {
      const resource = j === 0 && !ring ? P[0].resource : P[j].swapFor!.resource;
      fills.push({ buy: P[j].id, sell: P[(j + 1) % L].id, resource, quantity: t.volume });
      // Welfare hop by hop, as verify sums it: a ring's Σ w of 1e9-sized limits would round differently.
      welfare += hopGain(t.parties[j], t.parties[(j + 1) % L]) * t.volume;
    }
  }

  // Duals from the potentials: an intent's dual is how much its piece's reduced cost is negative.
  const duals: Record<string, number> = {};
  for (let j = 0; j < pieceCost.length; j++) if (pieceIntent[j] >= 0) duals[intents[pieceIntent[j]].id] = sol.pieceDual[j];
  let bound = 0;
  for (const it of intents) if (duals[it.id] !== undefined) bound += it.quantity * duals[it.id];
  // A swap's π (its price level as a buyer, less its valuation): with it, u + v ≥ gain holds on every compatible
  // pair of views (notes/solver.md, "Certificate with swaps"), so verify checks optimality without the circulation.
  const potentials: Record<string, number> = {};
  swaps.forEach((k, s) => (potentials[intents[k].id] = sol.potential(T, outNode(s), intents[k].swapFor!.limitPrice ?? 0)));
  let infeasible = false;
  for (let i = 0; i < n; i++) if (forced(i) && !fix!.excluded[i] && amount[i] < fix!.min[i] - 1e-12 * Math.max(1, intents[i].quantity)) infeasible = true;
  return { fills, welfare, certificate: { duals, bound: Math.max(bound, welfare), potentials }, amount, infeasible, rational };
}

/** A trade: parties in order (each buys from the next; a ring's last from its first), its volume and gain per unit. */
interface Trade {
  parties: number[];
  volume: number;
  gain: number;
}

/** The circulation's arcs and nodes, as the float decomposition reads them (arrays as solveMulti built them). */
interface Network {
  V: number;
  S: number;
  T: number;
  src: number[];
  dst: number[];
  pieceStart: number[];
  pieceCap: number[];
  pieceIntent: number[];
  buyArc: number[];
  sellArc: number[];
  swapArc: number[];
  /** Intent index per swap. */
  swaps: number[];
  /** Swap s has nodes firstSwapNode + 2s (in) and + 2s + 1 (out). */
  firstSwapNode: number;
}

/**
 * The float flow as trades: walks from source to sink (chains buyer → swaps → seller, matched to the intents in
 * piece order of their class arcs) and the rings they close, then rings among what is left on swap arcs.
 */
function floatTrades(net: Network, flow: Float64Array, n: number, hopGain: (buyer: number, seller: number) => number): Trade[] {
  const { V, S, T, src, dst, pieceStart, pieceCap, pieceIntent, buyArc, sellArc, swapArc, swaps } = net;
  const m = src.length;
  const ks = swaps.length;
  const swapOfArc = new Map(swapArc.map((a, s) => [a, s]));
  const inNode = (s: number) => net.firstSwapNode + 2 * s;
  const nodeSwap = (v: number) => (v >= net.firstSwapNode ? (v - net.firstSwapNode) >> 1 : -1);
  // Per intent: units filled, in piece order per class arc (queues for the decomposition).
  const queue = (a: number) => {
    const q: { i: number; left: number; dust: number }[] = [];
    let F = flow[a];
    for (let j = pieceStart[a]; j < pieceStart[a + 1] && F > dust(flow[a]); j++) {
      const u = Math.min(F, pieceCap[j]);
      q.push({ i: pieceIntent[j], left: u, dust: dust(u) });
      F -= u;
    }
    return q;
  };
  const buyQ = buyArc.map(queue);
  const sellQ = sellArc.map(queue);
  const left = Float64Array.from(flow);
  const outArcs: number[][] = Array.from({ length: V }, () => []);
  const arcDust = Float64Array.from(flow, dust);
  for (let a = 0; a < m; a++) if (left[a] > arcDust[a] && src[a] !== T) outArcs[src[a]].push(a);
  const next = (u: number) => {
    const l = outArcs[u];
    while (l.length > 0 && !(left[l[l.length - 1]] > arcDust[l[l.length - 1]])) l.pop();
    return l.length > 0 ? l[l.length - 1] : -1;
  };
  const trades: Trade[] = [];
  const ringTrade = (cyc: number[]) => {
    let vol = Infinity;
    for (const a of cyc) vol = Math.min(vol, left[a]);
    for (const a of cyc) left[a] -= vol;
    const ring: number[] = [];
    for (const a of cyc) if (swapOfArc.has(a)) ring.push(swaps[swapOfArc.get(a)!]);
    let gain = 0;
    for (let j = 0; j < ring.length; j++) gain += hopGain(ring[j], ring[(j + 1) % ring.length]);
    if (ring.length > 1) trades.push({ parties: ring, volume: vol, gain });
  };
  // Chains: source → buyer class → swaps* → seller class → sink; a walk that closes a loop of swaps yields a ring.
  const list = (arcs: Int32Array, length: number) => Array.from(arcs.subarray(0, length));
  walkFlow(S, T, dst, left, next, 10 * (m + n), (arcs, length) => ringTrade(list(arcs, length)), (arcs, length) => {
    const path = list(arcs, length);
    let vol = Infinity;
    for (const a of path) vol = Math.min(vol, left[a]);
    for (const a of path) left[a] -= vol;
    const cls = buyArc.indexOf(path[0]);
    const sellCls = sellArc.indexOf(path[path.length - 1]);
    const swapSeq = path.map((a) => nodeSwap(src[a])).filter((s, j, arr) => s >= 0 && arr.indexOf(s) === j);
    let rest = vol;
    const bq = buyQ[cls];
    const sq = sellQ[sellCls];
    while (rest > dust(vol) && bq.length > 0 && sq.length > 0) {
      const b = bq[0];
      const sl = sq[0];
      const c = Math.min(rest, b.left, sl.left);
      const parties = [b.i, ...swapSeq.map((s) => swaps[s]), sl.i];
      let gain = 0;
      for (let j = 0; j + 1 < parties.length; j++) gain += hopGain(parties[j], parties[j + 1]);
      trades.push({ parties, volume: c, gain });
      rest -= c;
      b.left -= c;
      sl.left -= c;
      if (!(b.left > b.dust)) bq.shift();
      if (!(sl.left > sl.dust)) sq.shift();
    }
  });
  // Rings of swaps: what is left on swap arcs circulates among swaps.
  for (let s = 0; s < ks; s++) {
    for (let guard = 0; guard < m && left[swapArc[s]] > arcDust[swapArc[s]]; guard++) {
      const arcs: number[] = [];
      let u = inNode(s);
      const seen = new Map<number, number>();
      while (!seen.has(u)) {
        seen.set(u, arcs.length);
        const a = next(u);
        if (a < 0) break;
        arcs.push(a);
        u = dst[a];
      }
      if (!seen.has(u)) {
        left[swapArc[s]] = 0; // numerical leftovers only
        break;
      }
      ringTrade(arcs.slice(seen.get(u)!));
    }
  }

  return trades;
}

/** The exact circulation's walks as trades: a walk's pieces name its parties in order (pair arcs name none). */
function walkTrades(walks: readonly Walk[], pieceIntent: readonly number[], hopGain: (buyer: number, seller: number) => number): Trade[] {
  return walks.map((w) => {
    const parties = w.pieces.map((j) => pieceIntent[j]).filter((i) => i >= 0);
    let gain = 0;
    const hops = w.ring ? parties.length : parties.length - 1;
    for (let j = 0; j < hops; j++) gain += hopGain(parties[j], parties[(j + 1) % parties.length]);
    return { parties, volume: w.volume, gain };
  });
}

/**
 * What the decomposition leaves on an arc below `dust` of the amount it started from is rounding (some tens of ulps
 * of that amount); a threshold from the book's largest quantity would drop real trades (a 1e-6 ring beside a swap
 * of 1e12).
 */
const dust = (x: number) => 1e-14 * Math.max(1, x);

/** A circulation piece: its cost, capacity, intent (−1 for none), and its cost again as add − sub (exact terms). */
type Piece = [number, number, number, number, number];

/** What solveMulti reads of an optimal circulation, solved in doubles or exactly. */
interface Circulation {
  /** Per arc, the flow. */
  flow: Float64Array;
  /** The exact circulation's flow decomposed exactly (the float one is decomposed by floatTrades). */
  walks?: Walk[];
  /** Per piece how much its reduced cost is negative (its intent's dual), 0 when it is not. */
  pieceDual: Float64Array;
  /** π(u) − π(v) − x. */
  potential(u: number, v: number, x: number): number;
}

/** Whether a component's numbers are too far apart for the float circulation (exact.ts, with verify's floor of 1). */
function farApart(intents: readonly Intent[], plain: readonly number[], swaps: readonly number[]): boolean {
  return needsExact([...plain, ...swaps].map((i) => intents[i]), 1);
}

/**
 * The float circulation as solveMulti reads it: a dual below the rounding of its terms taken as 0 (potentials of 1e9 carry ulps of 1.2e-7): verify's feasibility
 * checks allow for rounding relative to each pair's numbers, but the bound it sums is held to the welfare.
 */
function floatSolution(sol: FlowSolution, g: { src: Int32Array; dst: Int32Array; pieceStart: Int32Array }, pieceCost: readonly number[]): Circulation {
  const pieceDual = new Float64Array(pieceCost.length);
  for (let a = 0; a < g.src.length; a++) {
    for (let j = g.pieceStart[a]; j < g.pieceStart[a + 1]; j++) {
      const pu = sol.pi[g.src[a]];
      const pv = sol.pi[g.dst[a]];
      const reduced = pieceCost[j] + pu - pv;
      const rounding = 1e-15 * (Math.abs(pieceCost[j]) + Math.abs(pu) + Math.abs(pv));
      pieceDual[j] = -reduced > rounding ? -reduced : 0;
    }
  }
  return { flow: sol.flow, pieceDual, potential: (u, v, x) => sol.pi[u] - sol.pi[v] - x };
}

/** Per piece its intent's priority weight (simplex.ts `priorityWeight`; pair arcs 0), or null when every one is 0. */
function pieceWeights(intents: readonly Intent[], pieceIntent: readonly number[]): Int8Array | null {
  const weight = Int8Array.from(pieceIntent, (i) => (i >= 0 ? priorityWeight(intents[i]) : 0));
  return weight.some((w) => w !== 0) ? weight : null;
}

/**
 * The float circulation moved to the optimum that fills higher-priority intents more (simplex.ts `preferRanks`, on
 * its pieces of zero reduced cost; potentials unchanged), as flows per arc. floatTrades shares an arc's flow out in
 * piece order, which at one price is high first (classes.ts), so the per-arc totals carry the preference.
 */
function preferRanksOnArcs(g: FlowGraph, sol: FlowSolution, weight: Int8Array, eps: number): Float64Array {
  const used = new Float64Array(g.pieceCap.length);
  for (let a = 0; a < g.src.length; a++) {
    let F = sol.flow[a];
    for (let j = g.pieceStart[a]; j < g.pieceStart[a + 1]; j++) {
      const u = Math.min(F, g.pieceCap[j]);
      used[j] = u > 0 ? u : 0;
      F -= u;
    }
  }
  preferRanks(g, sol.pi, used, weight, eps);
  const flow = new Float64Array(g.src.length);
  for (let a = 0; a < g.src.length; a++) for (let j = g.pieceStart[a]; j < g.pieceStart[a + 1]; j++) flow[a] += used[j];
  return flow;
}

/** A per-unit bonus larger than any path's gain in the circulation: V nodes, each hop at most the price range. */
function forcingBonus(intents: readonly Intent[], V: number): number {
  let lo = 0;
  let hi = 0;
  for (const it of intents) {
    lo = Math.min(lo, it.limitPrice, it.swapFor?.limitPrice ?? 0);
    hi = Math.max(hi, it.limitPrice, it.swapFor?.limitPrice ?? 0);
  }
  return (4 + V) * (hi - lo + 1);
}

/**
 * Per view, −1 without soft latency, else a key shared exactly by the soft views with the same region and the same
 * penalty against every region present: such intents can share a class (one price order for every counterpart).
 */
function penaltyProfiles(views: readonly Intent[], latency: LatencyTable): Int32Array {
  const regions = [...new Set(views.map((v) => v.region))];
  const keys = new Map<string, number>();
  const out = new Int32Array(views.length).fill(-1);
  views.forEach((v, i) => {
    if (!isSoft(v)) return;
    const key = `${v.region}\u0000${regions.map((r) => softPenalty(latency, v, r)).join(" ")}`;
    let k = keys.get(key);
    if (k === undefined) keys.set(key, (k = keys.size));
    out[i] = k;
  });
  return out;
}
