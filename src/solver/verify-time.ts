// verify's checks for books with windows (CONTRACT.md section 2a; notes/solver.md, "Time (session 8)"): every fill's
// start/end on interval boundaries inside both legs' windows and not before now, rate caps per leg and interval, one
// price per plain buy–sell pair, and optimality over schedules from the certificate's duals (per intent, per capped
// leg and interval, per swap its potential). Time: legs × intervals × regions, plus fills × the intervals they span.
import type { Certificate, Fill, Intent, LatencyTable, TimeTree } from "../contract/schema.ts";
import { softPenalty, withinCap } from "./latency.ts";
import { slotHours, timeLegs, windowed, type Leg, type Slots } from "./time-slots.ts";

const rel = (...xs: number[]) => 1e-9 * Math.max(1, ...xs.map(Math.abs));
const own = <V>(r: Record<string, V> | undefined, k: string): V | undefined => (r && Object.hasOwn(r, k) ? r[k] : undefined);

/** Appends to `errors` what is wrong with the settlement's schedule and its optimality over schedules. */
export function checkTime(
  intents: readonly Intent[],
  latency: LatencyTable,
  settlement: { fills: Fill[]; welfare: number; certificate?: Certificate },
  now: number | undefined,
  welfare: number,
  absWelfare: number,
  errors: string[],
): void {
  const { legs, slots } = timeLegs(intents, now);
  const byId = new Map<string, number>();
  intents.forEach((it, i) => byId.set(it.id, i));
  const buyLeg = new Int32Array(intents.length).fill(-1);
  const sellLeg = new Int32Array(intents.length).fill(-1);
  legs.forEach((l, k) => ((l.buy ? buyLeg : sellLeg)[l.intent] = k));
  checkSchedule(intents, settlement.fills, byId, legs, slots, buyLeg, sellLeg, now, errors);
  const cert = settlement.certificate;
  if (!cert) errors.push("certificate: missing, so optimality cannot be checked");
  else checkTimeCertificate(intents, latency, cert, legs, slots, welfare, absWelfare, errors);
}

function checkSchedule(
  intents: readonly Intent[],
  fills: Fill[],
  byId: Map<string, number>,
  legs: Leg[],
  slots: Slots,
  buyLeg: Int32Array,
  sellLeg: Int32Array,
  now: number | undefined,
  errors: string[],
): void {
  const used = new Map<number, Float64Array>(); // per capped leg: rate used per slot
  const pairPrice = new Map<string, number>();
  fills.forEach((f, k) => {
    const where = `fills.${k}`;
    const b = byId.get(f.buy);
    const s = byId.get(f.sell);
    if (b === undefined || s === undefined || buyLeg[b] < 0 || sellLeg[s] < 0) return; // reported by verify
    if (!intents[b].swapFor && !intents[s].swapFor) {
      const key = `${b}:${s}`;
      const p = pairPrice.get(key);
      if (p === undefined) pairPrice.set(key, f.price);
      else if (Math.abs(p - f.price) > rel(p, f.price)) errors.push(`${where}: a second price ${f.price} for the pair ${f.buy}–${f.sell} (first ${p})`);
    }
    const B = legs[buyLeg[b]];
    const S = legs[sellLeg[s]];
    if (!windowed(B) && !windowed(S)) {
      if (f.start !== undefined || f.end !== undefined) errors.push(`${where}: start/end on a fill between two intents without windows`);
      return;
    }
    const start = typeof f.start === "string" ? Date.parse(f.start) : NaN;
    const end = typeof f.end === "string" ? Date.parse(f.end) : NaN;
    const from = slots.at.get(start);
    const to = slots.at.get(end);
    if (from === undefined || to === undefined) {
      errors.push(`${where}: start and end must be interval boundaries (window starts and ends, now)`);
      return;
    }
    if (!(from < to)) errors.push(`${where}: start must be before end`);
    else if (now !== undefined && start < now) errors.push(`${where}: starts before now`);
    else if (start < B.start || end > B.end || start < S.start || end > S.end) errors.push(`${where}: outside a window of ${f.buy} or ${f.sell}`);
    else {
      const rate = f.quantity / ((end - start) / 3_600_000);
      for (const leg of [buyLeg[b], sellLeg[s]]) {
        if (legs[leg].rate === Infinity) continue;
        let u = used.get(leg);
        if (!u) used.set(leg, (u = new Float64Array(slots.count)));
        for (let t = from; t < to; t++) u[t] += rate;
      }
    }
  });
  for (const [leg, u] of used) {
    const l = legs[leg];
    for (let t = 0; t < u.length; t++)
      if (u[t] > l.rate + rel(l.rate)) {
        errors.push(`intent ${intents[l.intent].id}: ${u[t]} units per hour from ${new Date(slots.bounds[t]).toISOString()} exceed maxRate ${l.rate}`);
        break;
      }
  }
}

/**
 * Dual feasibility of the LP over schedules: for every compatible pair of legs of two agents active in one slot,
 * U + r_buy + V + r_sell ≥ gain (limits moved by soft latency), where U is a plain buyer's dual or −π of a swap's
 * taken leg, V a plain seller's dual or π + w of a swap's given leg, r a capped leg's dual in that slot. Checked per
 * (slot, resource, buyer region, seller region) on the least slack of each side over distinct agents; then weak
 * duality: welfare ≥ Σ quantity × dual + Σ rate × hours × r (or, with minimums, a stated gap).
 */
function checkTimeCertificate(
  intents: readonly Intent[],
  latency: LatencyTable,
  cert: Certificate,
  legs: Leg[],
  slots: Slots,
  welfare: number,
  absWelfare: number,
  errors: string[],
): void {
  const finite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
  let dualObjective = 0;
  let milp = false;
  const base = new Float64Array(legs.length).fill(NaN); // U or V per leg
  const scale = new Float64Array(legs.length);
  const rateDual = legs.map(() => new Map<number, number>());
  const seenIntent = new Set<number>();
  const rootTerm = new Float64Array(intents.length); // each intent's part of the dual objective
  let bad = false;
  legs.forEach((l, k) => {
    const it = intents[l.intent];
    if ((it.minQuantity ?? 0) > rel(it.quantity)) milp = true;
    const d = own(cert.duals, it.id) ?? 0;
    if (!finite(d) || d < -rel(it.limitPrice)) {
      if (!seenIntent.has(l.intent)) errors.push(`certificate.duals.${it.id}: must be a finite number ≥ 0`);
      seenIntent.add(l.intent);
      bad = true;
      return;
    }
    if (!seenIntent.has(l.intent)) {
      dualObjective += it.quantity * d;
      rootTerm[l.intent] += it.quantity * d;
    }
    seenIntent.add(l.intent);
    let v = d;
    if (it.swapFor) {
      const pi = own(cert.potentials, it.id);
      if (!finite(pi)) {
        if (l.buy) errors.push(`certificate.potentials.${it.id}: missing or not a finite number`);
        bad = true;
        return;
      }
      v = l.buy ? -pi : pi + d;
      scale[k] = Math.max(Math.abs(pi), Math.abs(d), Math.abs(l.value));
    } else scale[k] = Math.max(Math.abs(d), Math.abs(l.value));
    base[k] = l.buy ? v - l.value : v + l.value;
  });
  // Rate duals: only on a capped leg's active slots, keyed by the slot's start.
  // A plain intent's leg and a swap's given leg in `rates`, a swap's taken leg in `takeRates`.
  const mainLeg = new Map<string, number>();
  const takenLeg = new Map<string, number>();
  legs.forEach((l, k) => (intents[l.intent].swapFor && l.buy ? takenLeg : mainLeg).set(intents[l.intent].id, k));
  const readRates = (field: "rates" | "takeRates", taken: boolean) => {
    const table = (cert as Record<string, unknown>)[field];
    if (table === undefined) return;
    if (typeof table !== "object" || table === null) {
      errors.push(`certificate.${field}: must be an object`);
      bad = true;
      return;
    }
    for (const [id, perSlot] of Object.entries(table as Record<string, unknown>)) {
      const k = (taken ? takenLeg : mainLeg).get(id) ?? -1;
      if (k < 0 || typeof perSlot !== "object" || perSlot === null) {
        errors.push(`certificate.${field}.${id}: no such rate-capped leg`);
        bad = true;
        continue;
      }
      const l = legs[k];
      for (const [start, r] of Object.entries(perSlot as Record<string, unknown>)) {
        const t = slots.at.get(Date.parse(start));
        if (l.rate === Infinity || t === undefined || t < l.first || t >= l.last || !finite(r) || r < 0) {
          errors.push(`certificate.${field}.${id}.${start}: not a finite dual ≥ 0 of a capped leg's interval`);
          bad = true;
          continue;
        }
        rateDual[k].set(t, r);
        dualObjective += r * l.rate * slotHours(slots, t);
        rootTerm[l.intent] += r * l.rate * slotHours(slots, t);
      }
    }
  };
  readRates("rates", false);
  readRates("takeRates", true);
  if (!bad) {
    const err = dualSlack(intents, latency, legs, slots, base, scale, rateDual);
    if (err) errors.push(err);
  }
  const bTol = rel(dualObjective, welfare, absWelfare);
  if (!(cert.bound >= welfare - bTol)) errors.push(`certificate.bound ${cert.bound} is below the welfare ${welfare}`);
  // With minimums the root duals bound the relaxation; trees (when listed) prove a bound per component, leaf by leaf.
  let proven = dualObjective;
  const withTrees = milp && cert.trees !== undefined;
  if (withTrees) {
    const trees = checkTrees(intents, latency, cert.trees, legs, slots, rootTerm, errors);
    if (trees < proven) proven = trees;
    if (cert.bound < proven - bTol) errors.push(`certificate.bound ${cert.bound} is below the bound ${proven} its trees prove`);
  }
  if (welfare < proven - bTol && !(milp && (cert.gap ?? 0) >= proven - welfare - bTol))
    errors.push(`not ${milp ? "proven " : ""}optimal over schedules: the ${withTrees ? "proven" : "dual"} bound ${proven} exceeds the welfare ${welfare}${milp ? " and no such gap is stated" : ""}`);
}

/**
 * Every (leg, hub key, slot, penalty) a leg meets: per finite slot it is active in (a windowless leg also the
 * untimed one) and per counterpart region within both its latency cap and its soft latency, keyed by (slot,
 * resource, buyer region, seller region). Legs `skip` rejects are left out.
 */
function eachHub(
  intents: readonly Intent[],
  latency: LatencyTable,
  legs: Leg[],
  slots: Slots,
  skip: (k: number) => boolean,
  f: (k: number, key: number, t: number, penalty: number) => void,
): void {
  const regions = new Map<string, number>();
  const resources = new Map<string, number>();
  const id = (m: Map<string, number>, x: string) => m.get(x) ?? (m.set(x, m.size), m.size - 1);
  for (const l of legs) {
    id(regions, intents[l.intent].region);
    id(resources, l.resource);
  }
  const names = [...regions.keys()];
  const R = names.length;
  legs.forEach((l, k) => {
    if (skip(k)) return;
    const it = intents[l.intent];
    const mine = regions.get(it.region)!;
    const res = resources.get(l.resource)!;
    const slotsOf = windowed(l) ? [] : [slots.count];
    for (let t = l.first; t < l.last; t++) slotsOf.push(t);
    for (let other = 0; other < R; other++) {
      if (!withinCap(latency, it.region, it.maxLatencyMs, names[other])) continue;
      const penalty = softPenalty(latency, it, names[other]);
      if (penalty === Infinity) continue;
      const [rb, rs] = l.buy ? [mine, other] : [other, mine];
      for (const t of slotsOf) f(k, ((t * resources.size + res) * R + rb) * R + rs, t, penalty);
    }
  });
}

/** Least slack per (slot, resource, buyer region, seller region) and side, over two distinct agents; null if all ≥ 0. */
function dualSlack(
  intents: readonly Intent[],
  latency: LatencyTable,
  legs: Leg[],
  slots: Slots,
  base: Float64Array,
  scale: Float64Array,
  rateDual: Map<number, number>[],
): string | null {
  // Per key and side: the best slack and its agent, and the best of any other agent.
  type Best = { v1: number; a1: string; t1: number; v2: number; t2: number };
  const best = [new Map<number, Best>(), new Map<number, Best>()];
  const put = (side: number, key: number, v: number, agent: string, tol: number) => {
    const e = best[side].get(key);
    if (!e) best[side].set(key, { v1: v, a1: agent, t1: tol, v2: Infinity, t2: 0 });
    else if (v < e.v1) {
      if (agent !== e.a1) [e.v2, e.t2] = [e.v1, e.t1];
      [e.v1, e.a1, e.t1] = [v, agent, tol];
    } else if (agent !== e.a1 && v < e.v2) [e.v2, e.t2] = [v, tol];
  };
  // A leg without a base is not in this check (a leaf's excluded, forced or other part's leg).
  eachHub(intents, latency, legs, slots, (k) => base[k] !== base[k], (k, key, t, penalty) => {
    const r = rateDual[k].get(t) ?? 0;
    put(legs[k].buy ? 0 : 1, key, base[k] + r + penalty, intents[legs[k].intent].agent, rel(scale[k], penalty, r));
  });
  for (const [key, b] of best[0]) {
    const s = best[1].get(key);
    if (!s) continue;
    const pairs: [number, number][] = b.a1 !== s.a1 ? [[b.v1 + s.v1, b.t1 + s.t1]] : [[b.v1 + s.v2, b.t1 + s.t2], [b.v2 + s.v1, b.t2 + s.t1]];
    for (const [slack, tol] of pairs) if (slack < -tol) return `certificate: duals violate U + r + V + r ≥ gain for a compatible pair in an interval (by ${-slack})`;
  }
  return null;
}

/**
 * The branch-and-bound trees of a book with windows and minimums (notes/solver.md, "Time: minimums (session 9)"),
 * one per part (a component: its intents listed, parts disjoint). No pair that may trade (compatible, distinct
 * agents, a common interval, limits that meet or a swap on a side) may join two parts, or a part and the rest, so
 * the book's optimum is the sum of the parts' and the rest's. Per part the leaves' fixings must form a full
 * branching tree over intents with a minimum (each left out, or forced to at least its minimum); each leaf's duals
 * must be feasible for its LP: the relaxation over the part's intents not left out, where a forced intent trades
 * only on pairs that gain or touch a swap and its d may be negative. A leaf's bound is Σ quantity × d (minimum × d
 * for a forced negative d) + Σ rate × hours × r. Returns Σ over parts of the largest leaf bound + the rest's root
 * terms, the bound the trees prove (Infinity when they are malformed).
 */
function checkTrees(
  intents: readonly Intent[],
  latency: LatencyTable,
  trees: unknown,
  legs: Leg[],
  slots: Slots,
  rootTerm: Float64Array,
  errors: string[],
): number {
  const n = intents.length;
  const byId = new Map<string, number>();
  intents.forEach((it, i) => byId.set(it.id, i));
  if (!Array.isArray(trees)) {
    errors.push("certificate.trees: must be an array");
    return Infinity;
  }
  const partOf = new Int32Array(n).fill(-1);
  for (let p = 0; p < trees.length; p++) {
    const tree = trees[p] as TimeTree;
    if (typeof tree !== "object" || tree === null || !Array.isArray(tree.intents) || !Array.isArray(tree.leaves) || tree.leaves.length === 0) {
      errors.push(`certificate.trees.${p}: must list its intents and at least one leaf`);
      return Infinity;
    }
    for (const id of tree.intents) {
      const i = typeof id === "string" ? byId.get(id) : undefined;
      if (i === undefined || partOf[i] >= 0) {
        errors.push(`certificate.trees.${p}.intents: ${String(id)} is unknown or in another part`);
        return Infinity;
      }
      partOf[i] = p;
    }
  }
  const sep = separated(intents, latency, legs, slots, partOf);
  if (sep) {
    errors.push(sep);
    return Infinity;
  }
  let proven = 0;
  for (let i = 0; i < n; i++) if (partOf[i] < 0) proven += rootTerm[i];
  const ctx = new LeafCheck(intents, latency, legs, slots, byId, partOf);
  for (let p = 0; p < trees.length; p++) {
    const leaves = (trees[p] as TimeTree).leaves;
    const where = `certificate.trees.${p}`;
    const cover = coverage(leaves.map((l) => (Array.isArray(l?.fixed) ? l.fixed : [])));
    if (cover) {
      errors.push(`${where}: ${cover}`);
      return Infinity;
    }
    let worst = -Infinity;
    for (let l = 0; l < leaves.length; l++) {
      const bound = ctx.check(p, leaves[l], `${where}.leaves.${l}`, errors);
      if (bound === undefined) return Infinity;
      worst = Math.max(worst, bound);
    }
    proven += worst;
  }
  return proven;
}

/** Whether the leaves' fixings form a full branching tree: at every inner node one intent, both ways below it. */
function coverage(fixed: unknown[][]): string | null {
  const stack: [number[], number][] = [[fixed.map((_, k) => k), 0]];
  while (stack.length > 0) {
    const [set, depth] = stack.pop()!;
    if (set.length === 1 && fixed[set[0]].length === depth) continue;
    const id = (fixed[set[0]][depth] as [string, number] | undefined)?.[0];
    const ways: [number[], number[]] = [[], []];
    for (const l of set) {
      const f = fixed[l][depth] as [string, number] | undefined;
      if (!Array.isArray(f) || f[0] !== id || (f[1] !== 0 && f[1] !== 1)) return `the leaves do not form a branching tree (at depth ${depth})`;
      ways[f[1]].push(l);
    }
    if (ways[0].length === 0 || ways[1].length === 0) return `a branch on ${id} is missing one way`;
    stack.push([ways[0], depth + 1], [ways[1], depth + 1]);
  }
  return null;
}

/** Worth of a leg against a counterpart region: a plain buyer's limit moved down, a seller's up; a swap's leg any price. */
function worthOf(intents: readonly Intent[], l: Leg, penalty: number): number {
  if (intents[l.intent].swapFor) return l.buy ? Infinity : -Infinity;
  return l.buy ? l.value - penalty : l.value + penalty;
}

/**
 * null when no pair that may trade joins two parts (or a part and the rest, part −1): per (slot, resource, buyer
 * region, seller region) and side, the best worth per part over two distinct agents, compared across parts.
 */
function separated(intents: readonly Intent[], latency: LatencyTable, legs: Leg[], slots: Slots, partOf: Int32Array): string | null {
  type Best = { v1: number; a1: string; k1: number; v2: number; k2: number };
  // Per side, key → part → best (buyers by −worth, so lower is better on both sides).
  const best = [new Map<number, Map<number, Best>>(), new Map<number, Map<number, Best>>()];
  eachHub(intents, latency, legs, slots, () => false, (k, key, _t, penalty) => {
    const l = legs[k];
    const agent = intents[l.intent].agent;
    const w = worthOf(intents, l, penalty);
    const v = l.buy ? -w : w;
    const side = best[l.buy ? 0 : 1];
    let perPart = side.get(key);
    if (!perPart) side.set(key, (perPart = new Map()));
    const part = partOf[l.intent];
    const e = perPart.get(part);
    if (!e) perPart.set(part, { v1: v, a1: agent, k1: k, v2: Infinity, k2: -1 });
    else if (v < e.v1) {
      if (agent !== e.a1) [e.v2, e.k2] = [e.v1, e.k1];
      [e.v1, e.a1, e.k1] = [v, agent, k];
    } else if (agent !== e.a1 && v < e.v2) [e.v2, e.k2] = [v, k];
  });
  for (const [key, buyers] of best[0]) {
    const sellers = best[1].get(key);
    if (!sellers) continue;
    for (const [pb, b] of buyers)
      for (const [ps, s] of sellers) {
        if (pb === ps) continue;
        const agentOf = (k: number) => intents[legs[k].intent].agent;
        const pairs: [number, number, number, number][] =
          b.a1 !== agentOf(s.k1) ? [[b.v1, s.v1, b.k1, s.k1]] : [[b.v1, s.v2, b.k1, s.k2], [b.v2, s.v1, b.k2, s.k1]];
        for (const [vb, vs, kb, ks] of pairs)
          if (kb >= 0 && ks >= 0 && -vb >= vs)
            return `certificate.trees: ${intents[legs[kb].intent].id} and ${intents[legs[ks].intent].id} may trade but are in different parts`;
      }
  }
  return null;
}

/** One leaf's check (checkTrees): its fixings, duals, potentials and rate duals, dual feasibility, its bound. */
class LeafCheck {
  private readonly base: Float64Array;
  private readonly scale: Float64Array;
  private readonly rateDual: Map<number, number>[];
  private readonly excluded: Uint8Array;
  private readonly forced: Uint8Array;
  private readonly d: Float64Array;
  private readonly legsOf: number[][];
  private readonly regionPenalty: Map<string, number>[];
  private readonly intents: readonly Intent[];
  private readonly latency: LatencyTable;
  private readonly legs: Leg[];
  private readonly slots: Slots;
  private readonly byId: Map<string, number>;
  private readonly partOf: Int32Array;
  private readonly slack: PartSlack[] = [];
  constructor(intents: readonly Intent[], latency: LatencyTable, legs: Leg[], slots: Slots, byId: Map<string, number>, partOf: Int32Array) {
    this.intents = intents;
    this.latency = latency;
    this.legs = legs;
    this.slots = slots;
    this.byId = byId;
    this.partOf = partOf;
    const n = intents.length;
    this.base = new Float64Array(legs.length);
    this.scale = new Float64Array(legs.length);
    this.rateDual = legs.map(() => new Map());
    this.excluded = new Uint8Array(n);
    this.forced = new Uint8Array(n);
    this.d = new Float64Array(n);
    this.legsOf = Array.from({ length: n }, () => []);
    legs.forEach((l, k) => this.legsOf[l.intent].push(k));
    // Per leg the counterpart regions it admits, with its soft penalty against each.
    const names = [...new Set(intents.map((it) => it.region))];
    this.regionPenalty = legs.map((l) => {
      const it = intents[l.intent];
      const m = new Map<string, number>();
      for (const r of names) {
        if (!withinCap(latency, it.region, it.maxLatencyMs, r)) continue;
        const p = softPenalty(latency, it, r);
        if (p < Infinity) m.set(r, p);
      }
      return m;
    });
  }

  /** The leaf's bound, or undefined (with errors) when it proves nothing. */
  check(part: number, leaf: TimeTree["leaves"][number], where: string, errors: string[]): number | undefined {
    const { intents, legs, slots, byId, partOf, excluded, forced, d } = this;
    const minOf = (i: number) => Math.min(intents[i].quantity, Math.max(0, intents[i].minQuantity ?? 0));
    const inPart = (id: unknown) => {
      const i = typeof id === "string" ? byId.get(id) : undefined;
      return i !== undefined && partOf[i] === part ? i : undefined;
    };
    const finite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
    const fixedIdx: number[] = [];
    const reset = () => {
      for (const i of fixedIdx) excluded[i] = forced[i] = 0;
      d.fill(0);
      for (const m of this.rateDual) m.clear();
    };
    const fail = (message: string): undefined => {
      errors.push(message);
      reset();
      return undefined;
    };
    if (typeof leaf !== "object" || leaf === null || !Array.isArray(leaf.fixed)) return fail(`${where}: a leaf lists its fixings and duals`);
    for (const [id, way] of leaf.fixed) {
      const i = inPart(id);
      if (i === undefined || excluded[i] || forced[i] || !(minOf(i) > rel(intents[i].quantity)))
        return fail(`${where}.fixed: ${id} is not an intent of this part with a minimum, or is fixed twice`);
      (way === 0 ? excluded : forced)[i] = 1;
      fixedIdx.push(i);
    }
    const duals = (leaf.duals ?? {}) as Record<string, unknown>;
    for (const [id, x] of Object.entries(duals)) {
      const i = inPart(id);
      if (i === undefined || !finite(x) || (x < -rel(intents[i].limitPrice) && !forced[i] && !excluded[i]))
        return fail(`${where}.duals.${id}: not an intent of this part, not finite, or negative without being forced`);
      d[i] = x;
    }
    let bound = 0;
    for (let i = 0; i < intents.length; i++) {
      if (partOf[i] !== part || excluded[i] || !(intents[i].quantity > 0)) continue;
      bound += d[i] < 0 && forced[i] ? minOf(i) * d[i] : intents[i].quantity * d[i];
    }
    const rates = this.readRates(part, leaf, where, errors);
    if (rates === undefined) {
      reset();
      return undefined;
    }
    bound += rates;
    // U or V per leg of the part not left out (NaN elsewhere: not in this leaf's LP).
    for (let k = 0; k < legs.length; k++) {
      const l = legs[k];
      const i = l.intent;
      this.base[k] = NaN;
      if (partOf[i] !== part || excluded[i]) continue;
      let v = d[i];
      const it = intents[i];
      if (it.swapFor) {
        const pi = own(leaf.potentials, it.id);
        if (!finite(pi)) return fail(`${where}.potentials.${it.id}: missing or not a finite number`);
        v = l.buy ? -pi : pi + d[i];
        this.scale[k] = Math.max(Math.abs(pi), Math.abs(d[i]), Math.abs(l.value));
      } else this.scale[k] = Math.max(Math.abs(d[i]), Math.abs(l.value));
      this.base[k] = l.buy ? v - l.value : v + l.value;
    }
    const forcedLegs: number[] = [];
    const free = Float64Array.from(this.base);
    for (let k = 0; k < legs.length; k++) if (forced[legs[k].intent] && free[k] === free[k]) (forcedLegs.push(k), (free[k] = NaN));
    const slacks = (this.slack[part] ??= new PartSlack(intents, this.latency, legs, slots, partOf, part));
    const slack = slacks.check(free, this.scale, this.rateDual);
    const pairErr = slack ?? this.forcedPairs(forcedLegs);
    if (pairErr) return fail(`${where}: ${pairErr.replace(/^certificate: /, "")}`);
    reset();
    return bound;
  }

  /** Rate duals of the leaf (into rateDual), returning their part of the bound, or undefined on a bad entry. */
  private readRates(part: number, leaf: TimeTree["leaves"][number], where: string, errors: string[]): number | undefined {
    const { intents, legs, slots } = this;
    let sum = 0;
    for (const field of ["rates", "takeRates"] as const) {
      const table = leaf[field];
      if (table === undefined) continue;
      for (const [id, perSlot] of Object.entries(table as Record<string, unknown>)) {
        const i = this.byId.get(id);
        const k = i === undefined || this.partOf[i] !== part ? -1 : (this.legsOf[i].find((k) => (intents[i].swapFor && legs[k].buy ? "takeRates" : "rates") === field) ?? -1);
        if (k < 0 || typeof perSlot !== "object" || perSlot === null) {
          errors.push(`${where}.${field}.${id}: no such rate-capped leg in this part`);
          return undefined;
        }
        const l = legs[k];
        for (const [start, r] of Object.entries(perSlot as Record<string, unknown>)) {
          const t = slots.at.get(Date.parse(start));
          if (l.rate === Infinity || t === undefined || t < l.first || t >= l.last || typeof r !== "number" || !Number.isFinite(r) || r < 0) {
            errors.push(`${where}.${field}.${id}.${start}: not a finite dual ≥ 0 of a capped leg's interval`);
            return undefined;
          }
          if (this.excluded[i!]) continue;
          this.rateDual[k].set(t, r);
          sum += r * l.rate * slotHours(slots, t);
        }
      }
    }
    return sum;
  }

  /** Forced legs pair by pair: against every leg of the leaf they may trade with (the pair gains, or a swap's). */
  private forcedPairs(forcedLegs: number[]): string | null {
    const { intents, legs, base, scale, rateDual, regionPenalty } = this;
    for (const k of forcedLegs) {
      const l = legs[k];
      const it = intents[l.intent];
      for (let m = 0; m < legs.length; m++) {
        const o = legs[m];
        if (o.buy === l.buy || o.resource !== l.resource || base[m] !== base[m]) continue;
        const other = intents[o.intent];
        if (other.agent === it.agent) continue;
        const pk = regionPenalty[k].get(other.region);
        const pm = regionPenalty[m].get(it.region);
        if (pk === undefined || pm === undefined) continue;
        const [wb, ws] = l.buy ? [worthOf(intents, l, pk), worthOf(intents, o, pm)] : [worthOf(intents, o, pm), worthOf(intents, l, pk)];
        if (!(wb >= ws)) continue; // a plain pair that loses is not in a forced intent's LP
        const common: number[] = [];
        if (windowed(l) || windowed(o)) for (let t = Math.max(l.first, o.first); t < Math.min(l.last, o.last); t++) common.push(t);
        else common.push(this.slots.count);
        for (const t of common) {
          const rk = rateDual[k].get(t) ?? 0;
          const rm = rateDual[m].get(t) ?? 0;
          const slack = base[k] + rk + pk + base[m] + rm + pm;
          if (slack < -rel(scale[k], scale[m], pk, pm, rk, rm)) return `duals violate U + r + V + r ≥ gain for ${it.id} (forced) and ${other.id} (by ${-slack})`;
        }
      }
    }
    return null;
  }
}

/**
 * dualSlack for one part, leaf after leaf: the (leg, hub key, slot, penalty) entries are listed once, and each
 * leaf only recomputes the least slack per key and side over two distinct agents, in typed arrays.
 */
class PartSlack {
  private readonly leg: Int32Array;
  private readonly key: Int32Array;
  private readonly slot: Int32Array;
  private readonly penalty: Float64Array;
  private readonly agent: Int32Array;
  private readonly keys: number;
  private readonly v1: Float64Array;
  private readonly t1: Float64Array;
  private readonly a1: Int32Array;
  private readonly v2: Float64Array;
  private readonly t2: Float64Array;
  constructor(intents: readonly Intent[], latency: LatencyTable, legs: Leg[], slots: Slots, partOf: Int32Array, part: number) {
    const agents = new Map<string, number>();
    this.agent = Int32Array.from(legs, (l) => agents.get(intents[l.intent].agent) ?? (agents.set(intents[l.intent].agent, agents.size), agents.size - 1));
    const dense = new Map<number, number>();
    const leg: number[] = [];
    const key: number[] = [];
    const slot: number[] = [];
    const penalty: number[] = [];
    eachHub(intents, latency, legs, slots, (k) => partOf[legs[k].intent] !== part, (k, raw, t, p) => {
      let d = dense.get(raw);
      if (d === undefined) dense.set(raw, (d = dense.size));
      leg.push(k), key.push(2 * d + (legs[k].buy ? 0 : 1)), slot.push(t), penalty.push(p);
    });
    this.leg = Int32Array.from(leg);
    this.key = Int32Array.from(key);
    this.slot = Int32Array.from(slot);
    this.penalty = Float64Array.from(penalty);
    this.keys = dense.size;
    this.v1 = new Float64Array(2 * this.keys);
    this.t1 = new Float64Array(2 * this.keys);
    this.a1 = new Int32Array(2 * this.keys);
    this.v2 = new Float64Array(2 * this.keys);
    this.t2 = new Float64Array(2 * this.keys);
  }

  /** null when every pair of legs with a base (NaN: not in this leaf's check) has slack ≥ 0. */
  check(base: Float64Array, scale: Float64Array, rateDual: Map<number, number>[]): string | null {
    const { v1, t1, a1, v2, t2 } = this;
    v1.fill(Infinity);
    v2.fill(Infinity);
    a1.fill(-1);
    for (let e = 0; e < this.leg.length; e++) {
      const k = this.leg[e];
      const b = base[k];
      if (b !== b) continue;
      const r = rateDual[k].size > 0 ? (rateDual[k].get(this.slot[e]) ?? 0) : 0;
      const p = this.penalty[e];
      const v = b + r + p;
      const tol = 1e-9 * Math.max(1, Math.abs(scale[k]), p, r);
      const at = this.key[e];
      const agent = this.agent[k];
      if (v < v1[at]) {
        if (agent !== a1[at]) [v2[at], t2[at]] = [v1[at], t1[at]];
        [v1[at], t1[at], a1[at]] = [v, tol, agent];
      } else if (agent !== a1[at] && v < v2[at]) [v2[at], t2[at]] = [v, tol];
    }
    for (let h = 0; h < this.keys; h++) {
      const b = 2 * h;
      const s = b + 1;
      if (v1[b] === Infinity || v1[s] === Infinity) continue;
      const slack = a1[b] !== a1[s] ? v1[b] + v1[s] : Math.min(v1[b] + v2[s], v2[b] + v1[s]);
      const tol = a1[b] !== a1[s] ? t1[b] + t1[s] : v1[b] + v2[s] <= v2[b] + v1[s] ? t1[b] + t2[s] : t2[b] + t1[s];
      if (slack < -tol) return `duals violate U + r + V + r ≥ gain for a compatible pair in an interval (by ${-slack})`;
    }
    return null;
  }
}
