// The time-expanded allocation as one min-cost circulation (notes/solver.md, "Time (session 8)"): source → buyer
// roots → their interval copies (rate caps) → hubs per (interval, resource, buyer region, seller region) → seller
// interval copies → seller roots → sink. A swap's roots are its two nodes (in → out, cost −its value): its given leg
// ends at `in`, its taken leg starts at `out`, so gives = takes and chains and rings are paths and cycles. Hubs keep
// the arcs at O(legs × intervals × regions); the legs of an agent on both sides of a resource (no self-trade) and of
// intents forced to their minimum (only individually rational partners) take direct arcs instead.
import type { Intent, LatencyTable } from "../contract/schema.ts";
import { capAdmits, latencyMatrix, penaltyAt } from "./latency.ts";
import { KeyTable, legPlaces, numberOf } from "./components.ts";
import { walkFlow } from "./decompose.ts";
import { integerCirculation, networkSimplex, priorityWeight, type FlowGraph, type FlowSolution } from "./simplex.ts";
import { chainGraph, CONTRACT_FROM, expand, pricingOf } from "./series.ts";
import { slotHours, windowed, type Leg, type Slots } from "./time-slots.ts";

/** Branch and bound's choices: intents left out, intents forced to at least `min`. */
export interface TimeFixings {
  excluded: Uint8Array;
  forced: Uint8Array;
  min: Float64Array;
}

/** One hop of a trade: a buyer leg takes `quantity` from a seller leg in one slot. */
export interface Hop {
  buy: number;
  sell: number;
  slot: number;
}

/**
 * Trades in flow order, flat (a flow has thousands): trade t is hops hopStart[t] .. hopStart[t + 1] − 1 (a chain
 * buyer → swaps → seller, or a ring of swaps) at volume[t]; hop j is buyer leg hopBuy[j] taking from seller leg
 * hopSell[j] in slot hopSlot[j].
 */
export interface TimeTrades {
  count: number;
  volume: Float64Array;
  hopStart: Int32Array;
  hopBuy: Int32Array;
  hopSell: Int32Array;
  hopSlot: Int32Array;
}

/** No trades. */
export const noTrades = (): TimeTrades => ({ count: 0, volume: new Float64Array(0), hopStart: new Int32Array(1), hopBuy: new Int32Array(0), hopSell: new Int32Array(0), hopSlot: new Int32Array(0) });

/**
 * Trades as decompose finds them, in typed arrays that double when full (lists grown push by push are reallocated
 * many times over, and what survives is copied by the garbage collector); `done` trims them to their contents.
 */
class TradeList {
  count = 0;
  hops = 0;
  volume: Float64Array;
  hopStart: Int32Array;
  hopBuy: Int32Array;
  hopSell: Int32Array;
  hopSlot: Int32Array;
  constructor(trades: number) {
    const size = Math.max(16, trades);
    this.volume = new Float64Array(size);
    this.hopStart = new Int32Array(size + 1);
    this.hopBuy = new Int32Array(size);
    this.hopSell = new Int32Array(size);
    this.hopSlot = new Int32Array(size);
  }
  hop(buy: number, sell: number, slot: number): void {
    if (this.hops === this.hopBuy.length) {
      this.hopBuy = doubled(this.hopBuy);
      this.hopSell = doubled(this.hopSell);
      this.hopSlot = doubled(this.hopSlot);
    }
    this.hopBuy[this.hops] = buy;
    this.hopSell[this.hops] = sell;
    this.hopSlot[this.hops++] = slot;
  }
  /** The hops since the last trade form one at `volume`. */
  trade(volume: number): void {
    if (this.count === this.volume.length) {
      const v = new Float64Array(2 * this.volume.length);
      v.set(this.volume);
      this.volume = v;
      this.hopStart = doubled(this.hopStart);
    }
    this.volume[this.count++] = volume;
    this.hopStart[this.count] = this.hops;
  }
  done(): TimeTrades {
    const { count, hops } = this;
    return { count, volume: this.volume.subarray(0, count), hopStart: this.hopStart.subarray(0, count + 1), hopBuy: this.hopBuy.subarray(0, hops), hopSell: this.hopSell.subarray(0, hops), hopSlot: this.hopSlot.subarray(0, hops) };
  }
}

function doubled(x: Int32Array): Int32Array {
  const y = new Int32Array(2 * x.length);
  y.set(x);
  return y;
}

export interface TimeLp {
  trades: TimeTrades;
  /** Per intent: units filled (a swap: units given). */
  amount: Float64Array;
  welfare: number;
  /** A forced minimum could not be met (the node is infeasible). */
  infeasible: boolean;
  /** Every trade's gain is ≥ 0. */
  rational: boolean;
  /** Duals: per intent (u, v or a swap's w; ≥ 0 but a forced plain intent's), per capped leg and slot, per swap π. */
  duals: Float64Array;
  rateDuals: { leg: number; slot: number; dual: number }[];
  potentials: Map<number, number>;
  bound: number;
}

/** The book's fixed facts, shared by every LP branch and bound solves. */
export interface TimeBook {
  intents: readonly Intent[];
  latency: LatencyTable;
  legs: Leg[];
  slots: Slots;
  /** Per leg: whether its agent holds legs on both sides of its resource. */
  twoSided: Uint8Array;
  /**
   * Per leg the counterpart regions it admits (index) and its soft penalty against each: entries reachFrom[k] ..
   * reachTo[k] − 1 of reachRegion and reachPenalty (open legs of a side share one run of entries).
   */
  reachFrom: Int32Array;
  reachTo: Int32Array;
  reachRegion: Int32Array;
  reachPenalty: Float64Array;
  /** Per leg: 1 when it admits every counterpart region present, each at penalty 0. */
  open: Uint8Array;
  legRegion: Int32Array;
  legResource: Int32Array;
  regions: number;
  /** Latency between regions by index (row-major; undefined where the table lists none). */
  between: (number | undefined)[];
  resources: number;
  eps: number;
  tiny: number;
}

/** Gain per unit of a hop (limits moved by soft latency). */
export function hopGain(book: TimeBook, h: Hop): number {
  const b = book.legs[h.buy];
  const s = book.legs[h.sell];
  const { intents, between, legRegion, regions: R, open } = book;
  const rb = legRegion[h.buy];
  const rs = legRegion[h.sell];
  // An open leg has no soft latency: its penalty is 0 against every region.
  const pb = open[h.buy] ? 0 : penaltyAt(intents[b.intent], between[rb * R + rs]);
  const ps = open[h.sell] ? 0 : penaltyAt(intents[s.intent], between[rs * R + rb]);
  return b.value - pb - s.value - ps;
}

export function timeBook(intents: readonly Intent[], latency: LatencyTable, legs: Leg[], slots: Slots): TimeBook {
  const { legRegion, legResource, names, resourceOf } = legPlaces(intents, legs);
  const resources = resourceOf.size;
  const R = names.length;
  const twoSided = twoSidedLegs(intents, legs, legResource, resources);
  // Per (resource, side) the regions present, in order of first appearance, so a leg lists only counterpart
  // regions that exist.
  const present: number[][] = [];
  for (let at = 0; at < 2 * resources; at++) present.push([]);
  const seen = new Uint8Array(2 * resources * R);
  for (let k = 0; k < legs.length; k++) {
    const at = legResource[k] * 2 + (legs[k].buy ? 0 : 1);
    if (seen[at * R + legRegion[k]]) continue;
    seen[at * R + legRegion[k]] = 1;
    present[at].push(legRegion[k]);
  }
  // Flat (no list or object per leg: a book has tens of thousands, alive through the whole solve). Legs without a
  // cap or soft latency reach every counterpart region at penalty 0: one shared run per side, first.
  const reachRegion = new Int32Array(2 * resources * R + legs.length * R);
  const reachPenalty = new Float64Array(reachRegion.length);
  const everywhere = new Int32Array(2 * resources + 1);
  let e = 0;
  for (let side = 0; side < 2 * resources; side++) {
    for (const region of present[side]) reachRegion[e++] = region;
    everywhere[side + 1] = e;
  }
  const between = latencyMatrix(latency, names);
  const reachFrom = new Int32Array(legs.length);
  const reachTo = new Int32Array(legs.length);
  const open = new Uint8Array(legs.length);
  for (let k = 0; k < legs.length; k++) {
    const it = intents[legs[k].intent];
    const side = legResource[k] * 2 + (legs[k].buy ? 1 : 0);
    if (it.maxLatencyMs === undefined && (it.preferLatencyMs === undefined || it.latencyDiscount === undefined)) {
      reachFrom[k] = everywhere[side];
      reachTo[k] = everywhere[side + 1];
      open[k] = 1;
      continue;
    }
    reachFrom[k] = e;
    let free = true;
    for (const r of present[side]) {
      const ms = between[legRegion[k] * R + r];
      if (!capAdmits(it.maxLatencyMs, ms)) continue;
      const penalty = penaltyAt(it, ms);
      if (penalty < Infinity) {
        reachRegion[e] = r;
        reachPenalty[e++] = penalty;
      }
      if (penalty !== 0) free = false;
    }
    reachTo[k] = e;
    open[k] = free && e - reachFrom[k] === present[side].length ? 1 : 0;
  }
  let qMax = 0;
  let qMin = Infinity;
  let pMax = 1;
  for (const it of intents) {
    if (!(it.quantity > 0)) continue;
    qMax = Math.max(qMax, it.quantity);
    qMin = Math.min(qMin, it.quantity);
    pMax = Math.max(pMax, it.limitPrice, it.swapFor?.limitPrice ?? 0);
  }
  for (const l of legs) if (l.rate < Infinity) qMin = Math.min(qMin, l.rate * 1e-3);
  return {
    intents, latency, legs, slots, twoSided, reachFrom, reachTo, reachRegion, reachPenalty, open, legRegion, legResource,
    regions: R, resources, between,
    eps: 1e-12 * pMax,
    tiny: Math.min(1e-12 * Math.max(1, qMax), 1e-6 * (qMin < Infinity ? qMin : 1)),
  };
}

/** Per leg: whether its agent holds legs on both sides of its resource (then it may not meet itself at a hub). */
function twoSidedLegs(intents: readonly Intent[], legs: Leg[], legResource: Int32Array, resources: number): Uint8Array {
  const agentOf = new Map<string, number>();
  const legAgent = new Int32Array(legs.length);
  for (let k = 0; k < legs.length; k++) legAgent[k] = numberOf(agentOf, intents[legs[k].intent].agent);
  const sides = new Uint8Array(agentOf.size * resources); // per (agent, resource): 1 buy, 2 sell, 3 both
  for (let k = 0; k < legs.length; k++) sides[legAgent[k] * resources + legResource[k]] |= legs[k].buy ? 1 : 2;
  const out = new Uint8Array(legs.length);
  for (let k = 0; k < legs.length; k++) out[k] = sides[legAgent[k] * resources + legResource[k]] === 3 ? 1 : 0;
  return out;
}

/**
 * The arrays of the circulation (arcs with convex pieces, and tags saying which legs and slot an arc serves), sized
 * once for `arcs` arcs and `pieces` pieces; they grow only past that (direct arcs are not in `netSize`'s bound).
 */
class Net {
  V = 2;
  private m = 0;
  private p = 0;
  src: Int32Array;
  dst: Int32Array;
  tagBuy: Int32Array;
  tagSell: Int32Array;
  tagSlot: Int32Array;
  pieceStart: Int32Array;
  pieceCost: Float64Array;
  pieceCap: Float64Array;
  constructor(arcs: number, pieces: number) {
    const size = Math.max(16, arcs + 1);
    this.src = new Int32Array(size);
    this.dst = new Int32Array(size);
    this.tagBuy = new Int32Array(size);
    this.tagSell = new Int32Array(size);
    this.tagSlot = new Int32Array(size);
    this.pieceStart = new Int32Array(size + 1);
    this.pieceCost = new Float64Array(Math.max(16, pieces));
    this.pieceCap = new Float64Array(Math.max(16, pieces));
  }
  node(): number {
    return this.V++;
  }
  /** An arc of one piece (cost per unit, capacity). */
  arc(u: number, v: number, cost: number, cap: number, buy = -1, sell = -1, slot = -1): number {
    const a = this.add(u, v, buy, sell, slot);
    this.piece(cost, cap);
    return a;
  }
  /** A convex arc: pieces [cost, capacity] in order of increasing cost. */
  convex(u: number, v: number, pieces: [number, number][]): number {
    const a = this.add(u, v, -1, -1, -1);
    for (const [c, cap] of pieces) this.piece(c, cap);
    return a;
  }
  /** The circulation for the simplex (the arrays trimmed to their contents; no arcs may follow). */
  finish(): FlowGraph {
    const m = this.m;
    this.pieceStart[m] = this.p;
    this.src = this.src.subarray(0, m);
    this.dst = this.dst.subarray(0, m);
    this.pieceStart = this.pieceStart.subarray(0, m + 1);
    this.pieceCost = this.pieceCost.subarray(0, this.p);
    this.pieceCap = this.pieceCap.subarray(0, this.p);
    return { V: this.V, src: this.src, dst: this.dst, pieceStart: this.pieceStart, pieceCost: this.pieceCost, pieceCap: this.pieceCap };
  }
  private add(u: number, v: number, buy: number, sell: number, slot: number): number {
    if (this.m + 1 >= this.src.length) {
      const grow = <A extends Int32Array>(x: A, size: number) => {
        const y = new Int32Array(size);
        y.set(x);
        return y;
      };
      const size = 2 * this.src.length;
      this.src = grow(this.src, size);
      this.dst = grow(this.dst, size);
      this.tagBuy = grow(this.tagBuy, size);
      this.tagSell = grow(this.tagSell, size);
      this.tagSlot = grow(this.tagSlot, size);
      this.pieceStart = grow(this.pieceStart, size + 1);
    }
    const a = this.m++;
    this.src[a] = u;
    this.dst[a] = v;
    this.tagBuy[a] = buy;
    this.tagSell[a] = sell;
    this.tagSlot[a] = slot;
    this.pieceStart[a] = this.p;
    return a;
  }
  private piece(cost: number, cap: number): void {
    if (this.p >= this.pieceCost.length) {
      const c = new Float64Array(2 * this.pieceCost.length);
      c.set(this.pieceCost);
      this.pieceCost = c;
      const k = new Float64Array(2 * this.pieceCap.length);
      k.set(this.pieceCap);
      this.pieceCap = k;
    }
    this.pieceCost[this.p] = cost;
    this.pieceCap[this.p++] = cap;
  }
}

/**
 * Per leg its end node in each active slot: a rate-capped leg's interval copy (made here, with its rate arc), any
 * other leg's root; −1 where the leg is not (left out, or not active in the slot).
 */
class Ends {
  readonly root: Int32Array;
  /** Per leg the index of its first interval copy in `copy` and `rateArc`, or −1 (no rate cap). */
  private readonly copyAt: Int32Array;
  private readonly copy: Int32Array;
  /** Per interval copy its rate arc, leg and slot. */
  readonly rateArc: Int32Array;
  readonly rateLeg: Int32Array;
  readonly rateSlot: Int32Array;
  private readonly book: TimeBook;
  constructor(book: TimeBook, net: Net, buyRoot: Int32Array, sellRoot: Int32Array) {
    this.book = book;
    const { legs, slots } = book;
    this.root = new Int32Array(legs.length);
    this.copyAt = new Int32Array(legs.length).fill(-1);
    let copies = 0;
    for (let k = 0; k < legs.length; k++) {
      const l = legs[k];
      this.root[k] = l.buy ? buyRoot[l.intent] : sellRoot[l.intent];
      if (this.root[k] >= 0 && l.rate < Infinity) copies += l.last - l.first;
    }
    this.copy = new Int32Array(copies);
    this.rateArc = new Int32Array(copies);
    this.rateLeg = new Int32Array(copies);
    this.rateSlot = new Int32Array(copies);
    let j = 0;
    for (let k = 0; k < legs.length; k++) {
      const l = legs[k];
      const root = this.root[k];
      if (root < 0 || l.rate === Infinity) continue;
      this.copyAt[k] = j;
      for (let t = l.first; t < l.last; t++, j++) {
        const c = net.node();
        const cap = l.rate * slotHours(slots, t);
        this.rateArc[j] = l.buy ? net.arc(root, c, 0, cap, k, -1, t) : net.arc(c, root, 0, cap, -1, k, t);
        this.rateLeg[j] = k;
        this.rateSlot[j] = t;
        this.copy[j] = c;
      }
    }
  }
  /** Leg k's end node in slot t (a windowless leg's untimed slot included), or −1. */
  at(k: number, t: number): number {
    const l = this.book.legs[k];
    const root = this.root[k];
    if (root < 0) return -1;
    if (t >= l.first && t < l.last) return this.copyAt[k] >= 0 ? this.copy[this.copyAt[k] + t - l.first] : root;
    return t === this.book.slots.count && !windowed(l) ? root : -1;
  }
  /** Whether leg k is in the network in some slot. */
  has(k: number): boolean {
    const l = this.book.legs[k];
    return this.root[k] >= 0 && (l.last > l.first || !windowed(l));
  }
}

const S = 0;
const T = 1;

/** The LP over schedules with some intents left out or forced to their minimum (none: the root relaxation). */
export function solveTimeLp(book: TimeBook, fix: TimeFixings | null): TimeLp {
  const { intents, legs, slots } = book;
  const n = intents.length;
  const out = (i: number) => !(intents[i].quantity > 0) || (fix !== null && fix.excluded[i] === 1);
  const forced = (i: number) => fix !== null && fix.forced[i] === 1 && fix.min[i] > 0;
  const selfMeets = selfMeeting(book);
  const direct = new Uint8Array(legs.length);
  for (let k = 0; k < legs.length; k++) direct[k] = selfMeets[k] || forced(legs[k].intent) ? 1 : 0;
  const size = netSize(book, out, direct);
  const net = new Net(size, size + n);
  const bonus = fix ? forcingBonus(intents, legs.length + 4) : 0;
  const pieces = (i: number, cost: number): [number, number][] => {
    const q = intents[i].quantity;
    if (!forced(i)) return [[cost, q]];
    const m = Math.min(q, fix!.min[i]);
    return q > m ? [[cost - bonus, m], [cost, q - m]] : [[cost - bonus, m]];
  };
  // Roots: a plain buyer's node after the source, a seller's before the sink, a swap's in → out.
  const buyRoot = new Int32Array(n).fill(-1);
  const sellRoot = new Int32Array(n).fill(-1);
  const rootArc = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (out(i)) continue;
    const it = intents[i];
    if (it.swapFor) {
      sellRoot[i] = net.node();
      buyRoot[i] = net.node();
      rootArc[i] = net.convex(sellRoot[i], buyRoot[i], pieces(i, it.limitPrice - (it.swapFor.limitPrice ?? 0)));
    } else if (it.side === "buy") {
      buyRoot[i] = net.node();
      rootArc[i] = net.convex(S, buyRoot[i], pieces(i, -it.limitPrice));
    } else {
      sellRoot[i] = net.node();
      rootArc[i] = net.convex(sellRoot[i], T, pieces(i, it.limitPrice));
    }
  }
  const ends = new Ends(book, net, buyRoot, sellRoot);
  hubArcs(book, net, direct, ends);
  directArcs(book, net, direct, ends, fix);
  net.arc(T, S, 0, Infinity);
  const graph = net.finish();
  const sol = scatteredSimplex(graph, book.eps);
  const trades = decompose(book, net, preferPriority(book, graph, sol, rootArc));
  return summarise(book, net, sol.pi, trades, rootArc, buyRoot, ends, fix, bonus);
}

/**
 * At least the arcs `solveTimeLp` builds but direct arcs: per intent its root arc; per leg in the net and per slot
 * its rate arc and one arc per target (its region node, or each hub it reaches); an uncapped leg's gateway adds at
 * most one arc per target (slots are shared by its members); the region and (slot, resource) nodes' arcs at most
 * two per hub and one per region node; the sink → source arc.
 */
function netSize(book: TimeBook, out: (i: number) => boolean, direct: Uint8Array): number {
  const { legs, intents, slots, regions: R, resources } = book;
  let arcs = intents.length + 1;
  for (let k = 0; k < legs.length; k++) {
    const l = legs[k];
    if (direct[k] || out(l.intent)) continue;
    const targets = book.open[k] === 1 ? 1 : book.reachTo[k] - book.reachFrom[k];
    if (l.rate < Infinity) arcs += (l.last - l.first) * (1 + targets);
    else arcs += (l.last - l.first + (windowed(l) ? 0 : 1) + 1) * targets;
  }
  const trs = (slots.count + 1) * resources;
  return arcs + trs * (2 * R * R + 2 * R);
}

/**
 * The circulation's optimum, the arcs handed to the simplex in a scattered order: arc i of its graph is arc
 * (i × step) mod m of ours (step coprime to m; the sink → source arc stays last, as `sinkTree` wants). The net lists
 * a leg's arcs together, and the simplex's candidate list, which takes the next violating arcs in order, then fills
 * with arcs of one leg or hub whose cycles overlap: one pivot spoils the rest. Scattered, the list holds arcs of
 * unrelated legs and slots and each pivot does more. Large components are series contracted in the same copy (the
 * source and sink keep their nodes). The LP is the same; the answer is in our arcs.
 */
function scatteredSimplex(g: FlowGraph, eps: number): FlowSolution {
  const m = g.src.length - 1;
  const order = new Int32Array(m + 1); // the simplex's arc → ours
  const step = coprimeStep(m);
  for (let i = 0, a = 0; i < m; i++, a = a + step >= m ? a + step - m : a + step) order[i] = a;
  order[m] = m;
  const c = chainGraph(g, order, CONTRACT_FROM, 2);
  const start = sinkTree(c.graph);
  return expand(g, c, networkSimplex(c.graph, eps, start?.pi, start?.tree, pricingOf(c)));
}

/** A step through m arcs that visits each once (coprime to m), near m / φ² (consecutive arcs land far apart). */
function coprimeStep(m: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let step = Math.max(1, Math.round(m * 0.381966));
  while (gcd(step, m) !== 1) step++;
  return step;
}

/**
 * Among the optimal flows, one that fills higher-priority intents more (CONTRACT.md section 3; notes/solver.md,
 * "Time: priority ties"). A flow that differs from the optimum only on arcs of zero reduced cost at the optimal
 * potentials is optimal too (complementary slackness), with the same duals, so welfare and certificate stay. On the
 * residual graph of those arcs a second min-cost circulation charges a unit through a high-priority intent's root
 * arc −1 and through a low one's +1 (normal 0: a book without high or low never gets past the first check).
 */
function preferPriority(book: TimeBook, g: FlowGraph, sol: FlowSolution, rootArc: Int32Array): Float64Array {
  const { intents, eps, tiny } = book;
  const { flow, pi, pred } = sol;
  const m = g.src.length;
  const weight = new Int8Array(m);
  let weighted = false;
  intents.forEach((it, i) => {
    if (rootArc[i] < 0 || priorityWeight(it) === 0) return;
    weight[rootArc[i]] = priorityWeight(it);
    weighted = true;
  });
  if (!weighted) return flow;
  // Per arc the residual of its current piece each way (pieces are convex: only the piece the next unit enters,
  // and the one the last unit left, can be tight), kept where that piece's reduced cost is 0 (the simplex's eps).
  const src: number[] = [];
  const dst: number[] = [];
  const cost: number[] = [];
  const cap: number[] = [];
  const arcOf: number[] = [];
  const upAt = new Int32Array(m).fill(-1); // arc → its residual arcs' indices
  const downAt = new Int32Array(m).fill(-1);
  let gains = false;
  for (let a = 0; a < m; a++) {
    const f = flow[a];
    let lo = 0;
    let up = -1;
    let upCap = 0;
    let down = -1;
    let downCap = 0;
    for (let j = g.pieceStart[a]; j < g.pieceStart[a + 1]; j++) {
      const hi = lo + g.pieceCap[j];
      if (f > lo + tiny) {
        down = j;
        downCap = Math.min(f, hi) - lo;
      }
      if (up < 0 && hi > f + tiny) {
        up = j;
        upCap = hi - f;
      }
      lo = hi;
    }
    const d = pi[g.src[a]] - pi[g.dst[a]];
    // Tight: within the simplex's eps, and within what rounding leaves of this arc's own terms. Beside a 1e9 limit
    // eps is 1e-3 while potentials near 1e9 resolve ~1e-7, so an arc that gains 1e-6 per unit is no tie.
    const tie = (c: number) => {
      const r = Math.abs(c + d);
      return r <= eps && r <= 1e-12 * Math.max(1, Math.abs(c)) + Number.EPSILON * (Math.abs(pi[g.src[a]]) + Math.abs(pi[g.dst[a]]));
    };
    if (up >= 0 && tie(g.pieceCost[up])) {
      upAt[a] = src.length;
      src.push(g.src[a]), dst.push(g.dst[a]), cost.push(weight[a]), cap.push(upCap), arcOf.push(a);
      if (weight[a] < 0) gains = true;
    }
    if (down >= 0 && tie(g.pieceCost[down])) {
      downAt[a] = src.length;
      src.push(g.dst[a]), dst.push(g.src[a]), cost.push(-weight[a]), cap.push(downCap), arcOf.push(~a);
      if (weight[a] > 0) gains = true;
    }
  }
  // No high intent can fill more and no low one less at zero reduced cost: no improving cycle exists.
  if (!gains) return flow;
  // Start from the first circulation's optimal basis: a node keeps its tree arc where the residual towards its
  // parent is tight (then, at flow 0, it points up, as a strongly feasible tree wants), else it hangs from the root.
  // From any basis the simplex is exact; this one leaves only the arcs priority makes violate (fewer pivots).
  const tree = new Int32Array(g.V).fill(-1);
  for (let v = 0; v < g.V; v++) {
    const a = pred[v];
    if (a < m) tree[v] = g.src[a] === v ? upAt[a] : downAt[a];
  }
  const second = integerCirculation(g.V, src, dst, cost, cap, tree);
  const out = Float64Array.from(flow);
  for (let r = 0; r < src.length; r++) {
    const y = second[r];
    if (!(y > 0)) continue;
    const a = arcOf[r];
    if (a >= 0) out[a] += y;
    else out[~a] = Math.max(0, out[~a] - y);
  }
  return out;
}

/**
 * Hub legs to the hubs where they meet. Per (slot, resource) a hub per (buyer region, seller region) for legs with a
 * latency cap or soft latency (a leg's arc costs its own penalty against the hub's other region). A leg that reaches
 * every counterpart region at penalty 0 ("open": most legs) joins one node per (slot, resource, side, region)
 * instead, one arc per slot rather than one per region: open buyer → its region's node → the (slot, resource)
 * node → the seller region's node → open seller, and a region's node is linked to the hubs of its region where the
 * other side has capped or soft legs (buyer region node → hub, hub → seller region node), so every compatible pair
 * has a path costing its two penalties and no other pair has one. A rate-capped leg joins from each interval copy;
 * uncapped legs join through a gateway per (side, resource, target, window) shared by every leg with those facts.
 */
function hubArcs(book: TimeBook, net: Net, direct: Uint8Array, ends: Ends): void {
  const bests = new HubBests(book, direct, ends);
  const joins = new Joins(book, net, bests);
  const { legs } = book;
  const gates = gateways(book, direct, ends);
  for (let k = 0; k < legs.length; k++) {
    const l = legs[k];
    if (direct[k] || !ends.has(k) || l.rate === Infinity) continue;
    for (let t = l.first; t < l.last; t++) {
      const end = ends.at(k, t);
      if (book.open[k] === 1) joins.join(k, -1, -1, t, end, 0, bests.worth(k, 0), k);
      else
        for (let r = book.reachFrom[k]; r < book.reachTo[k]; r++) {
          const region = book.reachRegion[r];
          const penalty = book.reachPenalty[r];
          const mine = book.legRegion[k];
          joins.join(k, l.buy ? mine : region, l.buy ? region : mine, t, end, penalty, bests.worth(k, penalty), k);
        }
    }
  }
  for (let g = 0; g < gates.count; g++) joins.gateway(gates, g, ends);
  joins.regionArcs();
}

/**
 * Per hub the dearest buyer and the cheapest seller (limits moved by soft latency; a swap's leg counts as any price:
 * its worth is its whole trade). An arc is listed only where its leg meets the other side's best: a plain pair that
 * loses is never in an optimum, and its dual constraint holds for any duals ≥ 0. Windowless legs are active in every
 * slot from now on and in the untimed one, so they count once per hub family (resource, buyer region, seller
 * region) rather than once per hub.
 */
class HubBests {
  readonly R: number;
  readonly stride: number;
  private readonly dearest: KeyTable;
  private readonly cheapest: KeyTable;
  private readonly familyDearest: Float64Array;
  private readonly familyCheapest: Float64Array;
  private readonly swapLeg: Uint8Array;
  private readonly book: TimeBook;
  constructor(book: TimeBook, direct: Uint8Array, ends: Ends) {
    this.book = book;
    const { legs, slots } = book;
    this.R = book.regions;
    this.stride = book.resources * this.R * this.R;
    this.dearest = new KeyTable((slots.count + 1) * this.stride);
    this.cheapest = new KeyTable((slots.count + 1) * this.stride);
    this.familyDearest = new Float64Array(this.stride).fill(NaN);
    this.familyCheapest = new Float64Array(this.stride).fill(NaN);
    this.swapLeg = new Uint8Array(legs.length);
    for (let k = 0; k < legs.length; k++) this.swapLeg[k] = book.intents[legs[k].intent].swapFor ? 1 : 0;
    const open = new OpenBests(book);
    for (let k = 0; k < legs.length; k++) {
      const l = legs[k];
      if (direct[k] || !ends.has(k)) continue;
      if (book.open[k] === 1) {
        open.raise(k, this.worth(k, 0));
        continue;
      }
      for (let r = book.reachFrom[k]; r < book.reachTo[k]; r++) this.raiseFamily(l, this.family(k, book.reachRegion[r]), this.worth(k, book.reachPenalty[r]));
    }
    open.spread((buy, t, family, v) => (t < 0 ? this.raise(buy ? this.familyDearest : this.familyCheapest, family, v, buy) : this.raiseAt(buy ? this.dearest : this.cheapest, t * this.stride + family, v, buy)));
  }
  /** Leg l worth v at every hub of `family` in its slots (a windowless leg: once for the family). */
  private raiseFamily(l: Leg, family: number, v: number): void {
    if (!windowed(l)) this.raise(l.buy ? this.familyDearest : this.familyCheapest, family, v, l.buy);
    else for (let t = l.first; t < l.last; t++) this.raiseAt(l.buy ? this.dearest : this.cheapest, t * this.stride + family, v, l.buy);
  }
  /** What leg k is worth per unit against a counterpart region at `penalty`. */
  worth(k: number, penalty: number): number {
    const l = this.book.legs[k];
    if (this.swapLeg[k]) return l.buy ? Infinity : -Infinity;
    return l.buy ? l.value - penalty : l.value + penalty;
  }
  /** The hub family (resource, buyer region, seller region) where leg k meets counterpart region `region`. */
  family(k: number, region: number): number {
    const { legs, legRegion, legResource } = this.book;
    const R = this.R;
    return legs[k].buy ? (legResource[k] * R + legRegion[k]) * R + region : (legResource[k] * R + region) * R + legRegion[k];
  }
  /** The best of one side at hub (slot t, family): dearest buyer or cheapest seller; NaN when the side has none. */
  best(buy: boolean, t: number, family: number): number {
    const timed = (buy ? this.dearest : this.cheapest).get(t * this.stride + family);
    const grouped = t >= this.book.slots.open ? (buy ? this.familyDearest : this.familyCheapest)[family] : NaN;
    if (Number.isNaN(grouped)) return timed;
    if (Number.isNaN(timed)) return grouped;
    return buy ? Math.max(timed, grouped) : Math.min(timed, grouped);
  }
  private raise(into: Float64Array, at: number, v: number, buy: boolean): void {
    const o = into[at];
    if (buy ? !(o >= v) : !(o <= v)) into[at] = v;
  }
  private raiseAt(into: KeyTable, at: number, v: number, buy: boolean): void {
    const o = into.get(at);
    if (buy ? !(o >= v) : !(o <= v)) into.set(at, v);
  }
}

/**
 * Open legs' bests per (slot, resource, side, region), spread over the hub families afterwards: an open leg is worth
 * the same against every counterpart region present (penalty 0), so it is counted once per slot rather than once per
 * hub, and each (slot, resource, side, region) that has one is spread once over the counterpart regions.
 */
class OpenBests {
  private readonly book: TimeBook;
  private readonly R: number;
  private readonly RR: number;
  /** Per side (0 buyers, 1 sellers): by (slot, resource, region), and windowless legs by (resource, region). */
  private readonly timed: [KeyTable, KeyTable];
  private readonly grouped: [Float64Array, Float64Array];
  /**
   * Entries of `timed` in the order first set (key × 2 + side), and per (resource, side) an open leg, whose reach
   * is the counterpart regions (−1: none yet).
   */
  private readonly touched: number[] = [];
  private readonly reachOf: Int32Array;
  constructor(book: TimeBook) {
    this.book = book;
    this.R = book.regions;
    this.RR = book.resources * this.R;
    const C = book.slots.count + 1;
    this.timed = [new KeyTable(C * this.RR), new KeyTable(C * this.RR)];
    this.grouped = [new Float64Array(this.RR).fill(NaN), new Float64Array(this.RR).fill(NaN)];
    this.reachOf = new Int32Array(2 * book.resources).fill(-1);
  }
  /** Open leg k, worth v, in each of its slots. */
  raise(k: number, v: number): void {
    const { book, RR } = this;
    const l = book.legs[k];
    const side = l.buy ? 0 : 1;
    const at = book.legResource[k] * this.R + book.legRegion[k];
    if (this.reachOf[book.legResource[k] * 2 + side] < 0) this.reachOf[book.legResource[k] * 2 + side] = k;
    if (!windowed(l)) {
      this.grouped[side][at] = better(l.buy, this.grouped[side][at], v);
      return;
    }
    const table = this.timed[side];
    for (let t = l.first; t < l.last; t++) {
      const o = table.get(t * RR + at);
      if (Number.isNaN(o)) this.touched.push((t * RR + at) * 2 + side);
      table.set(t * RR + at, better(l.buy, o, v));
    }
  }
  /** Each best to `raise` at every family its (resource, side, region) meets (slot −1: windowless). */
  spread(raise: (buy: boolean, t: number, family: number, v: number) => void): void {
    const { RR } = this;
    for (let side = 0; side < 2; side++)
      for (let at = 0; at < RR; at++) if (!Number.isNaN(this.grouped[side][at])) this.families(side, at, (family) => raise(side === 0, -1, family, this.grouped[side][at]));
    for (const e of this.touched) {
      const side = e % 2;
      const key = (e - side) / 2;
      const at = key % RR;
      const v = this.timed[side].get(key);
      this.families(side, at, (family) => raise(side === 0, (key - at) / RR, family, v));
    }
  }
  private families(side: number, at: number, each: (family: number) => void): void {
    const R = this.R;
    const resource = Math.floor(at / R);
    const mine = at % R;
    const { reachFrom, reachTo, reachRegion } = this.book;
    const k = this.reachOf[resource * 2 + side];
    for (let r = reachFrom[k]; r < reachTo[k]; r++) {
      const region = reachRegion[r];
      each(side === 0 ? (resource * R + mine) * R + region : (resource * R + region) * R + mine);
    }
  }
}

/** The better of two bests of a side (the dearer buyer, the cheaper seller); NaN stands for none. */
function better(buy: boolean, a: number, b: number): number {
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return buy ? Math.max(a, b) : Math.min(a, b);
}

/** Gateways of uncapped legs, in order of first use: each with its first leg, target and members (with penalties). */
interface Gateways {
  count: number;
  leg: Int32Array;
  /** Target: the hub's (buyer region, seller region), or −1, −1 for the leg's region node. */
  rb: Int32Array;
  rs: Int32Array;
  /** Members of gateway g: entries memberStart[g] .. memberStart[g + 1] − 1, in order of joining. */
  memberStart: Int32Array;
  member: Int32Array;
  penalty: Float64Array;
}

/** Uncapped legs grouped by (side, resource, target, window): the legs that may share one gateway node. */
function gateways(book: TimeBook, direct: Uint8Array, ends: Ends): Gateways {
  const { legs, slots } = book;
  const R = book.regions;
  const C = slots.count + 1;
  const joins = (k: number) => !direct[k] && ends.has(k) && legs[k].rate === Infinity;
  let entries = 0;
  for (let k = 0; k < legs.length; k++) if (joins(k)) entries += book.open[k] === 1 ? 1 : book.reachTo[k] - book.reachFrom[k];
  // Per (window, side, resource) a block of R² + R gateway numbers, one per target (−1: none yet).
  const blockOf = new Map<number, number>();
  const targets = R * R + R;
  let gateAt = new Int32Array(16 * targets).fill(-1);
  const out: Gateways = { count: 0, leg: new Int32Array(entries), rb: new Int32Array(entries), rs: new Int32Array(entries), memberStart: new Int32Array(0), member: new Int32Array(entries), penalty: new Float64Array(entries) };
  const entryGate = new Int32Array(entries);
  let e = 0;
  const add = (k: number, block: number, target: number, rb: number, rs: number) => {
    let g = gateAt[block + target];
    if (g < 0) {
      gateAt[block + target] = g = out.count++;
      out.leg[g] = k;
      out.rb[g] = rb;
      out.rs[g] = rs;
    }
    entryGate[e++] = g;
  };
  for (let k = 0; k < legs.length; k++) {
    const l = legs[k];
    if (!joins(k)) continue;
    const key = (((l.first * C + l.last) * 2 + (windowed(l) ? 1 : 0)) * 2 + (l.buy ? 1 : 0)) * book.resources + book.legResource[k];
    let block = blockOf.get(key);
    if (block === undefined) {
      blockOf.set(key, (block = blockOf.size * targets));
      if (block + targets > gateAt.length) {
        const grown = new Int32Array(2 * gateAt.length).fill(-1);
        grown.set(gateAt);
        gateAt = grown;
      }
    }
    const mine = book.legRegion[k];
    if (book.open[k] === 1) add(k, block, R * R + mine, -1, -1);
    else
      for (let r = book.reachFrom[k]; r < book.reachTo[k]; r++) {
        const region = book.reachRegion[r];
        add(k, block, l.buy ? mine * R + region : region * R + mine, l.buy ? mine : region, l.buy ? region : mine);
      }
  }
  // Members by gateway, in order of joining (a counting sort; the legs and penalties replayed in entry order).
  out.memberStart = new Int32Array(out.count + 1);
  for (let j = 0; j < entries; j++) out.memberStart[entryGate[j] + 1]++;
  for (let g = 0; g < out.count; g++) out.memberStart[g + 1] += out.memberStart[g];
  const fill = out.memberStart.slice(0, out.count);
  e = 0;
  for (let k = 0; k < legs.length; k++) {
    if (!joins(k)) continue;
    if (book.open[k] === 1) out.member[fill[entryGate[e++]]++] = k;
    else
      for (let r = book.reachFrom[k]; r < book.reachTo[k]; r++) {
        const at = fill[entryGate[e++]]++;
        out.member[at] = k;
        out.penalty[at] = book.reachPenalty[r];
      }
  }
  return out;
}

/** The arcs from legs (or their gateways) to hubs and region nodes, and those nodes' own arcs. */
class Joins {
  private readonly R: number;
  /** Nodes of hubs, region nodes and (slot, resource) nodes by key, and the order hubs and region nodes appeared. */
  private readonly hubNode: KeyTable;
  private readonly regionNode: KeyTable;
  private readonly slotNode: KeyTable;
  private readonly hubs: number[] = [];
  private readonly regionNodes: number[] = [];
  /** Per hub: 1 when a capped or soft buyer joined it, 2 a seller, 3 both. */
  private readonly hubSides: KeyTable;
  /** Per region node (its key): the other side's loosest best over its hubs, and 1 once that is known. */
  private readonly regionBests: KeyTable;
  private readonly regionDone: KeyTable;
  private readonly book: TimeBook;
  private readonly net: Net;
  private readonly bests: HubBests;
  constructor(book: TimeBook, net: Net, bests: HubBests) {
    this.book = book;
    this.net = net;
    this.bests = bests;
    this.R = book.regions;
    const trs = (book.slots.count + 1) * book.resources;
    this.hubNode = new KeyTable(trs * this.R * this.R);
    this.hubSides = new KeyTable(trs * this.R * this.R);
    this.regionNode = new KeyTable(trs * 2 * this.R);
    this.regionBests = new KeyTable(trs * 2 * this.R);
    this.regionDone = new KeyTable(trs * 2 * this.R);
    this.slotNode = new KeyTable(trs);
  }

  /**
   * The loosest threshold over the hubs leg k's side meets in slot t through target (rb, rs) (−1: its region node),
   * at its best worth v; NaN when it meets none.
   */
  threshold(k: number, rb: number, rs: number, t: number, v: number): number {
    const { book, R } = this;
    const buy = book.legs[k].buy;
    const x = rb >= 0 ? this.bests.best(!buy, t, (book.legResource[k] * R + rb) * R + rs) : this.regionBest(k, t);
    // The loosest best that v meets is the loosest of all when v meets that one, and none otherwise.
    return (buy ? v >= x : v <= x) ? x : NaN;
  }

  /**
   * The other side's loosest best over the hubs leg k's region node reaches in slot t (NaN: none), once per region
   * node: an open leg reaches every counterpart region present (its reach is the side's shared run).
   */
  private regionBest(k: number, t: number): number {
    const key = this.regionKey(k, t);
    if (this.regionDone.get(key) === 1) return this.regionBests.get(key);
    const { book, bests } = this;
    const buy = book.legs[k].buy;
    let reach = NaN;
    for (let r = book.reachFrom[k]; r < book.reachTo[k]; r++) {
      const x = bests.best(!buy, t, bests.family(k, book.reachRegion[r]));
      if (Number.isNaN(x)) continue;
      reach = Number.isNaN(reach) ? x : buy ? Math.min(reach, x) : Math.max(reach, x);
    }
    this.regionDone.set(key, 1);
    this.regionBests.set(key, reach);
    return reach;
  }

  /** The key of leg k's region node in slot t: (slot, resource, side, region). */
  private regionKey(k: number, t: number): number {
    const { book } = this;
    return ((t * book.resources + book.legResource[k]) * 2 + (book.legs[k].buy ? 0 : 1)) * this.R + book.legRegion[k];
  }

  /**
   * Leg k's side joins its target in slot t from (to) node `end`, where its best worth v meets one: the arc, tagged
   * with leg `tag` (−1 for a gateway) and the slot. Returns the threshold (NaN: no arc).
   */
  join(k: number, rb: number, rs: number, t: number, end: number, penalty: number, v: number, tag: number): number {
    const reach = this.threshold(k, rb, rs, t, v);
    if (!Number.isNaN(reach)) this.arc(k, rb, rs, t, end, penalty, tag);
    return reach;
  }

  private arc(k: number, rb: number, rs: number, t: number, end: number, penalty: number, tag: number): void {
    const { book, net, R } = this;
    const buy = book.legs[k].buy;
    const tr = t * book.resources + book.legResource[k];
    let target: number;
    if (rb < 0) target = this.node(this.regionNode, this.regionKey(k, t), this.regionNodes);
    else {
      const h = (tr * R + rb) * R + rs;
      const sides = this.hubSides.get(h);
      this.hubSides.set(h, (Number.isNaN(sides) ? 0 : sides) | (buy ? 1 : 2));
      target = this.node(this.hubNode, h, this.hubs);
    }
    if (buy) net.arc(end, target, penalty, Infinity, tag, -1, t);
    else net.arc(target, end, penalty, Infinity, -1, tag, t);
  }

  private node(table: KeyTable, key: number, order: number[] | null): number {
    let v = table.get(key);
    if (Number.isNaN(v)) {
      table.set(key, (v = this.net.node()));
      order?.push(key);
    }
    return v;
  }

  /** Gateway g: its node joins each target in each slot where its members' best meets one, then its members join it. */
  gateway(gates: Gateways, g: number, ends: Ends): void {
    const { book, bests } = this;
    const k0 = gates.leg[g];
    const l = book.legs[k0];
    const buy = l.buy;
    const from = gates.memberStart[g];
    const to = gates.memberStart[g + 1];
    let best = buy ? -Infinity : Infinity;
    for (let e = from; e < to; e++) {
      const v = bests.worth(gates.member[e], gates.penalty[e]);
      best = buy ? Math.max(best, v) : Math.min(best, v);
    }
    const rb = gates.rb[g];
    const rs = gates.rs[g];
    const last = windowed(l) ? l.last : book.slots.count + 1; // a windowless leg's slots end with the untimed one
    if (to - from === 1) {
      // A gateway of one leg would only add a node: the leg joins its targets itself.
      for (let t = l.first; t < last; t++) this.join(k0, rb, rs, t, ends.root[k0], gates.penalty[from], best, k0);
      return;
    }
    let gate = -1;
    // The loosest threshold over the targets the gateway joins: members beyond it meet none.
    let reach = buy ? Infinity : -Infinity;
    for (let t = l.first; t < last; t++) {
      const x = this.threshold(k0, rb, rs, t, best);
      if (Number.isNaN(x)) continue;
      if (gate < 0) gate = this.net.node();
      this.arc(k0, rb, rs, t, gate, 0, -1);
      reach = buy ? Math.min(reach, x) : Math.max(reach, x);
    }
    if (gate < 0) return;
    for (let e = from; e < to; e++) {
      const k = gates.member[e];
      const v = bests.worth(k, gates.penalty[e]);
      if (buy ? v < reach : v > reach) continue;
      if (buy) this.net.arc(ends.root[k], gate, gates.penalty[e], Infinity, k, -1, -1);
      else this.net.arc(gate, ends.root[k], gates.penalty[e], Infinity, -1, k, -1);
    }
  }

  /** Region nodes: buyers' and sellers' of one (slot, resource) through its node, and to the hubs of their region. */
  regionArcs(): void {
    const { net, R } = this;
    const sides = new Map<number, number>(); // per (slot, resource): 1 buyers' region nodes, 2 sellers', 3 both
    for (const key of this.regionNodes) {
      const tr = Math.floor(key / (2 * R));
      sides.set(tr, (sides.get(tr) ?? 0) | (Math.floor(key / R) % 2 === 0 ? 1 : 2));
    }
    for (const key of this.regionNodes) {
      const tr = Math.floor(key / (2 * R));
      if (sides.get(tr) !== 3) continue;
      const v = this.regionNode.get(key);
      if (Math.floor(key / R) % 2 === 0) net.arc(v, this.node(this.slotNode, tr, null), 0, Infinity);
      else net.arc(this.node(this.slotNode, tr, null), v, 0, Infinity);
    }
    for (const h of this.hubs) {
      const v = this.hubNode.get(h);
      const tr = Math.floor(h / (R * R));
      const from = this.regionNode.get(tr * 2 * R + (Math.floor(h / R) % R));
      const to = this.regionNode.get(tr * 2 * R + R + (h % R));
      const sides = this.hubSides.get(h);
      if (!Number.isNaN(from) && sides & 2) net.arc(from, v, 0, Infinity);
      if (!Number.isNaN(to) && sides & 1) net.arc(v, to, 0, Infinity);
    }
  }
}

/** Whether leg k admits counterpart region `region` (its latency cap, at a finite penalty). */
const admits = (book: TimeBook, k: number, region: number) => reachEntry(book, k, region) >= 0;

/** Leg k's entry for counterpart region `region` (in reachRegion and reachPenalty), or −1 when it does not admit it. */
export function reachEntry(book: TimeBook, k: number, region: number): number {
  for (let r = book.reachFrom[k]; r < book.reachTo[k]; r++) if (book.reachRegion[r] === region) return r;
  return -1;
}

/**
 * Per leg 1 when it must keep off the hubs so its agent does not trade with itself. Two legs of one agent on the two
 * sides of a resource meet through a hub only where they are active in a common slot (two windowless legs share
 * the untimed one) and each admits the other's region; the hop is barred when either of them keeps off the hubs
 * (direct arcs skip the agent's own legs): of each such pair one goes direct, the one active in fewer slots (its
 * direct arcs, to every compatible leg in each slot, are the fewer). An agent's legs in disjoint slots (a deferral's
 * given and taken legs, as a rule) join hubs as anyone's.
 */
function selfMeeting(book: TimeBook): Uint8Array {
  const { legs, intents } = book;
  const out = new Uint8Array(legs.length);
  const groups = new Map<string, number[]>(); // (agent, resource) → its legs, for agents on both sides
  legs.forEach((l, k) => {
    if (!book.twoSided[k]) return;
    const key = `${intents[l.intent].agent}\u0000${l.resource}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(k);
  });
  const share = (a: Leg, b: Leg) => (!windowed(a) && !windowed(b)) || Math.max(a.first, b.first) < Math.min(a.last, b.last);
  const slots = (l: Leg) => l.last - l.first + (windowed(l) ? 0 : 1);
  for (const group of groups.values())
    for (const k of group)
      for (const j of group) {
        if (!legs[k].buy || legs[j].buy || out[k] || out[j] || !share(legs[k], legs[j])) continue;
        if (!admits(book, k, book.legRegion[j]) || !admits(book, j, book.legRegion[k])) continue;
        out[slots(legs[j]) < slots(legs[k]) ? j : k] = 1;
      }
  return out;
}

/** Arcs leg to leg for direct legs: other agents, compatible, both active; forced intents only where the hop gains. */
function directArcs(book: TimeBook, net: Net, direct: Uint8Array, ends: Ends, fix: TimeFixings | null): void {
  const { legs, intents, slots } = book;
  if (!direct.includes(1)) return;
  const bySide = new Map<string, number[]>();
  legs.forEach((l, k) => {
    const key = `${book.legResource[k]}:${l.buy ? "b" : "s"}`;
    (bySide.get(key) ?? bySide.set(key, []).get(key)!).push(k);
  });
  for (let k = 0; k < legs.length; k++) {
    if (!direct[k]) continue;
    const l = legs[k];
    for (const m of bySide.get(`${book.legResource[k]}:${l.buy ? "s" : "b"}`) ?? []) {
      if (!l.buy && direct[m]) continue; // the buyer side lists it
      const [b, s] = l.buy ? [k, m] : [m, k];
      const B = legs[b];
      const X = legs[s];
      if (intents[B.intent].agent === intents[X.intent].agent) continue;
      if (!admits(book, b, book.legRegion[s]) || !admits(book, s, book.legRegion[b])) continue;
      const forcedSide = fix !== null && (fix.forced[B.intent] === 1 || fix.forced[X.intent] === 1);
      const penalty = hopGain(book, { buy: b, sell: s, slot: 0 }) - (B.value - X.value);
      // A plain pair that loses is not individually rational; a swap's hop may lose (its rationality is on its net).
      const swapSide = intents[B.intent].swapFor !== undefined || intents[X.intent].swapFor !== undefined;
      if (forcedSide && !swapSide && B.value - X.value + penalty < 0) continue;
      const both = (t: number) => {
        const u = ends.at(b, t);
        const v = ends.at(s, t);
        if (u >= 0 && v >= 0) net.arc(u, v, -penalty, Infinity, b, s, t);
      };
      // Two windowless legs meet only in the untimed slot (a windowless leg's untimed end follows its finite ones).
      if (windowed(B) || windowed(X)) for (let t = Math.max(B.first, X.first); t < Math.min(B.last, X.last); t++) both(t);
      else both(slots.count);
    }
  }
}

/**
 * Flow into trades: walk from the source along arcs with flow left to the sink (a chain) or until the walk meets
 * itself (a ring of swaps); each trade takes the least flow on its arcs. Hops are read from the arcs' tags.
 */
function decompose(book: TimeBook, net: Net, flow: Float64Array): TimeTrades {
  const { src, dst, tagBuy, tagSell, tagSlot } = net;
  const m = src.length;
  const left = flow.slice();
  const tiny = book.tiny;
  // Per node its arcs with flow, in arc order (start[u] .. end[u] − 1); the walk takes the last one with flow left.
  const start = new Int32Array(net.V + 1);
  for (let a = 0; a < m; a++) if (left[a] > tiny && src[a] !== T) start[src[a] + 1]++;
  for (let u = 0; u < net.V; u++) start[u + 1] += start[u];
  const end = start.slice(0, net.V);
  const outArcs = new Int32Array(start[net.V]);
  for (let a = 0; a < m; a++) if (left[a] > tiny && src[a] !== T) outArcs[end[src[a]]++] = a;
  const next = (u: number) => {
    while (end[u] > start[u] && !(left[outArcs[end[u] - 1]] > tiny)) end[u]--;
    return end[u] > start[u] ? outArcs[end[u] - 1] : -1;
  };
  // Each trade zeroes the arc it takes the least from: at most one per arc with flow.
  const trades = new TradeList(outArcs.length);
  const take = (arcs: ArrayLike<number>, length: number, ring: boolean) => {
    let volume = Infinity;
    for (let j = 0; j < length; j++) volume = Math.min(volume, left[arcs[j]]);
    for (let j = 0; j < length; j++) left[arcs[j]] -= volume;
    if (!(volume > tiny)) return;
    // A ring starts right after a swap's in → out arc, so hops read buyer before seller.
    let at = 0;
    if (ring) for (; at < length && !(tagBuy[arcs[at]] >= 0); at++);
    if (at === length) return;
    const hops = trades.hops;
    let buy = -1;
    let slot = -1;
    for (let j = 0, k = at; j < length; j++, k = k + 1 === length ? 0 : k + 1) {
      const a = arcs[k];
      if (tagBuy[a] >= 0) buy = tagBuy[a];
      if (tagSlot[a] >= 0) slot = tagSlot[a];
      if (tagSell[a] >= 0 && buy >= 0) {
        trades.hop(buy, tagSell[a], slot);
        buy = -1;
      }
    }
    if (trades.hops > hops) trades.trade(volume);
  };
  walkFlow(S, T, dst, left, next, 10 * m + 10, (arcs, length) => take(arcs, length, true), (arcs, length) => take(arcs, length, false));
  // Rings left among swaps (no source or sink on them).
  for (let u = 2; u < net.V; u++) {
    for (let guard = 0; guard < m && next(u) >= 0; guard++) {
      const arcs: number[] = [];
      const seen = new Map<number, number>();
      let v = u;
      while (!seen.has(v)) {
        seen.set(v, arcs.length);
        const a = next(v);
        if (a < 0) break;
        arcs.push(a);
        v = net.dst[a];
      }
      if (!seen.has(v)) {
        for (const a of arcs) left[a] = 0;
        break;
      }
      const ring = arcs.slice(seen.get(v)!);
      take(ring, ring.length, true);
    }
  }
  return trades.done();
}

/** Amounts, welfare, rationality and the LP's duals from the potentials (notes/solver.md, "Time (session 8)"). */
function summarise(
  book: TimeBook,
  net: Net,
  pi: Float64Array,
  trades: TimeTrades,
  rootArc: Int32Array,
  buyRoot: Int32Array,
  ends: Ends,
  fix: TimeFixings | null,
  bonus: number,
): TimeLp {
  const { intents, legs } = book;
  const n = intents.length;
  const amount = new Float64Array(n);
  let welfare = 0;
  let rational = true;
  const { volume, hopStart, hopBuy, hopSell } = trades;
  const h: Hop = { buy: 0, sell: 0, slot: 0 }; // each hop in turn (hopGain reads a Hop)
  for (let k = 0; k < trades.count; k++) {
    let gain = 0;
    for (let j = hopStart[k]; j < hopStart[k + 1]; j++) {
      h.buy = hopBuy[j];
      h.sell = hopSell[j];
      const g = hopGain(book, h);
      gain += g;
      welfare += g * volume[k];
      const b = legs[h.buy].intent;
      const s = legs[h.sell].intent;
      if (!intents[b].swapFor) amount[b] += volume[k];
      amount[s] += volume[k];
    }
    if (gain < -book.eps * (1 + hopStart[k + 1] - hopStart[k])) rational = false;
  }
  const { pieceStart, pieceCost, pieceCap, src, dst } = net;
  const duals = new Float64Array(n);
  let bound = 0;
  for (let i = 0; i < n; i++) {
    const a = rootArc[i];
    if (a < 0) continue;
    const rc = pieceCost[pieceStart[a + 1] - 1] + pi[src[a]] - pi[dst[a]];
    const d = Math.max(0, -rc);
    bound += intents[i].quantity * d;
    // A forced plain intent's dual without the bonus and unclipped (negative where its minimum binds): hops carry
    // no bonus, so with the others' duals these hold for the node's leaf (time-branch.ts tightens from them).
    const plainForced = fix !== null && fix.forced[i] === 1 && fix.min[i] > 0 && !intents[i].swapFor;
    duals[i] = plainForced ? -rc - (intents[i].quantity > fix.min[i] ? 0 : bonus) : d;
  }
  const rateDuals: { leg: number; slot: number; dual: number }[] = [];
  for (let j = 0; j < ends.rateArc.length; j++) {
    const arc = ends.rateArc[j];
    const d = Math.max(0, -(pieceCost[pieceStart[arc]] + pi[src[arc]] - pi[dst[arc]]));
    if (d > 0) {
      rateDuals.push({ leg: ends.rateLeg[j], slot: ends.rateSlot[j], dual: d });
      bound += d * pieceCap[pieceStart[arc]];
    }
  }
  const potentials = new Map<number, number>();
  for (let i = 0; i < n; i++) if (intents[i].swapFor && buyRoot[i] >= 0) potentials.set(i, pi[T] - pi[buyRoot[i]] - (intents[i].swapFor!.limitPrice ?? 0));
  let infeasible = false;
  if (fix) for (let i = 0; i < n; i++) if (fix.forced[i] && !fix.excluded[i] && amount[i] < fix.min[i] - 1e-12 * Math.max(1, intents[i].quantity)) infeasible = true;
  return { trades, amount, welfare, infeasible, rational, duals, rateDuals, potentials, bound: Math.max(bound, welfare) };
}

/**
 * The starting basis: each node's first arc on a shortest path to the sink over the flow-free graph without sink →
 * source, all at flow 0 and pointing towards the sink (a strongly feasible tree), with potentials −distance, so
 * every arc prices out but sink → source and each pivot on it augments along a shortest path, as successive
 * shortest paths would. Nodes that reach no sink hang from the root with the least potential their in-arcs allow.
 * Undefined when the graph has a cycle (rings of swaps).
 */
export function sinkTree(g: FlowGraph): { pi: Float64Array; tree: Int32Array } | undefined {
  const m = g.src.length - 1; // the last arc is sink → source
  const { src, dst, pieceStart, pieceCost } = g;
  // In-arcs per node; a node is settled once its out-arcs' heads all are (Kahn's order backwards), and settling it
  // relaxes its in-arcs' tails: one pass does the order and the distances.
  const outdeg = new Int32Array(g.V);
  const headIn = new Int32Array(g.V).fill(-1);
  const nextIn = new Int32Array(m);
  for (let a = 0; a < m; a++) {
    outdeg[src[a]]++;
    nextIn[a] = headIn[dst[a]];
    headIn[dst[a]] = a;
  }
  const order = new Int32Array(g.V); // heads before tails
  let n = 0;
  for (let v = 0; v < g.V; v++) if (outdeg[v] === 0) order[n++] = v;
  const dist = new Float64Array(g.V).fill(Infinity);
  const tree = new Int32Array(g.V).fill(-1);
  dist[T] = 0;
  for (let k = 0; k < n; k++) {
    const v = order[k];
    const d = dist[v];
    for (let a = headIn[v]; a >= 0; a = nextIn[a]) {
      const u = src[a];
      if (d !== Infinity) {
        // Of the arcs at the least distance the last one wins, with its own sum (as a scan of u's arcs from the
        // last, taking only strictly shorter ones, would pick), whatever order the heads settle in.
        const c = pieceCost[pieceStart[a]] + d;
        if (c < dist[u] || (c === dist[u] && a > tree[u] && tree[u] >= 0)) {
          dist[u] = c;
          tree[u] = a;
        }
      }
      if (--outdeg[u] === 0) order[n++] = u;
    }
  }
  if (n < g.V) return undefined;
  const pi = new Float64Array(g.V);
  for (let v = 0; v < g.V; v++) pi[v] = -dist[v];
  // A node off every path to the sink: at most cost + pi[u] over its in-arcs (tails first), 0 when it has none.
  for (let k = n - 1; k >= 0; k--) {
    const v = order[k];
    if (dist[v] !== Infinity) continue;
    let p = Infinity;
    for (let a = headIn[v]; a >= 0; a = nextIn[a]) p = Math.min(p, pieceCost[pieceStart[a]] + pi[src[a]]);
    pi[v] = p === Infinity ? 0 : p;
  }
  return { pi, tree };
}

/** A per-unit bonus larger than any path's gain: each hop at most the price range (as multi.ts's). */
function forcingBonus(intents: readonly Intent[], hops: number): number {
  let hi = 0;
  for (const it of intents) hi = Math.max(hi, it.limitPrice, it.swapFor?.limitPrice ?? 0);
  return (4 + hops) * (hi + 1);
}
