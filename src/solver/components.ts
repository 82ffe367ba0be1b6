// The "may trade" graph and its connected components (notes/solver.md, "Components"). Edges: a compatible buy and
// sell whose limits meet (buy limit ≥ sell limit: a zero-gain pair can carry an intent to its minQuantity), and any
// compatible pair where a side is a swap; never two
// intents of one agent (compatible() and the classes keep them apart). solve() solves each component on its own,
// with thresholds from its own numbers, so intents that cannot trade with a set never change its fills or prices,
// and an intent in no edge is not in any problem at all.
import type { Intent, LatencyTable } from "../contract/schema.ts";
import type { ClassIndex } from "./classes.ts";
import { compatible, softPenalty, withinCap } from "./latency.ts";
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
  // Per root its component (numbered by first index; `parent` is free now), then the members, counted first.
  const compOf = parent.fill(-1);
  const count: number[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (node[i] < 0) continue;
    if (compOf[node[i]] < 0) {
      compOf[node[i]] = count.length;
      count.push(0);
    }
    count[compOf[node[i]]]++;
    total++;
  }
  const all = new Int32Array(total);
  const comps: Int32Array[] = [];
  const fillAt: number[] = [];
  for (let k = 0, at = 0; k < count.length; at += count[k++]) {
    comps.push(all.subarray(at, at + count[k]));
    fillAt.push(0);
  }
  for (let i = 0; i < n; i++) if (node[i] >= 0) comps[compOf[node[i]]][fillAt[compOf[node[i]]]++] = i;
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

/**
 * Per leg the counterpart regions (indices into `names`) it reaches and its worth against each: a buyer's limit less
 * its soft penalty, a seller's plus it, a swap's leg any price (its worth is its whole trade). Leg k's entries are
 * reachStart[k] .. reachStart[k + 1] − 1.
 */
export function legReach(intents: readonly Intent[], latency: LatencyTable, legs: readonly Leg[], names: readonly string[]): { reachStart: Int32Array; reachRegion: Int32Array; reachWorth: Float64Array } {
  const reachStart = new Int32Array(legs.length + 1);
  const reachRegion = new Int32Array(legs.length * names.length);
  const reachWorth = new Float64Array(legs.length * names.length);
  let at = 0;
  legs.forEach((l, k) => {
    const it = intents[l.intent];
    const swap = it.swapFor !== undefined;
    for (let other = 0; other < names.length; other++) {
      if (!withinCap(latency, it.region, it.maxLatencyMs, names[other])) continue;
      const penalty = softPenalty(latency, it, names[other]);
      if (penalty === Infinity) continue;
      reachRegion[at] = other;
      reachWorth[at++] = swap ? (l.buy ? Infinity : -Infinity) : l.buy ? l.value - penalty : l.value + penalty;
    }
    reachStart[k + 1] = at;
  });
  return { reachStart, reachRegion, reachWorth };
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
  const regions = new Map<string, number>();
  const resources = new Map<string, number>();
  const id = (m: Map<string, number>, k: string) => m.get(k) ?? (m.set(k, m.size), m.size - 1);
  const legRes = Int32Array.from(legs, (l) => id(resources, l.resource));
  const legRegion = Int32Array.from(legs, (l) => id(regions, intents[l.intent].region));
  const names = [...regions.keys()];
  const R = names.length;
  const { reachStart, reachRegion, reachWorth } = legReach(intents, latency, legs, names);
  // Hub keys slot × stride + (resource, buyer region, seller region), numbered densely as first met (a table when
  // the key space is small, else a map).
  const stride = resources.size * R * R;
  const space = (slots.count + 1) * stride;
  const table = space <= 1 << 22 ? new Int32Array(space).fill(-1) : null;
  const map = new Map<number, number>();
  let hubs = 0;
  const hub = (key: number) => {
    if (table) return table[key] >= 0 ? table[key] : (table[key] = hubs++);
    return map.get(key) ?? (map.set(key, hubs), hubs++);
  };
  const pairKey = (k: number, other: number) => (legs[k].buy ? (legRes[k] * R + legRegion[k]) * R + other : (legRes[k] * R + other) * R + legRegion[k]);
  // Windowed legs: every (leg, reached region, active slot) once, its hub listed in visit order for the second pass.
  // Windowless legs are all active in the same slots (now on, and the untimed one), so they count per hub family
  // (resource, buyer region, seller region) as a group: its best buyer and seller, in each of the family's hubs.
  const open = slots.open;
  const span = (k: number) => legs[k].last - legs[k].first;
  const groupBuy = new Float64Array(stride).fill(-Infinity);
  const groupSell = new Float64Array(stride).fill(Infinity);
  const grouped = new Uint8Array(stride);
  let visits = 0;
  for (let k = 0; k < legs.length; k++) {
    if (windowed(legs[k])) {
      visits += span(k) * (reachStart[k + 1] - reachStart[k]);
      continue;
    }
    for (let r = reachStart[k]; r < reachStart[k + 1]; r++) {
      const pk = pairKey(k, reachRegion[r]);
      if (legs[k].buy) groupBuy[pk] = Math.max(groupBuy[pk], reachWorth[r]);
      else groupSell[pk] = Math.min(groupSell[pk], reachWorth[r]);
      if (!grouped[pk]) visits += slots.count + 1 - open;
      grouped[pk] = 1;
    }
  }
  const visitHub = new Int32Array(visits);
  const dearest = new Float64Array(Math.min(space, visits)).fill(-Infinity); // per hub: its dearest buyer
  const cheapest = new Float64Array(Math.min(space, visits)).fill(Infinity); // and cheapest seller
  let v = 0;
  for (let k = 0; k < legs.length; k++) {
    if (!windowed(legs[k])) continue;
    const buy = legs[k].buy;
    for (let r = reachStart[k]; r < reachStart[k + 1]; r++) {
      const w = reachWorth[r];
      const pk = pairKey(k, reachRegion[r]);
      for (let t = legs[k].first; t < legs[k].last; t++) {
        const h = hub(t * stride + pk);
        if (buy) dearest[h] = Math.max(dearest[h], w);
        else cheapest[h] = Math.min(cheapest[h], w);
        visitHub[v++] = h;
      }
    }
  }
  const groupAt = v; // the families' hubs follow, slots open .. count per family
  for (let pk = 0; pk < stride; pk++) {
    if (!grouped[pk]) continue;
    for (let t = open; t <= slots.count; t++) {
      const h = hub(t * stride + pk);
      dearest[h] = Math.max(dearest[h], groupBuy[pk]);
      cheapest[h] = Math.min(cheapest[h], groupSell[pk]);
      visitHub[v++] = h;
    }
  }
  const parent = Int32Array.from({ length: intents.length }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const traded = new Uint8Array(intents.length);
  const anchor = new Int32Array(hubs).fill(-1); // per hub: an intent it joins everyone to
  const join = (h: number, i: number) => {
    traded[i] = 1;
    const a = anchor[h];
    if (a < 0) anchor[h] = i;
    else {
      const x = find(a);
      const y = find(i);
      if (x !== y) parent[x] = y;
    }
  };
  v = 0;
  for (let k = 0; k < legs.length; k++) {
    const l = legs[k];
    if (!windowed(l)) continue;
    for (let r = reachStart[k]; r < reachStart[k + 1]; r++) {
      const w = reachWorth[r];
      for (let t = l.first; t < l.last; t++) {
        const h = visitHub[v++];
        if (l.buy ? w >= cheapest[h] : w <= dearest[h]) join(h, l.intent);
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
      const pk = pairKey(k, reachRegion[r]);
      const w = reachWorth[r];
      if (!(l.buy ? w >= loosest[2 * pk] : w <= loosest[2 * pk + 1])) continue;
      const side = 2 * pk + (l.buy ? 0 : 1);
      traded[l.intent] = 1;
      if (rep[side] < 0) rep[side] = l.intent;
      else {
        const x = find(rep[side]);
        const y = find(l.intent);
        if (x !== y) parent[x] = y;
      }
    }
  }
  for (let pk = 0; pk < stride; pk++) {
    if (!grouped[pk]) continue;
    for (let j = 0; j < hubsPerFamily; j++) {
      const h = visitHub[familyAt[pk] + j];
      if (rep[2 * pk] >= 0 && groupBuy[pk] >= cheapest[h]) join(h, rep[2 * pk]);
      if (rep[2 * pk + 1] >= 0 && groupSell[pk] <= dearest[h]) join(h, rep[2 * pk + 1]);
    }
  }
  // Legs of one agent meet only other agents: joining them too only merges components, which stays exact.
  return joinedComponents(traded, find);
}

/** The intents marked `traded` grouped by their union-find root: input order within, ordered by first index. */
export function joinedComponents(traded: Uint8Array, find: (i: number) => number): Int32Array[] {
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < traded.length; i++) {
    if (!traded[i]) continue;
    const r = find(i);
    const list = byRoot.get(r);
    if (list) list.push(i);
    else byRoot.set(r, [i]);
  }
  return [...byRoot.values()].map((c) => Int32Array.from(c));
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
