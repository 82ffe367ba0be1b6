// Books with windows (CONTRACT.md section 2a; notes/solver.md, "Time (session 8)"): the time-expanded circulation
// (time-net.ts), branch and bound over minimums on it, fills per pair and run of equal rate, Nash prices per buy–sell
// pair (swaps included: Nash on the net) from price.ts, and the certificate verify-time.ts checks.
import type { Certificate, Fill, Intent, LatencyTable, SolveStatus, TimeTree } from "../contract/schema.ts";
import { pricesIndexed } from "./price.ts";
import type { Budgets, SolveResult } from "./result.ts";
import { timeBranchAndBound, timeViolators, type TimeLeaf } from "./time-branch.ts";
import { timeComponents } from "./components.ts";
import { solveTimeLp, timeBook, type TimeBook, type TimeLp, type TimeTrades } from "./time-net.ts";
import { memberLegs, slotHours, timeLegs, windowed, type Leg, type Slots } from "./time-slots.ts";
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

/**
 * A book with windows: each component (timeComponents: disjoint windows never join) on its own elementary
 * intervals, then merged; rate duals are listed per interval of the whole book's (a component's interval spans
 * one or more of them, each with the same dual).
 */
export function solveTime(
  intents: readonly Intent[],
  latency: LatencyTable,
  now: number | undefined,
  budgets: Budgets,
  t0: number,
  maxLeaves: number,
  warmStart?: unknown,
): SolveResult {
  const earlier = TimeWarm.of(warmStart);
  const warm = earlier?.grown(intents, latency, now);
  const { comps, slots, legs }: { comps: Int32Array[]; slots: Slots; legs?: Leg[] } = warm ?? coldComponents(intents, latency, now);
  const bounds = slots.bounds;
  // Every component writes its duals into this one record (copying them into one would cost more).
  const duals: Record<string, number> = {};
  const parts = comps.map((c) => {
    const sub = c.length === intents.length ? intents : Array.from(c, (i) => intents[i]);
    // A cold solve has the book's legs: each component's are copied from them, not parsed again.
    const timed = legs ? memberLegs(legs, c, now) : timeLegs(sub, now);
    return solveTimeComponent(sub, latency, timed, bounds, budgets, t0, maxLeaves, duals);
  });
  const fills: Fill[] = [];
  const certificate: Certificate = { duals, bound: 0, lpBound: 0 };
  let welfare = 0;
  let gap = 0;
  let status: SolveStatus = "optimal";
  for (const p of parts) {
    for (const f of p.fills) fills.push(f); // not push(...): a component may have more fills than a call takes arguments
    welfare += p.welfare;
    gap += p.gap ?? 0;
    if (status === "optimal") status = p.status;
    const c = p.certificate;
    certificate.bound += c.bound;
    certificate.lpBound = (certificate.lpBound as number) + (c.lpBound as number);
    if (c.gap) certificate.gap = (certificate.gap ?? 0) + c.gap;
    if (c.trees) (certificate.trees ??= []).push(...c.trees);
    for (const field of ["rates", "takeRates", "potentials"] as const) if (c[field]) Object.assign((certificate[field] ??= {}) as object, c[field]);
  }
  // A swap in no component has no counterpart: any potential proves its (empty) part; verify wants one.
  for (const it of intents) if (it.swapFor && it.quantity > 0) ((certificate.potentials ??= {})[it.id] ??= 0);
  const result: SolveResult = { fills, welfare, status, solveMs: performance.now() - t0, certificate, warmStart: new TimeWarm(intents, latency, now, slots, comps, warm ? earlier : undefined) };
  if (status !== "optimal") result.gap = gap;
  return result;
}

function coldComponents(intents: readonly Intent[], latency: LatencyTable, now: number | undefined): { comps: Int32Array[]; slots: Slots; legs: Leg[] } {
  const timed = timeLegs(intents, now);
  return { comps: timeComponents(intents, latency, now, timed), slots: timed.slots, legs: timed.legs };
}

function solveTimeComponent(
  intents: readonly Intent[],
  latency: LatencyTable,
  { legs, slots }: { legs: Leg[]; slots: Slots },
  bounds: number[],
  budgets: Budgets,
  t0: number,
  maxLeaves: number,
  duals: Record<string, number>,
): SolveResult {
  const book = timeBook(intents, latency, legs, slots);
  const root = solveTimeLp(book, null);
  const min = new Float64Array(intents.length);
  for (let i = 0; i < intents.length; i++) {
    const it = intents[i];
    const m = Math.min(it.quantity, it.minQuantity ?? 0);
    min[i] = m > 1e-12 * Math.max(1, it.quantity) ? m : 0;
  }
  const certificate = timeCertificate(book, root, bounds, duals);
  if (timeViolators(book, min, root.amount).length === 0) {
    const welfare = root.welfare;
    certificate.bound = Math.max(certificate.bound, welfare);
    if (certificate.bound > welfare + 1e-9 * Math.max(1, Math.abs(welfare))) certificate.gap = certificate.bound - welfare;
    return { fills: timedFills(book, root.trades), welfare: root.welfare, status: "optimal", solveMs: performance.now() - t0, certificate };
  }
  const { best, status, bound: searchBound, leaves } = timeBranchAndBound(book, min, root, budgets, t0, maxLeaves);
  const welfare = best.welfare;
  // With a listed tree the certificate proves its largest leaf bound; without (too large) the root LP's.
  let proven = Math.max(certificate.bound, welfare);
  if (leaves) {
    proven = welfare;
    for (const l of leaves) proven = Math.max(proven, l.bound);
    certificate.trees = [timeTree(book, leaves, bounds)];
  }
  certificate.bound = proven;
  if (proven > welfare + 1e-9 * Math.max(1, Math.abs(welfare))) certificate.gap = proven - welfare;
  // Optimal only where the certificate proves it (a leaf met only through a losing chain of swaps stays open).
  const claimed = status === "optimal" && certificate.gap !== undefined && leaves ? "node_budget" : status;
  const result: SolveResult = { fills: timedFills(book, best.trades), welfare, status: claimed, solveMs: performance.now() - t0, certificate };
  if (claimed !== "optimal") result.gap = Math.max(0, (claimed === status ? Math.min(proven, searchBound) : proven) - welfare);
  return result;
}

/** The component's tree for the certificate: its intents, and per leaf its fixings (0 out, 1 forced) and duals. */
function timeTree(book: TimeBook, leaves: TimeLeaf[], bounds: number[]): TimeTree {
  const { intents, legs, slots } = book;
  const stride = slots.count + 1;
  return {
    intents: intents.map((it) => it.id),
    leaves: leaves.map(({ fixes, duals: { d, pi, r } }) => {
      const out: TimeTree["leaves"][number] = { fixed: [], duals: {} };
      const excluded = new Set<number>();
      for (let k = 0; k < fixes.length; k += 2) {
        out.fixed.push([intents[fixes[k]].id, fixes[k + 1] === 1 ? 0 : 1]);
        if (fixes[k + 1] === 1) excluded.add(fixes[k]);
      }
      intents.forEach((it, i) => {
        if (excluded.has(i) || !(it.quantity > 0)) return;
        if (d[i] !== 0) out.duals[it.id] = d[i];
        if (it.swapFor) (out.potentials ??= {})[it.id] = pi[i];
      });
      const rateDuals: { leg: number; slot: number; dual: number }[] = [];
      for (const [key, dual] of r) {
        const leg = Math.floor(key / stride);
        if (dual > 0 && !excluded.has(legs[leg].intent)) rateDuals.push({ leg, slot: key - leg * stride, dual });
      }
      Object.assign(out, rateTables(book, rateDuals, bounds));
      return out;
    }),
  };
}
/**
 * The trades as fills: each buy–sell pair's units per slot (a trade through swaps adds to each of its hops' pairs),
 * merged into runs of adjacent slots at one rate, one fill per run, all at the pair's one price (pricesIndexed on
 * the units aggregated per pair, as priceAllocation prices a pair).
 */
function timedFills(book: TimeBook, trades: TimeTrades): Fill[] {
  const { intents, legs, slots } = book;
  const cells = pairCells(book, trades);
  const quantity = new Float64Array(cells.pairs);
  for (let p = 0; p < cells.pairs; p++) for (let c = cells.first[p]; c >= 0; c = cells.next[c]) quantity[p] += cells.quantity[c];
  const price = pricesIndexed(intents, quantity, cells.buy.subarray(0, cells.pairs), cells.sell.subarray(0, cells.pairs), book.latency);
  const fills: Fill[] = [];
  const run = new PairRuns(slots, cells.slot.length);
  for (let p = 0; p < cells.pairs; p++) {
    const buy = intents[cells.buy[p]].id;
    const sell = intents[cells.sell[p]].id;
    const resource = legs[cells.leg[p]].resource;
    run.clear();
    for (let c = cells.first[p]; c >= 0; c = cells.next[c]) run.add(cells.slot[c], cells.quantity[c]);
    run.sort();
    for (let j = 0; j < run.size; ) {
      const from = run.slot[j];
      const to = run.end(j);
      let quantity = 0;
      for (; j < run.size && run.slot[j] < to; j++) quantity += run.quantity[j];
      const fill: Fill = { buy, sell, resource, quantity, price: price[p] };
      // A fill over slots from .. to − 1 (none: the untimed slot, no start/end).
      if (from < slots.count) {
        fill.start = iso(slots.bounds[from]);
        fill.end = iso(slots.bounds[to]);
      }
      fills.push(fill);
    }
  }
  return fills;
}

/**
 * One pair's slots in time order, adjacent slots at one rate (relative 1e-9 of the run's first) forming runs.
 * Scratch arrays reused across pairs.
 */
class PairRuns {
  size = 0;
  readonly slot: Int32Array;
  readonly quantity: Float64Array;
  private readonly slots: Slots;
  constructor(slots: Slots, most: number) {
    this.slots = slots;
    this.slot = new Int32Array(most);
    this.quantity = new Float64Array(most);
  }
  clear(): void {
    this.size = 0;
  }
  add(slot: number, quantity: number): void {
    this.slot[this.size] = slot;
    this.quantity[this.size++] = quantity;
  }
  /** By slot (a pair's slots are distinct; insertion sort: a pair has few). */
  sort(): void {
    const { slot, quantity } = this;
    for (let j = 1; j < this.size; j++) {
      const t = slot[j];
      const q = quantity[j];
      let i = j - 1;
      for (; i >= 0 && slot[i] > t; i--) {
        slot[i + 1] = slot[i];
        quantity[i + 1] = quantity[i];
      }
      slot[i + 1] = t;
      quantity[i + 1] = q;
    }
  }
  /** The end (exclusive slot) of the run starting at entry j: the untimed slot is a run of its own. */
  end(j: number): number {
    const { slot, quantity, slots } = this;
    const t = slot[j];
    if (t >= slots.count) return t + 1;
    const rate = quantity[j] / slotHours(slots, t);
    let to = t + 1;
    for (let k = j + 1; k < this.size && slot[k] === to && to < slots.count; k++, to++) {
      const r = quantity[k] / slotHours(slots, to);
      if (!(Math.abs(rate - r) <= 1e-9 * Math.max(Math.abs(r), Math.abs(rate)))) break;
    }
    return to;
  }
}

/**
 * The trades' units per buy–sell pair (in order of first appearance, with a buyer leg for its resource) and per
 * slot: cells of a pair linked from first[p] through next in order of first appearance. A buyer's pairs, and a
 * pair's cells, are few: each is found by walking its list.
 */
function pairCells(book: TimeBook, trades: TimeTrades) {
  const { intents, legs, slots } = book;
  const { volume, hopStart, hopBuy, hopSell, hopSlot } = trades;
  const hops = hopBuy.length;
  const out = { pairs: 0, buy: new Int32Array(hops), sell: new Int32Array(hops), leg: new Int32Array(hops), first: new Int32Array(hops), last: new Int32Array(hops) };
  const cell = { count: 0, slot: new Int32Array(hops), quantity: new Float64Array(hops), next: new Int32Array(hops) };
  const pairsOf = new Int32Array(intents.length).fill(-1); // per buyer intent: its latest pair, linked by nextPair
  const nextPair = new Int32Array(hops);
  for (let k = 0; k < trades.count; k++)
    for (let j = hopStart[k]; j < hopStart[k + 1]; j++) {
      const b = legs[hopBuy[j]].intent;
      const s = legs[hopSell[j]].intent;
      let p = pairsOf[b];
      while (p >= 0 && out.sell[p] !== s) p = nextPair[p];
      if (p < 0) {
        p = out.pairs++;
        nextPair[p] = pairsOf[b];
        pairsOf[b] = p;
        out.buy[p] = b;
        out.sell[p] = s;
        out.leg[p] = hopBuy[j];
        out.first[p] = -1;
        out.last[p] = -1;
      }
      // Two windowless legs may meet in a finite slot of the network: for them that is untimed.
      const slot = windowed(legs[hopBuy[j]]) || windowed(legs[hopSell[j]]) ? hopSlot[j] : slots.count;
      let c = out.first[p];
      while (c >= 0 && cell.slot[c] !== slot) c = cell.next[c];
      if (c >= 0) {
        cell.quantity[c] += volume[k];
        continue;
      }
      const fresh = cell.count++;
      cell.slot[fresh] = slot;
      cell.quantity[fresh] = volume[k];
      cell.next[fresh] = -1;
      if (out.last[p] >= 0) cell.next[out.last[p]] = fresh;
      else out.first[p] = fresh;
      out.last[p] = fresh;
    }
  return { ...out, slot: cell.slot, quantity: cell.quantity, next: cell.next };
}

/**
 * Rate duals as the certificate lists them: per intent id and the start of each of the book's intervals the slot
 * spans (a swap's taken leg in `takeRates`, every other leg in `rates`); empty tables left out.
 */
type RateTables = { rates?: Record<string, Record<string, number>>; takeRates?: Record<string, Record<string, number>> };

function rateTables(book: TimeBook, rateDuals: { leg: number; slot: number; dual: number }[], bounds: number[]): RateTables {
  const { intents, legs, slots } = book;
  const rates: Record<string, Record<string, number>> = {};
  const takeRates: Record<string, Record<string, number>> = {};
  for (const { leg, slot, dual } of rateDuals) {
    const l = legs[leg];
    const it = intents[l.intent];
    const into = ((it.swapFor && l.buy ? takeRates : rates)[it.id] ??= {});
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
  const out: RateTables = {};
  if (Object.keys(rates).length > 0) out.rates = rates;
  if (Object.keys(takeRates).length > 0) out.takeRates = takeRates;
  return out;
}

/**
 * The root LP's duals: per intent (positive ones, written into `duals`), per rate-capped leg and slot (`rates`, keyed
 * by the slot's start; a swap's taken leg in `takeRates`), per swap its potential. They bound the relaxation; a
 * branch-and-bound welfare below that bound states its gap.
 */
function timeCertificate(book: TimeBook, root: TimeLp, bounds: number[], duals: Record<string, number>): Certificate {
  const { intents } = book;
  for (let i = 0; i < intents.length; i++) if (root.duals[i] > 0) duals[intents[i].id] = root.duals[i];
  const certificate: Certificate = { duals, bound: root.bound, lpBound: root.bound, ...rateTables(book, root.rateDuals, bounds) };
  let potentials: Record<string, number> | undefined;
  for (let i = 0; i < intents.length; i++) {
    const it = intents[i];
    if (!it.swapFor) continue;
    potentials ??= {};
    if (it.quantity > 0) potentials[it.id] = root.potentials.get(i) ?? 0;
  }
  if (potentials) certificate.potentials = potentials;
  return certificate;
}
