// The exact allocation LP over classes (notes/solver.md, "Wide components (session 9)"): source → buyer groups →
// seller groups → sink, where a group is a class (classes.ts: intents that see the same counterparties), a price band
// of one, or a forced intent alone. A group's arc from the source (to the sink) is convex piecewise linear, one piece
// per member, best price first, so a class fills its best members first, which is optimal inside a class. Every
// quantity and price is a BigInt at one binary scale (exact.ts), so sums and gains are exact. Doubles only guide
// the search: longest augmenting paths found in doubles are augmented exactly while their exact gain is positive,
// then positive cycles of the exact residual graph (with free source ↔ sink arcs) are cancelled until none is left,
// which proves the flow optimal and gives exact potentials. A branch-and-bound node may start from its parent's
// allocation (`seed`), cancelling the cycles the doubles see before the search.
//
// Individual rationality: at the optimum the potentials y have y(source) = y(sink), and a class arc carrying flow
// has y equal at both ends, so every buyer filled through it is at or above one level P and every seller at or below
// it: any split of the class flows into intent pairs pairs a buyer with a seller no dearer than it. A forced
// intent's bonus breaks that for its own pairs, so it has a group of its own, the other side's classes are split
// into bands at its limit, and it is joined only to bands entirely within its limit.
import type { ClassIndex } from "./classes.ts";
import { exactPriorityCirculation } from "./exact-circulation.ts";

export interface FlowInstance {
  n: number;
  buyer: boolean[];
  /** Quantities, minimums and limit prices at their common scales. */
  qty: bigint[];
  minQty: bigint[];
  price: bigint[];
  /** The limit prices as doubles (price / 2^pShift exactly): compared exactly, and the doubles' search gains. */
  priceNum: Float64Array;
  idx: ClassIndex;
  /** A bonus per unit of forced minimum larger than any path's gain (exact penalty). */
  bonus: bigint;
  /** More than every quantity together: an uncapacitated arc. */
  inf: bigint;
  /** Per intent −1 high, +1 low, 0 normal (simplex.ts `priorityWeight`); absent when no intent is high or low. */
  weight?: Int8Array;
}

export interface Fixings {
  excluded: Uint8Array;
  forced: Uint8Array;
}

/** A source (sink) arc of one group: its pieces best first, filled in order; `at` is the first piece not full. */
interface Group {
  node: number;
  buyer: boolean;
  intent: number[];
  cap: bigint[];
  gain: bigint[];
  /** The gain as a double without the bonus, and whether the piece carries the bonus (the doubles compare bonus counts first). */
  gainNum: number[];
  bonus: number[];
  flow: bigint[];
  at: number;
  /** Lowest and highest member price (doubles). */
  lo: number;
  hi: number;
}

/** The network of one LP: groups (arcs 0..groups−1 are their convex arcs), then class arcs; node 0 source, 1 sink. */
export interface Flow {
  groups: Group[];
  arcBuy: number[];
  arcSell: number[];
  arcFlow: bigint[];
  /** Per node, residual arc codes leaving it: 2·arc (forward) or 2·arc + 1 (backward). */
  adj: number[][];
  from: number[];
  to: number[];
  inf: bigint;
}

const S = 0;
const T = 1;
/** The free arc source → sink (and back): not trading is free. Used only when cancelling cycles. */
const FREE = -1;
/** Cycles a seeded flow may cancel before a cold solve is cheaper (each search for one scans the arcs a few times). */
const WARM_CYCLES = 64;
/** No arc (a node not reached yet). */
const NONE = -(2 ** 30);

// ---- building the network of one LP ----

function newGroup(flow: Flow, buyer: boolean): Group {
  const g: Group = { node: flow.groups.length + 2, buyer, intent: [], cap: [], gain: [], gainNum: [], bonus: [], flow: [], at: 0, lo: Infinity, hi: -Infinity };
  flow.groups.push(g);
  return g;
}

function addPiece(inst: FlowInstance, g: Group, i: number, cap: bigint, bonus: boolean): void {
  const sign = inst.buyer[i] ? 1n : -1n;
  g.intent.push(i);
  g.cap.push(cap);
  g.gain.push(sign * inst.price[i] + (bonus ? inst.bonus : 0n));
  g.gainNum.push(inst.buyer[i] ? inst.priceNum[i] : -inst.priceNum[i]);
  g.bonus.push(bonus ? 1 : 0);
  g.flow.push(0n);
  g.lo = Math.min(g.lo, inst.priceNum[i]);
  g.hi = Math.max(g.hi, inst.priceNum[i]);
}

/**
 * One side's groups per class: its open, unforced members cut into bands at `cuts` (the limits of the forced intents
 * on the other side that the class may meet), and each forced member alone with its minimum as a bonus piece.
 */
function sideGroups(inst: FlowInstance, flow: Flow, members: Int32Array, fix: Fixings, cuts: number[], buyer: boolean): Group[] {
  const out: Group[] = [];
  let band: Group | null = null;
  let next = 0; // cuts sorted best first: a buyer band ends below a cut, a seller band above it
  for (const i of members) {
    if (fix.excluded[i] || inst.qty[i] === 0n) continue;
    if (fix.forced[i]) {
      const g = newGroup(flow, buyer);
      if (inst.minQty[i] > 0n) addPiece(inst, g, i, inst.minQty[i], true);
      if (inst.qty[i] > inst.minQty[i]) addPiece(inst, g, i, inst.qty[i] - inst.minQty[i], false);
      out.push(g);
      continue;
    }
    const p = inst.priceNum[i];
    let crossed = false;
    while (next < cuts.length && (buyer ? p < cuts[next] : p > cuts[next])) {
      next++;
      crossed = true;
    }
    if (!band || crossed) out.push((band = newGroup(flow, buyer)));
    addPiece(inst, band, i, inst.qty[i], false);
  }
  return out;
}

/** Whether a buyer group may meet a seller group: a forced intent only counterparts entirely within its limit. */
function mayMeet(inst: FlowInstance, fix: Fixings, b: Group, s: Group): boolean {
  const forcedB = fix.forced[b.intent[0]] === 1;
  const forcedS = fix.forced[s.intent[0]] === 1;
  if (forcedB && s.hi > inst.priceNum[b.intent[0]]) return false;
  if (forcedS && b.lo < inst.priceNum[s.intent[0]]) return false;
  return true;
}

export function network(inst: FlowInstance, fix: Fixings): Flow {
  const { idx } = inst;
  const flow: Flow = { groups: [], arcBuy: [], arcSell: [], arcFlow: [], adj: [], from: [], to: [], inf: inst.inf };
  // Cuts: per class, the limits of the forced intents of the classes it meets, best price of its side first.
  const buyCuts: number[][] = idx.buy.map(() => []);
  const sellCuts: number[][] = idx.sell.map(() => []);
  for (let i = 0; i < inst.n; i++) {
    const c = idx.classOf[i];
    if (!fix.forced[i] || fix.excluded[i] || c < 0) continue;
    if (inst.buyer[i]) for (const e of idx.buyAdj[c]) sellCuts[idx.edgeSell[e]].push(inst.priceNum[i]);
    else for (const e of idx.sellAdj[c]) buyCuts[idx.edgeBuy[e]].push(inst.priceNum[i]);
  }
  const buyGroups = idx.buy.map((c, k) => sideGroups(inst, flow, c.members, fix, [...new Set(buyCuts[k])].sort((x, y) => y - x), true));
  const sellGroups = idx.sell.map((c, k) => sideGroups(inst, flow, c.members, fix, [...new Set(sellCuts[k])].sort((x, y) => x - y), false));
  const nv = flow.groups.length + 2;
  flow.adj = Array.from({ length: nv }, () => []);
  const link = (u: number, v: number) => {
    const a = flow.from.length;
    flow.from.push(u), flow.to.push(v);
    flow.adj[u].push(2 * a), flow.adj[v].push(2 * a + 1);
  };
  for (const g of flow.groups) (g.buyer ? link(S, g.node) : link(g.node, T));
  for (let e = 0; e < idx.edgeBuy.length; e++) {
    for (const b of buyGroups[idx.edgeBuy[e]]) {
      for (const s of sellGroups[idx.edgeSell[e]]) {
        if (!mayMeet(inst, fix, b, s)) continue;
        flow.arcBuy.push(b.node), flow.arcSell.push(s.node), flow.arcFlow.push(0n);
        link(b.node, s.node);
      }
    }
  }
  return flow;
}

/**
 * Starts a network from another LP's allocation (a branch-and-bound parent's): its intent pairs, less those of intents
 * this one leaves out, as class arc flows and group totals, each group's pieces filled best first up to its total.
 * Feasible, but not necessarily of greatest gain for its value: `maxGainFlow(f, true)` cancels cycles first.
 */
export function seed(inst: FlowInstance, f: Flow, pairs: readonly { b: number; s: number; q: bigint }[]): void {
  const groupOf = new Int32Array(inst.n).fill(-1);
  f.groups.forEach((g, k) => g.intent.forEach((i) => (groupOf[i] = k)));
  const arcOf = new Map<number, number>();
  f.arcBuy.forEach((b, e) => arcOf.set((b - 2) * f.groups.length + f.arcSell[e] - 2, e));
  const total: bigint[] = f.groups.map(() => 0n);
  for (const { b, s, q } of pairs) {
    const e = groupOf[b] < 0 || groupOf[s] < 0 ? undefined : arcOf.get(groupOf[b] * f.groups.length + groupOf[s]);
    if (e === undefined) continue;
    f.arcFlow[e] += q;
    total[groupOf[b]] += q;
    total[groupOf[s]] += q;
  }
  f.groups.forEach((g, k) => refill(g, total[k]));
}

/** A group's pieces filled best first up to `total`. */
function refill(g: Group, total: bigint): void {
  let rest = total;
  g.at = 0;
  for (let j = 0; j < g.cap.length; j++) {
    g.flow[j] = rest < g.cap[j] ? rest : g.cap[j];
    rest -= g.flow[j];
    if (g.flow[j] === g.cap[j]) g.at = j + 1;
  }
}

// ---- residual arcs ----

const nGroups = (f: Flow) => f.groups.length;

/** A group's last piece with flow, or −1. */
function lastFilled(g: Group): number {
  return g.at < g.cap.length && g.flow[g.at] > 0n ? g.at : g.at - 1;
}

/** Whether an arc code has residual capacity (without computing it). */
function open(f: Flow, code: number): boolean {
  const a = code >> 1;
  const back = (code & 1) === 1;
  if (a >= nGroups(f)) return !back || f.arcFlow[a - nGroups(f)] > 0n;
  const g = f.groups[a];
  return back ? lastFilled(g) >= 0 : g.at < g.cap.length;
}

/** Residual capacity of an arc code (0n: none). */
function resCap(f: Flow, code: number): bigint {
  if (code === FREE || code === FREE - 1) return f.inf;
  const a = code >> 1;
  const back = (code & 1) === 1;
  if (a >= nGroups(f)) return back ? f.arcFlow[a - nGroups(f)] : f.inf;
  const g = f.groups[a];
  if (!back) return g.at < g.cap.length ? g.cap[g.at] - g.flow[g.at] : 0n;
  const j = lastFilled(g);
  return j >= 0 ? g.flow[j] : 0n;
}

function resGain(f: Flow, code: number): bigint {
  const a = code >> 1;
  if (code < 0 || a >= nGroups(f)) return 0n;
  const g = f.groups[a];
  return (code & 1) === 0 ? g.gain[g.at] : -g.gain[lastFilled(g)];
}

function resGainNum(f: Flow, code: number): number {
  const a = code >> 1;
  if (a >= nGroups(f)) return 0;
  const g = f.groups[a];
  return (code & 1) === 0 ? g.gainNum[g.at] : -g.gainNum[lastFilled(g)];
}

/** How many bonuses an arc code gains (−1 undoing one). */
function resBonus(f: Flow, code: number): number {
  const a = code >> 1;
  if (a >= nGroups(f)) return 0;
  const g = f.groups[a];
  return (code & 1) === 0 ? g.bonus[g.at] : -g.bonus[lastFilled(g)];
}

/** The head of an arc code. */
function head(f: Flow, code: number): number {
  if (code === FREE) return T;
  if (code === FREE - 1) return S;
  const a = code >> 1;
  return (code & 1) === 0 ? f.to[a] : f.from[a];
}

function tail(f: Flow, code: number): number {
  if (code === FREE) return S;
  if (code === FREE - 1) return T;
  const a = code >> 1;
  return (code & 1) === 0 ? f.from[a] : f.to[a];
}

function push(f: Flow, code: number, amount: bigint): void {
  if (code < 0) return;
  const a = code >> 1;
  const back = (code & 1) === 1;
  if (a >= nGroups(f)) {
    f.arcFlow[a - nGroups(f)] += back ? -amount : amount;
    return;
  }
  const g = f.groups[a];
  if (!back) {
    g.flow[g.at] += amount;
    if (g.flow[g.at] === g.cap[g.at]) g.at++;
  } else {
    const j = lastFilled(g);
    g.flow[j] -= amount;
    g.at = j;
  }
}

function pathGain(f: Flow, codes: number[]): bigint {
  let gain = 0n;
  for (const c of codes) gain += resGain(f, c);
  return gain;
}

/** Pushes the bottleneck along a list of arc codes. */
function augment(f: Flow, codes: number[]): void {
  let amount = f.inf;
  for (const c of codes) {
    const r = resCap(f, c);
    if (r < amount) amount = r;
  }
  for (const c of codes) push(f, c, amount);
}

// ---- the search ----

/**
 * A longest augmenting path source → sink in doubles (Bellman–Ford–Moore), as arc codes; null when none gains in
 * doubles, or when rounding made a positive cycle (then the exact phase finishes).
 */
function guessPath(f: Flow, w: Scratch): number[] | null {
  const nv = f.adj.length;
  const { dist, bonus, mag, via, count, queue, queued } = w;
  dist.fill(-Infinity);
  bonus.fill(-Infinity);
  via.fill(-1);
  count.fill(0);
  dist[S] = 0;
  bonus[S] = 0;
  mag[S] = 0;
  let first = 0;
  w.end = 0;
  queue[w.end++] = S;
  queued[S] = 1;
  while (first !== w.end) {
    const u = queue[first];
    first = (first + 1) % queue.length;
    queued[u] = 0;
    if (++count[u] > nv) return null;
    scan(w, u);
  }
  if (bonus[T] < 0 || (bonus[T] === 0 && !(dist[T] > 0))) return null;
  const path: number[] = [];
  for (let v = T; v !== S; v = tail(f, via[v])) {
    if (via[v] < 0 || path.length > nv) return null;
    path.push(via[v]);
  }
  return path;
}

/** Relaxes every open arc leaving u. */
function scan(w: Scratch, u: number): void {
  const { start, codes, isOpen, gainF, bonusF, headF } = w;
  for (let j = start[u]; j < start[u + 1]; j++) {
    const code = codes[j];
    if (isOpen[code]) relax(w, u, headF[code], code, gainF[code], bonusF[code]);
  }
}

/**
 * Moves v's distance to u's plus an arc's (gain g, k bonuses) if that is longer, queueing v. Bonuses first (each
 * outweighs any path's gain); then only gains above the sum's rounding, so that a piece's own forward and backward
 * arcs never make a cycle.
 */
function relax(w: Scratch, u: number, v: number, code: number, g: number, k: number): void {
  const { dist, bonus, mag } = w;
  const d = dist[u] + g;
  const kk = bonus[u] + k;
  const m = mag[u] + Math.abs(g);
  if (kk < bonus[v] || (kk === bonus[v] && !(d > dist[v] + 1e-14 * m))) return;
  dist[v] = d;
  bonus[v] = kk;
  mag[v] = m;
  w.via[v] = code;
  if (!w.queued[v]) {
    w.queued[v] = 1;
    w.queue[w.end] = v;
    w.end = (w.end + 1) % w.queue.length;
  }
}

/**
 * A positive cycle of the residual graph with the free source ↔ sink arcs, searched in doubles from a virtual root
 * (every node at 0); the predecessor graph is checked for a cycle after every |V| scans. Null when the doubles see
 * none (or when rounding made one the exact gain refutes: the exact pass decides).
 */
function guessCycle(f: Flow, w: Scratch): number[] | null {
  const nv = f.adj.length;
  const { dist, bonus, mag, via, queue, queued } = w;
  dist.fill(0);
  bonus.fill(0);
  mag.fill(0);
  via.fill(NONE);
  queued.fill(1);
  for (let v = 0; v < nv; v++) queue[v] = v;
  let first = 0;
  w.end = nv;
  for (let scans = 1; first !== w.end; scans++) {
    const u = queue[first];
    first = (first + 1) % queue.length;
    queued[u] = 0;
    scan(w, u);
    if (u === S) relax(w, S, T, FREE, 0, 0);
    if (u === T) relax(w, T, S, FREE - 1, 0, 0);
    if (scans % nv === 0) {
      const cycle = viaCycle(f, via);
      if (cycle) return pathGain(f, cycle) > 0n ? cycle : null;
    }
  }
  return null;
}

/** A cycle of predecessor arcs (each node has at most one; NONE for a root), as arc codes, or null. */
function viaCycle(f: Flow, via: Int32Array): number[] | null {
  const nv = via.length;
  const mark = new Int32Array(nv).fill(-1);
  for (let v0 = 0; v0 < nv; v0++) {
    let u = v0;
    while (u >= 0 && mark[u] < 0) {
      mark[u] = v0;
      u = via[u] === NONE ? -1 : tail(f, via[u]);
    }
    if (u < 0 || mark[u] !== v0) continue;
    const cycle: number[] = [];
    let x = u;
    do {
      cycle.push(via[x]);
      x = tail(f, via[x]);
    } while (x !== u);
    return cycle;
  }
  return null;
}

/** Work arrays of the doubles' search: per node, and per arc code its residual as the search reads it. */
interface Scratch {
  dist: Float64Array;
  bonus: Float64Array;
  mag: Float64Array;
  via: Int32Array;
  count: Int32Array;
  queue: Int32Array;
  queued: Uint8Array;
  /** Where the circular queue's next entry goes. */
  end: number;
  /** Arc codes leaving node u: codes[start[u] .. start[u + 1]). */
  start: Int32Array;
  codes: Int32Array;
  isOpen: Uint8Array;
  gainF: Float64Array;
  bonusF: Int8Array;
  headF: Int32Array;
}

function scratch(f: Flow): Scratch {
  const nv = f.adj.length;
  const nc = 2 * f.from.length;
  const start = new Int32Array(nv + 1);
  for (let u = 0; u < nv; u++) start[u + 1] = start[u] + f.adj[u].length;
  const w: Scratch = {
    dist: new Float64Array(nv), bonus: new Float64Array(nv), mag: new Float64Array(nv), via: new Int32Array(nv),
    count: new Int32Array(nv), queue: new Int32Array(nv + 1), queued: new Uint8Array(nv), end: 0,
    start, codes: Int32Array.from(f.adj.flat()), isOpen: new Uint8Array(nc), gainF: new Float64Array(nc), bonusF: new Int8Array(nc),
    headF: Int32Array.from({ length: nc }, (_, code) => head(f, code)),
  };
  for (let a = 0; a < f.from.length; a++) refresh(f, w, a);
  return w;
}

/** Copies arc a's residual (both directions) into the search's arrays. */
function refresh(f: Flow, w: Scratch, a: number): void {
  for (const code of [2 * a, 2 * a + 1]) {
    w.isOpen[code] = open(f, code) ? 1 : 0;
    if (w.isOpen[code]) {
      w.gainF[code] = resGainNum(f, code);
      w.bonusF[code] = resBonus(f, code);
    }
  }
}

/**
 * Exact longest-path potentials from a virtual root (every node at 0) over the residual arcs and the free arcs, or a
 * positive cycle (arc codes) when there is one.
 */
function potentialsOrCycle(f: Flow): { y: bigint[] } | { cycle: number[] } {
  const nv = f.adj.length;
  const y: bigint[] = new Array(nv).fill(0n);
  const via = new Int32Array(nv).fill(NONE);
  const len = new Int32Array(nv);
  const queued = new Uint8Array(nv).fill(1);
  const queue: number[] = [];
  for (let v = 0; v < nv; v++) queue.push(v);
  const out = (u: number) => (u === S ? [...f.adj[u], FREE] : u === T ? [...f.adj[u], FREE - 1] : f.adj[u]);
  for (let h = 0; h < queue.length; h++) {
    const u = queue[h];
    queued[u] = 0;
    for (const code of out(u)) {
      if (code >= 0 && !open(f, code)) continue;
      const v = head(f, code);
      const d = y[u] + resGain(f, code);
      if (d <= y[v]) continue;
      y[v] = d;
      via[v] = code;
      len[v] = len[u] + 1;
      if (len[v] >= nv) {
        const cycle = cycleThrough(f, via, v);
        if (cycle) return { cycle };
      }
      if (!queued[v]) {
        queued[v] = 1;
        queue.push(v);
      }
    }
  }
  return { y };
}

/** The cycle of `via` pointers reached walking back from v, if its gain is positive. */
function cycleThrough(f: Flow, via: Int32Array, v: number): number[] | null {
  const nv = f.adj.length;
  const seen = new Int32Array(nv).fill(-1);
  let u = v;
  for (let step = 0; seen[u] < 0; step++) {
    if (via[u] === NONE) return null;
    seen[u] = step;
    u = tail(f, via[u]);
  }
  const cycle: number[] = [];
  let gain = 0n;
  let w = u;
  do {
    cycle.push(via[w]);
    gain += resGain(f, via[w]);
    w = tail(f, via[w]);
  } while (w !== u);
  return gain > 0n ? cycle : null;
}

/**
 * The max-gain flow of one LP, exactly, with its optimal potentials: augment along the doubles' longest paths while
 * their exact gain is positive, then cancel exact positive cycles (zero-gain moves are never made). `warm`: the flow
 * was seeded (`seed`).
 */
export function maxGainFlow(f: Flow, warm = false): bigint[] | null {
  const w = scratch(f);
  // A seeded flow may gain more by rerouting: cancel the cycles the doubles see first; past WARM_CYCLES of them a
  // solve from no flow is cheaper (null: the caller starts again cold).
  let cycles = 0;
  for (let cycle = warm ? guessCycle(f, w) : null; cycle; cycle = guessCycle(f, w)) {
    if (++cycles > WARM_CYCLES) return null;
    augment(f, cycle);
    for (const c of cycle) if (c >= 0) refresh(f, w, c >> 1);
  }
  for (;;) {
    const path = guessPath(f, w);
    if (!path) break;
    const gain = pathGain(f, path);
    if (gain <= 0n) break;
    // Longest paths never get longer: while the same arcs still gain as much (members at one price), it is still
    // a longest path, so it is augmented again without a search.
    do {
      augment(f, path);
      for (const c of path) refresh(f, w, c >> 1);
    } while (path.every((c) => open(f, c)) && pathGain(f, path) === gain);
  }
  for (;;) {
    const r = potentialsOrCycle(f);
    if ("y" in r) return r.y;
    augment(f, r.cycle);
  }
}

// ---- priority among optimal flows ----

/**
 * Moves an optimal flow (longest-path potentials `y`) to the optimum that fills higher-priority intents more
 * (CONTRACT.md section 3; notes/solver.md, "Priority in exact and swap components (session 11)"): every residual
 * piece of zero reduced gain at `y` (class arcs, the free source ↔ sink arcs, and each group's pieces, each way)
 * becomes an arc of an exact second circulation that charges a unit through a high-priority intent's piece −1 and
 * through a low one's +1 (backward the opposite). A flow that differs from the first only there has the same gain
 * and `y` stays optimal for it, so welfare and duals stay. Each group is then refilled best piece first to its new
 * total: its pieces of one price are in class order (high first, classes.ts), so that is the same objective.
 */
export function preferRanks(inst: FlowInstance, f: Flow, y: bigint[]): void {
  const weight = inst.weight;
  if (!weight) return;
  const arcs: [number, number, number, bigint][] = [];
  // Per arc of the second circulation, the network arc it moves (groups' arcs first, then class arcs, −1 for the
  // free arcs) and which way (+1 forward, −1 backward).
  const arcOf: number[] = [];
  const way: bigint[] = [];
  const add = (a: number, forward: boolean, w: number, room: bigint) => {
    arcs.push(forward ? [f.from[a], f.to[a], w, room] : [f.to[a], f.from[a], -w, room]);
    arcOf.push(a), way.push(forward ? 1n : -1n);
  };
  let gains = false;
  f.groups.forEach((g, a) => {
    for (let j = 0; j < g.cap.length; j++) {
      if (g.gain[j] + y[f.from[a]] - y[f.to[a]] !== 0n) continue;
      const w = weight[g.intent[j]];
      if (g.flow[j] < g.cap[j]) add(a, true, w, g.cap[j] - g.flow[j]);
      if (g.flow[j] > 0n) add(a, false, w, g.flow[j]);
      if ((w < 0 && g.flow[j] < g.cap[j]) || (w > 0 && g.flow[j] > 0n)) gains = true;
    }
  });
  // No high piece can fill more and no low one less at zero reduced gain: no improving cycle exists.
  if (!gains) return;
  const ng = f.groups.length;
  f.arcFlow.forEach((x, e) => {
    if (y[f.from[ng + e]] !== y[f.to[ng + e]]) return;
    add(ng + e, true, 0, f.inf);
    if (x > 0n) add(ng + e, false, 0, x);
  });
  if (y[S] === y[T]) {
    arcs.push([S, T, 0, f.inf], [T, S, 0, f.inf]);
    arcOf.push(-1, -1), way.push(0n, 0n);
  }
  const moved = exactPriorityCirculation(f.adj.length, arcs);
  const total = f.groups.map((g) => g.flow.reduce((t, x) => t + x, 0n));
  moved.forEach((m, r) => {
    const a = arcOf[r];
    if (m === 0n || a < 0) return;
    if (a < ng) total[a] += way[r] * m;
    else f.arcFlow[a - ng] += way[r] * m;
  });
  f.groups.forEach((g, a) => refill(g, total[a]));
}

// ---- reading the result ----

/** Per intent, its filled quantity (scaled). */
export function amounts(inst: FlowInstance, f: Flow): bigint[] {
  const amount: bigint[] = new Array(inst.n).fill(0n);
  for (const g of f.groups) g.intent.forEach((i, k) => (amount[i] += g.flow[k]));
  return amount;
}

/**
 * The class flows split into intent pairs: each class arc takes its flow from its buyer group's members and its
 * seller group's members in fill order (any split is individually rational at the optimum, see above).
 */
export function pairFlows(f: Flow): { b: number; s: number; q: bigint }[] {
  const left = f.groups.map((g) => g.flow.slice());
  const cursor = new Int32Array(f.groups.length);
  const open = (gi: number) => {
    while (left[gi][cursor[gi]] === 0n) cursor[gi]++;
    return cursor[gi];
  };
  const out: { b: number; s: number; q: bigint }[] = [];
  f.arcFlow.forEach((x, e) => {
    const bi = f.arcBuy[e] - 2;
    const si = f.arcSell[e] - 2;
    for (let rest = x; rest > 0n; ) {
      const kb = open(bi);
      const ks = open(si);
      let q = rest;
      if (left[bi][kb] < q) q = left[bi][kb];
      if (left[si][ks] < q) q = left[si][ks];
      left[bi][kb] -= q;
      left[si][ks] -= q;
      rest -= q;
      const b = f.groups[bi].intent[kb];
      const s = f.groups[si].intent[ks];
      const prev = out[out.length - 1];
      if (prev && prev.b === b && prev.s === s) prev.q += q;
      else out.push({ b, s, q });
    }
  });
  return out;
}

/**
 * Root LP duals from the potentials (y(source) = y(sink) at the optimum): a buyer's max(0, price − level of its
 * group), a seller's max(0, level − price), the level being y(group) − y(source). Their objective is the welfare.
 */
export function groupDuals(inst: FlowInstance, f: Flow, y: bigint[]): bigint[] {
  const d: bigint[] = new Array(inst.n).fill(0n);
  for (const g of f.groups) {
    const level = y[g.node] - y[S];
    for (const i of g.intent) {
      const x = inst.buyer[i] ? inst.price[i] - level : level - inst.price[i];
      if (x > d[i]) d[i] = x;
    }
  }
  return d;
}
