// Checks a settlement without solving (CONTRACT.md section 2): feasibility, individual rationality, the welfare
// sum, the Nash bargaining optimality conditions of its prices, and optimality from its LP dual certificate.
// Time is linear in intents, fills and compatible class pairs.
import type { Certificate, Fill, Intent, LatencyTable } from "../contract/schema.ts";
import { buildClasses, catalogClasses, type ClassIndex, type TwoSided } from "./classes.ts";
import { compatible } from "./latency.ts";
import { swapBuyView } from "./multi.ts";
import { isTimed } from "./time-slots.ts";
import { checkTime } from "./verify-time.ts";

/** No two-sided agents: classes built with it are not kept apart per agent (and no scan is made). */
const NO_TWO_SIDED: TwoSided = new Map();

export type VerifyResult = { ok: true } | { ok: false; errors: string[] };

/** 1e-9 relative to the numbers of the intents a check concerns (at least 1e-9 absolute). */
const rel = (x: number, y = 0, z = 0, w = 0) => 1e-9 * Math.max(1, Math.abs(x), Math.abs(y), Math.abs(z), Math.abs(w));

/** A listed dual (0 when not listed); own properties only, since ids are user strings. */
const dualOf = (duals: Record<string, number>, id: string): number => (Object.hasOwn(duals, id) ? duals[id] : 0);

/**
 * `dualOf` for one record, with one lookup per listed dual: when nothing the record inherits reads as a number (as
 * with `{}` or a null prototype), a number read is its own, so only other values need the own-property test.
 */
function dualReader(duals: Record<string, number>): (id: string) => number {
  for (let p = Object.getPrototypeOf(duals); p !== null; p = Object.getPrototypeOf(p))
    for (const k of Object.getOwnPropertyNames(p)) if (typeof (duals as Record<string, unknown>)[k] === "number") return (id) => dualOf(duals, id);
  return (id) => {
    const d = duals[id];
    return typeof d === "number" ? d : dualOf(duals, id);
  };
}

/**
 * Per class the least `d ∓ limit` over its intents, with a tolerance relative to the intent attaining it (its
 * limit and dual), so that dual feasibility u + v ≥ gain is checked at the scale of the two intents concerned.
 */
class ClassMinima {
  readonly min: Float64Array;
  readonly tol: Float64Array;
  constructor(n: number) {
    this.min = new Float64Array(n).fill(Infinity);
    this.tol = new Float64Array(n);
  }
  put(c: number, value: number, x: number, y: number): void {
    if (value < this.min[c]) {
      this.min[c] = value;
      this.tol[c] = rel(x, y);
    }
  }
}

/**
 * Every tolerance is relative to the intents a check concerns (CONTRACT section 2), never to the book's largest
 * number: a limit 1e-9 × max(1, |that limit|), a quantity 1e-9 × max(1, that intent's quantity), the welfare
 * 1e-9 of the welfare and the fills' own |gain × quantity|, per-unit Nash surplus 1e-7 of the fill's limits.
 */
export function verify(
  intents: readonly Intent[],
  latency: LatencyTable,
  settlement: { fills: Fill[]; welfare: number; certificate?: Certificate },
  options: { now?: number } = {},
): VerifyResult {
  const errors: string[] = [];
  const n = intents.length;
  const byId = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    if (byId.has(intents[i].id)) errors.push(`intent id ${intents[i].id} is not unique`);
    byId.set(intents[i].id, i);
  }
  const qTol = (i: number) => rel(intents[i].quantity);
  const filled = new Float64Array(n); // a swap: what it gives
  const received = new Float64Array(n); // a swap: what it takes in exchange
  const surplus = new Float64Array(n);
  const positive = new Uint8Array(n); // has a fill of positive gain
  const fillIdx: { b: number; s: number; gain: number; plain: boolean }[] = [];
  const hasSwaps = intents.some((it) => it.swapFor !== undefined);
  const buyView = (i: number): Intent => (intents[i].swapFor ? swapBuyView(intents[i]) : intents[i]);
  const sellView = (i: number): Intent => (intents[i].swapFor ? { ...intents[i], swapFor: undefined } : intents[i]);
  let welfare = 0;
  let absWelfare = 0;
  settlement.fills.forEach((f, k) => {
    const where = `fills.${k}`;
    const b = byId.get(f.buy);
    const s = byId.get(f.sell);
    if (b === undefined || s === undefined) {
      errors.push(`${where}: unknown intent ${b === undefined ? f.buy : f.sell}`);
      return;
    }
    const B = buyView(b);
    const S = sellView(s);
    const plain = !intents[b].swapFor && !intents[s].swapFor;
    if (B.side !== "buy" || S.side !== "sell") errors.push(`${where}: buy must name a buy intent (or a swap) and sell a sell intent`);
    if (B.agent === S.agent) errors.push(`${where}: both intents are agent ${B.agent}'s (no self-trade)`);
    else if (f.resource !== B.resource || f.resource !== S.resource) errors.push(`${where}: resource does not match both intents`);
    else if (!compatible(B, S, latency)) errors.push(`${where}: regions are outside a latency cap`);
    if (!(Number.isFinite(f.quantity) && f.quantity > 0)) errors.push(`${where}: quantity must be positive`);
    // Individual rationality per fill for plain intents; a swap's is checked on its total below.
    if (!Number.isFinite(f.price) || (!intents[s].swapFor && f.price < S.limitPrice - rel(S.limitPrice)) || (!intents[b].swapFor && f.price > B.limitPrice + rel(B.limitPrice)))
      errors.push(`${where}: price ${f.price} is outside [${S.limitPrice}, ${B.limitPrice}]`);
    const gain = B.limitPrice - S.limitPrice;
    if (intents[b].swapFor) received[b] += f.quantity;
    else filled[b] += f.quantity;
    filled[s] += f.quantity;
    surplus[b] += (B.limitPrice - f.price) * f.quantity;
    surplus[s] += (f.price - S.limitPrice) * f.quantity;
    if (gain > rel(B.limitPrice, S.limitPrice)) positive[b] = positive[s] = 1;
    welfare += gain * f.quantity;
    absWelfare += Math.abs(gain * f.quantity);
    fillIdx.push({ b, s, gain, plain });
  });
  for (let i = 0; i < n; i++) {
    const it = intents[i];
    if (filled[i] > it.quantity + qTol(i)) errors.push(`intent ${it.id}: fills ${filled[i]} exceed quantity ${it.quantity}`);
    const m = it.minQuantity ?? 0;
    if (filled[i] > qTol(i) && filled[i] < m - qTol(i)) errors.push(`intent ${it.id}: fills ${filled[i]} are below minQuantity ${m}`);
    if (it.swapFor) {
      if (Math.abs(received[i] - filled[i]) > qTol(i)) errors.push(`intent ${it.id}: gives ${filled[i]} but receives ${received[i]}`);
      if (surplus[i] < -rel(it.limitPrice, it.swapFor.limitPrice ?? 0) * Math.max(1, filled[i])) errors.push(`intent ${it.id}: the swap loses ${-surplus[i]} (not individually rational)`);
    }
  }
  const wTol = rel(absWelfare, settlement.welfare);
  if (!(Math.abs(welfare - settlement.welfare) <= wTol)) errors.push(`welfare ${settlement.welfare} differs from the fills' ${welfare}`);

  // Nash bargaining KKT: per-unit surplus a_k; an interior price equalises them, a price at a limit favours the other.
  const a = (k: number) => surplus[k] / filled[k];
  settlement.fills.forEach((f, k) => {
    const x = fillIdx[k];
    // Fills that touch a swap are priced per trade (notes/solver.md); the per-fill test is for plain pairs.
    if (!x || !x.plain) return;
    const bl = intents[x.b].limitPrice;
    const sl = intents[x.s].limitPrice;
    if (!(x.gain > rel(bl, sl)) || !positive[x.b] || !positive[x.s]) return;
    const aTol = 100 * rel(bl, sl);
    const atBuy = f.price >= bl - rel(bl);
    const atSell = f.price <= sl + rel(sl);
    const ab = a(x.b);
    const as = a(x.s);
    if (!atBuy && !atSell && Math.abs(ab - as) > aTol)
      errors.push(`fills.${k}: price is not the Nash bargaining price (per-unit surplus ${ab} vs ${as})`);
    else if (atSell && !atBuy && as < ab - aTol) errors.push(`fills.${k}: price at the seller's limit favours the buyer`);
    else if (atBuy && !atSell && ab < as - aTol) errors.push(`fills.${k}: price at the buyer's limit favours the seller`);
  });

  if (hasSwaps) checkTrades(intents, settlement.fills, fillIdx, surplus, filled, errors);

  // Optimality from the certificate: dual feasibility per compatible class pair, then weak duality.
  const cert = settlement.certificate;
  if (isTimed(intents)) {
    // Windows: the schedule and optimality over schedules (verify-time.ts) instead of the timeless certificate.
    checkTime(intents, latency, settlement, options.now, welfare, absWelfare, errors);
  } else if (!cert) {
    errors.push("certificate: missing, so optimality cannot be checked");
  } else if (hasSwaps) {
    checkSwapCertificate(intents, latency, cert, welfare, absWelfare, errors);
  } else {
    // Classes first without keeping two-sided agents apart (no scan): their pairs are a superset of the true ones
    // (plus pairs of one agent, which are no constraint), so if every one holds with slack ≥ 0 the true ones do.
    // Only a negative slack (or a tree to check) needs the exact classes, built with the two-sided scan.
    let idx = catalogClasses(intents, latency, false, false, NO_TWO_SIDED).idx;
    const dual = new Float64Array(n).fill(NaN);
    const dualOfId = dualReader(cert.duals);
    let dualObjective = 0;
    let milp = false;
    for (let i = 0; i < n; i++) {
      if (idx.classOf[i] < 0) continue;
      const it = intents[i];
      if ((it.minQuantity ?? 0) > qTol(i)) milp = true;
      const d = dualOfId(it.id);
      if (!Number.isFinite(d) || d < -rel(it.limitPrice)) {
        errors.push(`certificate.duals.${it.id}: must be a finite number ≥ 0`);
        continue;
      }
      dual[i] = d;
      dualObjective += it.quantity * d;
    }
    const slackError = (idx: ClassIndex, exact: boolean): string | null | undefined => {
      const mBuy = new ClassMinima(idx.buy.length);
      const mSell = new ClassMinima(idx.sell.length);
      for (let i = 0; i < n; i++) {
        const c = idx.classOf[i];
        const d = dual[i];
        if (c < 0 || d !== d) continue;
        const it = intents[i];
        if (it.side === "buy") mBuy.put(c, d - it.limitPrice, it.limitPrice, d);
        else mSell.put(c, d + it.limitPrice, it.limitPrice, d);
      }
      for (let e = 0; e < idx.edgeBuy.length; e++) {
        const slack = mBuy.min[idx.edgeBuy[e]] + mSell.min[idx.edgeSell[e]];
        if (!exact && slack < 0) return undefined; // undecided: needs the exact classes
        if (slack < -(mBuy.tol[idx.edgeBuy[e]] + mSell.tol[idx.edgeSell[e]])) return `certificate: duals violate u + v ≥ gain for a compatible pair (by ${-slack})`;
      }
      return null;
    };
    let slackErr = slackError(idx, false);
    if (slackErr === undefined || (milp && cert.tree !== undefined)) {
      idx = buildClasses(intents, latency, false);
      slackErr = slackError(idx, true);
    }
    if (slackErr) errors.push(slackErr);
    const bTol = rel(dualObjective, welfare, absWelfare);
    if (!(cert.bound >= welfare - bTol)) errors.push(`certificate.bound ${cert.bound} is below the welfare ${welfare}`);
    if (!milp) {
      // Without minQuantity the LP is the problem, so a dual bound above the welfare disproves optimality.
      if (welfare < dualObjective - bTol) errors.push(`not optimal: the dual bound ${dualObjective} exceeds the welfare ${welfare}`);
    } else {
      // With minQuantity the root LP dual bounds the relaxation only; the branch-and-bound tree (when listed) proves
      // a bound leaf by leaf. A proven bound above the welfare must be owned up to as a stated gap.
      let proven = dualObjective;
      if (cert.tree !== undefined) {
        proven = Math.min(proven, checkTree(intents, byId, idx, cert.tree, errors));
        if (cert.bound < proven - bTol) errors.push(`certificate.bound ${cert.bound} is below the bound ${proven} its tree proves`);
      } else if (cert.bound > dualObjective + bTol) errors.push(`certificate.bound exceeds the dual bound ${dualObjective}`);
      if (welfare < proven - bTol && !((cert.gap ?? 0) >= proven - welfare - bTol))
        errors.push(`not proven optimal: the certified bound ${proven} exceeds the welfare ${welfare} and no such gap is stated`);
    }
  }
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
}

/**
 * Optimality with swaps (notes/solver.md, "Certificate with swaps"). The LP over fills of views (a swap sells its
 * resource and buys `swapFor`, gives = receives) has the dual: u ≥ 0 per plain buyer, v ≥ 0 per plain seller, per
 * swap π (free) and w ≥ 0, with U + V ≥ gain on every compatible pair of views, where U = u (plain buyer) or −π
 * (a swap as buyer) and V = v (plain seller) or π + w (a swap as seller). Weak duality: welfare ≤ Σ Q·(u, v, w).
 * That LP relaxes minimums, so with minQuantity a welfare below its bound must be owned up to as a stated gap.
 */
function checkSwapCertificate(
  intents: readonly Intent[],
  latency: LatencyTable,
  cert: Certificate,
  welfare: number,
  absWelfare: number,
  errors: string[],
): void {
  const views: Intent[] = [];
  const slack: number[] = []; // per view: U − buy limit, or V + sell limit
  const scale: number[] = []; // per view: the largest of the numbers its slack is made of
  let dualObjective = 0;
  let milp = false;
  const finite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
  for (const it of intents) {
    if (!(it.quantity > 0)) continue;
    if ((it.minQuantity ?? 0) > rel(it.quantity)) milp = true;
    const d = dualOf(cert.duals, it.id);
    if (!finite(d) || d < -rel(it.limitPrice)) {
      errors.push(`certificate.duals.${it.id}: must be a finite number ≥ 0`);
      continue;
    }
    if (it.swapFor) {
      const pi = cert.potentials && Object.hasOwn(cert.potentials, it.id) ? cert.potentials[it.id] : undefined;
      if (!finite(pi)) {
        errors.push(`certificate.potentials.${it.id}: missing or not a finite number`);
        continue;
      }
      views.push({ ...it, swapFor: undefined });
      slack.push(pi + d + it.limitPrice);
      scale.push(Math.max(Math.abs(pi), Math.abs(d), Math.abs(it.limitPrice)));
      views.push(swapBuyView(it));
      slack.push(-pi - (it.swapFor.limitPrice ?? 0));
      scale.push(Math.max(Math.abs(pi), Math.abs(it.swapFor.limitPrice ?? 0)));
    } else {
      views.push(it);
      slack.push(it.side === "buy" ? d - it.limitPrice : d + it.limitPrice);
      scale.push(Math.max(Math.abs(d), Math.abs(it.limitPrice)));
    }
    dualObjective += it.quantity * d;
  }
  const idx = buildClasses(views, latency, false);
  const mBuy = new ClassMinima(idx.buy.length);
  const mSell = new ClassMinima(idx.sell.length);
  views.forEach((v, i) => {
    const c = idx.classOf[i];
    if (c < 0) return;
    (v.side === "buy" ? mBuy : mSell).put(c, slack[i], scale[i], 0);
  });
  for (let e = 0; e < idx.edgeBuy.length; e++) {
    const gap = mBuy.min[idx.edgeBuy[e]] + mSell.min[idx.edgeSell[e]];
    if (gap < -(mBuy.tol[idx.edgeBuy[e]] + mSell.tol[idx.edgeSell[e]])) {
      errors.push(`certificate: duals and potentials violate U + V ≥ gain for a compatible pair (by ${-gap})`);
      break;
    }
  }
  const bTol = rel(dualObjective, welfare, absWelfare);
  if (!(cert.bound >= welfare - bTol)) errors.push(`certificate.bound ${cert.bound} is below the welfare ${welfare}`);
  if (welfare < dualObjective - bTol && !(milp && (cert.gap ?? 0) >= dualObjective - welfare - bTol))
    errors.push(`not ${milp ? "proven " : ""}optimal: the dual bound ${dualObjective} exceeds the welfare ${welfare}${milp ? " and no such gap is stated" : ""}`);
}

/**
 * Nash bargaining over trades, as solve prices markets with swaps: fills are listed trade by trade (a chain buyer →
 * swaps → seller, or a ring of swaps; one quantity per trade). A party's share of a trade is its surplus from the
 * trade's fills; every share is ≥ 0 (individual rationality per trade), and the shares solve the Eisenberg–Gale
 * program max Σ q·log(surplus) (q: units traded): in each trade of positive gain, the parties with a positive share
 * have one per-unit surplus a = surplus / q, and a party with a zero share has at least that a.
 */
function checkTrades(
  intents: readonly Intent[],
  fills: Fill[],
  fillIdx: { b: number; s: number }[],
  surplus: Float64Array,
  filled: Float64Array,
  errors: string[],
): void {
  if (fillIdx.length !== fills.length) return; // unknown intents: already reported
  const isSwap = (i: number) => intents[i].swapFor !== undefined;
  const value = (i: number) => (intents[i].swapFor?.limitPrice ?? 0) - intents[i].limitPrice;
  for (let k = 0; k < fills.length; ) {
    const start = k;
    const first = fillIdx[k];
    const V = fills[k].quantity;
    const ring = isSwap(first.b);
    // Walk the trade: the next fill is bought by this fill's seller, when that is a swap (and not the ring's start).
    let end = k;
    while (isSwap(fillIdx[end].s) && !(ring && fillIdx[end].s === first.b)) {
      const nx = end + 1;
      if (nx >= fills.length || fillIdx[nx].b !== fillIdx[end].s || Math.abs(fills[nx].quantity - V) > rel(V)) break;
      end = nx;
    }
    k = end + 1;
    const last = fillIdx[end];
    const closed = ring ? last.s === first.b : !isSwap(last.s);
    if (!closed) {
      errors.push(`fills.${start}..${end}: not a whole trade (fills that touch a swap must be listed trade by trade)`);
      continue;
    }
    // Parties and their shares (per trade, in money).
    const parties: number[] = [];
    const shares: number[] = [];
    let gain = 0;
    for (let f = start; f <= end; f++) {
      const b = fillIdx[f].b;
      gain += (isSwap(b) ? (intents[b].swapFor!.limitPrice ?? 0) : intents[b].limitPrice) - intents[fillIdx[f].s].limitPrice;
    }
    if (!ring) {
      parties.push(first.b);
      shares.push((intents[first.b].limitPrice - fills[start].price) * V);
    }
    for (let f = start; f <= end; f++) {
      const j = fillIdx[f].s;
      parties.push(j);
      if (!isSwap(j)) shares.push((fills[f].price - intents[j].limitPrice) * V);
      else {
        // The swap j gives via fill f (receives its price) and receives via the next fill (pays its price).
        const nx = f < end ? f + 1 : start;
        shares.push((value(j) + fills[f].price - fills[nx].price) * V);
      }
    }
    // Tolerances at the scale of the trade's own parties.
    let pTol = 0;
    for (const p of parties) pTol = Math.max(pTol, rel(intents[p].limitPrice, intents[p].swapFor?.limitPrice ?? 0));
    const aTol = 100 * pTol;
    const sTol = pTol * V;
    let aMin = Infinity;
    let aMax = -Infinity;
    parties.forEach((p, j) => {
      if (shares[j] < -sTol) errors.push(`fills.${start}..${end}: ${intents[p].id} loses ${-shares[j]} in this trade (not individually rational)`);
      if (shares[j] > sTol && filled[p] > 0) {
        const a = surplus[p] / filled[p];
        aMin = Math.min(aMin, a);
        aMax = Math.max(aMax, a);
      }
    });
    if (!(gain > pTol) || !(aMax >= aMin)) continue;
    if (aMax - aMin > aTol) errors.push(`fills.${start}..${end}: not the Nash bargaining split (per-unit surplus ${aMin} vs ${aMax} among the trade's parties)`);
    parties.forEach((p, j) => {
      if (!(shares[j] > sTol) && surplus[p] / filled[p] < aMax - aTol)
        errors.push(`fills.${start}..${end}: ${intents[p].id} gets nothing from this trade but is worse off than the others`);
    });
  }
}

/**
 * The branch-and-bound tree of a settlement with minQuantity (notes/solver.md, "MILP certificate"). The leaves'
 * fixings must cover every choice (a full binary tree: each branch leaves one intent out, or makes it fill at least
 * its minimum). Each leaf's duals d must be feasible for the leaf's LP: d ≥ 0 except for intents forced to their
 * minimum, d_buy + d_sell ≥ gain on every individually rational compatible pair of intents not left out. The leaf's
 * bound is Σ quantity·d (minimum·d for a forced intent's negative d). Returns the largest leaf bound, which bounds
 * the optimum. Time: leaves × (intents + compatible class pairs), plus forced intents × their counterparts.
 */
function checkTree(
  intents: readonly Intent[],
  byId: Map<string, number>,
  idx: ClassIndex,
  tree: NonNullable<Certificate["tree"]>,
  errors: string[],
): number {
  const n = intents.length;
  if (tree.length === 0) {
    errors.push("certificate.tree: no leaves");
    return Infinity;
  }
  // Coverage: at every inner node, all leaves below branch on the same intent, and both ways occur.
  const stack: [number[], number][] = [[tree.map((_, k) => k), 0]];
  while (stack.length > 0) {
    const [set, depth] = stack.pop()!;
    if (set.length === 1 && tree[set[0]].fixed.length === depth) continue;
    const id = tree[set[0]].fixed[depth]?.[0];
    const ways: [number[], number[]] = [[], []];
    for (const l of set) {
      const f = tree[l].fixed[depth];
      if (!f || f[0] !== id) {
        errors.push(`certificate.tree: the leaves do not form a branching tree (at depth ${depth})`);
        return Infinity;
      }
      ways[f[1]].push(l);
    }
    if (ways[0].length === 0 || ways[1].length === 0) {
      errors.push(`certificate.tree: a branch on ${id} is missing one way`);
      return Infinity;
    }
    stack.push([ways[0], depth + 1], [ways[1], depth + 1]);
  }
  const minOf = (i: number) => Math.min(intents[i].quantity, Math.max(0, intents[i].minQuantity ?? 0));
  const excluded = new Uint8Array(n);
  const forced = new Uint8Array(n);
  const d = new Float64Array(n);
  const mBuy = new ClassMinima(idx.buy.length);
  const mSell = new ClassMinima(idx.sell.length);
  let worst = -Infinity;
  for (let l = 0; l < tree.length; l++) {
    const leaf = tree[l];
    const where = `certificate.tree.${l}`;
    const fixedIdx: number[] = [];
    for (const [id, way] of leaf.fixed) {
      const i = byId.get(id);
      if (i === undefined) {
        errors.push(`${where}: unknown intent ${id}`);
        return Infinity;
      }
      (way === 0 ? excluded : forced)[i] = 1;
      fixedIdx.push(i);
    }
    const listed: number[] = [];
    let bound = 0;
    let bad = false;
    for (const [id, x] of Object.entries(leaf.duals)) {
      const i = byId.get(id);
      if (i === undefined || !Number.isFinite(x)) {
        errors.push(`${where}.duals.${id}: unknown intent or not a finite number`);
        bad = true;
        continue;
      }
      if (excluded[i] || idx.classOf[i] < 0) continue;
      if (x < -rel(intents[i].limitPrice) && !forced[i]) {
        errors.push(`${where}.duals.${id}: must be ≥ 0 (the intent is not forced to its minimum here)`);
        bad = true;
      }
      d[i] = x;
      listed.push(i);
      bound += x < 0 && forced[i] ? minOf(i) * x : intents[i].quantity * x;
    }
    // Dual feasibility: class minima over intents with d ≥ 0; forced intents with d < 0 pair by pair (IR pairs only).
    mBuy.min.fill(Infinity);
    mSell.min.fill(Infinity);
    const negative: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = idx.classOf[i];
      if (c < 0 || excluded[i]) continue;
      if (d[i] < 0) {
        negative.push(i);
        continue;
      }
      if (intents[i].side === "buy") mBuy.put(c, d[i] - intents[i].limitPrice, intents[i].limitPrice, d[i]);
      else mSell.put(c, d[i] + intents[i].limitPrice, intents[i].limitPrice, d[i]);
    }
    for (let e = 0; e < idx.edgeBuy.length && !bad; e++) {
      if (mBuy.min[idx.edgeBuy[e]] + mSell.min[idx.edgeSell[e]] < -(mBuy.tol[idx.edgeBuy[e]] + mSell.tol[idx.edgeSell[e]])) {
        errors.push(`${where}: duals violate d_buy + d_sell ≥ gain for a compatible pair`);
        bad = true;
      }
    }
    for (const i of negative) {
      if (bad) break;
      const isBuy = intents[i].side === "buy";
      for (const e of (isBuy ? idx.buyAdj : idx.sellAdj)[idx.classOf[i]]) {
        for (const j of (isBuy ? idx.sell[idx.edgeSell[e]] : idx.buy[idx.edgeBuy[e]]).members) {
          if (excluded[j]) continue;
          const gain = isBuy ? intents[i].limitPrice - intents[j].limitPrice : intents[j].limitPrice - intents[i].limitPrice;
          if (gain >= 0 && d[i] + d[j] < gain - rel(intents[i].limitPrice, intents[j].limitPrice, d[i], d[j])) {
            errors.push(`${where}: duals violate d_buy + d_sell ≥ gain for ${intents[i].id} and ${intents[j].id}`);
            bad = true;
            break;
          }
        }
        if (bad) break;
      }
    }
    for (const i of listed) d[i] = 0;
    for (const i of fixedIdx) excluded[i] = forced[i] = 0;
    if (bad) return Infinity;
    worst = Math.max(worst, bound);
  }
  return worst;
}
