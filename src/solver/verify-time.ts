// verify's checks for books with windows (CONTRACT.md section 2a; notes/solver.md, "Time (session 8)"): every fill's
// start/end on interval boundaries inside both legs' windows and not before now, rate caps per leg and interval, one
// price per plain buy–sell pair, and optimality over schedules from the certificate's duals (per intent, per capped
// leg and interval, per swap its potential). Time: legs × intervals × regions, plus fills × the intervals they span.
import type { Certificate, Fill, Intent, LatencyTable } from "../contract/schema.ts";
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
    if (!seenIntent.has(l.intent)) dualObjective += it.quantity * d;
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
  if (welfare < dualObjective - bTol && !(milp && (cert.gap ?? 0) >= dualObjective - welfare - bTol))
    errors.push(`not ${milp ? "proven " : ""}optimal over schedules: the dual bound ${dualObjective} exceeds the welfare ${welfare}${milp ? " and no such gap is stated" : ""}`);
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
  const regions = new Map<string, number>();
  const resources = new Map<string, number>();
  const id = (m: Map<string, number>, x: string) => m.get(x) ?? (m.set(x, m.size), m.size - 1);
  for (const l of legs) {
    id(regions, intents[l.intent].region);
    id(resources, l.resource);
  }
  const names = [...regions.keys()];
  const R = names.length;
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
  legs.forEach((l, k) => {
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
      for (const t of slotsOf) {
        const v = base[k] + (rateDual[k].get(t) ?? 0) + penalty;
        put(l.buy ? 0 : 1, ((t * resources.size + res) * R + rb) * R + rs, v, it.agent, rel(scale[k], penalty, rateDual[k].get(t) ?? 0));
      }
    }
  });
  for (const [key, b] of best[0]) {
    const s = best[1].get(key);
    if (!s) continue;
    const pairs: [number, number][] = b.a1 !== s.a1 ? [[b.v1 + s.v1, b.t1 + s.t1]] : [[b.v1 + s.v2, b.t1 + s.t2], [b.v2 + s.v1, b.t2 + s.t1]];
    for (const [slack, tol] of pairs) if (slack < -tol) return `certificate: duals violate U + r + V + r ≥ gain for a compatible pair in an interval (by ${-slack})`;
  }
  return null;
}
