// Nash-bargaining prices for a given allocation (CONTRACT.md section 2): the one pricing path, used by solve() for
// its own allocation and by the market for whatever allocation settles (proposals are allocations).
// Fills among plain intents are priced by nashPrices; fills in a connected group that involves a swap are priced
// on the net (CONTRACT.md section 2a: a swap's surplus and individual rationality are on its total, see priceNet).
// Both split by connected components internally, so fills that share no intent never change each other's prices.
import type { Fill, Intent, LatencyTable } from "../contract/schema.ts";
import { Arena } from "./arena.ts";
import { nashPrices, nashTradeShares } from "./nash.ts";
import { EXACT_LEDGER, exactTradeShares, FLOAT_LEDGER, needsExactMoney, needsExactShares, type Ledger } from "./swap-nash.ts";
import { softPenalty } from "./latency.ts";

/** A fill without its price: what an allocation (a proposal, or the solver's own) says. */
export interface AllocationFill {
  buy: string;
  sell: string;
  resource: string;
  quantity: number;
  /** When it is delivered (CONTRACT.md section 2a), where a window is involved. */
  start?: string;
  end?: string;
}

/** Value per unit a swap gains by trading (what it receives is worth, less what it gives up). */
export function swapValue(k: Intent): number {
  return (k.swapFor!.limitPrice ?? 0) - k.limitPrice;
}

/**
 * The same fills in the same order, priced by volume-weighted Nash bargaining. Assumes a feasible allocation
 * (callers check first); unknown ids are priced at 0. `latency` moves the limits of intents with soft latency
 * (CONTRACT.md section 1); the allocation's compatibility is the caller's check.
 */
export function priceAllocation(intents: readonly Intent[], latency: LatencyTable, fills: readonly AllocationFill[]): Fill[] {
  const index = new Map<string, number>();
  intents.forEach((it, i) => index.set(it.id, i));
  const m = fills.length;
  const b = new Int32Array(m).fill(-1);
  const s = new Int32Array(m).fill(-1);
  for (let k = 0; k < m; k++) {
    b[k] = index.get(fills[k].buy) ?? -1;
    s[k] = index.get(fills[k].sell) ?? -1;
  }
  // All fills of one buy–sell pair share one price (CONTRACT.md section 2a): when a pair repeats, price the pairs.
  const seen = new Set<number>();
  let repeats = false;
  for (let k = 0; k < m && !repeats; k++) {
    const key = b[k] * (intents.length + 1) + s[k];
    if (b[k] >= 0 && s[k] >= 0 && seen.has(key)) repeats = true;
    seen.add(key);
  }
  if (!repeats) return priceIndexed(intents, fills, b, s, latency);
  const pairAt = new Map<number, number>();
  const pairs: AllocationFill[] = [];
  const pb: number[] = [];
  const ps: number[] = [];
  const pairOf = fills.map((f, k) => {
    const key = b[k] < 0 || s[k] < 0 ? -1 - k : b[k] * (intents.length + 1) + s[k];
    let p = pairAt.get(key);
    if (p === undefined) {
      pairAt.set(key, (p = pairs.length));
      pairs.push({ ...f });
      pb.push(b[k]);
      ps.push(s[k]);
    } else pairs[p].quantity += f.quantity;
    return p;
  });
  const priced = priceIndexed(intents, pairs, Int32Array.from(pb), Int32Array.from(ps), latency);
  return fills.map((f, k) => pricedFill(f, priced[pairOf[k]].price));
}

const NO_LATENCY: LatencyTable = Object.freeze({});

/** A fill of the allocation with its price; its delivery schedule (start/end, section 2a) is kept as given. */
function pricedFill(f: AllocationFill, price: number): Fill {
  const out: Fill = { buy: f.buy, sell: f.sell, resource: f.resource, quantity: f.quantity, price };
  if (f.start !== undefined) out.start = f.start;
  if (f.end !== undefined) out.end = f.end;
  return out;
}

/**
 * priceAllocation with the fills' intents already resolved to indices (−1: unknown, priced at 0). Without `latency`
 * no intent of the fills may have soft latency (the solver's plain and exact paths never see one).
 */
export function priceIndexed(intents: readonly Intent[], fills: readonly AllocationFill[], b: Int32Array, s: Int32Array, latency: LatencyTable = NO_LATENCY): Fill[] {
  const quantity = new Float64Array(fills.length);
  for (let k = 0; k < fills.length; k++) quantity[k] = fills[k].quantity;
  const price = pricesIndexed(intents, quantity, b, s, latency);
  return fills.map((f, k) => pricedFill(f, price[k]));
}

/** priceIndexed's prices alone, per fill: fill k is `quantity[k]` units from intent s[k] to intent b[k]. */
export function pricesIndexed(intents: readonly Intent[], quantity: Float64Array, b: Int32Array, s: Int32Array, latency: LatencyTable = NO_LATENCY): Float64Array {
  const m = quantity.length;
  const known = (k: number) => b[k] >= 0 && s[k] >= 0;
  // Fills whose connected group (over intents) contains a swap are priced on the net (groups only when there is one).
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
  if (allKnown && !groupOf) price = pricePlain(intents, quantity, b, s, null, latency); // the solver's own: every fill, as listed
  else {
    const plain: number[] = [];
    const net: number[] = [];
    for (let k = 0; k < m; k++) if (known(k)) (groupOf && swapGroup.has(groupOf[b[k]]) ? net : plain).push(k);
    price = new Float64Array(m);
    const plainPrice = pricePlain(intents, quantity, b, s, plain, latency);
    plain.forEach((k, j) => (price[k] = plainPrice[j]));
    if (net.length > 0) priceNet(intents, quantity, b, s, net, price, latency);
  }
  return price;
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
function pricePlain(intents: readonly Intent[], quantity: Float64Array, b: Int32Array, s: Int32Array, ks: number[] | null, latency: LatencyTable): Float64Array {
  const nf = ks ? ks.length : quantity.length;
  const fillBuy = ks ? Int32Array.from(ks, (k) => b[k]) : b;
  const fillSell = ks ? Int32Array.from(ks, (k) => s[k]) : s;
  const arena = new Arena(3 * nf, 0);
  const fillQty = arena.f64(nf);
  const buyLimit = arena.f64(nf);
  const sellLimit = arena.f64(nf);
  for (let j = 0; j < nf; j++) {
    const k = ks ? ks[j] : j;
    fillQty[j] = quantity[k];
    const B = intents[b[k]];
    const S = intents[s[k]];
    buyLimit[j] = B.limitPrice;
    sellLimit[j] = S.limitPrice;
    // Soft latency moves the pair's limits; a pair it makes impossible keeps its own (verify refuses such a fill).
    if (B.preferLatencyMs !== undefined || S.preferLatencyMs !== undefined) {
      const [bl, sl] = pairLimits(latency, B, S);
      if (Number.isFinite(bl) && Number.isFinite(sl)) [buyLimit[j], sellLimit[j]] = [bl, sl];
    }
  }
  return nashPrices({ n: intents.length, fillBuy, fillSell, fillQty, buyLimit, sellLimit });
}


/** What an intent is worth per unit as a buyer (a swap buys its swapFor resource). */
export const buyValue = (k: Intent): number => (k.swapFor !== undefined ? (k.swapFor.limitPrice ?? 0) : k.limitPrice);

/**
 * A pair's limits as soft latency moves them (CONTRACT.md section 1): the buyer's value (a swap's: its swapFor
 * limit) down by its penalty against the seller's region, the seller's limit up by its penalty against the buyer's.
 * An intent without soft latency keeps its limit exactly. A penalty of Infinity (a pair the table does not list)
 * gives an infinite limit: such a pair never trades.
 */
export function pairLimits(latency: LatencyTable, buyer: Intent, seller: Intent): [number, number] {
  const b = buyValue(buyer);
  const c = seller.limitPrice;
  return [
    buyer.preferLatencyMs === undefined ? b : b - softPenalty(latency, buyer, seller.region),
    seller.preferLatencyMs === undefined ? c : c + softPenalty(latency, seller, buyer.region),
  ];
}

/** Whether an intent's limits move with its counterparty's region (or an unlisted region rules a pair out). */
export const isSoft = (it: Intent): boolean => it.preferLatencyMs !== undefined && it.latencyDiscount !== undefined;

/**
 * Nash prices on the net (CONTRACT.md section 2a) for the fills `ks` of groups with a swap; one price per buy–sell
 * pair. A swap's surplus is its net (paid for what it gives, less paid for what it takes, plus its value per unit),
 * bounded only in total; a plain intent's price bounds hold per fill. Swaps joined by fills form a pool whose prices
 * among themselves are free, so within a pool surplus moves at will: the pool is one bargaining party with the
 * volume of its members, whose good is the gain of every pair it touches; each plain neighbour may take a share of
 * it (≥ 0, through its own price). Plain pairs are goods of their two intents. Max Σ q·log(surplus) over these
 * goods is the density decomposition (nashTradeShares); members of a pool get one surplus per unit.
 */
function priceNet(intents: readonly Intent[], quantity: Float64Array, b: Int32Array, s: Int32Array, ks: number[], out: Float64Array, latency: LatencyTable): void {
  const isSwap = (i: number) => intents[i].swapFor !== undefined;
  // Pairs (one price each) with their volume and moved limits.
  const pairAt = new Map<string, number>();
  const pb: number[] = [];
  const ps: number[] = [];
  const pq: number[] = [];
  const pB: number[] = [];
  const pS: number[] = [];
  const pairOf = ks.map((k) => {
    const key = `${b[k]} ${s[k]}`;
    let p = pairAt.get(key);
    if (p === undefined) {
      p = pb.length;
      pairAt.set(key, p);
      pb.push(b[k]);
      ps.push(s[k]);
      pq.push(0);
      const [B, S] = pairLimits(latency, intents[b[k]], intents[s[k]]);
      // An unlisted pair (infinite penalty) cannot trade; price it as if unmoved (verify refuses the fill anyway).
      pB.push(Number.isFinite(B) ? B : buyValue(intents[b[k]]));
      pS.push(Number.isFinite(S) ? S : intents[s[k]].limitPrice);
    }
    pq[p] += quantity[k];
    return p;
  });
  const np = pb.length;
  // Pools: swaps joined by pairs between two swaps.
  const root = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (root.has(r) && root.get(r) !== r) r = root.get(r)!;
    root.set(x, r);
    return r;
  };
  for (let p = 0; p < np; p++) {
    if (isSwap(pb[p])) find(pb[p]);
    if (isSwap(ps[p])) find(ps[p]);
    if (isSwap(pb[p]) && isSwap(ps[p])) {
      const x = find(pb[p]);
      const y = find(ps[p]);
      if (x !== y) root.set(x, y);
    }
  }
  // Bargaining parties: plain intents and pools.
  const node = new Map<number, number>(); // intent (plain) or pool root (as −1 − root) → party
  const q: number[] = [];
  const partyOf = (i: number) => {
    const key = isSwap(i) ? -1 - find(i) : i;
    let v = node.get(key);
    if (v === undefined) {
      v = q.length;
      node.set(key, v);
      q.push(0);
    }
    return v;
  };
  const units = new Map<number, number>(); // swap → units it gives
  for (let p = 0; p < np; p++) {
    const x = partyOf(pb[p]);
    const y = partyOf(ps[p]);
    // A pool's volume counts units its members give (each unit swapped once); a plain intent's, all it trades.
    if (!isSwap(pb[p])) q[x] += pq[p];
    q[y] += pq[p];
    if (isSwap(ps[p])) units.set(ps[p], (units.get(ps[p]) ?? 0) + pq[p]);
  }
  // Goods: a plain pair's gain, and per pool the gain of every pair it touches.
  const takers: Int32Array[] = [];
  const G: number[] = [];
  const goodOfPool = new Map<number, number>(); // party → its good
  const neighbours = new Map<number, number[]>();
  const goodOfPair = new Int32Array(np).fill(-1);
  for (let p = 0; p < np; p++) {
    const gain = (pB[p] - pS[p]) * pq[p];
    const x = partyOf(pb[p]);
    const y = partyOf(ps[p]);
    if (!isSwap(pb[p]) && !isSwap(ps[p])) {
      goodOfPair[p] = G.length;
      takers.push(Int32Array.of(x, y));
      G.push(gain);
      continue;
    }
    const pool = isSwap(pb[p]) ? x : y;
    let g = goodOfPool.get(pool);
    if (g === undefined) {
      g = G.length;
      goodOfPool.set(pool, g);
      G.push(0);
      takers.push(Int32Array.of(pool));
      neighbours.set(pool, []);
    }
    G[g] += gain;
    const other = pool === x ? y : x;
    if (other !== pool && !neighbours.get(pool)!.includes(other)) neighbours.get(pool)!.push(other);
  }
  for (const [pool, g] of goodOfPool) takers[g] = Int32Array.from([pool, ...neighbours.get(pool)!]);
  const gains = Float64Array.from(G, (g) => Math.max(0, g));
  const volumes = Float64Array.from(q);
  // Volumes or gains far apart (a 1e-6 chain beside a 1e12 ring): exact shares and pool money (swap-nash.ts).
  const exact = needsExactShares(gains, volumes);
  const shares = (exact ? exactTradeShares : nashTradeShares)(q.length, takers, gains, volumes);
  // A plain neighbour's share of a pool: the same discount per unit on each of its pairs with the pool.
  const perUnit = new Map<string, number>(); // `${pool} ${party}` → share per unit of their pairs
  const volume = new Map<string, number>();
  for (let p = 0; p < np; p++) {
    if (!isSwap(pb[p]) && !isSwap(ps[p])) continue;
    const x = partyOf(pb[p]);
    const y = partyOf(ps[p]);
    if (x === y) continue;
    const key = isSwap(pb[p]) ? `${x} ${y}` : `${y} ${x}`;
    volume.set(key, (volume.get(key) ?? 0) + pq[p]);
  }
  const poolShare = new Map<number, number>();
  for (const [pool, g] of goodOfPool) {
    const sh = shares[g];
    poolShare.set(pool, G[g] > 0 ? sh[0] : G[g]);
    takers[g].forEach((party, j) => {
      if (j > 0) perUnit.set(`${pool} ${party}`, G[g] > 0 ? sh[j] / volume.get(`${pool} ${party}`)! : 0);
    });
  }
  const price = new Float64Array(np);
  for (let p = 0; p < np; p++) {
    const x = partyOf(pb[p]);
    const y = partyOf(ps[p]);
    const good = goodOfPair[p];
    if (good >= 0) {
      // As nashPrices: the buyer's share sets the price, within both limits; no gain: the seller's limit.
      const B = pB[p];
      const S = pS[p];
      const v = B - shares[good][0] / pq[p];
      price[p] = G[good] > 0 ? (v < S ? S : v > B ? B : v) : S;
    } else if (isSwap(pb[p]) && !isSwap(ps[p])) price[p] = pS[p] + perUnit.get(`${x} ${y}`)!;
    else if (!isSwap(pb[p])) price[p] = pB[p] - perUnit.get(`${y} ${x}`)!;
  }
  const level = (k: number) => {
    const pool = partyOf(k);
    return q[pool] > 0 ? poolShare.get(pool)! / q[pool] : 0; // 0 units: an allocation verify refuses (gives ≠ takes)
  };
  if (exact || needsExactMoney(pq, pB, pS)) poolPrices({ pb, ps, pq, pB, pS, price }, isSwap, units, level, EXACT_LEDGER);
  else poolPrices({ pb, ps, pq, pB, pS, price }, isSwap, units, level, FLOAT_LEDGER);
  for (let j = 0; j < ks.length; j++) out[ks[j]] = price[pairOf[j]];
}

/** Pairs of one allocation with their volume, moved limits and prices (set for pairs with a plain side). */
interface Pairs {
  pb: number[];
  ps: number[];
  pq: number[];
  pB: number[];
  pS: number[];
  price: Float64Array;
}

/**
 * Prices between swaps of one pool, so that each swap gets the pool's surplus per unit (`level`) on what it gives.
 * Money along a spanning forest of the pools' swap pairs settles each swap's balance (leaves first); a pair off the
 * forest (rings) is priced at its seller's moved limit plus that level, as a plain seller at that level would be.
 */
function poolPrices<T>(P: Pairs, isSwap: (i: number) => boolean, units: Map<number, number>, level: (k: number) => number, money: Ledger<T>): void {
  const { pb, ps, pq, pB, pS, price } = P;
  const { times, neg } = money;
  // need[k]: money swap k must still receive net through pairs not yet priced.
  const need = new Map<number, T>();
  const add = (k: number, x: T) => need.set(k, money.plus(need.get(k) ?? money.zero, x));
  for (const [k, u] of units) add(k, times(level(k), 0, u));
  const adj = new Map<number, number[]>();
  // By intent index, so that the forest (and so the prices off it) does not depend on the order fills are listed in.
  const byIntents = pb.map((_, p) => p).sort((x, y) => pb[x] - pb[y] || ps[x] - ps[y]);
  for (const p of byIntents) {
    const b = pb[p];
    const s = ps[p];
    // Surplus k already has or will have: as the buyer B − price, as the seller price − S, per unit.
    if (isSwap(b) && isSwap(s)) {
      add(b, neg(times(pB[p], 0, pq[p])));
      add(s, times(pS[p], 0, pq[p]));
      for (const k of [b, s]) (adj.get(k) ?? adj.set(k, []).get(k)!).push(p);
    } else if (isSwap(b)) add(b, neg(times(pB[p], price[p], pq[p])));
    else if (isSwap(s)) add(s, neg(times(price[p], pS[p], pq[p])));
  }
  // Now need[k] = Σ money in (as seller) − Σ money out (as buyer) over k's swap pairs.
  const seen = new Set<number>();
  const onTree = new Set<number>();
  // Roots first: each pool's settles last and keeps what rounding leaves (per unit least at the member giving most).
  const roots = [...adj.keys()].sort((x, y) => (money.rootAtLargest ? (units.get(y) ?? 0) - (units.get(x) ?? 0) : 0) || x - y);
  for (const r of roots) {
    if (seen.has(r)) continue;
    seen.add(r);
    const order = [r];
    const up = new Map<number, number>(); // swap → the pair to its parent
    for (let h = 0; h < order.length; h++) {
      for (const p of adj.get(order[h])!) {
        const other = pb[p] === order[h] ? ps[p] : pb[p];
        if (seen.has(other)) continue;
        seen.add(other);
        up.set(other, p);
        onTree.add(p);
        order.push(other);
      }
    }
    for (const k of order)
      for (const p of adj.get(k)!) {
        if (onTree.has(p) || pb[p] !== k) continue; // each pair off the tree once, from its buyer
        price[p] = pS[p] + level(ps[p]);
        add(ps[p], neg(times(price[p], 0, pq[p])));
        add(pb[p], times(price[p], 0, pq[p]));
      }
    for (let h = order.length - 1; h > 0; h--) {
      const k = order[h];
      const p = up.get(k)!;
      const paid = pb[p] === k ? neg(need.get(k)!) : need.get(k)!; // from the buyer to the seller
      price[p] = money.per(paid, pq[p]);
      add(ps[p], neg(paid));
      add(pb[p], paid);
    }
  }
}
