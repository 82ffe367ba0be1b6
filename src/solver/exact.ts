// Exact arithmetic for components whose numbers doubles cannot resolve (notes/solver.md, "Exactness"): a
// component that mixes 1e-6 and 1e12 quantities (or prices far apart) has sums, minimums and gains that a double
// rounds away. Every double is m·2^e, so at a common binary scale the component's quantities and prices are
// integers, and sums and differences of them are exact in BigInt. Such a component is solved here: the allocation
// LP as a max-gain flow over classes (exact-flow.ts), minimums by branch and bound, LP duals from the optimal flow's
// potentials; values are rounded to doubles once, at the end.
import type { Intent } from "../contract/schema.ts";
import type { ClassIndex } from "./classes.ts";
import { amounts, groupDuals, maxGainFlow, network, pairFlows, preferRanks, seed, type Fixings, type Flow, type FlowInstance } from "./exact-flow.ts";
import { priorityWeight } from "./simplex.ts";

/** Largest ratio of a component's quantities (and of its positive prices) that the float paths resolve. */
const QTY_SPAN = 2 ** 20;
const PRICE_SPAN = 2 ** 16;
/**
 * Whether a component's numbers are too far apart for the float paths' relative thresholds (1e-12 of its largest
 * quantity or price): its quantities and minimums span more than QTY_SPAN, or its positive prices (limits, and
 * swapFor limits) more than PRICE_SPAN (a zero price differs from any other by that other, so it does not count).
 * `floor`: the least number is taken as at least this. The swap circulation passes 1, verify's floor (its
 * tolerances are 1e-9 × max(1, the number), so a price of 1e-5 beside 3 is no harder for doubles than 1 beside 3);
 * the plain path, 0. A minimum counts only as a least number (the contract keeps it at most its quantity).
 * Runs on every component: no allocation.
 */
export function needsExact(intents: readonly Intent[], floor = 0): boolean {
  let qMin = Infinity;
  let qMax = 0;
  let pMin = Infinity;
  let pMax = 0;
  for (const it of intents) {
    const q = it.quantity;
    if (q > 0) {
      qMin = Math.min(qMin, q);
      qMax = Math.max(qMax, q);
    }
    const m = it.minQuantity;
    if (m !== undefined && m > 0 && m < qMin) qMin = m;
    const p = it.limitPrice;
    if (p > 0) {
      pMin = Math.min(pMin, p);
      pMax = Math.max(pMax, p);
    }
    // A swap's other limit (only the swap circulation's components have swaps).
    const s = it.swapFor?.limitPrice ?? 0;
    if (s > 0) {
      pMin = Math.min(pMin, s);
      pMax = Math.max(pMax, s);
    }
  }
  return qMax > QTY_SPAN * Math.max(floor, qMin) || pMax > PRICE_SPAN * Math.max(floor, pMin);
}

// ---- doubles as scaled integers ----

const view = new DataView(new ArrayBuffer(8));

/** x = m · 2^e with m an odd integer (or 0). */
function dyadic(x: number): { m: bigint; e: number } {
  if (x === 0) return { m: 0n, e: 0 };
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  let e = biased === 0 ? -1074 : biased - 1075;
  if (biased !== 0) m |= 1n << 52n;
  while ((m & 1n) === 0n) {
    m >>= 1n;
    e++;
  }
  return { m: x < 0 ? -m : m, e };
}

/** Doubles as integers at one binary scale: value = scaled / 2^shift, exactly. */
export function scaled(xs: readonly number[]): { values: bigint[]; shift: number } {
  const parts = xs.map(dyadic);
  let shift = 0;
  for (const p of parts) if (p.m !== 0n && -p.e > shift) shift = -p.e;
  return { values: parts.map((p) => (p.m === 0n ? 0n : p.m << BigInt(p.e + shift))), shift };
}

/** An exact number m / 2^shift. */
export interface Dyadic {
  m: bigint;
  shift: number;
}

/** x exactly, as m / 2^shift. */
export function asDyadic(x: number): Dyadic {
  const s = scaled([x]);
  return { m: s.values[0], shift: s.shift };
}

/** a + sign · b, exactly (at the finer of the two scales). */
export function dyadicSum(a: Dyadic, b: Dyadic, sign: bigint): Dyadic {
  const shift = Math.max(a.shift, b.shift);
  const align = (d: Dyadic) => d.m << BigInt(shift - d.shift);
  return { m: align(a) + sign * align(b), shift };
}

/** n / 2^shift rounded to a double. */
export function toDouble(n: bigint, shift: number): number {
  return ratioToDouble(n, 1n << BigInt(shift));
}

/** Bits of n ≥ 0, from its hexadecimal digits (a quarter of the string toString(2) builds). */
function bitLength(n: bigint): number {
  if (n === 0n) return 0;
  const hex = n.toString(16);
  return 4 * (hex.length - 1) + (32 - Math.clz32(parseInt(hex[0], 16)));
}

/** num / den (den > 0) rounded to a double (within one unit in the last place). */
export function ratioToDouble(num: bigint, den: bigint): number {
  if (num === 0n) return 0;
  const neg = num < 0n;
  const a = neg ? -num : num;
  // Keep 64 bits of the quotient: plenty for a 53-bit mantissa.
  const k = bitLength(a) - bitLength(den) - 64;
  const q = k >= 0 ? a / (den << BigInt(k)) : (a << BigInt(-k)) / den;
  const v = Number(q) * 2 ** k;
  return neg ? -v : v;
}

// ---- the allocation LP and minimums ----

export interface ExactSolution {
  /** Pairs that trade: intent indices (in the component) and the quantity as a double. */
  fills: { b: number; s: number; quantity: number }[];
  /** Root LP duals per intent (0 for none), and the root LP's bound (its welfare), as doubles. */
  duals: Float64Array;
  lpBound: number;
  /** Branch and bound ran out of nodes or time: the best open bound, and which budget. */
  openBound?: number;
  budget?: "node_budget" | "time_budget";
}

/**
 * Past its time budget by this much, branch and bound stops even before its `minLps` LPs (with the incumbent and a
 * stated gap): an LP of a component of thousands of intents takes tens to hundreds of milliseconds.
 */
const LATE_MS = 1000;

/** The component's numbers at common scales, over its classes. */
function instanceOf(intents: readonly Intent[], idx: ClassIndex): FlowInstance & { qShift: number; pShift: number } {
  const n = intents.length;
  const q = scaled([...intents.map((it) => Math.max(0, it.quantity)), ...intents.map((it) => it.minQuantity ?? 0)]);
  const p = scaled(intents.map((it) => it.limitPrice));
  const qty = q.values.slice(0, n);
  const minQty = q.values.slice(n).map((m, i) => (m > qty[i] ? qty[i] : m));
  let pMax = 0n;
  for (const v of p.values) if (v > pMax) pMax = v;
  let inf = 1n;
  for (const v of qty) inf += v;
  const inst: FlowInstance & { qShift: number; pShift: number } = {
    n, buyer: intents.map((it) => it.side === "buy"), qty, minQty, price: p.values, qShift: q.shift, pShift: p.shift,
    priceNum: Float64Array.from(intents, (it) => it.limitPrice), idx,
    bonus: BigInt(2 * n + 4) * (pMax + 1n), inf,
  };
  const weight = Int8Array.from(intents, priorityWeight);
  if (weight.some((w) => w !== 0)) inst.weight = weight;
  return inst;
}

interface LpResult {
  feasible: boolean;
  /** Welfare at scale 2^(qShift + pShift). */
  welfare: bigint;
  /** −(high units) + (low units) at scale 2^qShift: among allocations of equal welfare, less is preferred. */
  rank: bigint;
  amount: bigint[];
  flow: Flow;
  y: bigint[];
}

/** One node's LP; `from`: a parent's allocation to start from (its pairs), else from no flow. */
function solveLp(inst: FlowInstance, node: Fixings, from?: LpResult): LpResult {
  let flow = network(inst, node);
  if (from) seed(inst, flow, pairFlows(from.flow));
  let y = maxGainFlow(flow, from !== undefined);
  if (!y) y = maxGainFlow((flow = network(inst, node)))!;
  preferRanks(inst, flow, y);
  const amount = amounts(inst, flow);
  let welfare = 0n;
  let rank = 0n;
  let feasible = true;
  for (let i = 0; i < inst.n; i++) {
    welfare += inst.buyer[i] ? amount[i] * inst.price[i] : -amount[i] * inst.price[i];
    if (inst.weight) rank += BigInt(inst.weight[i]) * amount[i];
    if (node.forced[i] && amount[i] < inst.minQty[i]) feasible = false;
  }
  return { feasible, welfare, rank, amount, flow, y };
}

/** The intent filled strictly between 0 and its minimum whose fill is furthest from both (relative to it), or −1. */
function violator(inst: FlowInstance, lp: LpResult): number {
  let pick = -1;
  let num = 0n;
  let den = 1n;
  for (let i = 0; i < inst.n; i++) {
    const a = lp.amount[i];
    const m = inst.minQty[i];
    if (!(a > 0n && a < m)) continue;
    const d = a < m - a ? a : m - a;
    if (pick < 0 || d * den > num * m) {
      pick = i;
      num = d;
      den = m;
    }
  }
  return pick;
}

/**
 * A first incumbent: leave out every intent filled below its minimum and solve again, until none is; the empty
 * allocation at worst.
 */
function dropViolators(inst: FlowInstance, root: LpResult): LpResult {
  const excluded = new Uint8Array(inst.n);
  let lp = root;
  for (;;) {
    let any = false;
    for (let i = 0; i < inst.n; i++) {
      if (lp.amount[i] > 0n && lp.amount[i] < inst.minQty[i]) {
        excluded[i] = 1;
        any = true;
      }
    }
    if (!any) return lp;
    lp = solveLp(inst, { excluded, forced: new Uint8Array(inst.n) }, lp);
  }
}

/**
 * The component's optimal allocation, exactly: best-first branch and bound on minimums (an intent left out, or
 * forced to at least its minimum), each node's LP solved in integers over classes (exact-flow.ts); the first
 * incumbent drops violators.
 */
export function solveExact(
  intents: readonly Intent[],
  idx: ClassIndex,
  budget: { nodeBudget: number; deadline: number; minLps: number },
): ExactSolution {
  const { nodeBudget, deadline, minLps } = budget;
  const inst = instanceOf(intents, idx);
  const n = inst.n;
  const root = solveLp(inst, { excluded: new Uint8Array(n), forced: new Uint8Array(n) });
  const y = groupDuals(inst, root.flow, root.y);
  let best = dropViolators(inst, root);
  let bestWelfare = best.welfare;
  // Open nodes carry their parent's LP welfare as their bound; a node's LP is solved when it is taken, best bound first.
  const open: { node: Fixings; bound: bigint; parent: LpResult }[] = [];
  const branch = (node: Fixings, lp: LpResult) => {
    const v = violator(inst, lp);
    for (const force of [false, true]) {
      const child = { excluded: node.excluded.slice(), forced: node.forced.slice() };
      (force ? child.forced : child.excluded)[v] = 1;
      open.push({ node: child, bound: lp.welfare, parent: lp });
    }
  };
  if (violator(inst, root) >= 0) branch({ excluded: new Uint8Array(n), forced: new Uint8Array(n) }, root);
  let solved = 1;
  let openBound: bigint | undefined;
  let stoppedBy: ExactSolution["budget"];
  // Among leaves of equal welfare the better priority objective wins (CONTRACT.md section 3), exactly as
  // branch.ts `Ranking` does in doubles: a node that cannot raise the welfare is still searched when it may tie and
  // its parent's objective (a bound for its allocations of the parent's welfare) beats the incumbent's. Without
  // high or low intents every objective is 0 and no tie is searched.
  const better = (welfare: bigint, rank: bigint) => welfare > bestWelfare || (welfare === bestWelfare && rank < best.rank);
  while (open.length > 0) {
    let k = 0;
    for (let j = 1; j < open.length; j++) if (open[j].bound > open[k].bound) k = j;
    if (open[k].bound < bestWelfare) break; // every open node is pruned
    if (!better(open[k].bound, open[k].parent.rank)) {
      open.splice(k, 1);
      continue;
    }
    const now = performance.now();
    if (solved >= nodeBudget || (solved >= minLps && now > deadline) || now > deadline + LATE_MS) {
      // Only ties left: the welfare is proven, only the priority search is cut short.
      if (open[k].bound === bestWelfare) break;
      stoppedBy = solved >= nodeBudget ? "node_budget" : "time_budget";
      openBound = open[k].bound;
      break;
    }
    const { node, parent } = open.splice(k, 1)[0];
    const lp = solveLp(inst, node, parent);
    solved++;
    if (!lp.feasible || !better(lp.welfare, lp.rank)) continue;
    if (violator(inst, lp) >= 0) branch(node, lp);
    else {
      best = lp;
      bestWelfare = lp.welfare;
    }
  }
  const fills = pairFlows(best.flow).map((f) => ({ b: f.b, s: f.s, quantity: toDouble(f.q, inst.qShift) }));
  let lpBound = 0n;
  y.forEach((d, i) => (lpBound += d * inst.qty[i]));
  const scale = inst.qShift + inst.pShift;
  const out: ExactSolution = { fills, duals: Float64Array.from(y, (d) => toDouble(d, inst.pShift)), lpBound: toDouble(lpBound, scale) };
  if (openBound !== undefined) {
    out.openBound = toDouble(openBound, scale);
    out.budget = stoppedBy;
  }
  return out;
}

// ---- Nash prices of a fill group whose numbers are far apart ----

/** Per-intent quantities or per-fill gains spread wider than this: the float decomposition's eps can misplace a level. */
const NASH_SPAN = 2 ** 20;

/** Whether a group of fills (positive gains `G`, intents' traded volumes `q`) needs exact Nash prices. */
export function needsExactNash(fills: readonly number[], nodes: readonly number[], gain: (f: number) => number, q: Float64Array): boolean {
  let gMin = Infinity;
  let gMax = 0;
  for (const f of fills) {
    const g = gain(f);
    if (g < gMin) gMin = g;
    if (g > gMax) gMax = g;
  }
  let qMin = Infinity;
  let qMax = 0;
  for (const k of nodes) {
    if (q[k] < qMin) qMin = q[k];
    if (q[k] > qMax) qMax = q[k];
  }
  return qMax > NASH_SPAN * qMin || gMax > NASH_SPAN * gMin;
}

/**
 * Arcs [from, to, cap] as a residual graph for a BigInt max flow: arc k forward at 2k, its reverse (cap 0) at 2k + 1
 * (so the flow on arc k is cap[2k + 1] at the end); `adj`: per node, its residual arcs in the arcs' order.
 */
export function residualGraph(nv: number, arcs: readonly [number, number, bigint][]): { to: number[]; cap: bigint[]; adj: number[][] } {
  const to: number[] = [];
  const cap: bigint[] = [];
  const adj: number[][] = Array.from({ length: nv }, () => []);
  for (const [u, v, c] of arcs) {
    adj[u].push(to.length), to.push(v), cap.push(c);
    adj[v].push(to.length), to.push(u), cap.push(0n);
  }
  return { to, cap, adj };
}

/** Max flow (Dinic) with BigInt capacities; arcs as [from, to, cap]. `reach`: the source's side of the min cut. */
function maxFlow(nv: number, arcs: [number, number, bigint][], source: number, sink: number): { flow: bigint; cap: bigint[]; reach: boolean[] } {
  const { to, cap, adj } = residualGraph(nv, arcs);
  const level = new Int32Array(nv);
  const next = new Int32Array(nv);
  // One augmenting path along arcs that go one level up (depth first, without recursion: levels can be thousands
  // deep); each node's current arc moves past dead ends, and a dead end leaves the level graph.
  const augment = (): bigint => {
    const path: number[] = [];
    let u = source;
    for (;;) {
      if (u === sink) {
        let push = cap[path[0]];
        for (const k of path) if (cap[k] < push) push = cap[k];
        for (const k of path) {
          cap[k] -= push;
          cap[k ^ 1] += push;
        }
        return push;
      }
      while (next[u] < adj[u].length) {
        const k = adj[u][next[u]];
        if (cap[k] > 0n && level[to[k]] === level[u] + 1) break;
        next[u]++;
      }
      if (next[u] < adj[u].length) {
        const k = adj[u][next[u]];
        path.push(k);
        u = to[k];
      } else if (u === source) return 0n;
      else {
        level[u] = -1;
        u = to[path.pop()! ^ 1];
        next[u]++;
      }
    }
  };
  let flow = 0n;
  for (;;) {
    level.fill(-1);
    level[source] = 0;
    const queue = [source];
    for (let h = 0; h < queue.length; h++) {
      for (const k of adj[queue[h]]) {
        if (cap[k] > 0n && level[to[k]] < 0) {
          level[to[k]] = level[queue[h]] + 1;
          queue.push(to[k]);
        }
      }
    }
    if (level[sink] < 0) return { flow, cap, reach: Array.from(level, (l) => l >= 0) };
    next.fill(0);
    for (let pushed = augment(); pushed > 0n; pushed = augment()) flow += pushed;
  }
}

/**
 * Nash prices of one connected group of positive-gain fills, exactly: the density decomposition as nash.ts finds
 * it (at λ = a part's average level, one max flow splits the intents below λ from the rest), in integers at a
 * common binary scale, so no eps decides a level. Writes each fill's price (rounded once) into `price`.
 */
export function exactNashPrices(
  fills: readonly number[],
  fillBuy: Int32Array,
  fillSell: Int32Array,
  fillQty: Float64Array,
  buyLimit: Float64Array,
  sellLimit: Float64Array,
  price: Float64Array,
): void {
  const nf = fills.length;
  const local = new Map<number, number>();
  const endpoint = (i: number) => {
    if (!local.has(i)) local.set(i, local.size);
    return local.get(i)!;
  };
  const fb = fills.map((f) => endpoint(fillBuy[f]));
  const fs = fills.map((f) => endpoint(fillSell[f]));
  const nn = local.size;
  // An intent's volume counts all its fills (zero-gain ones too, outside the group), exactly.
  const others: number[] = [];
  const inGroup = new Set(fills);
  for (let f = 0; f < fillQty.length; f++) if (!inGroup.has(f) && (local.has(fillBuy[f]) || local.has(fillSell[f]))) others.push(f);
  const x = scaled([...fills, ...others].map((f) => fillQty[f]));
  const p = scaled([...fills.map((f) => buyLimit[f]), ...fills.map((f) => sellLimit[f])]);
  const b = p.values.slice(0, nf);
  const c = p.values.slice(nf);
  const G = x.values.slice(0, nf).map((xf, i) => xf * (b[i] - c[i]));
  const q: bigint[] = new Array(nn).fill(0n);
  for (let i = 0; i < nf; i++) {
    q[fb[i]] += x.values[i];
    q[fs[i]] += x.values[i];
  }
  others.forEach((f, j) => {
    for (const k of [local.get(fillBuy[f]), local.get(fillSell[f])]) if (k !== undefined) q[k] += x.values[nf + j];
  });
  // The buyer's share of each fill as num / den.
  const shareNum: bigint[] = new Array(nf).fill(0n);
  const shareDen: bigint[] = new Array(nf).fill(1n);
  const stack: { nodes: number[]; fills: number[] }[] = [{ nodes: [...local.values()], fills: fills.map((_, i) => i) }];
  while (stack.length > 0) {
    const part = stack.pop()!;
    const inPart = new Map(part.nodes.map((k, j) => [k, j]));
    if (part.nodes.length === 1) {
      for (const i of part.fills) shareNum[i] = fb[i] === part.nodes[0] ? G[i] : 0n;
      continue;
    }
    let gTot = 0n;
    let qTot = 0n;
    for (const i of part.fills) gTot += G[i];
    for (const k of part.nodes) qTot += q[k];
    // Source 0, fills 1.., the part's intents after them, sink last; demands λ·q scaled by qTot.
    const sink = 1 + part.fills.length + part.nodes.length;
    const arcs: [number, number, bigint][] = [];
    const toSell: number[] = [];
    const inf = gTot * qTot + 1n;
    part.fills.forEach((i, j) => {
      arcs.push([0, 1 + j, G[i] * qTot]);
      const bIn = inPart.get(fb[i]);
      const sIn = inPart.get(fs[i]);
      if (bIn !== undefined) arcs.push([1 + j, 1 + part.fills.length + bIn, inf]);
      toSell[j] = sIn === undefined ? -1 : arcs.length;
      if (sIn !== undefined) arcs.push([1 + j, 1 + part.fills.length + sIn, inf]);
    });
    part.nodes.forEach((k, j) => arcs.push([1 + part.fills.length + j, sink, gTot * q[k]]));
    const mf = maxFlow(sink + 1, arcs, 0, sink);
    if (mf.flow === gTot * qTot) {
      // Everyone at level λ: the flow is the split.
      part.fills.forEach((i, j) => {
        if (!inPart.has(fs[i])) shareNum[i] = G[i];
        else if (!inPart.has(fb[i])) shareNum[i] = 0n;
        else {
          shareNum[i] = G[i] * qTot - mf.cap[2 * toSell[j] + 1];
          shareDen[i] = qTot;
        }
      });
      continue;
    }
    const low = new Set(part.nodes.filter((_, j) => !mf.reach[1 + part.fills.length + j]));
    stack.push({ nodes: [...low], fills: part.fills.filter((i) => low.has(fb[i]) || low.has(fs[i])) });
    stack.push({ nodes: part.nodes.filter((k) => !low.has(k)), fills: part.fills.filter((i) => !low.has(fb[i]) && !low.has(fs[i])) });
  }
  // p = b − share / x, clamped to [c, b]: the share is at scale 2^(xShift + pShift) and x at 2^xShift, so
  // p = (b·den·x − num) / (den·x·2^pShift), one fraction rounded once.
  fills.forEach((f, i) => {
    const den = shareDen[i] * x.values[i];
    let num = b[i] * den - shareNum[i];
    if (num < c[i] * den) num = c[i] * den;
    if (num > b[i] * den) num = b[i] * den;
    price[f] = ratioToDouble(num, den << BigInt(p.shift));
  });
}
