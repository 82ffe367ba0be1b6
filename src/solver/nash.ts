// Volume-weighted Nash bargaining prices for a fixed allocation (CONTRACT.md section 2, MATH.md):
// maximise Σ q_k log s_k over fill prices within both limits. Each fill's surplus G_f = gain × quantity is split
// between its two intents. The optimum is the density decomposition of the fill graph: the intents whose
// per-unit surplus is lowest form the set T minimising G(fills touching T) / q(T); they take every fill that
// touches them, and the rest is solved again. We find the levels exactly by divide and conquer on parametric max
// flows: at λ = the average level of a part, the min cut separates the intents below λ from those at or above.
// Where a part is a tree one linear pass is its flow; where it has a cycle, push–relabel finds its cut (the same for
// every maximum flow), and a part at one level takes Dinic's flow as its split (on a cycle the flow, so the price,
// is one of many: Dinic's is the one this file has always given).

import { Arena } from "./arena.ts";
import { exactNashPrices, needsExactNash } from "./exact.ts";

export interface NashInput {
  /** Number of intents (indices used below). */
  n: number;
  fillBuy: Int32Array;
  fillSell: Int32Array;
  fillQty: Float64Array;
  buyLimit: Float64Array; // per fill: the buyer's limit
  sellLimit: Float64Array; // per fill: the seller's limit
}

/** Prices per fill. Fills of zero gain are priced at the (common) limit and left out of the objective. */
export function nashPrices(inp: NashInput): Float64Array {
  const m = inp.fillQty.length;
  const price = new Float64Array(m);
  const q = new Float64Array(inp.n);
  for (let f = 0; f < m; f++) {
    q[inp.fillBuy[f]] += inp.fillQty[f];
    q[inp.fillSell[f]] += inp.fillQty[f];
  }
  const G = new Float64Array(m);
  const active: number[] = [];
  for (let f = 0; f < m; f++) {
    const g = inp.buyLimit[f] - inp.sellLimit[f];
    G[f] = g > 0 ? g * inp.fillQty[f] : 0;
    if (G[f] > 0) active.push(f);
    else price[f] = inp.sellLimit[f];
  }
  // Connected components of active fills (union-find over intents).
  const parent = new Int32Array(inp.n);
  for (let i = 0; i < inp.n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (const f of active) {
    const a = find(inp.fillBuy[f]);
    const b = find(inp.fillSell[f]);
    if (a !== b) parent[a] = b;
  }
  const comps = new Map<number, number[]>();
  for (const f of active) {
    const r = find(inp.fillBuy[f]);
    let l = comps.get(r);
    if (!l) comps.set(r, (l = []));
    l.push(f);
  }
  const shareBuy = new Float64Array(m);
  const inPart = new Int32Array(inp.n).fill(-1); // intent → local index within the part being split
  const scratch: Scratch = { parent: new Int32Array(inp.n), piece: new Int32Array(inp.n) };
  let exact: Uint8Array | undefined; // fills priced exactly (exact.ts), per fill
  const warm: Given = { toBuy: new Float64Array(m), toSell: new Float64Array(m) };
  const listed = new Uint8Array(inp.n); // intents listed for their component (components share none)
  let net: PushRelabel | undefined; // the probes' push–relabel, made on the first part with a cycle
  const probes = () => (net ??= new PushRelabel(inp.n, m));
  let dinic: MaxFlow | undefined; // the at-level parts' Dinic, made on the first
  const flows = () => (dinic ??= new MaxFlow(2 + m + inp.n, 3 * m + inp.n));
  for (const fills of comps.values()) {
    // The component's intents in order of first appearance over its fills, buyer before seller.
    const list: number[] = [];
    for (const f of fills) {
      if (!listed[inp.fillBuy[f]]) (listed[inp.fillBuy[f]] = 1), list.push(inp.fillBuy[f]);
      if (!listed[inp.fillSell[f]]) (listed[inp.fillSell[f]] = 1), list.push(inp.fillSell[f]);
    }
    if (needsExactNash(fills, list, (f) => inp.buyLimit[f] - inp.sellLimit[f], q)) {
      // Volumes or gains too far apart for eps below: the same decomposition in integers.
      exactNashPrices(fills, inp.fillBuy, inp.fillSell, inp.fillQty, inp.buyLimit, inp.sellLimit, price);
      exact ??= new Uint8Array(m);
      for (const f of fills) exact[f] = 1;
      continue;
    }
    decompose(inp, G, q, list, fills, shareBuy, inPart, scratch, warm, probes, flows);
  }
  for (const f of active) {
    if (exact && exact[f]) continue;
    const b = inp.buyLimit[f];
    const c = inp.sellLimit[f];
    const p = b - shareBuy[f] / inp.fillQty[f];
    price[f] = p < c ? c : p > b ? b : p;
  }
  return price;
}

/** Splits the surplus of `fills` among `nodes` (fills may have one endpoint outside: it then goes to the inside one). */
function decompose(
  inp: NashInput,
  G: Float64Array,
  q: Float64Array,
  nodes0: number[],
  fills0: number[],
  shareBuy: Float64Array,
  inPart: Int32Array,
  scratch: Scratch,
  warm: Given,
  probes: () => PushRelabel,
  flows: () => MaxFlow,
): void {
  // A component is connected, and each of its fills joins two of its intents.
  const stack: Part[] = [{ nodes: nodes0, fills: fills0, joining: fills0.length }];
  let prev: number[] = [];
  while (stack.length > 0) {
    const { nodes, fills, joining } = stack.pop()!;
    for (const k of prev) inPart[k] = -1;
    for (let i = 0; i < nodes.length; i++) inPart[nodes[i]] = i;
    prev = nodes;
    const nn = nodes.length;
    if (nn === 1) {
      // One intent takes all the surplus of its fills.
      const k = nodes[0];
      for (const f of fills) shareBuy[f] = inp.fillBuy[f] === k ? G[f] : 0;
      continue;
    }
    let gTot = 0;
    let qTot = 0;
    for (const f of fills) gTot += G[f];
    for (const k of nodes) qTot += q[k];
    const lambda = gTot / qTot;
    const eps = 1e-12 * gTot;
    const tree = joining === nn - 1 ? treeFlow(inp, G, q, nodes, fills, inPart, lambda, eps) : null;
    // A cycle: the cut by push–relabel when it splits the part; Dinic's own flow where the part is at one level (its
    // split of the surplus there is the price, so the same flow as ever).
    const probe = tree ? null : probeFlow(probes(), inp, G, q, nodes, fills, inPart, lambda, eps, warm);
    if (probe && !atLevel(probe, gTot, eps)) {
      splitAt(inp, nodes, fills, probe.reach, inPart, scratch, stack);
      continue;
    }
    const part = tree ?? netFlow(flows(), inp, G, q, nodes, fills, inPart, lambda, eps);
    const { toBuy: flowBuy, toSell: flowSell, reach } = part;
    const nf = fills.length;
    if (!tree) for (let i = 0; i < nf; i++) (warm.toBuy[fills[i]] = flowBuy[i]), (warm.toSell[fills[i]] = flowSell[i]);
    if (atLevel(part, gTot, eps)) {
      // Everyone at level λ: the flow is the split; a rounding remainder goes to the buyer.
      for (let i = 0; i < nf; i++) {
        const f = fills[i];
        const buyIn = inPart[inp.fillBuy[f]] >= 0;
        const sellIn = inPart[inp.fillSell[f]] >= 0;
        if (!sellIn) shareBuy[f] = G[f];
        else if (!buyIn) shareBuy[f] = 0;
        else shareBuy[f] = Math.min(G[f], Math.max(0, G[f] - flowSell[i]));
        void flowBuy;
      }
      continue;
    }
    splitAt(inp, nodes, fills, reach, inPart, scratch, stack);
  }
  for (const k of prev) inPart[k] = -1;
}

/** Everyone of the part at its level λ: the cut leaves one side empty, or the flow takes all the surplus. */
function atLevel({ flow, reach }: { flow: number; reach: Uint8Array }, gTot: number, eps: number): boolean {
  let up = 0;
  for (let i = 0; i < reach.length; i++) up += reach[i];
  return up === 0 || up === reach.length || flow >= gTot - eps;
}

/**
 * Pushes the part's two sides, each as its connected pieces: the intents below λ (not reached) with every fill
 * touching them, and the rest. A fill joins two intents of a piece, or has one intent in it and the other outside
 * (beyond the part, or above λ for a piece below it).
 */
function splitAt(inp: NashInput, nodes: number[], fills: number[], reach: Uint8Array, inPart: Int32Array, scratch: Scratch, stack: Part[]): void {
  const nn = nodes.length;
  const parent = scratch.parent; // union–find by local index
  for (let i = 0; i < nn; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const { fillBuy, fillSell } = inp;
  for (const f of fills) {
    const b = inPart[fillBuy[f]];
    const s = inPart[fillSell[f]];
    if (b >= 0 && s >= 0 && reach[b] === reach[s]) {
      const x = find(b);
      const y = find(s);
      if (x !== y) parent[x] = y;
    }
  }
  const pieceOf = scratch.piece; // by a piece's root: its index in `pieces`
  pieceOf.fill(-1, 0, nn);
  const pieces: Part[] = [];
  for (let i = 0; i < nn; i++) {
    const r = find(i);
    if (pieceOf[r] < 0) {
      pieceOf[r] = pieces.length;
      pieces.push({ nodes: [], fills: [], joining: 0 });
    }
    pieces[pieceOf[r]].nodes.push(nodes[i]);
  }
  for (const f of fills) {
    const b = inPart[fillBuy[f]];
    const s = inPart[fillSell[f]];
    // The fill's piece: that of its intent below λ if it has one, else of any intent of it in the part.
    const k = b >= 0 && !reach[b] ? b : s >= 0 && !reach[s] ? s : b >= 0 ? b : s;
    const piece = pieces[pieceOf[find(k)]];
    piece.fills.push(f);
    if (b >= 0 && s >= 0 && reach[b] === reach[s]) piece.joining++;
  }
  for (const piece of pieces) stack.push(piece);
}

/** splitAt's union–find and piece index, by a part's local index; room for every intent. */
interface Scratch {
  parent: Int32Array;
  piece: Int32Array;
}

/** A part of the decomposition: connected intents and the fills it shares among them. */
interface Part {
  nodes: number[];
  fills: number[];
  /** The number of fills between two of its intents (one less than its intents when it is a tree). */
  joining: number;
}

interface PartFlow {
  flow: number;
  /** Per fill of the part: flow to its buyer and to its seller. */
  toBuy: Float64Array;
  toSell: Float64Array;
  /** Per node of the part: reachable from the source in the residual network (level at least λ). */
  reach: Uint8Array;
}

/**
 * Max flow of fill surplus to intents demanding λ·q each, when the part's fills form a forest (the allocation is a
 * basic solution, so they usually do): leaves first, each intent takes what it needs from its private and child
 * fills, then its deficit from the fill to its parent; what is left of that fill goes up. Null if not a forest.
 */
function treeFlow(inp: NashInput, G: Float64Array, q: Float64Array, nodes: number[], fills: number[], inPart: Int32Array, lambda: number, eps: number): PartFlow | null {
  const nn = nodes.length;
  const nf = fills.length;
  // Every array of this call in one arena (arena.ts): this runs once per level of the decomposition.
  const arena = new Arena(3 * nf, 4 * nf + 6 * nn + 2, nn + nf);
  const toBuy = arena.f64(nf);
  const toSell = arena.f64(nf);
  const up = arena.f64(nf); // what a child left of its parent fill
  const fb = arena.i32(nf);
  const fs = arena.i32(nf);
  const deg = arena.i32(nn + 1);
  let twoSided = 0;
  for (let i = 0; i < nf; i++) {
    const f = fills[i];
    fb[i] = inPart[inp.fillBuy[f]];
    fs[i] = inPart[inp.fillSell[f]];
    if (fb[i] >= 0) deg[fb[i]]++;
    if (fs[i] >= 0) deg[fs[i]]++;
    if (fb[i] >= 0 && fs[i] >= 0) twoSided++;
  }
  // CSR adjacency: node → incident fills (one- and two-sided).
  const start = arena.i32(nn + 1);
  for (let k = 0; k < nn; k++) start[k + 1] = start[k] + deg[k];
  const pos = arena.i32(nn);
  pos.set(start.subarray(0, nn));
  const adj = arena.i32(start[nn]);
  for (let i = 0; i < nf; i++) {
    if (fb[i] >= 0) adj[pos[fb[i]]++] = i;
    if (fs[i] >= 0) adj[pos[fs[i]]++] = i;
  }
  const order = arena.i32(nn);
  const parentFill = arena.i32(nn).fill(-2);
  let head = 0;
  let tail = 0;
  let comps = 0;
  for (let r = 0; r < nn; r++) {
    if (parentFill[r] !== -2) continue;
    comps++;
    parentFill[r] = -1;
    order[tail++] = r;
    while (head < tail) {
      const k = order[head++];
      for (let j = start[k]; j < start[k + 1]; j++) {
        const i = adj[j];
        const other = fb[i] === k ? fs[i] : fb[i];
        if (other < 0 || i === parentFill[k]) continue;
        if (parentFill[other] !== -2) return null; // a cycle
        parentFill[other] = i;
        order[tail++] = other;
      }
    }
  }
  if (twoSided !== nn - comps) return null;
  let flow = 0;
  for (let o = nn - 1; o >= 0; o--) {
    const k = order[o];
    let need = lambda * q[nodes[k]];
    const pf = parentFill[k];
    for (let j = start[k]; j < start[k + 1] && need > 0; j++) {
      const i = adj[j];
      if (i === pf) continue;
      const avail = fb[i] >= 0 && fs[i] >= 0 ? up[i] : G[fills[i]];
      const take = Math.min(avail, need);
      if (take > 0) {
        if (fb[i] === k) toBuy[i] += take;
        else toSell[i] += take;
        need -= take;
        flow += take;
      }
    }
    if (pf >= 0) {
      const take = Math.min(Math.max(need, 0), G[fills[pf]]);
      if (fb[pf] === k) toBuy[pf] += take;
      else toSell[pf] += take;
      flow += take;
      up[pf] = G[fills[pf]] - take;
    }
  }
  // Residual reachability from the source: unused fills, then back along fills that feed a reached intent.
  const queue = arena.i32(nn);
  const reach = arena.u8(nn);
  const fillSeen = arena.u8(nf);
  let qt = 0;
  const visitFill = (i: number) => {
    if (fillSeen[i]) return;
    fillSeen[i] = 1;
    const b = fb[i];
    const s = fs[i];
    if (b >= 0 && !reach[b]) {
      reach[b] = 1;
      queue[qt++] = b;
    }
    if (s >= 0 && !reach[s]) {
      reach[s] = 1;
      queue[qt++] = s;
    }
  };
  for (let i = 0; i < nf; i++) if (G[fills[i]] - toBuy[i] - toSell[i] > eps) visitFill(i);
  for (let h = 0; h < qt; h++) {
    const k = queue[h];
    for (let j = start[k]; j < start[k + 1]; j++) {
      const i = adj[j];
      if ((fb[i] === k ? toBuy[i] : toSell[i]) > eps) visitFill(i);
    }
  }
  return { flow, toBuy, toSell, reach };
}

/** Per fill (by its index in the book): what the last flow through it gave its buyer and its seller. */
interface Given {
  toBuy: Float64Array;
  toSell: Float64Array;
}

/**
 * The part's cut at λ from any maximum flow (the intents reachable from the source in its residual network are the
 * same for all of them): push–relabel, FIFO, with global relabelling and gaps, started from the flow of the part that
 * contained this one (`warm`, per fill: on a split each fill stays with one side, and what it gave an intent now
 * outside is back at the fill; intents given more than λ·q start with that excess). Its flow is written back to
 * `warm` for the parts below. Null when the flow it ends with still reaches the sink (then Dinic decides).
 */
function probeFlow(net: PushRelabel, inp: NashInput, G: Float64Array, q: Float64Array, nodes: number[], fills: number[], inPart: Int32Array, lambda: number, eps: number, warm: Given): { flow: number; reach: Uint8Array } | null {
  const nn = nodes.length;
  const nf = fills.length;
  net.reset(nn, nf, eps);
  for (let i = 0; i < nf; i++) {
    const f = fills[i];
    net.addFill(i, inPart[inp.fillBuy[f]], inPart[inp.fillSell[f]], G[f], warm.toBuy[f], warm.toSell[f]);
  }
  for (let k = 0; k < nn; k++) net.setCap(k, lambda * q[nodes[k]]);
  net.run();
  const reach = net.reach();
  if (!reach) return null;
  for (let i = 0; i < nf; i++) {
    warm.toBuy[fills[i]] = net.toBuy[i];
    warm.toSell[fills[i]] = net.toSell[i];
  }
  return { flow: net.flow(), reach };
}

/**
 * Maximum flow on a part's network (source → fills, capacity their surplus; fill → its intents, unbounded; intent →
 * sink, capacity λ·q) by push–relabel on the intents alone: a fill's surplus starts with one of its intents, and an
 * intent's excess moves through a fill that gave it some to that fill's other intent (the path intent → fill →
 * intent of the full network, one push). Residuals and excesses up to eps count as zero. `run` finds a maximum
 * preflow; the excess that cannot reach the sink then goes back to the fills that fed it (and so to the source),
 * which leaves a maximum flow.
 */
class PushRelabel {
  readonly toBuy: Float64Array;
  readonly toSell: Float64Array;
  private readonly buyer: Int32Array;
  private readonly seller: Int32Array;
  private readonly G: Float64Array;
  private readonly cap: Float64Array;
  private readonly sunk: Float64Array; // per intent: its flow to the sink
  private readonly excess: Float64Array;
  private readonly label: Int32Array; // the sink is 0
  private readonly atLabel: Int32Array; // per label below top: how many intents have it
  // Per intent its arcs through fills (CSR, filled by `index`), each with what the fill gave it (`share`, what it
  // can pass on), the fill's other intent (`to`) and that intent's arc (`twin`); fills with an intent outside have none.
  private readonly start: Int32Array;
  private readonly adj: Int32Array; // the fill, room for two arcs per fill
  private readonly share: Float64Array;
  private readonly to: Int32Array;
  private readonly twin: Int32Array;
  private readonly arcOfBuyer: Int32Array; // per fill: its buyer's arc (−1: none)
  private readonly arcOfSeller: Int32Array;
  private readonly cur: Int32Array;
  private readonly queue: Int32Array; // the active intents, a ring
  private readonly queued: Uint8Array;
  private readonly bfs: Int32Array;
  private readonly seen: Uint8Array; // reach's, per intent and per fill
  private readonly fillSeen: Uint8Array;
  private top = 0; // the source's label: an intent labelled this high cannot reach the sink
  private nn = 0;
  private nf = 0;
  private eps = 0;
  private head = 0;
  private tail = 0;
  private count = 0;
  /**
   * Room for parts of up to `maxNodes` intents and `maxFills` fills: one set of arrays for every probe of a pricing
   * (`reset` starts each), so a probe allocates nothing.
   */
  constructor(maxNodes: number, maxFills: number) {
    const nn = maxNodes;
    const nf = maxFills;
    const arena = new Arena(5 * nf + 3 * nn, 10 * nf + 6 * nn + 2, 2 * nf + 3 * nn);
    this.toBuy = arena.f64(nf);
    this.toSell = arena.f64(nf);
    this.G = arena.f64(nf);
    this.cap = arena.f64(nn);
    this.sunk = arena.f64(nn);
    this.excess = arena.f64(nn);
    this.buyer = arena.i32(nf);
    this.seller = arena.i32(nf);
    this.adj = arena.i32(2 * nf);
    this.share = arena.f64(2 * nf);
    this.to = arena.i32(2 * nf);
    this.twin = arena.i32(2 * nf);
    this.arcOfBuyer = arena.i32(nf);
    this.arcOfSeller = arena.i32(nf);
    this.label = arena.i32(nn);
    this.atLabel = arena.i32(nn + 1);
    this.start = arena.i32(nn + 1);
    this.cur = arena.i32(nn);
    this.queue = arena.i32(nn);
    this.bfs = arena.i32(nn);
    this.queued = arena.u8(nn);
    this.seen = arena.u8(nn);
    this.fillSeen = arena.u8(nf);
  }
  /** Starts a part of nn intents and nf fills (then addFill for each fill and setCap for each intent). */
  reset(nn: number, nf: number, eps: number): void {
    this.nn = nn;
    this.nf = nf;
    this.eps = eps;
    this.top = nn + 1;
    this.head = this.tail = this.count = 0;
    this.start.fill(0, 0, nn + 1);
    this.excess.fill(0, 0, nn);
    this.seen.fill(0, 0, nn);
    this.fillSeen.fill(0, 0, nf);
  }
  /**
   * Fill i between local intents b and s (−1: outside the part), with what it gave each before (clamped to G). A
   * fill with one intent outside gives all its surplus to the inside one and has no arc: nothing can move through
   * it, and what goes back to it at the end shows as that intent's `excess` (see returnExcess).
   */
  addFill(i: number, b: number, s: number, g: number, gaveB: number, gaveS: number): void {
    this.buyer[i] = b;
    this.seller[i] = s;
    this.G[i] = g;
    if (b < 0 || s < 0) {
      this.toBuy[i] = b >= 0 ? g : 0;
      this.toSell[i] = s >= 0 ? g : 0;
      return;
    }
    const tb = Math.min(Math.max(gaveB, 0), g);
    this.toBuy[i] = tb;
    this.toSell[i] = Math.min(Math.max(gaveS, 0), g - tb);
  }
  setCap(k: number, c: number): void {
    this.cap[k] = c;
  }
  /** Σ flow into the sink. */
  flow(): number {
    let f = 0;
    for (let k = 0; k < this.nn; k++) f += this.sunk[k];
    return f;
  }
  run(): void {
    this.index();
    this.preflow();
    this.globalRelabel();
    const nn = this.nn;
    for (let k = 0; k < nn; k++) this.enqueue(k);
    let relabels = 0;
    while (this.count > 0) {
      const k = this.queue[this.head];
      this.head = this.head + 1 === nn ? 0 : this.head + 1;
      this.count--;
      this.queued[k] = 0;
      if (this.label[k] >= this.top) continue; // cut off from the sink by a global relabelling
      relabels += this.discharge(k);
      if (relabels > nn / 2) {
        relabels = 0;
        this.globalRelabel();
      }
    }
    this.returnExcess();
  }
  /**
   * The preflow to start from: what each fill gave before stays; the rest of its surplus goes to its intent with
   * more spare room (below λ·q); each intent sinks what it can.
   */
  private preflow(): void {
    const { nn, nf, buyer, seller, G, cap, sunk, excess, toBuy, toSell } = this;
    const got = excess; // each intent's inflow, until split into sunk and excess below
    for (let i = 0; i < nf; i++) {
      if (buyer[i] >= 0) got[buyer[i]] += toBuy[i];
      if (seller[i] >= 0) got[seller[i]] += toSell[i];
    }
    for (let i = 0; i < nf; i++) {
      const rest = G[i] - toBuy[i] - toSell[i];
      if (!(rest > 0)) continue;
      const b = buyer[i];
      const s = seller[i];
      if (b >= 0 && (s < 0 || cap[b] - got[b] >= cap[s] - got[s])) {
        toBuy[i] += rest;
        got[b] += rest;
      } else {
        toSell[i] += rest;
        got[s] += rest;
      }
    }
    for (let k = 0; k < nn; k++) {
      sunk[k] = Math.min(got[k], cap[k]);
      excess[k] = got[k] - sunk[k];
    }
    for (let i = 0; i < nf; i++) {
      if (this.arcOfBuyer[i] >= 0) this.share[this.arcOfBuyer[i]] = toBuy[i];
      if (this.arcOfSeller[i] >= 0) this.share[this.arcOfSeller[i]] = toSell[i];
    }
  }
  /** Queues intent k (FIFO) if it is active: excess, and a label that can still reach the sink. */
  private enqueue(k: number): void {
    if (this.queued[k] || this.label[k] >= this.top || !(this.excess[k] > this.eps)) return;
    this.queued[k] = 1;
    this.queue[this.tail] = k;
    this.tail = this.tail + 1 === this.nn ? 0 : this.tail + 1;
    this.count++;
  }
  /** The arcs of each intent, through its fills. */
  private index(): void {
    const { nn, nf, buyer, seller, start } = this;
    for (let i = 0; i < nf; i++) {
      if (buyer[i] >= 0 && seller[i] >= 0) start[buyer[i] + 1]++, start[seller[i] + 1]++;
    }
    for (let k = 0; k < nn; k++) start[k + 1] += start[k];
    const { adj, to, twin, arcOfBuyer, arcOfSeller, cur: pos } = this;
    pos.set(start.subarray(0, nn));
    for (let i = 0; i < nf; i++) {
      const b = buyer[i];
      const s = seller[i];
      if (b < 0 || s < 0) {
        arcOfBuyer[i] = arcOfSeller[i] = -1;
        continue;
      }
      const jb = pos[b]++;
      const js = pos[s]++;
      arcOfBuyer[i] = jb;
      arcOfSeller[i] = js;
      (adj[jb] = i), (to[jb] = s), (twin[jb] = js);
      (adj[js] = i), (to[js] = b), (twin[js] = jb);
    }
  }
  /** Exact distances to the sink in the residual network (breadth first, backwards); `top` where there is none. */
  private globalRelabel(): void {
    const { nn, label, bfs: queue, cap, sunk, eps, top, start, to, twin, share } = this;
    label.fill(top, 0, nn);
    let tail = 0;
    for (let k = 0; k < nn; k++) {
      if (cap[k] - sunk[k] > eps) {
        label[k] = 1;
        queue[tail++] = k;
      }
    }
    for (let h = 0; h < tail; h++) {
      const v = queue[h];
      const d = label[v] + 1;
      // k reaches v through fill i where i gave k something.
      for (let j = start[v]; j < start[v + 1]; j++) {
        const k = to[j];
        if (label[k] === top && share[twin[j]] > eps) {
          label[k] = d;
          queue[tail++] = k;
        }
      }
    }
    const { atLabel } = this;
    atLabel.fill(0, 0, top);
    for (let h = 0; h < tail; h++) atLabel[label[queue[h]]]++;
    this.cur.set(start.subarray(0, nn));
  }
  /**
   * Pushes intent k's excess to the sink, or through fills that gave it some to their other intent one label
   * lower, relabelling when stuck; returns the relabels done.
   */
  private discharge(k: number): number {
    const { label, excess, cap, sunk, eps, top, start, cur, to, twin, share } = this;
    let relabels = 0;
    while (excess[k] > eps) {
      if (label[k] === 1 && cap[k] - sunk[k] > eps) {
        const amt = Math.min(excess[k], cap[k] - sunk[k]);
        sunk[k] += amt;
        excess[k] -= amt;
        continue;
      }
      let j = cur[k];
      const end = start[k + 1];
      const down = label[k] - 1;
      for (; j < end; j++) {
        const o = to[j];
        if (label[o] !== down) continue;
        const gave = share[j];
        if (!(gave > eps)) continue;
        const amt = Math.min(excess[k], gave);
        share[j] = gave - amt;
        share[twin[j]] += amt;
        excess[k] -= amt;
        excess[o] += amt;
        this.enqueue(o);
        if (excess[k] <= eps) break;
      }
      cur[k] = j < end ? j : start[k];
      if (j < end) break;
      // Relabel: one above the lowest intent it can still push to.
      let d = cap[k] - sunk[k] > eps ? 1 : top;
      for (let jj = start[k]; jj < end && d > 1; jj++) {
        const o = to[jj];
        if (share[jj] > eps) d = Math.min(d, label[o] + 1);
      }
      const was = label[k];
      label[k] = Math.min(d, top);
      relabels++;
      if (label[k] < top) this.atLabel[label[k]]++;
      if (--this.atLabel[was] === 0) this.gap(was);
      if (label[k] >= top) break;
    }
    return relabels;
  }
  /** No intent is left at label g: those above it cannot reach the sink (every residual step goes down by one at most). */
  private gap(g: number): void {
    const { nn, label, atLabel, top } = this;
    for (let v = 0; v < nn; v++) {
      const l = label[v];
      if (l > g && l < top) {
        atLabel[l]--;
        label[v] = top;
      }
    }
  }
  /**
   * What cannot reach the sink goes back: each intent's excess to the fills that fed it (and so to the source),
   * through its arcs first; what is left stays in `excess`, gone back to its fills with one intent outside. Then
   * what each fill with two intents inside gives them, from the arcs.
   */
  private returnExcess(): void {
    const { nn, nf, excess, start, share, arcOfBuyer, arcOfSeller } = this;
    for (let k = 0; k < nn; k++) {
      for (let j = start[k]; j < start[k + 1] && excess[k] > 0; j++) {
        const amt = Math.min(excess[k], share[j]);
        share[j] -= amt;
        excess[k] -= amt;
      }
    }
    for (let i = 0; i < nf; i++) {
      if (arcOfBuyer[i] < 0) continue;
      this.toBuy[i] = share[arcOfBuyer[i]];
      this.toSell[i] = share[arcOfSeller[i]];
    }
  }
  /** Intents reachable from the source in the residual network; null if the sink is (the flow is not maximum). */
  reach(): Uint8Array | null {
    const { nn, nf, G, toBuy, toSell, buyer, seller, cap, sunk, excess, eps, start, adj, share } = this;
    const { seen, fillSeen } = this;
    const queue = this.bfs;
    let tail = 0;
    const see = (k: number) => {
      if (k >= 0 && !seen[k]) {
        seen[k] = 1;
        queue[tail++] = k;
      }
    };
    const visitFill = (i: number) => {
      if (fillSeen[i]) return;
      fillSeen[i] = 1;
      see(buyer[i]);
      see(seller[i]);
    };
    for (let i = 0; i < nf; i++) if (G[i] - toBuy[i] - toSell[i] > eps) visitFill(i);
    for (let k = 0; k < nn; k++) if (excess[k] > eps) see(k); // its fills with one intent outside are not saturated
    for (let h = 0; h < tail; h++) {
      const v = queue[h];
      if (cap[v] - sunk[v] > eps) return null;
      for (let j = start[v]; j < start[v + 1]; j++) if (share[j] > eps) visitFill(adj[j]);
    }
    return seen.subarray(0, nn);
  }
}

/** The same max flow on a general part, by Dinic's algorithm. */
function netFlow(net: MaxFlow, inp: NashInput, G: Float64Array, q: Float64Array, nodes: number[], fills: number[], inPart: Int32Array, lambda: number, eps: number): PartFlow {
  const nn = nodes.length;
  const nf = fills.length;
  // Network: 0 = source, 1 = sink, 2..2+nf fills, then intents.
  net.reset(2 + nf + nn);
  const fillToBuy = new Int32Array(nf).fill(-1);
  const fillToSell = new Int32Array(nf).fill(-1);
  for (let i = 0; i < nf; i++) {
    const f = fills[i];
    net.addEdge(0, 2 + i, G[f]);
    const bi = inPart[inp.fillBuy[f]];
    const si = inPart[inp.fillSell[f]];
    if (bi >= 0) fillToBuy[i] = net.addEdge(2 + i, 2 + nf + bi, Infinity);
    if (si >= 0) fillToSell[i] = net.addEdge(2 + i, 2 + nf + si, Infinity);
  }
  for (let i = 0; i < nn; i++) net.addEdge(2 + nf + i, 1, lambda * q[nodes[i]]);
  const flow = net.run(0, 1, eps);
  const r = net.reachable(0, eps);
  const toBuy = new Float64Array(nf);
  const toSell = new Float64Array(nf);
  for (let i = 0; i < nf; i++) {
    if (fillToBuy[i] >= 0) toBuy[i] = net.flowOn(fillToBuy[i]);
    if (fillToSell[i] >= 0) toSell[i] = net.flowOn(fillToSell[i]);
  }
  const reach = new Uint8Array(nn);
  for (let i = 0; i < nn; i++) reach[i] = r[2 + nf + i];
  return { flow, toBuy, toSell, reach };
}

/** Dinic's max flow on floating capacities (residuals below eps count as zero), in typed arrays. */
class MaxFlow {
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  private readonly to: Int32Array;
  private readonly cap: Float64Array;
  private readonly level: Int32Array;
  private readonly it: Int32Array;
  private readonly queue: Int32Array;
  /** The path augment() is on: per depth its edge, the flow it may carry so far and the node it leaves. */
  private readonly pathEdge: Int32Array;
  private readonly pathFlow: Float64Array;
  private readonly pathNode: Int32Array;
  private edges = 0;
  private eps = 0;
  private nv = 0;
  /** `nv` nodes and room for `arcs` calls of addEdge; `reset` starts again on up to as many. */
  constructor(nv: number, arcs: number) {
    // One arena (arena.ts): a pricing's Dinic runs share one network when it is reset between them.
    const arena = new Arena(nv + 2 * arcs, 6 * nv + 4 * arcs);
    this.pathFlow = arena.f64(nv);
    this.cap = arena.f64(2 * arcs);
    this.head = arena.i32(nv);
    this.level = arena.i32(nv);
    this.it = arena.i32(nv);
    this.queue = arena.i32(nv);
    this.pathEdge = arena.i32(nv);
    this.pathNode = arena.i32(nv);
    this.next = arena.i32(2 * arcs);
    this.to = arena.i32(2 * arcs);
    this.reset(nv);
  }
  /** An empty network of `nv` nodes. */
  reset(nv: number): void {
    this.nv = nv;
    this.edges = 0;
    this.head.fill(-1, 0, nv);
  }
  addEdge(u: number, v: number, c: number): number {
    const e = this.edges;
    this.edges += 2;
    this.to[e] = v;
    this.to[e + 1] = u;
    this.cap[e] = c;
    this.cap[e + 1] = 0;
    this.next[e] = this.head[u];
    this.next[e + 1] = this.head[v];
    this.head[u] = e;
    this.head[v] = e + 1;
    return e;
  }
  /** Flow on edge e: the residual of its reverse edge (which starts at 0), safe for infinite capacities. */
  flowOn(e: number): number {
    return this.cap[e ^ 1];
  }
  run(s: number, t: number, eps: number): number {
    this.eps = eps;
    let total = 0;
    while (this.bfs(s, t)) {
      this.it.set(this.head);
      for (;;) {
        const f = this.augment(s, t);
        if (!(f > eps)) break;
        total += f;
      }
    }
    return total;
  }
  reachable(s: number, eps: number): Uint8Array {
    const seen = new Uint8Array(this.nv);
    const queue = this.queue;
    let tail = 0;
    queue[tail++] = s;
    seen[s] = 1;
    for (let h = 0; h < tail; h++) {
      const u = queue[h];
      for (let e = this.head[u]; e !== -1; e = this.next[e]) {
        if (this.cap[e] > eps && !seen[this.to[e]]) {
          seen[this.to[e]] = 1;
          queue[tail++] = this.to[e];
        }
      }
    }
    return seen;
  }
  /**
   * Levels from s in the residual network, up to t's: nodes at or beyond t's distance are never on a shortest path
   * to t, so they stay unlevelled (−1) and the blocking flow skips them.
   */
  private bfs(s: number, t: number): boolean {
    const { level, queue, head, next, to, cap } = this;
    level.fill(-1, 0, this.nv);
    level[s] = 0;
    let tail = 0;
    queue[tail++] = s;
    for (let h = 0; h < tail; h++) {
      const u = queue[h];
      for (let e = head[u]; e !== -1; e = next[e]) {
        const v = to[e];
        if (cap[e] > this.eps && level[v] < 0) {
          level[v] = level[u] + 1;
          if (v === t) return true;
          queue[tail++] = v;
        }
      }
    }
    return false;
  }
  /**
   * One augmenting path in the level graph, depth first from s (edges tried in list order; a dead end's edge is
   * passed over for the rest of the phase): sends the path's least residual along it and returns it, or 0.
   */
  private augment(s: number, t: number): number {
    const { it, next, to, cap, level, pathEdge, pathFlow, pathNode } = this;
    let u = s;
    let f = Infinity;
    let depth = 0;
    for (;;) {
      if (u === t) {
        for (let k = 0; k < depth; k++) {
          cap[pathEdge[k]] -= f;
          cap[pathEdge[k] ^ 1] += f;
        }
        return f;
      }
      let e = it[u];
      while (e !== -1 && !(cap[e] > this.eps && level[to[e]] === level[u] + 1)) e = it[u] = next[e];
      if (e === -1) {
        if (depth === 0) return 0;
        depth--;
        u = pathNode[depth];
        f = pathFlow[depth];
        it[u] = next[it[u]];
        continue;
      }
      pathEdge[depth] = e;
      pathFlow[depth] = f;
      pathNode[depth++] = u;
      f = Math.min(f, cap[e]);
      u = to[e];
    }
  }
}

/**
 * Nash bargaining over multi-party trades (chains through swaps, rings of swaps): trade t's gain G[t] is split
 * among its parties `takers[t]` (each party's share ≥ 0, so every trade is individually rational for everyone in
 * it), maximising Σ q_k log s_k. The same density decomposition as for fills, on a hypergraph, by Dinic.
 * Returns per trade the shares in the order of its takers.
 */
export function nashTradeShares(n: number, takers: readonly Int32Array[], G: Float64Array, q: Float64Array): Float64Array[] {
  const shares = takers.map((t) => new Float64Array(t.length));
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const active: number[] = [];
  takers.forEach((t, g) => {
    if (!(G[g] > 0)) return;
    active.push(g);
    for (let j = 1; j < t.length; j++) {
      const a = find(t[0]);
      const b = find(t[j]);
      if (a !== b) parent[a] = b;
    }
  });
  const comps = new Map<number, number[]>();
  for (const g of active) {
    const r = find(takers[g][0]);
    let l = comps.get(r);
    if (!l) comps.set(r, (l = []));
    l.push(g);
  }
  const inPart = new Int32Array(n).fill(-1);
  for (const goods0 of comps.values()) {
    const nodes0 = [...new Set(goods0.flatMap((g) => [...takers[g]]))];
    const stack: { nodes: number[]; goods: number[] }[] = [{ nodes: nodes0, goods: goods0 }];
    while (stack.length > 0) {
      const { nodes, goods } = stack.pop()!;
      nodes.forEach((k, i) => (inPart[k] = i));
      const nn = nodes.length;
      const ng = goods.length;
      let gTot = 0;
      let qTot = 0;
      for (const g of goods) gTot += G[g];
      for (const k of nodes) qTot += q[k];
      const lambda = gTot / qTot;
      const eps = 1e-12 * gTot;
      let arcCount = ng + nn;
      for (const g of goods) arcCount += takers[g].length;
      const net = new MaxFlow(2 + ng + nn, arcCount);
      const arcs: number[][] = [];
      goods.forEach((g, i) => {
        net.addEdge(0, 2 + i, G[g]);
        arcs.push([...takers[g]].map((k) => (inPart[k] >= 0 ? net.addEdge(2 + i, 2 + ng + inPart[k], Infinity) : -1)));
      });
      for (let i = 0; i < nn; i++) net.addEdge(2 + ng + i, 1, lambda * q[nodes[i]]);
      const flow = nn === 1 ? gTot : net.run(0, 1, eps);
      const reach = nn === 1 ? new Uint8Array(2 + ng + nn) : net.reachable(0, eps);
      const T: number[] = [];
      const U: number[] = [];
      for (let i = 0; i < nn; i++) (reach[2 + ng + i] ? U : T).push(nodes[i]);
      if (nn === 1 || U.length === 0 || T.length === 0 || flow >= gTot - eps) {
        goods.forEach((g, i) => {
          const sh = shares[g];
          let given = 0;
          let firstIn = -1;
          arcs[i].forEach((a, j) => {
            sh[j] = a >= 0 && nn > 1 ? net.flowOn(a) : 0;
            given += sh[j];
            if (a >= 0 && firstIn < 0) firstIn = j;
          });
          if (firstIn >= 0) sh[firstIn] += G[g] - given; // the rounding remainder (all of it for a lone party)
        });
      } else {
        const low = new Set(T);
        const lowGoods: number[] = [];
        const highGoods: number[] = [];
        for (const g of goods) ([...takers[g]].some((k) => low.has(k)) ? lowGoods : highGoods).push(g);
        stack.push({ nodes: T, goods: lowGoods }, { nodes: U, goods: highGoods });
      }
      for (const k of nodes) inPart[k] = -1;
    }
  }
  return shares;
}
