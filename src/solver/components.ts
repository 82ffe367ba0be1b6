// The "may trade" graph and its connected components (notes/solver.md, "Components"). Edges: a compatible buy and
// sell whose limits meet (buy limit ≥ sell limit: a zero-gain pair can carry an intent to its minQuantity), and any
// compatible pair where a side is a swap; never two
// intents of one agent (compatible() and the classes keep them apart). solve() solves each component on its own,
// with thresholds from its own numbers, so intents that cannot trade with a set never change its fills or prices,
// and an intent in no edge is not in any problem at all.
import type { Intent, LatencyTable } from "../contract/schema.ts";
import type { ClassIndex } from "./classes.ts";
import { capAdmits, compatible, latencyMatrix, penaltyAt } from "./latency.ts";
import { timeLegs, windowed, type Leg } from "./time-slots.ts";
import { swapBuyView } from "./multi.ts";
import { isSoft, pairLimits } from "./price.ts";

/**
 * The components with an edge, each as its intent indices in input order, ordered by their first index (views of one
 * array: a typed array of more than 64 bytes is a separate allocation, and this runs on every solve).
 *
 * Per compatible class pair (A, X), members best price first: the pair meets when A's dearest buyer reaches X's
 * cheapest seller, and then every buyer of A at or above that seller's price and every seller of X at or below that
 * buyer's price has an edge (to the other class's best member). So the crossing members of a class are a price
 * prefix (down to its reach: the loosest such threshold over its meeting pairs), all in one component with the
 * class, and the components are found over classes (plus intents, for swap pairs), not over intent pairs.
 */
export function tradeComponents(intents: readonly Intent[], latency: LatencyTable, idx: ClassIndex, hasSwaps: boolean, hasSoft = false): Int32Array[] {
  const n = intents.length;
  const nb = idx.buy.length;
  const classes = nb + idx.sell.length;
  // Union-find nodes: buyer classes, seller classes, then one per intent (joined directly only by swap pairs).
  const parent = new Int32Array(classes + n);
  for (let v = 0; v < parent.length; v++) parent[v] = v;
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const join = (x: number, y: number) => {
    x = find(x);
    y = find(y);
    if (x !== y) parent[x] = y;
  };
  // Soft latency: an intent's limits depend on its counterpart, so it joins pair by pair (softPairs), not by class.
  const soft = hasSoft ? (i: number) => isSoft(intents[i]) : null;
  const reach = classReach(intents, idx, join, soft);
  // Per intent its node: its class when it is in the class's crossing prefix, else its own (−1: no edge).
  const node = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const it = intents[i];
    const c = idx.classOf[i];
    const buy = it.side === "buy";
    const meets = c >= 0 && !soft?.(i) && (buy ? it.limitPrice >= reach[c] : it.limitPrice <= reach[nb + c]);
    node[i] = meets ? (buy ? c : nb + c) : -1;
  }
  if (hasSwaps)
    swapPairs(intents, latency, (a, b) => {
      if (node[a] < 0) node[a] = classes + a;
      if (node[b] < 0) node[b] = classes + b;
      join(node[a], node[b]);
    });
  if (soft)
    softPairs(intents, latency, idx, soft, (a, b) => {
      if (node[a] < 0) node[a] = classes + a;
      if (node[b] < 0) node[b] = classes + b;
      join(node[a], node[b]);
    });
  for (let i = 0; i < n; i++) if (node[i] >= 0) node[i] = find(node[i]);
  // Per root its component (numbered by first index; `parent` is free now).
  const compOf = parent.fill(-1);
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    if (node[i] < 0) continue;
    if (compOf[node[i]] < 0) {
      compOf[node[i]] = sizes.length;
      sizes.push(0);
    }
    node[i] = compOf[node[i]];
    sizes[node[i]]++;
  }
  return grouped(node, sizes);
}

/**
 * Indices i with comp[i] ≥ 0 grouped by comp[i] (components numbered in order of first index, `sizes` their member
 * counts): input order within, as views of one array (a typed array of more than 64 bytes is a separate
 * allocation, and this runs on every solve).
 */
function grouped(comp: Int32Array, sizes: number[]): Int32Array[] {
  let total = 0;
  for (const size of sizes) total += size;
  const all = new Int32Array(total);
  const comps: Int32Array[] = [];
  const fill: number[] = [];
  for (let c = 0, at = 0; c < sizes.length; at += sizes[c++]) {
    comps.push(all.subarray(at, at + sizes[c]));
    fill.push(0);
  }
  for (let i = 0; i < comp.length; i++) if (comp[i] >= 0) comps[comp[i]][fill[comp[i]]++] = i;
  return comps;
}

/**
 * Joins the classes of every meeting pair; per class (buyers, then sellers) the price its crossing members reach:
 * a buyer class's members at or above the cheapest seller it meets, a seller class's at or below the dearest buyer.
 */
function classReach(intents: readonly Intent[], idx: ClassIndex, join: (x: number, y: number) => void, soft: ((i: number) => boolean) | null): Float64Array {
  const nb = idx.buy.length;
  const reach = new Float64Array(nb + idx.sell.length);
  for (let a = 0; a < nb; a++) reach[a] = Infinity;
  for (let x = nb; x < reach.length; x++) reach[x] = -Infinity;
  for (let e = 0; e < idx.edgeBuy.length; e++) {
    const A = idx.buy[idx.edgeBuy[e]].members;
    const X = idx.sell[idx.edgeSell[e]].members;
    // The best members without soft latency (those with it meet pair by pair).
    let ba = 0;
    let bx = 0;
    if (soft) {
      while (ba < A.length && soft(A[ba])) ba++;
      while (bx < X.length && soft(X[bx])) bx++;
    }
    if (ba >= A.length || bx >= X.length) continue;
    const dearest = intents[A[ba]].limitPrice;
    const cheapest = intents[X[bx]].limitPrice;
    if (!(dearest >= cheapest)) continue;
    const a = idx.edgeBuy[e];
    const x = nb + idx.edgeSell[e];
    join(a, x);
    if (cheapest < reach[a]) reach[a] = cheapest;
    if (dearest > reach[x]) reach[x] = dearest;
  }
  return reach;
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

/** Per leg its resource and its intent's region, numbered in order of first appearance, with the names by number. */
export function legPlaces(intents: readonly Intent[], legs: readonly Leg[]) {
  const regionOf = new Map<string, number>();
  const resourceOf = new Map<string, number>();
  const legRegion = new Int32Array(legs.length);
  const legResource = new Int32Array(legs.length);
  for (let k = 0; k < legs.length; k++) {
    legResource[k] = numberOf(resourceOf, legs[k].resource);
    legRegion[k] = numberOf(regionOf, intents[legs[k].intent].region);
  }
  return { regionOf, resourceOf, legRegion, legResource, names: [...regionOf.keys()] };
}

/** The number of `key` in `of`, a new one (the next) when it has none. */
export function numberOf(of: Map<string, number>, key: string): number {
  let x = of.get(key);
  if (x === undefined) of.set(key, (x = of.size));
  return x;
}

/**
 * Per leg the counterpart regions (indices into `names`) it reaches and its worth against each: a buyer's limit less
 * its soft penalty, a seller's plus it, a swap's leg any price (its worth is its whole trade). Leg k's entries are
 * reachStart[k] .. reachStart[k + 1] − 1. `legRegion`: per leg its own region's index in `names`.
 */
export function legReach(intents: readonly Intent[], latency: LatencyTable, legs: readonly Leg[], names: readonly string[], legRegion: ArrayLike<number>) {
  const R = names.length;
  const between = latencyMatrix(latency, names);
  const reachStart = new Int32Array(legs.length + 1);
  const reachRegion = new Int32Array(legs.length * R);
  const reachWorth = new Float64Array(legs.length * R);
  let at = 0;
  for (let k = 0; k < legs.length; k++) {
    const l = legs[k];
    const it = intents[l.intent];
    const swap = it.swapFor !== undefined;
    const cap = it.maxLatencyMs;
    if (cap === undefined && (it.preferLatencyMs === undefined || it.latencyDiscount === undefined)) {
      // Every region, at penalty 0 (most legs: one look at the intent, not one per region).
      const worth = swap ? (l.buy ? Infinity : -Infinity) : l.value;
      for (let other = 0; other < R; other++) {
        reachRegion[at] = other;
        reachWorth[at++] = worth;
      }
      reachStart[k + 1] = at;
      continue;
    }
    for (let other = 0; other < R; other++) {
      const ms = between[legRegion[k] * R + other];
      if (!capAdmits(cap, ms)) continue;
      const penalty = penaltyAt(it, ms);
      if (penalty === Infinity) continue;
      reachRegion[at] = other;
      reachWorth[at++] = swap ? (l.buy ? Infinity : -Infinity) : l.buy ? l.value - penalty : l.value + penalty;
    }
    reachStart[k + 1] = at;
  }
  return { reachStart, reachRegion, reachWorth };
}

/** Union–find over 0 .. n − 1 (path halving, union by size): which sets it makes, not their roots, is the result. */
export class Joined {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    this.size = new Int32Array(n).fill(1);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) x = p[x] = p[p[x]];
    return x;
  }
  join(x: number, y: number): void {
    this.joinRoot(this.find(x), y);
  }
  /** Joins y's set to the set whose root is `x`; returns the joined set's root (so a caller joining many keeps it). */
  joinRoot(x: number, y: number): number {
    y = this.find(y);
    if (x === y) return x;
    if (this.size[x] > this.size[y]) {
      this.parent[y] = x;
      this.size[x] += this.size[y];
      return x;
    }
    this.parent[x] = y;
    this.size[y] += this.size[x];
    return y;
  }
}

/**
 * Components of a book with windows (notes/solver.md, "Time (session 8)"): two legs may trade when they are
 * compatible, active in one elementary interval (so disjoint windows never join) and their limits, moved by soft
 * latency, meet (any price when a side is a swap). Per (interval, resource, buyer region, seller region) the legs
 * that meet the other side's best are joined, as tradeComponents does per class pair. Returns intent indices per
 * component in input order, ordered by first index; intents in no edge are in none.
 */
export function timeComponents(intents: readonly Intent[], latency: LatencyTable, now: number | undefined, timed = timeLegs(intents, now)): Int32Array[] {
  const { legs, slots } = timed;
  const { legRegion, legResource, names, resourceOf } = legPlaces(intents, legs);
  const R = names.length;
  const { reachStart, reachRegion, reachWorth } = legReach(intents, latency, legs, names, legRegion);
  // Hub keys slot × stride + family (resource, buyer region, seller region), numbered densely as first met.
  const stride = resourceOf.size * R * R;
  const family = (k: number, other: number) => (legs[k].buy ? (legResource[k] * R + legRegion[k]) * R + other : (legResource[k] * R + other) * R + legRegion[k]);
  // Windowed legs: every (leg, reached region, active slot) once, its hub listed in visit order for the second pass.
  // Windowless legs are all active in the same slots (now on, and the untimed one), so they count per hub family
  // as a group: its best buyer and seller, in each of the family's hubs.
  const open = slots.open;
  const groupBuy = new Float64Array(stride).fill(-Infinity);
  const groupSell = new Float64Array(stride).fill(Infinity);
  const grouped = new Uint8Array(stride);
  let visits = 0;
  for (let k = 0; k < legs.length; k++) {
    const l = legs[k];
    if (windowed(l)) {
      visits += (l.last - l.first) * (reachStart[k + 1] - reachStart[k]);
      continue;
    }
    for (let r = reachStart[k]; r < reachStart[k + 1]; r++) {
      const pk = family(k, reachRegion[r]);
      const w = reachWorth[r];
      if (l.buy) {
        if (w > groupBuy[pk]) groupBuy[pk] = w;
      } else if (w < groupSell[pk]) groupSell[pk] = w;
      if (!grouped[pk]) visits += slots.count + 1 - open;
      grouped[pk] = 1;
    }
  }
  const hubs = new HubNumbers((slots.count + 1) * stride, visits);
  const visitHub = new Int32Array(visits);
  const dearest = new Float64Array(hubs.room).fill(-Infinity); // per hub: its dearest buyer
  const cheapest = new Float64Array(hubs.room).fill(Infinity); // and cheapest seller
  let v = 0;
  for (let k = 0; k < legs.length; k++) {
    const l = legs[k];
    if (!windowed(l)) continue;
    for (let r = reachStart[k]; r < reachStart[k + 1]; r++) {
      const w = reachWorth[r];
      const pk = family(k, reachRegion[r]);
      for (let t = l.first; t < l.last; t++) {
        const h = hubs.of(t * stride + pk);
        if (l.buy) {
          if (w > dearest[h]) dearest[h] = w;
        } else if (w < cheapest[h]) cheapest[h] = w;
        visitHub[v++] = h;
      }
    }
  }
  const groupAt = v; // the families' hubs follow, slots open .. count per family
  for (let pk = 0; pk < stride; pk++) {
    if (!grouped[pk]) continue;
    for (let t = open; t <= slots.count; t++) {
      const h = hubs.of(t * stride + pk);
      if (groupBuy[pk] > dearest[h]) dearest[h] = groupBuy[pk];
      if (groupSell[pk] < cheapest[h]) cheapest[h] = groupSell[pk];
      visitHub[v++] = h;
    }
  }
  const joined = new Joined(intents.length);
  const traded = new Uint8Array(intents.length);
  const anchor = new Int32Array(hubs.count).fill(-1); // per hub: an intent it joins everyone to
  v = 0;
  for (let k = 0; k < legs.length; k++) {
    const l = legs[k];
    if (!windowed(l)) continue;
    const i = l.intent;
    let root = -1; // i's root once it joined a hub (no other set changes meanwhile)
    for (let r = reachStart[k]; r < reachStart[k + 1]; r++) {
      const w = reachWorth[r];
      for (let t = l.first; t < l.last; t++) {
        const h = visitHub[v++];
        if (!(l.buy ? w >= cheapest[h] : w <= dearest[h])) continue;
        traded[i] = 1;
        if (anchor[h] < 0) anchor[h] = i;
        else root = joined.joinRoot(root < 0 ? joined.find(i) : root, anchor[h]);
      }
    }
  }
  // A windowless leg that meets some hub of its family joins the family's group; the group joins every hub its best
  // member meets. That may join a leg to a hub it does not meet itself: coarser components, still exact.
  const hubsPerFamily = slots.count + 1 - open;
  const familyAt = new Int32Array(stride).fill(-1);
  const loosest = new Float64Array(2 * stride); // per family: least cheapest seller, greatest dearest buyer
  for (let pk = 0, at = groupAt; pk < stride; pk++) {
    if (!grouped[pk]) continue;
    familyAt[pk] = at;
    let least = Infinity;
    let most = -Infinity;
    for (let j = 0; j < hubsPerFamily; j++, at++) {
      least = Math.min(least, cheapest[visitHub[at]]);
      most = Math.max(most, dearest[visitHub[at]]);
    }
    loosest[2 * pk] = least;
    loosest[2 * pk + 1] = most;
  }
  const rep = new Int32Array(2 * stride).fill(-1); // per family and side: a member every other meeting one joins
  for (let k = 0; k < legs.length; k++) {
    const l = legs[k];
    if (windowed(l)) continue;
    for (let r = reachStart[k]; r < reachStart[k + 1]; r++) {
      const pk = family(k, reachRegion[r]);
      const w = reachWorth[r];
      if (!(l.buy ? w >= loosest[2 * pk] : w <= loosest[2 * pk + 1])) continue;
      const side = 2 * pk + (l.buy ? 0 : 1);
      traded[l.intent] = 1;
      if (rep[side] < 0) rep[side] = l.intent;
      else joined.join(rep[side], l.intent);
    }
  }
  // Per family and side, the member's root carried from hub to hub (as above: only its own joins change it).
  for (let pk = 0; pk < stride; pk++) {
    if (!grouped[pk]) continue;
    for (let side = 0; side < 2; side++) {
      const i = rep[2 * pk + side];
      if (i < 0) continue;
      let root = -1;
      for (let j = 0; j < hubsPerFamily; j++) {
        const h = visitHub[familyAt[pk] + j];
        if (!(side === 0 ? groupBuy[pk] >= cheapest[h] : groupSell[pk] <= dearest[h])) continue;
        if (anchor[h] < 0) anchor[h] = i;
        else root = joined.joinRoot(root < 0 ? joined.find(i) : root, anchor[h]);
      }
    }
  }
  // Legs of one agent meet only other agents: joining them too only merges components, which stays exact.
  return joinedComponents(traded, joined);
}

/**
 * Hub keys as hub numbers: the keys themselves when there are no more of them than visits (a key per hub costs no
 * more room than the visits, and no lookup), else numbered densely in order of first use. Which numbers the hubs
 * get does not change the components.
 */
class HubNumbers {
  count = 0;
  private readonly table: KeyTable | null;
  /** Hub numbers are below this. */
  readonly room: number;
  constructor(space: number, visits: number) {
    this.table = space <= visits ? null : new KeyTable(space);
    this.room = Math.min(space, visits);
    if (!this.table) this.count = space;
  }
  of(key: number): number {
    if (!this.table) return key;
    let h = this.table.get(key);
    if (h !== h) this.table.set(key, (h = this.count++)); // NaN: not numbered yet
    return h;
  }
}

/** Numbers per key, NaN for none: a typed array when the key space is small, else a map. */
export class KeyTable {
  private readonly values: Float64Array | null;
  private readonly map: Map<number, number> | null;
  constructor(space: number) {
    this.values = space <= 1 << 22 ? new Float64Array(space).fill(NaN) : null;
    this.map = this.values ? null : new Map();
  }
  get(key: number): number {
    return this.values ? this.values[key] : (this.map!.get(key) ?? NaN);
  }
  set(key: number, v: number): void {
    if (this.values) this.values[key] = v;
    else this.map!.set(key, v);
  }
}

/**
 * The intents marked `traded` grouped by their sets in `joined`: input order within, ordered by first index (views
 * of one array).
 */
export function joinedComponents(traded: Uint8Array, joined: Joined): Int32Array[] {
  const n = traded.length;
  const compOf = new Int32Array(n).fill(-1); // per root: its component
  const comp = new Int32Array(n).fill(-1);
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!traded[i]) continue;
    const r = joined.find(i);
    if (compOf[r] < 0) {
      compOf[r] = sizes.length;
      sizes.push(0);
    }
    comp[i] = compOf[r];
    sizes[comp[i]]++;
  }
  return grouped(comp, sizes);
}

/**
 * Pairs with a side that has soft latency and that can trade: compatible (a swap by its views), and with the moved
 * limits meeting (buy ≥ sell) or a swap side (whose value is its whole chain). Per soft intent its compatible classes'
 * members, so the work is soft intents × their counterparts.
 */
function softPairs(intents: readonly Intent[], latency: LatencyTable, idx: ClassIndex, soft: (i: number) => boolean, join: (a: number, b: number) => void): void {
  for (let k = 0; k < intents.length; k++) {
    if (!soft(k) || idx.classOf[k] < 0) continue;
    const buy = intents[k].side === "buy";
    const c = idx.classOf[k];
    for (const e of buy ? idx.buyAdj[c] : idx.sellAdj[c]) {
      for (const j of buy ? idx.sell[idx.edgeSell[e]].members : idx.buy[idx.edgeBuy[e]].members) {
        const [B, S] = buy ? pairLimits(latency, intents[k], intents[j]) : pairLimits(latency, intents[j], intents[k]);
        if (B >= S && Number.isFinite(B) && Number.isFinite(S)) join(k, j);
      }
    }
  }
}
