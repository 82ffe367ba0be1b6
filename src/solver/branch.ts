// One component without swaps: the class LP (network simplex over classes), best-first branch and bound over
// minimums with its checkable tree, the fills split back to intents, duals and the certificate (notes/solver.md,
// "How it works").
import type { Certificate, Intent, SolveStatus } from "../contract/schema.ts";
import type { ClassIndex, IntentClass } from "./classes.ts";
import { Arena } from "./arena.ts";
import { priorityWeight, solveClassSimplex, type ClassProblem } from "./simplex.ts";
import { priceIndexed, type AllocationFill } from "./price.ts";
import type { Budgets, SolveResult } from "./result.ts";

/**
 * Relative size below which quantities are numerical noise (documented in notes/solver.md): an intent is full or
 * at its minimum within QTY_NOISE × max(1, its own quantity); a fill or flow counts above the component's noise,
 * QTY_NOISE × its largest quantity, but never above 1e-6 of its smallest (a unit fill of a 1e12 buyer counts).
 */
const QTY_NOISE = 1e-12;

/** Relative per-unit gain below which an augmenting path is a tie and not taken. */
const GAIN_NOISE = 1e-12;

/**
 * LPs branch and bound always solves before the wall-clock budget may stop it: the budget bounds large searches, and
 * a process descheduled for 40 ms must not give up a three-intent one with the empty allocation.
 */
export const MIN_LPS = 64;

/** Per-intent facts in flat arrays, shared by every LP solved for one instance. */
export interface Instance {
  intents: readonly Intent[];
  idx: ClassIndex;
  price: Float64Array;
  qty: Float64Array;
  /** Effective minimum fill (0 when none or already met). */
  minQty: Float64Array;
  /** Per intent: how close to full or to its minimum counts as there (relative to its own quantity). */
  tiny: Float64Array;
  /** The flow or fill below which it is noise (this component's numbers, see QTY_NOISE). */
  filled: number;
  gainEps: number;
  /** Per intent −1 high, +1 low, 0 normal; null when no intent is high or low (the LPs then skip `preferRanks`). */
  rank: Int8Array | null;
  priceMin: number;
  priceMax: number;
}

/** An LP solution at intent level: per-intent filled amounts and class-edge flows. */
export interface LpSolution {
  amount: Float64Array;
  edgeFlow: Float64Array;
  welfare: number;
  /** Forced minimum fills that could not be met: the branch is infeasible. */
  infeasible: boolean;
  /** Per class, its intents in the order the flow fills them (forced minimums first). */
  buyOrder: Int32Array[];
  sellOrder: Int32Array[];
  /** The classes this solution's flows refer to (split at forced intents' limits in branch and bound). */
  idx: ClassIndex;
  /** Potentials of the class circulation (source 0, sink 1, buyer classes, seller classes). */
  pi: Float64Array;
}

/**
 * One component without swaps whose numbers doubles resolve: the class LP, branch and bound when its optimum fills an
 * intent between 0 and its minimum, fills, Nash prices and the certificate; its positive duals are written into
 * `duals` (shared by the components, and its certificate's `duals`).
 */
export function solvePlainComponent(
  intents: readonly Intent[],
  inst: Instance,
  { timeBudgetMs, nodeBudget }: Budgets,
  maxLeaves: number,
  t0: number,
  duals: Record<string, number>,
): SolveResult {
  const root = solveLp(inst, null, null);
  const rootPrices = classPrices(inst, root);
  const rootDuals = intentDuals(inst, rootPrices);
  let lpBound = 0;
  for (let i = 0; i < intents.length; i++) if (inst.idx.classOf[i] >= 0) lpBound += inst.qty[i] * rootDuals[i];
  lpBound = Math.max(lpBound, root.welfare);

  let best = root;
  let status: SolveStatus = "optimal";
  let gap: number | undefined;
  let provenBound = lpBound;
  let tree: Leaf[] | null | undefined; // undefined: no branch and bound; null: the tree was too large to list
  if (violators(inst, root.amount).length > 0) {
    const bb = branchAndBound(inst, root, t0, timeBudgetMs, nodeBudget, maxLeaves);
    best = bb.best;
    status = bb.status;
    tree = bb.tree;
    provenBound = Math.min(lpBound, bb.bound);
    if (tree) {
      let treeBound = -Infinity;
      for (const l of tree) treeBound = Math.max(treeBound, l.bound);
      provenBound = Math.max(best.welfare, treeBound); // what verify can check
    }
    if (status !== "optimal") gap = Math.max(0, provenBound - best.welfare);
  }

  const ranking = tree !== undefined ? new Ranking(intents, inst.qty) : null;
  const fills = ranking?.active ? favourPriority(inst, toFills(inst, best), ranking) : toFills(inst, best);
  let welfare = 0;
  for (const f of fills) welfare += f.gain * f.quantity;
  const out = priceIndexed(intents, ...indexedFills(intents, fills));
  // Only positive duals are listed (an intent not listed has dual 0): most of a settled book's intents are unfilled.
  for (let i = 0; i < intents.length; i++) if (rootDuals[i] > 0 && inst.idx.classOf[i] >= 0) duals[intents[i].id] = rootDuals[i];
  const certificate: Certificate = {
    duals,
    // LP (or an integral root): the dual objective; with a listed tree: its largest leaf bound; without (too large):
    // the bound branch and bound proved to itself (the LP duals then bound only the relaxation, see `gap` below).
    bound: tree === undefined ? lpBound : tree ? provenBound : status !== "optimal" ? provenBound : welfare,
    lpBound,
  };
  const claimTol = 1e-9 * Math.max(1, Math.abs(welfare));
  if (tree) {
    // Branch and bound, checkable: each leaf's fixings (0: left out, 1: at least its minimum) and LP duals.
    certificate.tree = tree.map((l) => {
      const fixed: [string, 0 | 1][] = [];
      for (let k = 0; k < l.fixes.length; k += 2) fixed.push([intents[l.fixes[k]].id, l.fixes[k + 1] === 1 ? 0 : 1]);
      const d: Record<string, number> = {};
      for (let i = 0; i < l.duals.length; i++) if (l.duals[i] === l.duals[i] && l.duals[i] !== 0) d[intents[i].id] = l.duals[i];
      return { fixed, duals: d };
    });
    if (provenBound > welfare + claimTol) certificate.gap = provenBound - welfare;
  } else if (tree === null && lpBound > welfare + claimTol) {
    // The tree was too large to list: the certificate proves only the root LP bound, and says so with its gap.
    certificate.gap = lpBound - welfare;
  }
  const result: SolveResult = { fills: out, welfare, status, solveMs: performance.now() - t0, certificate };
  if (gap !== undefined) result.gap = gap;
  return result;
}

/** Fills by intent index as priceIndexed takes them: the allocation, and its buyers and sellers. */
export function indexedFills(intents: readonly Intent[], fills: readonly { b: number; s: number; quantity: number }[]): [AllocationFill[], Int32Array, Int32Array] {
  const b = new Int32Array(fills.length);
  const s = new Int32Array(fills.length);
  const allocation = fills.map((f, k) => {
    b[k] = f.b;
    s[k] = f.s;
    return { buy: intents[f.b].id, sell: intents[f.s].id, resource: intents[f.b].resource, quantity: f.quantity };
  });
  return [allocation, b, s];
}

export function prepare(intents: readonly Intent[], idx: ClassIndex): Instance {
  const n = intents.length;
  const arena = new Arena(4 * n, 0);
  const price = arena.f64(n);
  const qty = arena.f64(n);
  const minQty = arena.f64(n);
  const tiny = arena.f64(n);
  let qMax = 0;
  let pMin = Infinity;
  let pMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const it = intents[i];
    price[i] = it.limitPrice;
    qty[i] = it.quantity > 0 ? it.quantity : 0;
    qMax = Math.max(qMax, qty[i]);
    pMin = Math.min(pMin, it.limitPrice);
    pMax = Math.max(pMax, it.limitPrice);
  }
  let qMin = Infinity;
  for (let i = 0; i < n; i++) {
    if (qty[i] > 0) qMin = Math.min(qMin, qty[i]);
    tiny[i] = QTY_NOISE * Math.max(1, qty[i]);
    const m = intents[i].minQuantity ?? 0;
    minQty[i] = m > tiny[i] ? Math.min(m, qty[i]) : 0;
  }
  if (n === 0) pMin = pMax = 0;
  const rank = Int8Array.from(intents, priorityWeight);
  return {
    intents, idx, price, qty, minQty, tiny,
    filled: Math.min(QTY_NOISE * Math.max(1, qMax), 1e-6 * qMin),
    gainEps: GAIN_NOISE * Math.max(1, Math.abs(pMin), Math.abs(pMax)),
    rank: rank.some((w) => w !== 0) ? rank : null,
    priceMin: pMin, priceMax: pMax,
  };
}

/**
 * The allocation LP with some intents excluded (z = 0) and some forced to fill at least their minimum (z = 1).
 * A forced minimum is a segment carrying a bonus larger than any dual price, so it fills first when it can
 * (exact penalty); if it cannot fill, the branch is infeasible.
 */
function solveLp(inst: Instance, excluded: Uint8Array | null, forced: Uint8Array | null): LpSolution {
  const { price, qty, minQty } = inst;
  const idx = forced ? splitForForced(inst, excluded, forced) : inst.idx;
  const nb = idx.buy.length;
  const ns = idx.sell.length;
  const bonus = forced ? (4 + nb + ns) * (inst.priceMax - inst.priceMin + 1) : 0;
  const buyOrder: Int32Array[] = [];
  const sellOrder: Int32Array[] = [];
  const isForced = (i: number) => forced !== null && forced[i] === 1 && minQty[i] > 0;
  const build = (classes: typeof idx.buy, sign: number, orders: Int32Array[]) => {
    let size = 0;
    for (const c of classes) size += c.members.length;
    if (forced) size *= 2; // a forced intent has two pieces
    const arena = new Arena(2 * size, size + classes.length + 1);
    const segPrice = arena.f64(size);
    const segCap = arena.f64(size);
    const segIntent = arena.i32(size);
    const start = arena.i32(classes.length + 1);
    let k = 0;
    for (let a = 0; a < classes.length; a++) {
      const members = classes[a].members;
      start[a] = k;
      if (!forced && !excluded) {
        // The root LP: one piece per member (members all have positive quantity), filled in member order.
        for (let m = 0; m < members.length; m++) {
          const i = members[m];
          segPrice[k] = price[i];
          segCap[k] = qty[i];
          segIntent[k++] = i;
        }
        orders.push(members);
        continue;
      }
      const order: number[] = [];
      for (const i of members) {
        if (isForced(i) && !(excluded && excluded[i])) {
          segPrice[k] = price[i] + sign * bonus;
          segCap[k] = minQty[i];
          segIntent[k++] = i;
          order.push(i);
        }
      }
      for (const i of members) {
        if (excluded && excluded[i]) continue;
        const cap = isForced(i) ? qty[i] - minQty[i] : qty[i];
        if (cap > 0) {
          segPrice[k] = price[i];
          segCap[k] = cap;
          segIntent[k++] = i;
          if (!isForced(i)) order.push(i);
        }
      }
      orders.push(new Int32Array(order));
    }
    start[classes.length] = k;
    return { start, segPrice: segPrice.subarray(0, k), segCap: segCap.subarray(0, k), segIntent };
  };
  const B = build(idx.buy, +1, buyOrder);
  const S = build(idx.sell, -1, sellOrder);
  const problem: ClassProblem = {
    nb, ns,
    edgeBuy: idx.edgeBuy, edgeSell: idx.edgeSell, buyAdj: idx.buyAdj, sellAdj: idx.sellAdj,
    buySegStart: B.start, buySegPrice: B.segPrice, buySegCap: B.segCap,
    sellSegStart: S.start, sellSegPrice: S.segPrice, sellSegCap: S.segCap,
  };
  const rank = inst.rank;
  if (rank) {
    // Priority across classes: a segment weighs its intent's rank (simplex.ts `preferRanks`).
    problem.buySegWeight = Int8Array.from(B.segPrice, (_, k) => rank[B.segIntent[k]]);
    problem.sellSegWeight = Int8Array.from(S.segPrice, (_, k) => rank[S.segIntent[k]]);
  }
  const flow = solveClassSimplex(problem, inst.gainEps);
  const amount = new Float64Array(inst.intents.length);
  let infeasible = false;
  let welfare = 0;
  const collect = (used: Float64Array, seg: typeof B, sign: number) => {
    for (let k = 0; k < used.length; k++) {
      const i = seg.segIntent[k];
      amount[i] += used[k];
      welfare += sign * price[i] * used[k];
    }
    if (forced) {
      // A forced segment sits first in its class; it must be (numerically) full.
      for (let k = 0; k < used.length; k++) {
        const i = seg.segIntent[k];
        if (forced[i] && seg.segPrice[k] !== price[i] && used[k] < seg.segCap[k] - inst.tiny[i]) infeasible = true;
      }
    }
  };
  collect(flow.buySegUsed, B, +1);
  collect(flow.sellSegUsed, S, -1);
  return { amount, edgeFlow: flow.edgeFlow, welfare, infeasible, buyOrder, sellOrder, idx, pi: flow.pi! };
}

/**
 * Classes for a branch-and-bound node with forced minimums. A forced intent's bonus makes the LP route it like the
 * dearest buyer (cheapest seller), which could pair it with a counterpart beyond its limit; individual rationality
 * forbids such pairs. So each forced intent gets a class of its own, every class on the other side is split at
 * the forced intents' limits into price bands, and a forced intent is joined only to bands (and forced
 * counterparts) entirely within its limit. Plain bands keep their class's compatibility; their pairs stay rational
 * by complementary slackness (as in the plain LP).
 */
function splitForForced(inst: Instance, excluded: Uint8Array | null, forced: Uint8Array): ClassIndex {
  const { idx, price, minQty } = inst;
  const n = inst.intents.length;
  const isForced = (i: number) => forced[i] === 1 && minQty[i] > 0 && !(excluded && excluded[i]);
  const ns0 = idx.sell.length;
  const edgeSet = new Set<number>();
  for (let e = 0; e < idx.edgeBuy.length; e++) edgeSet.add(idx.edgeBuy[e] * ns0 + idx.edgeSell[e]);
  // Thresholds per class: the limits of forced counterparts compatible with it.
  const buyCuts: number[][] = idx.buy.map(() => []);
  const sellCuts: number[][] = idx.sell.map(() => []);
  for (let i = 0; i < n; i++) {
    if (!isForced(i)) continue;
    const c = idx.classOf[i];
    if (inst.intents[i].side === "buy") for (const e of idx.buyAdj[c]) sellCuts[idx.edgeSell[e]].push(price[i]);
    else for (const e of idx.sellAdj[c]) buyCuts[idx.edgeBuy[e]].push(price[i]);
  }
  type Sub = { parent: number; c: IntentClass; lo: number; hi: number; forced: number };
  const split = (classes: IntentClass[], cuts: number[][], side: "buy" | "sell"): Sub[] => {
    const out: Sub[] = [];
    classes.forEach((c, k) => {
      const cs = [...new Set(cuts[k])].sort((a, b) => a - b);
      // Band of a price: how many cuts it reaches (a buyer at b reaches cut c when b ≥ c; a seller at c' when c' ≤ c).
      const band = (p: number) => {
        let j = 0;
        if (side === "buy") while (j < cs.length && p >= cs[j]) j++;
        else while (j < cs.length && p > cs[j]) j++;
        return j;
      };
      const groups = new Map<number, number[]>();
      for (const i of c.members) {
        if (isForced(i)) {
          out.push({ parent: k, c: { ...c, members: new Int32Array([i]) }, lo: price[i], hi: price[i], forced: i });
          continue;
        }
        const b = band(price[i]);
        let g = groups.get(b);
        if (!g) groups.set(b, (g = []));
        g.push(i);
      }
      for (const g of groups.values()) {
        let lo = Infinity;
        let hi = -Infinity;
        for (const i of g) {
          lo = Math.min(lo, price[i]);
          hi = Math.max(hi, price[i]);
        }
        out.push({ parent: k, c: { ...c, members: new Int32Array(g) }, lo, hi, forced: -1 });
      }
    });
    return out;
  };
  const buy = split(idx.buy, buyCuts, "buy");
  const sell = split(idx.sell, sellCuts, "sell");
  const classOf = new Int32Array(n).fill(-1);
  buy.forEach((b, k) => b.c.members.forEach((i) => (classOf[i] = k)));
  sell.forEach((x, k) => x.c.members.forEach((i) => (classOf[i] = k)));
  const sellByParent: number[][] = idx.sell.map(() => []);
  sell.forEach((x, k) => sellByParent[x.parent].push(k));
  const eb: number[] = [];
  const es: number[] = [];
  const buyAdj: number[][] = buy.map(() => []);
  const sellAdj: number[][] = sell.map(() => []);
  buy.forEach((A, a) => {
    for (let x0 = 0; x0 < ns0; x0++) {
      if (!edgeSet.has(A.parent * ns0 + x0)) continue;
      for (const x of sellByParent[x0]) {
        const X = sell[x];
        // A forced buyer only meets sellers all within its limit; a forced seller only buyers all within its.
        if (A.forced >= 0 && X.hi > price[A.forced]) continue;
        if (X.forced >= 0 && A.lo < price[X.forced]) continue;
        buyAdj[a].push(eb.length);
        sellAdj[x].push(eb.length);
        eb.push(a);
        es.push(x);
      }
    }
  });
  return {
    buy: buy.map((b) => b.c),
    sell: sell.map((x) => x.c),
    classOf,
    edgeBuy: new Int32Array(eb),
    edgeSell: new Int32Array(es),
    buyAdj: buyAdj.map((l) => new Int32Array(l)),
    sellAdj: sellAdj.map((l) => new Int32Array(l)),
  };
}

/** Intents whose fill lies strictly between 0 and their minimum. */
export function violators(inst: Instance, amount: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < inst.intents.length; i++) {
    const m = inst.minQty[i];
    if (m > 0) {
      const x = amount[i];
      if (x > inst.filled && x < m - inst.tiny[i]) out.push(i);
    }
  }
  return out;
}

interface RawFill {
  b: number;
  s: number;
  quantity: number;
  gain: number;
}

/** Splits class-edge flows into intent pairs, walking each class's intents in fill order. */
function toFills(inst: Instance, sol: LpSolution): RawFill[] {
  const idx = sol.idx;
  const arena = new Arena(sol.amount.length, idx.buy.length + idx.sell.length);
  const rem = arena.f64(sol.amount.length);
  rem.set(sol.amount);
  const buyPtr = arena.i32(idx.buy.length);
  const sellPtr = arena.i32(idx.sell.length);
  const fills: RawFill[] = [];
  for (let e = 0; e < idx.edgeBuy.length; e++) {
    let f = sol.edgeFlow[e];
    if (!(f > inst.filled)) continue;
    const a = idx.edgeBuy[e];
    const x = idx.edgeSell[e];
    const bo = sol.buyOrder[a];
    const so = sol.sellOrder[x];
    while (f > inst.filled) {
      while (buyPtr[a] < bo.length && !(rem[bo[buyPtr[a]]] > inst.filled)) buyPtr[a]++;
      while (sellPtr[x] < so.length && !(rem[so[sellPtr[x]]] > inst.filled)) sellPtr[x]++;
      if (buyPtr[a] >= bo.length || sellPtr[x] >= so.length) break;
      const i = bo[buyPtr[a]];
      const j = so[sellPtr[x]];
      const q = Math.min(f, rem[i], rem[j]);
      fills.push({ b: i, s: j, quantity: q, gain: inst.price[i] - inst.price[j] });
      rem[i] -= q;
      rem[j] -= q;
      f -= q;
    }
  }
  return fills;
}

/**
 * One price level per class such that u = max(0, b − P_A) and v = max(0, P_X − c) are optimal duals:
 * P_A ≤ P_X on compatible pairs (equal where they trade), filled intents inside their level, unfilled outside.
 * The feasible levels form a polyhedron; we take the midpoint of its least and greatest points.
 */
function classPrices(inst: Instance, sol: LpSolution): { buy: Float64Array; sell: Float64Array } {
  const { idx, price, qty, tiny } = inst;
  const nb = idx.buy.length;
  const ns = idx.sell.length;
  const arena = new Arena(5 * (nb + ns), 0);
  const lo = arena.f64(nb + ns).fill(inst.priceMin);
  const hi = arena.f64(nb + ns).fill(inst.priceMax);
  idx.buy.forEach((c, a) => {
    for (const i of c.members) {
      const x = sol.amount[i];
      if (x < qty[i] - tiny[i]) lo[a] = Math.max(lo[a], price[i]); // not full: b ≤ P
      if (x > inst.filled) hi[a] = Math.min(hi[a], price[i]); // trades: b ≥ P
    }
  });
  idx.sell.forEach((c, x) => {
    for (const j of c.members) {
      const y = sol.amount[j];
      if (y > inst.filled) lo[nb + x] = Math.max(lo[nb + x], price[j]); // trades: c ≤ P
      if (y < qty[j] - tiny[j]) hi[nb + x] = Math.min(hi[nb + x], price[j]); // not full: c ≥ P
    }
  });
  // Difference constraints P_u ≤ P_v: (A → X) always, (X → A) where the pair trades.
  const from: number[] = [];
  const to: number[] = [];
  for (let e = 0; e < idx.edgeBuy.length; e++) {
    from.push(idx.edgeBuy[e]);
    to.push(nb + idx.edgeSell[e]);
    if (sol.edgeFlow[e] > inst.filled) {
      from.push(nb + idx.edgeSell[e]);
      to.push(idx.edgeBuy[e]);
    }
  }
  const least = arena.f64(nb + ns);
  least.set(lo);
  const greatest = arena.f64(nb + ns);
  greatest.set(hi);
  const V = nb + ns;
  // Bellman-Ford style passes; zero-weight cycles converge, so a pass cap only guards against numerical noise.
  for (let pass = 0, changed = true; changed && pass <= V + 1; pass++) {
    changed = false;
    for (let k = 0; k < from.length; k++) {
      if (least[to[k]] < least[from[k]]) {
        least[to[k]] = least[from[k]];
        changed = true;
      }
      if (greatest[from[k]] > greatest[to[k]]) {
        greatest[from[k]] = greatest[to[k]];
        changed = true;
      }
    }
  }
  const buy = arena.f64(nb);
  const sell = arena.f64(ns);
  for (let v = 0; v < V; v++) {
    const mid = least[v] === greatest[v] ? least[v] : (least[v] + greatest[v]) / 2;
    if (v < nb) buy[v] = mid;
    else sell[v - nb] = mid;
  }
  return { buy, sell };
}

function intentDuals(inst: Instance, levels: { buy: Float64Array; sell: Float64Array }): Float64Array {
  const { idx, price } = inst;
  const d = new Float64Array(inst.intents.length);
  for (let i = 0; i < d.length; i++) {
    const c = idx.classOf[i];
    if (c < 0) continue;
    d[i] =
      inst.intents[i].side === "buy"
        ? Math.max(0, price[i] - levels.buy[c])
        : Math.max(0, levels.sell[c] - price[i]);
  }
  return d;
}

/**
 * A feasible solution from a relaxed one without solving: remove every fill of an intent below its minimum,
 * repeatedly (removals can push counterparties below theirs). The intents that still trade are a subset of those
 * that traded, so any pairing within a class pair stays individually rational.
 */
function cascade(inst: Instance, sol: LpSolution): LpSolution {
  const { minQty, tiny } = inst;
  const idx = sol.idx;
  const fills = toFills(inst, sol);
  const amount = sol.amount.slice();
  const byIntent = new Map<number, number[]>();
  fills.forEach((f, k) => {
    for (const i of [f.b, f.s]) {
      let l = byIntent.get(i);
      if (!l) byIntent.set(i, (l = []));
      l.push(k);
    }
  });
  const removed = new Uint8Array(fills.length);
  const queue = violators(inst, sol.amount);
  while (queue.length > 0) {
    const i = queue.pop()!;
    for (const k of byIntent.get(i) ?? []) {
      if (removed[k]) continue;
      removed[k] = 1;
      const f = fills[k];
      for (const j of [f.b, f.s]) {
        const before = amount[j];
        amount[j] -= f.quantity;
        if (amount[j] < inst.filled) amount[j] = 0;
        if (minQty[j] > 0 && before >= minQty[j] - tiny[j] && amount[j] > inst.filled && amount[j] < minQty[j] - tiny[j]) queue.push(j);
      }
    }
  }
  const edgeOf = new Map<number, number>();
  for (let e = 0; e < idx.edgeBuy.length; e++) edgeOf.set(idx.edgeBuy[e] * idx.sell.length + idx.edgeSell[e], e);
  const edgeFlow = new Float64Array(idx.edgeBuy.length);
  let welfare = 0;
  fills.forEach((f, k) => {
    if (removed[k]) return;
    edgeFlow[edgeOf.get(idx.classOf[f.b] * idx.sell.length + idx.classOf[f.s])!] += f.quantity;
    welfare += f.gain * f.quantity;
  });
  return { ...sol, amount, edgeFlow, welfare };
}

/**
 * A leaf's LP fills a class's members of one limit high first, but a forced intent's units above its minimum sit in
 * a class of its own (splitForForced), so the LP may fill them ahead of a better-ranked intent of the same class and
 * limit. Intents of one class and limit have the same counterparts and gains, so their units may be shared out
 * anew without changing the welfare, rationality or prices: per such group, the amounts of the best rank (each at 0
 * or between its minimum and its quantity; `relaxed`: minimums ignored, as for a relaxation's bound), and the
 * group's fills split among them again.
 */
export function favourPriority(inst: Instance, fills: RawFill[], ranking: Ranking, relaxed = false): RawFill[] {
  let out = fills;
  for (const buy of [true, false]) out = regroup(inst, out, ranking, buy, relaxed);
  return out;
}

/** Groups with more intents that have minimums than this keep their amounts (the search enumerates them). */
const MAX_GROUP_MINIMUMS = 8;

function regroup(inst: Instance, fills: RawFill[], ranking: Ranking, buy: boolean, relaxed: boolean): RawFill[] {
  const { idx, price, filled } = inst;
  const own = (f: RawFill) => (buy ? f.b : f.s);
  const groups = new Map<string, RawFill[]>();
  for (const f of fills) {
    const key = `${idx.classOf[own(f)]} ${price[own(f)]}`;
    const g = groups.get(key);
    if (g) g.push(f);
    else groups.set(key, [f]);
  }
  const out = new Map<string, RawFill>();
  const put = (b: number, s: number, quantity: number, gain: number) => {
    const f = out.get(`${b} ${s}`);
    if (f) f.quantity += quantity;
    else out.set(`${b} ${s}`, { b, s, quantity, gain });
  };
  for (const g of groups.values()) {
    const y = own(g[0]);
    const members = Array.from((buy ? idx.buy : idx.sell)[idx.classOf[y]].members).filter((i) => price[i] === price[y]);
    const amount = bestAmounts(inst, members, g, ranking, own, relaxed);
    if (!amount) {
      for (const f of g) put(f.b, f.s, f.quantity, f.gain);
      continue;
    }
    // The group's counterparts, in their fills' order, split among its members' new amounts.
    let m = 0;
    for (const f of g) {
      let q = f.quantity;
      while (q > filled) {
        while (m < members.length && !(amount[m] > filled)) m++;
        if (m >= members.length) break;
        const d = Math.min(q, amount[m]);
        if (buy) put(members[m], f.s, d, f.gain);
        else put(f.b, members[m], d, f.gain);
        amount[m] -= d;
        q -= d;
      }
    }
  }
  return [...out.values()];
}

/** A group's amounts of the best rank with its total, or null when they rank no better than the current ones. */
function bestAmounts(inst: Instance, members: number[], fills: RawFill[], ranking: Ranking, own: (f: RawFill) => number, relaxed: boolean): number[] | null {
  const { qty, filled } = inst;
  const { weight } = ranking;
  const min = members.map((i) => (relaxed ? 0 : inst.minQty[i]));
  let total = 0;
  let current = 0;
  for (const f of fills) {
    total += f.quantity;
    current += weight[own(f)] * f.quantity;
  }
  const withMin: number[] = [];
  members.forEach((_, m) => min[m] > 0 && withMin.push(m));
  if (withMin.length > MAX_GROUP_MINIMUMS) return null;
  const order = members.map((_, m) => m).sort((a, b) => weight[members[a]] - weight[members[b]]);
  let best: number[] | null = null;
  let bestRank = current - ranking.tol;
  for (let mask = 0; mask < 1 << withMin.length; mask++) {
    const on = members.map((_, m) => min[m] === 0);
    withMin.forEach((m, j) => (on[m] = ((mask >> j) & 1) === 1));
    // The minimums of those on, then the rest to the best-ranked first.
    const x = members.map((_, m) => (on[m] ? min[m] : 0));
    let rest = total - x.reduce((a, b) => a + b, 0);
    if (rest < -filled) continue;
    for (const m of order) {
      if (!on[m] || !(rest > 0)) continue;
      const add = Math.min(qty[members[m]] - x[m], rest);
      x[m] += add;
      rest -= add;
    }
    if (rest > filled) continue;
    let rank = 0;
    x.forEach((v, m) => (rank += weight[members[m]] * v));
    if (rank < bestRank) [best, bestRank] = [x, rank];
  }
  return best;
}

/** Negative-gain fills are not individually rational; a relaxation that needs one cannot be an incumbent. */
function individuallyRational(inst: Instance, sol: LpSolution): boolean {
  for (const f of toFills(inst, sol)) if (f.gain < -inst.gainEps) return false;
  return true;
}

interface BbNode {
  bound: number;
  /** The parent LP's priority objective: no allocation of this node whose welfare ties the parent's does better. */
  rank: number;
  fixes: Int32Array; // pairs (intent, 1 = excluded | 2 = forced)
  /** Duals of the parent's LP: valid for this node's LP too (one more fixing only tightens it). */
  proof: Float64Array | null;
}

/** A leaf of the branch-and-bound tree, for the certificate: its fixings and LP duals that bound it. */
interface Leaf {
  fixes: Int32Array;
  duals: Float64Array;
  bound: number;
}

/** Leaves beyond which the tree is not put into the certificate (it then states the root LP bound and a gap). */
export const MAX_LEAVES = 1000;

/** Listed leaf duals (non-zero, over all leaves; ~25 bytes each in JSON) beyond which the tree is left out likewise. */
const MAX_LEAF_DUALS = 50_000;

/** Leaves × intents beyond which the tree is left out likewise (verify's time for the tree is linear in it). */
const MAX_LEAF_WORK = 20_000_000;

/**
 * Duals of a node's LP from its potentials, in the form verify checks (per intent d = u − y: u the dual of
 * "fill ≤ quantity", y of "fill ≥ minimum" for forced intents): d = b − P for a buyer (P − c for a seller), P its
 * class's price level, clipped at 0 unless the intent is forced. Excluded intents get NaN (not in the LP).
 */
function leafDuals(inst: Instance, sol: LpSolution, excluded: Uint8Array | null, forced: Uint8Array | null): Float64Array {
  const { price, minQty } = inst;
  const idx = sol.idx;
  const nb = idx.buy.length;
  const d = new Float64Array(inst.intents.length).fill(NaN);
  const put = (members: Int32Array, x: (i: number) => number) => {
    for (const i of members) {
      if (excluded && excluded[i]) continue;
      const v = x(i);
      d[i] = forced && forced[i] && minQty[i] > 0 ? v : Math.max(0, v);
    }
  };
  idx.buy.forEach((c, a) => {
    const P = sol.pi[0] - sol.pi[2 + a];
    put(c.members, (i) => price[i] - P);
  });
  idx.sell.forEach((c, x) => {
    const P = sol.pi[1] - sol.pi[2 + nb + x];
    put(c.members, (j) => P - price[j]);
  });
  return d;
}

/** The dual objective verify computes for a leaf: Σ quantity·d, or minimum·d for a forced intent's negative d. */
function leafBound(inst: Instance, d: Float64Array, forced: Uint8Array | null): number {
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    if (!(x === x) || x === 0) continue; // NaN: excluded
    sum += x < 0 && forced && forced[i] ? inst.minQty[i] * x : inst.qty[i] * x;
  }
  return sum;
}

/**
 * Priority among allocations of equal welfare (CONTRACT.md section 3; notes/solver.md, "Priority among leaves
 * (session 10)"): −(high units) + (low units), the objective the LPs minimise on their optimal face. Its own
 * tolerance: 1e-9 of the ranked intents' quantity. Without high or low intents it is 0 everywhere.
 */
export class Ranking {
  /** Per intent: −1 high, +1 low, 0 normal. */
  readonly weight: Float64Array;
  readonly tol: number;
  readonly active: boolean;
  constructor(intents: readonly Intent[], qty: ArrayLike<number>) {
    this.weight = Float64Array.from(intents, priorityWeight);
    let ranked = 0;
    for (let i = 0; i < intents.length; i++) if (this.weight[i] !== 0) ranked += qty[i];
    this.active = ranked > 0;
    this.tol = 1e-9 * Math.max(1, ranked);
  }
  of(amount: ArrayLike<number>): number {
    if (!this.active) return 0;
    let r = 0;
    for (let i = 0; i < amount.length; i++) if (this.weight[i] !== 0) r += this.weight[i] * amount[i];
    return r;
  }
  /** Whether (welfare, rank) beats the incumbent's: more welfare, or a better rank when the welfare ties within tol. */
  beats(welfare: number, rank: number, bestWelfare: number, bestRank: number, tol: number): boolean {
    if (Math.abs(welfare - bestWelfare) <= tol && Math.abs(rank - bestRank) > this.tol) return rank < bestRank;
    return welfare > bestWelfare;
  }
  /** Whether a node bounded by (bound, rank) may still hold an allocation that ties the incumbent with a better rank. */
  mayTie(bound: number, rank: number, bestWelfare: number, bestRank: number, tol: number): boolean {
    return this.active && bound >= bestWelfare - tol && rank < bestRank - this.tol;
  }
}

/** Best-first branch and bound on the minQuantity choices, with a rounding heuristic for the first incumbent. */
function branchAndBound(
  inst: Instance,
  root: LpSolution,
  t0: number,
  timeBudgetMs: number,
  nodeBudget: number,
  maxLeaves: number,
): { best: LpSolution; status: SolveStatus; bound: number; tree: Leaf[] | null } {
  const n = inst.intents.length;
  const tol = 1e-9 * Math.max(1, Math.abs(root.welfare));
  const ranking = new Ranking(inst.intents, inst.qty);
  // A solution's rank as the answer would have it (after favourPriority); `relaxed` for a node's bound.
  const rankOf = (sol: LpSolution, relaxed: boolean): number => {
    if (!ranking.active) return 0;
    let r = 0;
    for (const f of favourPriority(inst, toFills(inst, sol), ranking, relaxed)) r += (ranking.weight[f.b] + ranking.weight[f.s]) * f.quantity;
    return r;
  };
  // Heuristic: drop violators until none are left (a plain LP each time, so always feasible and rational).
  let incumbent: LpSolution;
  {
    const excluded = new Uint8Array(n);
    let sol = root;
    let lps = 1;
    for (let v = violators(inst, sol.amount); v.length > 0; v = violators(inst, sol.amount), lps++) {
      if (lps >= MIN_LPS && performance.now() - t0 > timeBudgetMs) {
        // Out of time: drop the violators' fills without another LP.
        sol = cascade(inst, sol);
        break;
      }
      for (const i of v) excluded[i] = 1;
      sol = solveLp(inst, excluded, null);
    }
    incumbent = sol;
  }
  let incumbentRank = rankOf(incumbent, false);
  let unresolved = -Infinity; // bound of relaxations we could not split further
  const heap: BbNode[] = [];
  const push = (node: BbNode) => {
    heap.push(node);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p].bound >= heap[i].bound) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
  };
  const pop = (): BbNode => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l].bound > heap[m].bound) m = l;
        if (r < heap.length && heap[r].bound > heap[m].bound) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i], heap[m]];
        i = m;
      }
    }
    return top;
  };
  // The tree for the certificate: every leaf with duals bounding its LP (its own, or its parent's if never solved).
  const leaves: Leaf[] = [];
  let leafDualCount = 0;
  let recording = true;
  const addLeaf = (fixes: Int32Array, duals: Float64Array | null, forcedMask: Uint8Array | null) => {
    if (!recording) return;
    if (!duals) {
      recording = false; // cannot happen while recording (duals are computed then); keeps the tree whole or absent
      leaves.length = 0;
      return;
    }
    for (const x of duals) if (x === x && x !== 0) leafDualCount++;
    leaves.push({ fixes, duals, bound: leafBound(inst, duals, forcedMask) });
    if (leaves.length > maxLeaves || leafDualCount > MAX_LEAF_DUALS || leaves.length * n > MAX_LEAF_WORK) {
      recording = false;
      leaves.length = 0;
    }
  };
  const masksOf = (fixes: Int32Array): Uint8Array => {
    const forcedMask = new Uint8Array(n);
    for (let k = 0; k < fixes.length; k += 2) if (fixes[k + 1] === 2) forcedMask[fixes[k]] = 1;
    return forcedMask;
  };
  const branch = (sol: LpSolution, fixes: Int32Array, bound: number, duals: Float64Array | null, forcedMask: Uint8Array | null): void => {
    const v = violators(inst, sol.amount);
    if (v.length === 0) {
      if (individuallyRational(inst, sol)) {
        const rank = rankOf(sol, false);
        if (ranking.beats(sol.welfare, rank, incumbent.welfare, incumbentRank, tol)) [incumbent, incumbentRank] = [sol, rank];
      } else unresolved = Math.max(unresolved, bound);
      addLeaf(fixes, duals, forcedMask);
      return;
    }
    // Branch on the intent whose fill is furthest from both 0 and its minimum.
    let pick = v[0];
    let score = -1;
    for (const i of v) {
      const s = Math.min(sol.amount[i], inst.minQty[i] - sol.amount[i]) / inst.minQty[i];
      if (s > score) {
        score = s;
        pick = i;
      }
    }
    const rank = rankOf(sol, true);
    for (const kind of [1, 2]) {
      const f = new Int32Array(fixes.length + 2);
      f.set(fixes);
      f[fixes.length] = pick;
      f[fixes.length + 1] = kind;
      push({ bound, rank, fixes: f, proof: recording ? duals : null });
    }
  };
  branch(root, new Int32Array(0), root.welfare, leafDuals(inst, root, null, null), null);
  let nodes = 1;
  let status: SolveStatus = "optimal";
  const excluded = new Uint8Array(n);
  const forced = new Uint8Array(n);
  const mayTie = (bound: number, rank: number) => ranking.mayTie(bound, rank, incumbent.welfare, incumbentRank, tol);
  while (heap.length > 0) {
    if (heap[0].bound <= incumbent.welfare + tol) {
      // No open node can raise the welfare. One whose welfare may tie it with a better priority is still searched
      // (while the budgets last: the welfare is proven either way); the rest are leaves on their parent's duals.
      if (!ranking.active || heap[0].bound < incumbent.welfare - tol) break;
      if (!mayTie(heap[0].bound, heap[0].rank)) {
        const node = pop();
        addLeaf(node.fixes, node.proof, recording ? masksOf(node.fixes) : null);
        continue;
      }
      if (nodes >= nodeBudget || (nodes >= MIN_LPS && performance.now() - t0 > timeBudgetMs)) break;
    }
    if (nodes >= nodeBudget) {
      status = "node_budget";
      break;
    }
    if (nodes >= MIN_LPS && performance.now() - t0 > timeBudgetMs) {
      status = "time_budget";
      break;
    }
    const node = pop();
    excluded.fill(0);
    forced.fill(0);
    for (let k = 0; k < node.fixes.length; k += 2) (node.fixes[k + 1] === 1 ? excluded : forced)[node.fixes[k]] = 1;
    const sol = solveLp(inst, excluded, forced);
    nodes++;
    const duals = recording ? leafDuals(inst, sol, excluded, forced) : null;
    const forcedMask = recording ? forced.slice() : null;
    if (sol.infeasible || (sol.welfare <= incumbent.welfare + tol && !mayTie(sol.welfare, rankOf(sol, true)))) {
      // A leaf: its own duals, or its parent's when they bound it lower (both are valid for its LP).
      if (recording && duals && node.proof && leafBound(inst, node.proof, forcedMask) < leafBound(inst, duals, forcedMask))
        addLeaf(node.fixes, node.proof, forcedMask);
      else addLeaf(node.fixes, duals, forcedMask);
      continue;
    }
    branch(sol, node.fixes, Math.min(node.bound, sol.welfare), duals, forcedMask);
  }
  const pruned = heap[0] !== undefined && heap[0].bound <= incumbent.welfare + tol;
  for (const node of heap) addLeaf(node.fixes, node.proof, recording ? masksOf(node.fixes) : null);
  if (pruned) heap.length = 0;
  let open = unresolved;
  for (const node of heap) open = Math.max(open, node.bound);
  if (status === "optimal" && unresolved > incumbent.welfare + tol) status = "node_budget";
  return { best: incumbent, status, bound: Math.max(incumbent.welfare, open), tree: recording ? leaves : null };
}
