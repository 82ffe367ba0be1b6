// Nash-bargaining prices for a given allocation (CONTRACT.md section 2): the one pricing path, used by solve() for
// its own allocation and by the market for whatever allocation settles (proposals are allocations).
// Fills among plain intents are priced by nashPrices; fills in a connected group that involves a swap are
// decomposed into trades (chains buyer → swaps → seller, rings of swaps) and each trade's gain is split by
// nashTradeShares among everyone in it. Both split by connected components internally, so fills that share no
// intent never change each other's prices.
import type { Fill, Intent, LatencyTable } from "../contract/schema.ts";
import { Arena } from "./arena.ts";
import { nashPrices, nashTradeShares } from "./nash.ts";

/** A fill without its price: what an allocation (a proposal, or the solver's own) says. */
export interface AllocationFill {
  buy: string;
  sell: string;
  resource: string;
  quantity: number;
}

/** Value per unit a swap gains by trading (what it receives is worth, less what it gives up). */
export function swapValue(k: Intent): number {
  return (k.swapFor!.limitPrice ?? 0) - k.limitPrice;
}

/** A multi-party trade: its parties in flow order (buyer first), the fills it uses, its volume. */
interface Trade {
  parties: number[];
  fills: number[];
  volume: number;
}

/**
 * The same fills in the same order, priced by volume-weighted Nash bargaining. Assumes a feasible allocation
 * (callers check first); unknown ids are priced at 0. `latency` is part of the contract's signature (the
 * allocation's compatibility is the caller's check), not needed for pricing.
 */
export function priceAllocation(intents: readonly Intent[], _latency: LatencyTable, fills: readonly AllocationFill[]): Fill[] {
  const index = new Map<string, number>();
  intents.forEach((it, i) => index.set(it.id, i));
  const m = fills.length;
  const b = new Int32Array(m).fill(-1);
  const s = new Int32Array(m).fill(-1);
  for (let k = 0; k < m; k++) {
    b[k] = index.get(fills[k].buy) ?? -1;
    s[k] = index.get(fills[k].sell) ?? -1;
  }
  return priceIndexed(intents, fills, b, s);
}

/** priceAllocation with the fills' intents already resolved to indices (−1: unknown, priced at 0). */
export function priceIndexed(intents: readonly Intent[], fills: readonly AllocationFill[], b: Int32Array, s: Int32Array): Fill[] {
  const m = fills.length;
  const known = (k: number) => b[k] >= 0 && s[k] >= 0;
  // Fills whose connected group (over intents) contains a swap go the trade path (groups only when there is one).
  let groupOf: Int32Array | undefined;
  const swapGroup = new Set<number>();
  let allKnown = true;
  for (let k = 0; k < m; k++) {
    if (!known(k)) allKnown = false;
    else if (intents[b[k]].swapFor !== undefined || intents[s[k]].swapFor !== undefined) {
      groupOf ??= groups(intents.length, b, s);
      swapGroup.add(groupOf[b[k]]);
    }
  }
  let price: Float64Array;
  if (allKnown && !groupOf) price = pricePlain(intents, fills, b, s, null); // the solver's own: every fill, as listed
  else {
    const plain: number[] = [];
    const viaTrades: number[] = [];
    for (let k = 0; k < m; k++) if (known(k)) (groupOf && swapGroup.has(groupOf[b[k]]) ? viaTrades : plain).push(k);
    price = new Float64Array(m);
    const plainPrice = pricePlain(intents, fills, b, s, plain);
    plain.forEach((k, j) => (price[k] = plainPrice[j]));
    if (viaTrades.length > 0) priceTrades(intents, fills, b, s, viaTrades, price);
  }
  return fills.map((f, k) => ({ buy: f.buy, sell: f.sell, resource: f.resource, quantity: f.quantity, price: price[k] }));
}

/** Union-find over intents joined by fills; returns each intent's root. */
function groups(n: number, b: Int32Array, s: Int32Array): Int32Array {
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (let k = 0; k < b.length; k++) {
    if (b[k] < 0 || s[k] < 0) continue;
    const x = find(b[k]);
    const y = find(s[k]);
    if (x !== y) parent[x] = y;
  }
  for (let i = 0; i < n; i++) parent[i] = find(i);
  return parent;
}

/** Nash prices of the plain fills `ks` (of every fill when null), in that order. */
function pricePlain(intents: readonly Intent[], fills: readonly AllocationFill[], b: Int32Array, s: Int32Array, ks: number[] | null): Float64Array {
  const nf = ks ? ks.length : fills.length;
  const fillBuy = ks ? Int32Array.from(ks, (k) => b[k]) : b;
  const fillSell = ks ? Int32Array.from(ks, (k) => s[k]) : s;
  const arena = new Arena(3 * nf, 0);
  const fillQty = arena.f64(nf);
  const buyLimit = arena.f64(nf);
  const sellLimit = arena.f64(nf);
  for (let j = 0; j < nf; j++) {
    const k = ks ? ks[j] : j;
    fillQty[j] = fills[k].quantity;
    buyLimit[j] = intents[b[k]].limitPrice;
    sellLimit[j] = intents[s[k]].limitPrice;
  }
  return nashPrices({ n: intents.length, fillBuy, fillSell, fillQty, buyLimit, sellLimit });
}

/** What an intent is worth per unit as the buyer at the head of a chain (a swap buys its swapFor resource). */
const buyValue = (k: Intent) => (k.swapFor !== undefined ? (k.swapFor.limitPrice ?? 0) : k.limitPrice);

/**
 * Flow decomposition of the fills into trades, in fill order: from the first fill with volume left, follow the
 * seller while it is a swap (to the first fill where it buys), and the buyer back while it is a swap; a walk that
 * meets itself closes a ring. The solver lists each trade's fills consecutively, so this finds its own trades.
 */
function decompose(intents: readonly Intent[], fills: readonly AllocationFill[], b: Int32Array, s: Int32Array, ks: number[]): Trade[] {
  const left = new Map<number, number>();
  const asBuyer = new Map<number, number[]>();
  const asSeller = new Map<number, number[]>();
  const push = (map: Map<number, number[]>, i: number, k: number) => {
    const l = map.get(i);
    if (l) l.push(k);
    else map.set(i, [k]);
  };
  for (const k of ks) {
    left.set(k, fills[k].quantity);
    push(asBuyer, b[k], k);
    push(asSeller, s[k], k);
  }
  // A fill's volume is spent when what is left is rounding noise relative to its own quantity.
  const open = (k: number) => left.get(k)! > 1e-12 * fills[k].quantity;
  const firstOpen = (map: Map<number, number[]>, i: number) => map.get(i)?.find(open) ?? -1;
  const isSwap = (i: number) => intents[i].swapFor !== undefined;
  const trades: Trade[] = [];
  const take = (parties: number[], path: number[]) => {
    let volume = Infinity;
    for (const k of path) volume = Math.min(volume, left.get(k)!);
    for (const k of path) left.set(k, left.get(k)! - volume);
    trades.push({ parties, fills: path, volume });
  };
  for (let start = 0; start < ks.length; ) {
    const k0 = ks[start];
    if (!open(k0)) {
      start++;
      continue;
    }
    const nodes = [b[k0], s[k0]];
    const path = [k0]; // path[j] is the fill from nodes[j] to nodes[j + 1]
    let cycle: [number, number] | null = null; // a range of path (and nodes) that closes a ring
    // Forward: while the last seller is a swap, it passes on what it receives.
    while (!cycle && isSwap(nodes[nodes.length - 1])) {
      const k = firstOpen(asBuyer, nodes[nodes.length - 1]);
      if (k < 0) break;
      path.push(k);
      const at = nodes.indexOf(s[k]);
      if (at >= 0) cycle = [at, path.length];
      else nodes.push(s[k]);
    }
    // Backward: while the first buyer is a swap, someone buys what it gives up.
    while (!cycle && isSwap(nodes[0])) {
      const k = firstOpen(asSeller, nodes[0]);
      if (k < 0) break;
      const at = nodes.indexOf(b[k]);
      path.unshift(k);
      nodes.unshift(b[k]);
      if (at >= 0) cycle = [0, at + 1];
    }
    if (cycle) take(nodes.slice(cycle[0], cycle[1]), path.slice(cycle[0], cycle[1]));
    else take(nodes, path);
  }
  return trades;
}

function priceTrades(intents: readonly Intent[], fills: readonly AllocationFill[], b: Int32Array, s: Int32Array, ks: number[], out: Float64Array): void {
  const trades = decompose(intents, fills, b, s, ks);
  const isRing = (t: Trade) => t.parties.length === t.fills.length;
  const gainOf = (t: Trade) => {
    const P = t.parties.map((k) => intents[k]);
    if (isRing(t)) return P.reduce((g, k) => g + swapValue(k), 0);
    let gain = buyValue(P[0]) - P[P.length - 1].limitPrice;
    for (let j = 1; j < P.length - 1; j++) gain += swapValue(P[j]);
    return gain;
  };
  const q = new Float64Array(intents.length);
  for (const t of trades) for (const k of t.parties) q[k] += t.volume;
  const G = Float64Array.from(trades, (t) => Math.max(0, gainOf(t) * t.volume));
  const shares = nashTradeShares(intents.length, trades.map((t) => Int32Array.from(t.parties)), G, q);
  // A fill split over several trades gets their volume-weighted price (each party's total is unchanged).
  const parts = new Map<number, { first: number; sum: number; volume: number; count: number }>();
  const put = (k: number, p: number, volume: number) => {
    const e = parts.get(k);
    if (!e) parts.set(k, { first: p, sum: p * volume, volume, count: 1 });
    else {
      e.sum += p * volume;
      e.volume += volume;
      e.count++;
    }
  };
  trades.forEach((t, g) => {
    const per = (j: number) => shares[g][j] / t.volume;
    const P = t.parties.map((k) => intents[k]);
    if (!isRing(t)) {
      // Chain: the buyer pays p1 = b − share; each swap passes on p_{i+1} = p_i + value − share.
      let p = buyValue(P[0]) - per(0);
      for (let j = 1; j < P.length; j++) {
        put(t.fills[j - 1], p, t.volume);
        if (j < P.length - 1) p = p + swapValue(P[j]) - per(j);
      }
    } else {
      // Ring k1 → k2 → … (k_i buys what k_{i+1} gives): prices are fixed up to a constant; the first is set
      // at its seller's own valuation plus that seller's share, and the rest follow.
      const L = P.length;
      let p = P[1 % L].limitPrice + per(1 % L);
      for (let j = 0; j < L; j++) {
        put(t.fills[j], p, t.volume);
        // The seller's surplus: its value + received p − what it pays next.
        p = p + swapValue(P[(j + 1) % L]) - per((j + 1) % L);
      }
    }
  });
  for (const [k, e] of parts) out[k] = e.count === 1 ? e.first : e.sum / e.volume;
}
