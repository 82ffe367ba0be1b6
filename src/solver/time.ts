// Books with windows (CONTRACT.md section 2a; notes/solver.md, "Time (session 8)"): the time-expanded circulation
// (time-net.ts), branch and bound over minimums on it, fills per pair and run of equal rate, Nash prices per buy–sell
// pair (per trade for swaps) from priceAllocation, and the certificate verify-time.ts checks.
import type { Certificate, Fill, Intent, LatencyTable, SolveStatus } from "../contract/schema.ts";
import { MIN_LPS } from "./branch.ts";
import { priceIndexed, type AllocationFill } from "./price.ts";
import type { Budgets, SolveResult } from "./result.ts";
import { solveTimeLp, timeBook, type TimeBook, type TimeFixings, type TimeLp, type TimeTrade } from "./time-net.ts";
import { slotHours, timeLegs, type Slots } from "./time-slots.ts";

export { isTimed } from "./time-slots.ts";

const iso = (ms: number) => new Date(ms).toISOString();

/** A book with windows, solved whole (its components are found by solve()). */
export function solveTime(intents: readonly Intent[], latency: LatencyTable, now: number | undefined, budgets: Budgets, t0: number): SolveResult {
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
  const certificate = timeCertificate(book, root);
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

/**
 * Best-first branch and bound over minimums on the time-expanded LP (each intent left out, or forced to at least
 * its minimum), as swaps.ts does over the circulation; the first incumbent leaves out every violator until none is
 * left. A node met only through a losing trade is no incumbent; its bound stays open.
 */
function branchAndBound(
  book: TimeBook,
  min: Float64Array,
  root: TimeLp,
  { timeBudgetMs, nodeBudget }: Budgets,
  t0: number,
): { best: TimeLp; status: SolveStatus; bound: number } {
  const n = book.intents.length;
  const tol = 1e-9 * Math.max(1, Math.abs(root.welfare));
  const lp = (fixes: Int32Array) => {
    const fix: TimeFixings = { excluded: new Uint8Array(n), forced: new Uint8Array(n), min };
    for (let k = 0; k < fixes.length; k += 2) (fixes[k + 1] === 1 ? fix.excluded : fix.forced)[fixes[k]] = 1;
    return solveTimeLp(book, fix);
  };
  let best = root;
  const dropped: number[] = [];
  for (let v = violators(book, min, best.amount); v.length > 0; v = violators(book, min, best.amount)) {
    for (const i of v) dropped.push(i, 1);
    best = lp(Int32Array.from(dropped));
  }
  const open: { bound: number; fixes: Int32Array }[] = [];
  let unresolved = -Infinity;
  const branch = (sol: TimeLp, fixes: Int32Array, bound: number) => {
    const v = violators(book, min, sol.amount);
    if (v.length === 0) {
      if (!sol.rational) unresolved = Math.max(unresolved, bound);
      else if (sol.welfare > best.welfare) best = sol;
      return;
    }
    let pick = v[0];
    let score = -1;
    for (const i of v) {
      const s = Math.min(sol.amount[i], min[i] - sol.amount[i]) / min[i];
      if (s > score) [score, pick] = [s, i];
    }
    for (const kind of [1, 2]) open.push({ bound, fixes: Int32Array.from([...fixes, pick, kind]) });
  };
  branch(root, new Int32Array(0), root.welfare);
  let status: SolveStatus = "optimal";
  for (let nodes = 1; open.length > 0; nodes++) {
    let top = 0;
    for (let k = 1; k < open.length; k++) if (open[k].bound > open[top].bound) top = k;
    if (open[top].bound <= best.welfare + tol) {
      open.length = 0;
      break;
    }
    if (nodes >= nodeBudget) status = "node_budget";
    else if (nodes >= MIN_LPS && performance.now() - t0 > timeBudgetMs) status = "time_budget";
    if (status !== "optimal") break;
    const node = open[top];
    open[top] = open[open.length - 1];
    open.pop();
    const sol = lp(node.fixes);
    if (sol.infeasible || sol.welfare <= best.welfare + tol) continue;
    branch(sol, node.fixes, Math.min(node.bound, sol.welfare));
  }
  let bound = Math.max(best.welfare, unresolved);
  for (const node of open) bound = Math.max(bound, node.bound);
  if (status === "optimal" && unresolved > best.welfare + tol) status = "node_budget";
  return { best, status, bound };
}

/**
 * The trades as fills: a plain pair's units per slot, merged into runs of adjacent slots at one rate (one fill per
 * run, all at the pair's one price); a trade through swaps hop by hop, consecutively (as priceAllocation and
 * verify read trades). Prices come from priceAllocation on the allocation aggregated per pair (per trade for swaps).
 */
function timedFills(book: TimeBook, trades: TimeTrade[]): Fill[] {
  const { intents, legs, slots } = book;
  const pairs = new Map<string, { b: number; s: number; resource: string; perSlot: Map<number, number> }>();
  const swapTrades = new Map<string, TimeTrade>();
  for (const t of trades) {
    const h = t.hops[0];
    const b = legs[h.buy].intent;
    const s = legs[h.sell].intent;
    if (t.hops.length === 1 && !intents[b].swapFor && !intents[s].swapFor) {
      const key = `${b}:${s}`;
      let p = pairs.get(key);
      if (!p) pairs.set(key, (p = { b, s, resource: legs[h.buy].resource, perSlot: new Map() }));
      p.perSlot.set(h.slot, (p.perSlot.get(h.slot) ?? 0) + t.volume);
    } else {
      const key = t.hops.map((x) => `${x.buy}:${x.sell}:${x.slot}`).join(",");
      const same = swapTrades.get(key);
      if (same) same.volume += t.volume;
      else swapTrades.set(key, { hops: t.hops, volume: t.volume });
    }
  }
  // The allocation to price: one fill per plain pair, one per hop of each swap trade.
  const allocation: AllocationFill[] = [];
  const bIdx: number[] = [];
  const sIdx: number[] = [];
  const add = (b: number, s: number, resource: string, quantity: number) => {
    allocation.push({ buy: intents[b].id, sell: intents[s].id, resource, quantity });
    bIdx.push(b);
    sIdx.push(s);
  };
  for (const p of pairs.values()) {
    let q = 0;
    for (const x of p.perSlot.values()) q += x;
    add(p.b, p.s, p.resource, q);
  }
  for (const t of swapTrades.values()) for (const h of t.hops) add(legs[h.buy].intent, legs[h.sell].intent, legs[h.buy].resource, t.volume);
  const priced = priceIndexed(intents, allocation, Int32Array.from(bIdx), Int32Array.from(sIdx));
  const fills: Fill[] = [];
  let k = 0;
  for (const p of pairs.values()) {
    const f = priced[k++];
    for (const run of runs(slots, p.perSlot)) fills.push(timed(f, run.quantity, slots, run.from, run.to));
  }
  for (const t of swapTrades.values()) for (const h of t.hops) fills.push(timed(priced[k++], t.volume, slots, h.slot, h.slot + 1));
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
function timeCertificate(book: TimeBook, root: TimeLp): Certificate {
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
    const into = it.swapFor && l.buy ? takeRates : rates;
    (into[it.id] ??= {})[iso(slots.bounds[slot])] = dual;
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
