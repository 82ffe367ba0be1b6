// Checks a settlement without solving (CONTRACT.md section 2): feasibility, individual rationality, the welfare
// sum, the Nash bargaining optimality conditions of its prices, and optimality from its LP dual certificate.
// Time is linear in intents, fills and compatible class pairs.
import type { Certificate, Fill, Intent, LatencyTable } from "../contract/schema.ts";
import { buildClasses, catalogClasses, type ClassIndex, type TwoSided } from "./classes.ts";
import { compatible, softPenalty } from "./latency.ts";
import { swapBuyView } from "./multi.ts";
import { isSoft, pairLimits } from "./price.ts";
import { isTimed } from "./time-slots.ts";
import { checkTime } from "./verify-time.ts";

/** No two-sided agents: classes built with it are not kept apart per agent (and no scan is made). */
const NO_TWO_SIDED: TwoSided = new Map();

/**
 * Intent ids → their index, in 64 small Maps picked by the id's length and last two characters. One Map of 10,000
 * entries outgrows V8's regular heap objects: its tables go to the large-object space, freshly mapped memory on every
 * build, and building it cost ~2.5 ms of a 10,000-intent verify (small Maps: ~0.5 ms). Ids that all share the
 * picked characters land in one Map, no worse than a single Map.
 */
class IdIndex {
  private readonly maps: Map<string, number>[] = [];
  constructor() {
    for (let k = 0; k < 64; k++) this.maps.push(new Map());
  }
  private map(id: string): Map<string, number> {
    const n = id.length;
    return this.maps[(n + 31 * (n > 0 ? id.charCodeAt(n - 1) : 0) + 7 * (n > 1 ? id.charCodeAt(n - 2) : 0)) & 63];
  }
  get(id: string): number | undefined {
    return this.map(id).get(id);
  }
  /** Adds id → i; false (and the id keeps its last index) when it was there already. */
  set(id: string, i: number): boolean {
    const m = this.map(id);
    const size = m.size;
    m.set(id, i);
    return m.size > size;
  }
}

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
  const byId = new IdIndex();
  for (let i = 0; i < n; i++) if (!byId.set(intents[i].id, i)) errors.push(`intent id ${intents[i].id} is not unique`);
  const qTol = (i: number) => rel(intents[i].quantity);
  const filled = new Float64Array(n); // a swap: what it gives
  const received = new Float64Array(n); // a swap: what it takes in exchange
  const surplus = new Float64Array(n);
  const size = new Float64Array(n); // the largest limit or price an intent's surplus is summed from
  const positive = new Uint8Array(n); // has a fill of positive gain
  const fillIdx = new FillRows(settlement.fills.length);
  const hasSwaps = intents.some((it) => it.swapFor !== undefined);
  const hasSoft = intents.some(isSoft);
  const buyView = (i: number): Intent => (intents[i].swapFor ? swapBuyView(intents[i]) : intents[i]);
  const sellView = (i: number): Intent => (intents[i].swapFor ? { ...intents[i], swapFor: undefined } : intents[i]);
  let welfare = 0;
  let absWelfare = 0;
  settlement.fills.forEach((f, k) => {
    const b = byId.get(f.buy);
    const s = byId.get(f.sell);
    if (b === undefined || s === undefined) {
      errors.push(`fills.${k}: unknown intent ${b === undefined ? f.buy : f.sell}`);
      return;
    }
    const B = buyView(b);
    const S = sellView(s);
    const plain = !intents[b].swapFor && !intents[s].swapFor;
    if (B.side !== "buy" || S.side !== "sell") errors.push(`fills.${k}: buy must name a buy intent (or a swap) and sell a sell intent`);
    if (B.agent === S.agent) errors.push(`fills.${k}: both intents are agent ${B.agent}'s (no self-trade)`);
    else if (f.resource !== B.resource || f.resource !== S.resource) errors.push(`fills.${k}: resource does not match both intents`);
    else if (!compatible(B, S, latency)) errors.push(`fills.${k}: regions are outside a latency cap`);
    if (!(Number.isFinite(f.quantity) && f.quantity > 0)) errors.push(`fills.${k}: quantity must be positive`);
    // The pair's limits, as soft latency moves them (CONTRACT.md section 1).
    let bl = B.limitPrice;
    let sl = S.limitPrice;
    if (intents[b].preferLatencyMs !== undefined || intents[s].preferLatencyMs !== undefined) [bl, sl] = pairLimits(latency, intents[b], intents[s]);
    if (!Number.isFinite(bl) || !Number.isFinite(sl)) {
      errors.push(`fills.${k}: soft latency cannot price this pair (the latency table does not list ${B.region} ↔ ${S.region})`);
      [bl, sl] = [B.limitPrice, S.limitPrice];
    }
    // Individual rationality per fill for plain intents; a swap's is checked on its net below.
    if (!Number.isFinite(f.price) || (!intents[s].swapFor && f.price < sl - rel(sl)) || (!intents[b].swapFor && f.price > bl + rel(bl)))
      errors.push(`fills.${k}: price ${f.price} is outside [${sl}, ${bl}]`);
    const gain = bl - sl;
    if (intents[b].swapFor) received[b] += f.quantity;
    else filled[b] += f.quantity;
    filled[s] += f.quantity;
    surplus[b] += (bl - f.price) * f.quantity;
    surplus[s] += (f.price - sl) * f.quantity;
    size[b] = Math.max(size[b], Math.abs(bl), Math.abs(f.price));
    size[s] = Math.max(size[s], Math.abs(sl), Math.abs(f.price));
    if (gain > rel(bl, sl)) positive[b] = positive[s] = 1;
    welfare += gain * f.quantity;
    absWelfare += Math.abs(gain * f.quantity);
    fillIdx.push(b, s, plain, bl, sl);
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
    // Fills that touch a swap are priced per trade (notes/solver.md); the per-fill test is for plain pairs.
    if (k >= fillIdx.length || !fillIdx.plain[k]) return;
    const x = { b: fillIdx.b[k], s: fillIdx.s[k] };
    const bl = fillIdx.bl[k];
    const sl = fillIdx.sl[k];
    if (!(bl - sl > rel(bl, sl)) || !positive[x.b] || !positive[x.s]) return;
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

  if (hasSwaps) checkNetNash(intents, settlement.fills, fillIdx, surplus, filled, size, errors);

  // Optimality from the certificate: dual feasibility per compatible class pair, then weak duality.
  const cert = settlement.certificate;
  if (isTimed(intents)) {
    // Windows: the schedule and optimality over schedules (verify-time.ts) instead of the timeless certificate.
    checkTime(intents, latency, settlement, options.now, welfare, absWelfare, errors);
  } else if (!cert) {
    errors.push("certificate: missing, so optimality cannot be checked");
  } else if (hasSwaps || hasSoft) {
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
  // Views with soft latency are checked pair by pair below (their gain depends on the counterpart's region).
  const soft: number[] = [];
  views.forEach((v, i) => {
    const c = idx.classOf[i];
    if (c < 0) return;
    if (isSoft(v)) soft.push(i);
    else (v.side === "buy" ? mBuy : mSell).put(c, slack[i], scale[i], 0);
  });
  let bad = false;
  for (let e = 0; e < idx.edgeBuy.length && !bad; e++) {
    const gap = mBuy.min[idx.edgeBuy[e]] + mSell.min[idx.edgeSell[e]];
    if (gap < -(mBuy.tol[idx.edgeBuy[e]] + mSell.tol[idx.edgeSell[e]])) {
      errors.push(`certificate: duals and potentials violate U + V ≥ gain for a compatible pair (by ${-gap})`);
      bad = true;
    }
  }
  // A soft view i against a counterpart class: U + V ≥ gain less both penalties; against the class's plain minimum,
  // then against each soft member of that class (soft × counterpart classes × their soft members).
  const isSoftView = new Uint8Array(views.length);
  for (const i of soft) isSoftView[i] = 1;
  for (const i of soft) {
    if (bad) break;
    const v = views[i];
    const buy = v.side === "buy";
    const c = idx.classOf[i];
    for (const e of buy ? idx.buyAdj[c] : idx.sellAdj[c]) {
      const other = buy ? idx.sell[idx.edgeSell[e]] : idx.buy[idx.edgeBuy[e]];
      const m = buy ? mSell : mBuy;
      const x = buy ? idx.edgeSell[e] : idx.edgeBuy[e];
      const own = softPenalty(latency, v, other.region);
      if (own < Infinity && slack[i] + own + m.min[x] < -(rel(scale[i]) + m.tol[x])) bad = true;
      for (const j of other.members) {
        if (bad || !isSoftView[j] || j === i) continue;
        const both = softPenalty(latency, v, views[j].region) + softPenalty(latency, views[j], v.region);
        if (both < Infinity && views[j].agent !== v.agent && slack[i] + slack[j] + both < -rel(scale[i], scale[j])) bad = true;
      }
      if (bad) {
        errors.push(`certificate: duals and potentials violate U + V ≥ gain for a pair of ${v.id} (soft latency)`);
        break;
      }
    }
  }
  const bTol = rel(dualObjective, welfare, absWelfare);
  if (!(cert.bound >= welfare - bTol)) errors.push(`certificate.bound ${cert.bound} is below the welfare ${welfare}`);
  if (welfare < dualObjective - bTol && !(milp && (cert.gap ?? 0) >= dualObjective - welfare - bTol))
    errors.push(`not ${milp ? "proven " : ""}optimal: the dual bound ${dualObjective} exceeds the welfare ${welfare}${milp ? " and no such gap is stated" : ""}`);
}

/**
 * The fills as verify reads them, in order (a fill naming an unknown intent gets no row): their intents, the pair's
 * (moved) limits, whether both sides are plain. Typed arrays, not an array of objects: 10,000 rows of objects (and
 * the array's backing store) were a tenth of a 10,000-intent verify, more after a large solve had left the heap big.
 */
class FillRows {
  readonly b: Int32Array;
  readonly s: Int32Array;
  readonly plain: Uint8Array;
  readonly bl: Float64Array;
  readonly sl: Float64Array;
  length = 0;
  constructor(capacity: number) {
    this.b = new Int32Array(capacity);
    this.s = new Int32Array(capacity);
    this.plain = new Uint8Array(capacity);
    this.bl = new Float64Array(capacity);
    this.sl = new Float64Array(capacity);
  }
  push(b: number, s: number, plain: boolean, bl: number, sl: number): void {
    const k = this.length++;
    this.b[k] = b;
    this.s[k] = s;
    this.plain[k] = plain ? 1 : 0;
    this.bl[k] = bl;
    this.sl[k] = sl;
  }
}

/**
 * Nash bargaining on the net (CONTRACT.md section 2a) for fills that touch a swap: the prices maximise
 * Σ q·log(surplus), a swap's surplus its net (only its total bounded), a plain intent's within its limit per fill.
 * These are the program's KKT conditions per fill, on per-unit surpluses a = surplus / q (a swap: q = units given):
 * a price free to move both ways gives both sides one a; a price at the plain buyer's limit needs the buyer's a at
 * least the seller's, at the plain seller's limit the reverse. (Plain pairs are checked above, the same way.)
 */
function checkNetNash(intents: readonly Intent[], fills: Fill[], fillIdx: FillRows, surplus: Float64Array, filled: Float64Array, size: Float64Array, errors: string[]): void {
  if (fillIdx.length !== fills.length) return; // unknown intents: already reported
  const a = (k: number) => (filled[k] > 0 ? surplus[k] / filled[k] : 0);
  fills.forEach((f, k) => {
    if (fillIdx.plain[k]) return;
    const x = { b: fillIdx.b[k], s: fillIdx.s[k], bl: fillIdx.bl[k], sl: fillIdx.sl[k] };
    const tol = 100 * rel(size[x.b], size[x.s]);
    const atBuy = !intents[x.b].swapFor && f.price >= x.bl - rel(x.bl);
    const atSell = !intents[x.s].swapFor && f.price <= x.sl + rel(x.sl);
    const ab = a(x.b);
    const as = a(x.s);
    if (!atBuy && !atSell && Math.abs(ab - as) > tol)
      errors.push(`fills.${k}: price is not the Nash bargaining price on the net (per-unit surplus ${ab} vs ${as})`);
    else if (atSell && as < ab - tol) errors.push(`fills.${k}: price at the seller's limit favours the buyer`);
    else if (atBuy && ab < as - tol) errors.push(`fills.${k}: price at the buyer's limit favours the seller`);
  });
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
  byId: IdIndex,
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
