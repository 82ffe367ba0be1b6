// Books with windows (CONTRACT.md section 2a; notes/solver.md, "Time (session 8)"): the time-expanded circulation
// (time-net.ts), branch and bound over minimums on it, fills per pair and run of equal rate, Nash prices per buy–sell
// pair (swaps included: Nash on the net) from price.ts, and the certificate verify-time.ts checks.
import type { Certificate, Fill, Intent, LatencyTable, SolveStatus } from "../contract/schema.ts";
import { priceIndexed, type AllocationFill } from "./price.ts";
import type { Budgets, SolveResult } from "./result.ts";
import { branchOverMinimums } from "./minimums.ts";
import { timeComponents } from "./components.ts";
import { solveTimeLp, timeBook, type TimeBook, type TimeFixings, type TimeLp, type TimeTrade } from "./time-net.ts";
import { slotHours, timeLegs, windowed, type Slots } from "./time-slots.ts";
import { TimeWarm } from "./time-warm.ts";

export { isTimed } from "./time-slots.ts";

// Interval boundaries repeat across fills, rate duals and the solves of a continuous market: toISOString is the cost.
const isoOf = new Map<number, string>();
const iso = (ms: number): string => {
  let s = isoOf.get(ms);
  if (s === undefined) {
    if (isoOf.size >= 65_536) isoOf.clear();
    isoOf.set(ms, (s = new Date(ms).toISOString()));
  }
  return s;
};

/** LPs branch and bound solves before the time budget may stop it (fewer than the class path's: each is larger). */
const MIN_TIME_LPS = 8;

/**
 * A book with windows: each component (timeComponents: disjoint windows never join) on its own elementary
 * intervals, then merged; rate duals are listed per interval of the whole book's (a component's interval spans
 * one or more of them, each with the same dual).
 */
export function solveTime(intents: readonly Intent[], latency: LatencyTable, now: number | undefined, budgets: Budgets, t0: number, warmStart?: unknown): SolveResult {
  const earlier = TimeWarm.of(warmStart);
  const warm = earlier?.grown(intents, latency, now);
  const { comps, slots } = warm ?? coldComponents(intents, latency, now);
  const bounds = slots.bounds;
  const parts = comps.map((c) => {
    const sub = c.length === intents.length ? intents : Array.from(c, (i) => intents[i]);
    return solveTimeComponent(sub, latency, now, bounds, budgets, t0);
  });
  const fills: Fill[] = [];
  const certificate: Certificate = { duals: {}, bound: 0, lpBound: 0 };
  let welfare = 0;
  let gap = 0;
  let status: SolveStatus = "optimal";
  for (const p of parts) {
    fills.push(...p.fills);
    welfare += p.welfare;
    gap += p.gap ?? 0;
    if (status === "optimal") status = p.status;
    const c = p.certificate;
    Object.assign(certificate.duals, c.duals);
    certificate.bound += c.bound;
    certificate.lpBound = (certificate.lpBound as number) + (c.lpBound as number);
    if (c.gap) certificate.gap = (certificate.gap ?? 0) + c.gap;
    for (const field of ["rates", "takeRates", "potentials"] as const) if (c[field]) Object.assign((certificate[field] ??= {}) as object, c[field]);
  }
  // A swap in no component has no counterpart: any potential proves its (empty) part; verify wants one.
  for (const it of intents) if (it.swapFor && it.quantity > 0) ((certificate.potentials ??= {})[it.id] ??= 0);
  const result: SolveResult = { fills, welfare, status, solveMs: performance.now() - t0, certificate, warmStart: new TimeWarm(intents, latency, now, slots, comps, warm ? earlier : undefined) };
  if (status !== "optimal") result.gap = gap;
  return result;
}

function coldComponents(intents: readonly Intent[], latency: LatencyTable, now: number | undefined): { comps: Int32Array[]; slots: Slots } {
  const timed = timeLegs(intents, now);
  return { comps: timeComponents(intents, latency, now, timed), slots: timed.slots };
}

function solveTimeComponent(
  intents: readonly Intent[],
  latency: LatencyTable,
  now: number | undefined,
  bounds: number[],
  budgets: Budgets,
  t0: number,
): SolveResult {
  const { legs, slots } = timeLegs(intents, now);
  const book = timeBook(intents, latency, legs, slots);
  const root = solveTimeLp(book, null);
  const min = Float64Array.from(intents, (it) => {
    const m = Math.min(it.quantity, it.minQuantity ?? 0);
    return m > 1e-12 * Math.max(1, it.quantity) ? m : 0;
  });
  let best = root;
  let status: SolveStatus = "optimal";
  let bbBound = root.bound;
  if (violators(book, min, root.amount).length > 0) ({ best, status, bound: bbBound } = branchAndBound(book, min, root, budgets, t0));
  const fills = timedFills(book, best.trades);
  const certificate = timeCertificate(book, root, bounds);
  const welfare = best.welfare;
  certificate.bound = Math.max(certificate.bound, welfare);
  const lpBound = certificate.bound;
  if (lpBound > welfare + 1e-9 * Math.max(1, Math.abs(welfare))) certificate.gap = lpBound - welfare;
  const result: SolveResult = { fills, welfare, status, solveMs: performance.now() - t0, certificate };
  if (status !== "optimal") result.gap = Math.max(0, Math.min(lpBound, bbBound) - welfare);
  return result;
}

/** Intents with a minimum filled strictly between 0 and it. */
function violators(book: TimeBook, min: Float64Array, amount: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < min.length; i++) {
    if (min[i] === 0) continue;
    const x = amount[i];
    if (x > book.tiny && x < min[i] - 1e-12 * Math.max(1, book.intents[i].quantity)) out.push(i);
  }
  return out;
}

/** Branch and bound over minimums on the time-expanded LP (minimums.ts). */
function branchAndBound(book: TimeBook, min: Float64Array, root: TimeLp, budgets: Budgets, t0: number): { best: TimeLp; status: SolveStatus; bound: number } {
  const n = book.intents.length;
  const lp = (fixes: Int32Array) => {
    const fix: TimeFixings = { excluded: new Uint8Array(n), forced: new Uint8Array(n), min };
    for (let k = 0; k < fixes.length; k += 2) (fixes[k + 1] === 1 ? fix.excluded : fix.forced)[fixes[k]] = 1;
    return solveTimeLp(book, fix);
  };
  return branchOverMinimums(root, lp, (amount) => violators(book, min, amount), min, budgets, t0, MIN_TIME_LPS);
}

/**
 * The trades as fills: each buy–sell pair's units per slot (a trade through swaps adds to each of its hops' pairs),
 * merged into runs of adjacent slots at one rate, one fill per run, all at the pair's one price from
 * priceAllocation on the allocation aggregated per pair.
 */
function timedFills(book: TimeBook, trades: TimeTrade[]): Fill[] {
  const { intents, legs, slots } = book;
  const pairs = new Map<string, { b: number; s: number; resource: string; perSlot: Map<number, number> }>();
  for (const t of trades)
    for (const h of t.hops) {
      const b = legs[h.buy].intent;
      const s = legs[h.sell].intent;
      const key = `${b}:${s}`;
      let p = pairs.get(key);
      if (!p) pairs.set(key, (p = { b, s, resource: legs[h.buy].resource, perSlot: new Map() }));
      // Two windowless legs may meet in a finite slot of the network: for them that is untimed.
      const slot = windowed(legs[h.buy]) || windowed(legs[h.sell]) ? h.slot : slots.count;
      p.perSlot.set(slot, (p.perSlot.get(slot) ?? 0) + t.volume);
    }
  const allocation: AllocationFill[] = [];
  const bIdx: number[] = [];
  const sIdx: number[] = [];
  for (const p of pairs.values()) {
    let q = 0;
    for (const x of p.perSlot.values()) q += x;
    allocation.push({ buy: intents[p.b].id, sell: intents[p.s].id, resource: p.resource, quantity: q });
    bIdx.push(p.b);
    sIdx.push(p.s);
  }
  const priced = priceIndexed(intents, allocation, Int32Array.from(bIdx), Int32Array.from(sIdx), book.latency);
  const fills: Fill[] = [];
  let k = 0;
  for (const p of pairs.values()) {
    const f = priced[k++];
    for (const run of runs(slots, p.perSlot)) fills.push(timed(f, run.quantity, slots, run.from, run.to));
  }
  return fills;
}

/** A fill over slots from .. to − 1 (none: the untimed slot, no start/end). */
function timed(f: Fill, quantity: number, slots: Slots, from: number, to: number): Fill {
  const out: Fill = { buy: f.buy, sell: f.sell, resource: f.resource, quantity, price: f.price };
  if (from < slots.count) {
    out.start = iso(slots.bounds[from]);
    out.end = iso(slots.bounds[to]);
  }
  return out;
}

/** A pair's slots in time order, adjacent slots at one rate (relative 1e-9) merged into runs. */
function runs(slots: Slots, perSlot: Map<number, number>): { from: number; to: number; quantity: number }[] {
  const ts = [...perSlot.keys()].sort((a, b) => a - b);
  const out: { from: number; to: number; quantity: number; rate: number }[] = [];
  for (const t of ts) {
    const q = perSlot.get(t)!;
    if (t >= slots.count) {
      out.push({ from: t, to: t + 1, quantity: q, rate: NaN });
      continue;
    }
    const rate = q / slotHours(slots, t);
    const last = out[out.length - 1];
    if (last && last.to === t && Math.abs(last.rate - rate) <= 1e-9 * Math.max(Math.abs(rate), Math.abs(last.rate))) {
      last.to = t + 1;
      last.quantity += q;
    } else out.push({ from: t, to: t + 1, quantity: q, rate });
  }
  return out;
}

/**
 * The root LP's duals: per intent (positive ones), per rate-capped leg and slot (`rates`, keyed by the slot's start;
 * a swap's taken leg in `takeRates`), per swap its potential. They bound the relaxation; a branch-and-bound welfare
 * below that bound states its gap.
 */
function timeCertificate(book: TimeBook, root: TimeLp, bounds: number[]): Certificate {
  const { intents, legs, slots } = book;
  const duals: Record<string, number> = {};
  intents.forEach((it, i) => {
    if (root.duals[i] > 0) duals[it.id] = root.duals[i];
  });
  const rates: Record<string, Record<string, number>> = {};
  const takeRates: Record<string, Record<string, number>> = {};
  for (const { leg, slot, dual } of root.rateDuals) {
    const l = legs[leg];
    const it = intents[l.intent];
    const into = (it.swapFor && l.buy ? takeRates : rates)[it.id] ??= {};
    // The book's boundaries inside this interval (a sorted list: from the first at or after its start).
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bounds[mid] < slots.bounds[slot]) lo = mid + 1;
      else hi = mid;
    }
    for (let j = lo; j < bounds.length && bounds[j] < slots.bounds[slot + 1]; j++) into[iso(bounds[j])] = dual;
  }
  const certificate: Certificate = { duals, bound: root.bound, lpBound: root.bound };
  if (Object.keys(rates).length > 0) certificate.rates = rates;
  if (Object.keys(takeRates).length > 0) certificate.takeRates = takeRates;
  if (intents.some((it) => it.swapFor)) {
    const potentials: Record<string, number> = {};
    intents.forEach((it, i) => {
      if (it.swapFor && it.quantity > 0) potentials[it.id] = root.potentials.get(i) ?? 0;
    });
    certificate.potentials = potentials;
  }
  return certificate;
}
