// Branch and bound over minimums for books with windows, with a tree verify-time.ts checks leaf by leaf
// (notes/solver.md, "Time: minimums (session 9)"). Best-first over the time-expanded LP (time-net.ts): each intent
// left out, or forced to at least its minimum. An intent whose minimum exceeds what its counterparts could ever
// deliver to it (a max flow over their windows, rate caps and quantities) is left out without an LP: the forced
// branch is a leaf whose duals are the parent's plus a min cut's, which make its bound fall below the incumbent.
import type { SolveStatus } from "../contract/schema.ts";
import type { Budgets } from "./result.ts";
import { noTrades, reachEntry, solveTimeLp, type TimeBook, type TimeFixings, type TimeLp } from "./time-net.ts";
import { slotHours, windowed } from "./time-slots.ts";
import { Ranking } from "./branch.ts";

/** LPs branch and bound solves before the time budget may stop it (fewer than the class path's: each is larger). */
const MIN_TIME_LPS = 8;

/** Leaf duals of a component: per intent d (u − y: negative only when forced), per swap π, per capped leg and slot r. */
export interface TimeDuals {
  d: Float64Array;
  pi: Float64Array;
  /** Key leg × (slots + 1) + slot. */
  r: Map<number, number>;
}

/** A leaf for the certificate: its fixings (intent, 1 left out | 2 forced, in branching order), duals and bound. */
export interface TimeLeaf {
  fixes: Int32Array;
  duals: TimeDuals;
  bound: number;
}

export interface TimeSearch {
  best: TimeLp;
  status: SolveStatus;
  /** The search's own bound (best open node). */
  bound: number;
  /** The leaves, or null when there are more than the certificate may list. */
  leaves: TimeLeaf[] | null;
}

/** Leaves × legs × slots beyond which the tree is not listed (verify's time is linear in it). */
const MAX_LEAF_WORK = 40_000_000;
/** Listed leaf duals (non-zero, over all leaves) beyond which the tree is not listed. */
const MAX_LEAF_DUALS = 50_000;

/** A pair a forced leg must satisfy: the other leg, its own and the other's soft penalty, common slots. */
interface Partner {
  other: number;
  penalty: number;
  otherPenalty: number;
  slots: number[];
}

/** How a leaf's duals are made: an LP's (its own or its parent's), plus a min cut proving a minimum out of reach. */
type Proof = { lp: TimeLp; cut?: Cut };

/** A min cut below a minimum: (leg, slot) rate duals to raise, and [intent, leg] whose quantity dual to raise. */
interface Cut {
  rates: [number, number][];
  quantities: [number, number][];
}

export function timeBranchAndBound(book: TimeBook, min: Float64Array, root: TimeLp, budgets: Budgets, t0: number, maxLeaves: number): TimeSearch {
  return new Search(book, min, budgets, t0, maxLeaves).run(root);
}

/** Intents with a minimum filled strictly between 0 and it. */
export function timeViolators(book: TimeBook, min: Float64Array, amount: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < min.length; i++) {
    if (min[i] === 0) continue;
    const x = amount[i];
    if (x > book.tiny && x < min[i] - 1e-12 * Math.max(1, book.intents[i].quantity)) out.push(i);
  }
  return out;
}

class Search {
  private readonly n: number;
  private readonly memo = new Map<string, TimeLp>();
  private readonly legsOf: number[][];
  private readonly partners = new Map<number, Partner[]>();
  private readonly stride: number;
  private readonly book: TimeBook;
  private readonly min: Float64Array;
  private readonly budgets: Budgets;
  private readonly t0: number;
  private readonly maxLeaves: number;
  private tol = 0;
  private lps = 0;
  private best!: TimeLp;
  private bestRank = 0;
  private readonly ranking: Ranking;
  private readonly pending: { fixes: Int32Array; proof: Proof }[] = [];
  /** Open nodes; `rank` is the parent LP's priority objective (no allocation tying the parent's welfare does better). */
  private readonly open: { bound: number; rank: number; fixes: Int32Array; parent: TimeLp }[] = [];
  private unresolved = -Infinity;

  constructor(book: TimeBook, min: Float64Array, budgets: Budgets, t0: number, maxLeaves: number) {
    this.book = book;
    this.min = min;
    this.budgets = budgets;
    this.t0 = t0;
    this.maxLeaves = maxLeaves;
    this.n = book.intents.length;
    this.legsOf = Array.from({ length: this.n }, () => []);
    book.legs.forEach((l, k) => this.legsOf[l.intent].push(k));
    this.stride = book.slots.count + 1;
    this.ranking = new Ranking(book.intents, Float64Array.from(book.intents, (it) => Math.max(0, it.quantity)));
  }

  run(root: TimeLp): TimeSearch {
    this.tol = 1e-9 * Math.max(1, Math.abs(root.welfare));
    this.best = this.firstIncumbent(root);
    this.bestRank = this.ranking.of(this.best.amount);
    this.expand(root, new Int32Array(0), root.welfare);
    let status = this.search();
    // Open nodes (pruned, or left by a budget) are leaves on their parent's duals.
    let bound = Math.max(this.best.welfare, this.unresolved);
    for (const node of this.open) {
      bound = Math.max(bound, node.bound);
      this.pending.push({ fixes: node.fixes, proof: { lp: node.parent } });
    }
    if (status === "optimal" && this.unresolved > this.best.welfare + this.tol) status = "node_budget";
    return { best: this.best, status, bound, leaves: this.leaves() };
  }

  /**
   * Best first until every open node is pruned or a budget runs out. A node that cannot raise the welfare but may
   * tie it with a better priority objective is still searched while the budgets last (the welfare is proven either
   * way); pruned nodes stay open and become leaves on their parent's duals.
   */
  private search(): SolveStatus {
    for (let nodes = 1; this.open.length > 0; nodes++) {
      let top = 0;
      for (let k = 1; k < this.open.length; k++) if (this.open[k].bound > this.open[top].bound) top = k;
      if (this.open[top].bound <= this.best.welfare + this.tol) {
        top = this.open.findIndex((o) => this.mayTie(o.bound, o.rank));
        if (top < 0 || nodes >= this.budgets.nodeBudget || (this.lps >= MIN_TIME_LPS && performance.now() - this.t0 > this.budgets.timeBudgetMs)) return "optimal";
      }
      if (nodes >= this.budgets.nodeBudget) return "node_budget";
      if (this.lps >= MIN_TIME_LPS && performance.now() - this.t0 > this.budgets.timeBudgetMs) return "time_budget";
      const node = this.open[top];
      this.open[top] = this.open[this.open.length - 1];
      this.open.pop();
      const sol = this.lp(node.fixes);
      if (sol.infeasible || (sol.welfare <= this.best.welfare + this.tol && !this.mayTie(sol.welfare, this.ranking.of(sol.amount)))) {
        // A leaf: its own duals, or its parent's when they bound it lower (both are valid for its LP).
        this.pending.push({ fixes: node.fixes, proof: { lp: sol } }, { fixes: node.fixes, proof: { lp: node.parent } });
        continue;
      }
      this.expand(sol, node.fixes, Math.min(node.bound, sol.welfare));
    }
    return "optimal";
  }

  private mayTie(bound: number, rank: number): boolean {
    return this.ranking.mayTie(bound, rank, this.best.welfare, this.bestRank, this.tol);
  }

  /** The LP of a node (memoised on its set of fixings: the first incumbent's and a child's often coincide). */
  private lp(fixes: Int32Array): TimeLp {
    const pairs: string[] = [];
    for (let k = 0; k < fixes.length; k += 2) pairs.push(`${fixes[k]}:${fixes[k + 1]}`);
    const key = pairs.sort().join(",");
    let sol = this.memo.get(key);
    if (!sol) {
      const { excluded, forced } = this.masks(fixes);
      const fix: TimeFixings = { excluded, forced, min: this.min };
      sol = solveTimeLp(this.book, fix);
      this.lps++;
      this.memo.set(key, sol);
    }
    return sol;
  }

  private masks(fixes: Int32Array): { excluded: Uint8Array; forced: Uint8Array } {
    const excluded = new Uint8Array(this.n);
    const forced = new Uint8Array(this.n);
    for (let k = 0; k < fixes.length; k += 2) (fixes[k + 1] === 1 ? excluded : forced)[fixes[k]] = 1;
    return { excluded, forced };
  }

  /** Leave out every violator and solve again until none is left (an incumbent, unless a trade loses). */
  private firstIncumbent(root: TimeLp): TimeLp {
    let sol = root;
    const dropped: number[] = [];
    for (let v = this.violators(sol); v.length > 0; v = this.violators(sol)) {
      for (const i of v) dropped.push(i, 1);
      sol = this.lp(Int32Array.from(dropped));
    }
    return sol.rational ? sol : { ...root, welfare: 0, trades: noTrades(), amount: new Float64Array(this.n) }; // no fills
  }

  private violators(sol: TimeLp): number[] {
    return timeViolators(this.book, this.min, sol.amount);
  }

  /**
   * A solved node: an incumbent when no minimum is violated, else its children. Violators whose minimum cannot be
   * reached whatever the rest does are left out at once (their forced branch a leaf proved by a cut), and the node
   * with them out goes back to the queue; otherwise two children on the violator furthest from 0 and its minimum.
   */
  private expand(sol: TimeLp, fixes: Int32Array, bound: number): void {
    const v = this.violators(sol);
    if (v.length === 0) {
      this.pending.push({ fixes, proof: { lp: sol } });
      const rank = this.ranking.of(sol.amount);
      if (!sol.rational) this.unresolved = Math.max(this.unresolved, bound);
      else if (this.ranking.beats(sol.welfare, rank, this.best.welfare, this.bestRank, this.tol)) [this.best, this.bestRank] = [sol, rank];
      return;
    }
    const { excluded } = this.masks(fixes);
    let next = fixes;
    for (const i of v) {
      const cut = this.unreachable(i, excluded);
      if (!cut) continue;
      this.pending.push({ fixes: Int32Array.from([...next, i, 2]), proof: { lp: sol, cut } });
      next = Int32Array.from([...next, i, 1]);
      excluded[i] = 1;
    }
    if (next !== fixes) {
      this.open.push({ bound, rank: this.ranking.of(sol.amount), fixes: next, parent: sol });
      return;
    }
    let pick = v[0];
    let score = -1;
    for (const i of v) {
      const s = Math.min(sol.amount[i], this.min[i] - sol.amount[i]) / this.min[i];
      if (s > score) [score, pick] = [s, i];
    }
    const rank = this.ranking.of(sol.amount);
    for (const kind of [1, 2]) this.open.push({ bound, rank, fixes: Int32Array.from([...fixes, pick, kind]), parent: sol });
  }

  /**
   * The pairs a forced intent's leg must satisfy in a leaf (verify-time.ts checks the same): legs of other agents
   * on the other side of its resource, in regions both admit, active in a common slot, whose pair gains (limits
   * moved by soft latency) or has a swap on a side.
   */
  private partnersOf(k: number): Partner[] {
    let list = this.partners.get(k);
    if (list) return list;
    list = [];
    const { legs, intents, reachPenalty, legRegion, legResource, slots } = this.book;
    const l = legs[k];
    const it = intents[l.intent];
    for (let m = 0; m < legs.length; m++) {
      const o = legs[m];
      if (o.buy === l.buy || legResource[m] !== legResource[k] || intents[o.intent].agent === it.agent) continue;
      const me = reachEntry(this.book, k, legRegion[m]);
      const them = reachEntry(this.book, m, legRegion[k]);
      if (me < 0 || them < 0) continue;
      const mine = reachPenalty[me];
      const theirs = reachPenalty[them];
      const swap = it.swapFor !== undefined || intents[o.intent].swapFor !== undefined;
      const gain = l.buy ? l.value - mine - o.value - theirs : o.value - theirs - l.value - mine;
      if (!swap && gain < 0) continue;
      const common: number[] = [];
      if (windowed(l) || windowed(o)) for (let t = Math.max(l.first, o.first); t < Math.min(l.last, o.last); t++) common.push(t);
      else common.push(slots.count);
      if (common.length > 0) list.push({ other: m, penalty: mine, otherPenalty: theirs, slots: common });
    }
    this.partners.set(k, list);
    return list;
  }

  /**
   * Whether intent i's minimum is out of reach with `excluded` left out: per leg, a max flow from its slots (its
   * rate cap) through its partners' slots (theirs) to their quantities. Returns a min cut below the minimum, or null.
   */
  private unreachable(i: number, excluded: Uint8Array): Cut | null {
    for (const k of this.legsOf[i]) {
      const cut = this.minCut(k, excluded, this.min[i]);
      if (cut) return cut;
    }
    return null;
  }

  private minCut(k: number, excluded: Uint8Array, need: number): Cut | null {
    const { legs, intents, slots } = this.book;
    const l = legs[k];
    const cap = (leg: number, t: number) => (t < slots.count && legs[leg].rate < Infinity ? legs[leg].rate * slotHours(slots, t) : Infinity);
    // Nodes: 0 source, 1 sink, then one per slot of the leg, then one per partner.
    const slotNode = new Map<number, number>();
    const from: number[] = [];
    const to: number[] = [];
    const capOf: number[] = [];
    const tag: number[] = []; // 0: the leg's slot cap, 1: a partner's slot cap, 2: a partner's quantity
    const tagLeg: number[] = [];
    const tagSlot: number[] = [];
    let V = 2;
    const edge = (u: number, v: number, c: number, kind: number, leg: number, t: number) => {
      from.push(u, v), to.push(v, u), capOf.push(c, 0), tag.push(kind, -1), tagLeg.push(leg, -1), tagSlot.push(t, -1);
    };
    for (const p of this.partnersOf(k)) {
      const o = legs[p.other];
      if (excluded[o.intent] || !(intents[o.intent].quantity > 0)) continue;
      const node = V++;
      for (const t of p.slots) {
        let s = slotNode.get(t);
        if (s === undefined) {
          slotNode.set(t, (s = V++));
          edge(0, s, cap(k, t), 0, k, t);
        }
        edge(s, node, cap(p.other, t), 1, p.other, t);
      }
      edge(node, 1, intents[o.intent].quantity, 2, p.other, -1);
    }
    const m = from.length;
    const head = new Int32Array(V).fill(-1);
    const nextArc = new Int32Array(m);
    for (let a = 0; a < m; a++) {
      nextArc[a] = head[from[a]];
      head[from[a]] = a;
    }
    const flow = new Float64Array(m);
    const residual = (a: number) => capOf[a] - flow[a];
    const eps = 1e-12 * Math.max(1, need);
    const reach = new Int32Array(V);
    let total = 0;
    const viaArc = new Int32Array(V);
    for (;;) {
      // Breadth-first augmenting path (the graph is small: one leg's slots and partners).
      reach.fill(0);
      reach[0] = 1;
      const queue = [0];
      for (let q = 0; q < queue.length && !reach[1]; q++)
        for (let a = head[queue[q]]; a >= 0; a = nextArc[a]) {
          const v = to[a];
          if (!reach[v] && residual(a) > eps) {
            reach[v] = 1;
            viaArc[v] = a;
            queue.push(v);
          }
        }
      if (!reach[1]) break;
      let push = Infinity;
      for (let v = 1; v !== 0; v = from[viaArc[v]]) push = Math.min(push, residual(viaArc[v]));
      for (let v = 1; v !== 0; v = from[viaArc[v]]) {
        flow[viaArc[v]] += push;
        flow[viaArc[v] ^ 1] -= push;
      }
      total += push;
      if (total >= need - 1e-9 * Math.max(1, need)) return null;
    }
    const cut: Cut = { rates: [], quantities: [] };
    for (let a = 0; a < m; a += 2) {
      if (!reach[from[a]] || reach[to[a]]) continue;
      if (tag[a] === 2) cut.quantities.push([legs[tagLeg[a]].intent, tagLeg[a]]);
      else cut.rates.push([tagLeg[a], tagSlot[a]]);
    }
    return cut;
  }

  /** Every leaf with its duals, or null when the tree is too large for the certificate. */
  private leaves(): TimeLeaf[] | null {
    // A leaf recorded twice (own and parent duals) keeps the lower bound.
    const byKey = new Map<string, TimeLeaf>();
    let work = 0;
    let listed = 0;
    let perLeaf = 0;
    this.book.legs.forEach((l, k) => (perLeaf += (l.last - l.first + (windowed(l) ? 0 : 1)) * (this.book.reachTo[k] - this.book.reachFrom[k])));
    for (const { fixes, proof } of this.pending) {
      const key = fixes.join(",");
      const leaf = this.leaf(fixes, proof);
      const had = byKey.get(key);
      if (!had) {
        if (byKey.size >= this.maxLeaves) return null;
        work += perLeaf;
        for (const x of leaf.duals.d) if (x !== 0) listed++;
        listed += leaf.duals.r.size;
        if (work > MAX_LEAF_WORK || listed > MAX_LEAF_DUALS) return null;
        byKey.set(key, leaf);
      } else if (leaf.bound < had.bound) byKey.set(key, leaf);
    }
    return [...byKey.values()];
  }

  private leaf(fixes: Int32Array, proof: Proof): TimeLeaf {
    const { excluded, forced } = this.masks(fixes);
    if (!proof.cut) {
      const duals = this.dualsOf(proof.lp);
      this.tighten(duals, excluded, forced);
      return { fixes, duals, bound: this.leafBound(duals, excluded, forced) };
    }
    // The parent's duals plus K on every arc of the cut: each pair of the dead intent gains K of slack, so its own
    // dual falls by K while the bound moves by K × (cut − minimum) < 0. K grows until the bound is under the incumbent.
    const target = this.best.welfare - Math.max(this.tol, 1e-6 * Math.max(1, Math.abs(this.best.welfare)));
    let leaf: TimeLeaf | null = null;
    for (let K = 1 + this.priceScale(), round = 0; round < 80; K *= 4, round++) {
      const duals = this.dualsOf(proof.lp);
      for (const [leg, t] of proof.cut.rates) {
        const key = leg * this.stride + t;
        duals.r.set(key, (duals.r.get(key) ?? 0) + K);
      }
      for (const [j, leg] of proof.cut.quantities) {
        duals.d[j] += K;
        if (this.book.intents[j].swapFor && this.book.legs[leg].buy) duals.pi[j] -= K; // the taken leg: −π rises
      }
      this.tighten(duals, excluded, forced);
      leaf = { fixes, duals, bound: this.leafBound(duals, excluded, forced) };
      if (!(leaf.bound > target) || !Number.isFinite(target)) break;
    }
    return leaf!;
  }

  private priceScale(): number {
    let p = 1;
    for (const l of this.book.legs) p = Math.max(p, Math.abs(l.value));
    return p;
  }

  private dualsOf(lp: TimeLp): TimeDuals {
    const d = Float64Array.from(lp.duals);
    const pi = new Float64Array(this.n).fill(NaN);
    for (const [i, p] of lp.potentials) pi[i] = p;
    const r = new Map<number, number>();
    for (const { leg, slot, dual } of lp.rateDuals) r.set(leg * this.stride + slot, dual);
    return { d, pi, r };
  }

  /** U (a buy leg) or V (a sell leg) of a leg, before rate duals and penalties: U − value or V + value. */
  private base(duals: TimeDuals, k: number): number {
    const l = this.book.legs[k];
    const i = l.intent;
    const swap = this.book.intents[i].swapFor !== undefined;
    if (l.buy) return (swap ? -duals.pi[i] : duals.d[i]) - l.value;
    return (swap ? duals.pi[i] + duals.d[i] : duals.d[i]) + l.value;
  }

  /**
   * Forced intents' duals as low as their pairs allow (the LP's are clipped at 0, and a pair with a swap that the
   * LP left out binds too): per forced plain intent d, per forced swap π as high and then w as low as they may be.
   * An intent with no pair gets a dual low enough to put the leaf under the incumbent (its LP is infeasible).
   */
  private tighten(duals: TimeDuals, excluded: Uint8Array, forced: Uint8Array): void {
    const { intents, legs } = this.book;
    // What a forced intent without pairs takes off the bound (× its minimum): the rest of it, and more.
    const floor = () => Math.max(0, this.leafBound(duals, excluded, forced)) + Math.abs(this.best.welfare) + this.priceScale() + 1;
    // Each forced intent in turn, as low as its pairs allow given the others' duals at that moment, so the order
    // matters: lowest first. One short of its minimum has the lowest LP dual (its minimum binds), and its forced
    // partners' duals are high by as much; lowering a partner first would leave both high and the leaf unproved.
    const order: number[] = [];
    for (let i = 0; i < this.n; i++) if (forced[i] && !excluded[i] && this.min[i] > 0) order.push(i);
    order.sort((a, b) => duals.d[a] - duals.d[b] || a - b);
    for (const i of order) {
      // need(k): the least base leg k may have (its pairs' slack ≥ 0), −Infinity without pairs.
      const need = (k: number) => {
        let lo = -Infinity;
        for (const p of this.partnersOf(k)) {
          const o = legs[p.other].intent;
          if (excluded[o] || !(intents[o].quantity > 0)) continue;
          const b = this.base(duals, p.other);
          for (const t of p.slots) {
            const v = b + (duals.r.get(p.other * this.stride + t) ?? 0) + p.otherPenalty + (duals.r.get(k * this.stride + t) ?? 0) + p.penalty;
            lo = Math.max(lo, -v);
          }
        }
        return lo;
      };
      if (!intents[i].swapFor) {
        const k = this.legsOf[i][0];
        const lo = need(k); // base = d − value (buy) or d + value (sell)
        duals.d[i] = 0;
        duals.d[i] = Number.isFinite(lo) ? (legs[k].buy ? lo + legs[k].value : lo - legs[k].value) : -floor() / this.min[i];
        continue;
      }
      // A swap: U = −π on its taken leg, V = π + w on its given one. π as high as the taken leg allows, then w.
      const taken = this.legsOf[i].find((k) => legs[k].buy)!;
      const given = this.legsOf[i].find((k) => !legs[k].buy)!;
      const loTaken = need(taken); // −π − value ≥ loTaken
      const loGiven = need(given); // π + w + value ≥ loGiven
      if (!Number.isFinite(duals.pi[i])) duals.pi[i] = 0;
      if (Number.isFinite(loTaken)) duals.pi[i] = -loTaken - legs[taken].value;
      if (Number.isFinite(loTaken) && Number.isFinite(loGiven)) duals.d[i] = loGiven - legs[given].value - duals.pi[i];
      else {
        duals.d[i] = 0;
        duals.d[i] = -floor() / this.min[i];
        if (Number.isFinite(loGiven)) duals.pi[i] = loGiven - legs[given].value - duals.d[i]; // no taken pair: π is free
      }
    }
  }

  /** What verify computes for a leaf: Σ quantity·d (minimum·d for a forced negative d) + Σ rate × hours × r. */
  private leafBound(duals: TimeDuals, excluded: Uint8Array, forced: Uint8Array): number {
    const { intents, legs, slots } = this.book;
    let bound = 0;
    for (let i = 0; i < this.n; i++) {
      if (excluded[i] || !(intents[i].quantity > 0)) continue;
      const d = duals.d[i];
      bound += d < 0 && forced[i] ? Math.min(intents[i].quantity, this.min[i]) * d : intents[i].quantity * d;
    }
    for (const [key, r] of duals.r) {
      const k = Math.floor(key / this.stride);
      const t = key - k * this.stride;
      if (!excluded[legs[k].intent]) bound += r * legs[k].rate * slotHours(slots, t);
    }
    return bound;
  }
}
