// A second formulation of the optimum over schedules, for checking support/highs-time.ts on tiny markets: the
// same problem as a min-cost circulation on a time-expanded network, solved by cycle cancelling (no LP solver),
// with every minQuantity fixing enumerated (brute force over which minimum intents trade).
//
//   source → plain buy (≤ Q) → its leg in interval t (≤ maxRate·hours) → pair arc (cost −gain) → the sell leg in t
//   (≤ maxRate·hours) → plain sell (≤ Q) → sink → source;   a swap: its given leg → swap (≤ Q) → its taken leg.
// A trading minimum m is a must-arc of capacity m carrying a bonus larger than any cycle's gain: the best
// circulation saturates it whenever the fixing is feasible.
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";
import { HOUR_MS, intervalsIn, isSwap, type Leg, timeGrid, tradableLegPairs } from "../../support/compat-time.ts";

interface Arc {
  to: number;
  cap: number;
  cost: number;
  flow: number;
  twin: number;
}

class Network {
  arcs: Arc[] = [];
  out: number[][] = [];
  node(): number {
    this.out.push([]);
    return this.out.length - 1;
  }
  arc(from: number, to: number, cap: number, cost: number): number {
    const a = this.arcs.length;
    this.arcs.push({ to, cap, cost, flow: 0, twin: a + 1 }, { to: from, cap: 0, cost: -cost, flow: 0, twin: a });
    this.out[from].push(a);
    this.out[to].push(a + 1);
    return a;
  }
  residual(a: number): number {
    return this.arcs[a].cap - this.arcs[a].flow;
  }
  /** Cancels negative-cost residual cycles until none is left (Bellman–Ford finds each). */
  cancelCycles() {
    for (let round = 0; round < 100_000; round++) {
      const cycle = this.negativeCycle();
      if (!cycle) return;
      const push = Math.min(...cycle.map((a) => this.residual(a)));
      for (const a of cycle) {
        this.arcs[a].flow += push;
        this.arcs[this.arcs[a].twin].flow -= push;
      }
    }
    throw new Error("cycle cancelling did not converge");
  }
  private negativeCycle(): number[] | undefined {
    const n = this.out.length;
    const dist = new Array<number>(n).fill(0);
    const via = new Array<number>(n).fill(-1);
    let changed = -1;
    for (let pass = 0; pass < n; pass++) {
      changed = -1;
      for (let v = 0; v < n; v++) {
        for (const a of this.out[v]) {
          const arc = this.arcs[a];
          if (this.residual(a) <= 1e-12 || dist[v] + arc.cost >= dist[arc.to] - 1e-12) continue;
          dist[arc.to] = dist[v] + arc.cost;
          via[arc.to] = a;
          changed = arc.to;
        }
      }
      if (changed < 0) return undefined;
    }
    // Walk back n steps to land inside the cycle, then collect it.
    let v = changed;
    for (let k = 0; k < n; k++) v = this.arcs[this.arcs[via[v]].twin].to;
    const cycle: number[] = [];
    for (let u = v; ; ) {
      const a = via[u];
      cycle.push(a);
      u = this.arcs[this.arcs[a].twin].to;
      if (u === v) break;
    }
    return cycle;
  }
}

/** The optimum welfare over schedules by cycle cancelling, over every fixing of who meets its minimum. */
export function flowOptimum(intents: readonly Intent[], latency: LatencyTable, now?: number): number {
  const minimums = intents.filter((k) => (k.minQuantity ?? 0) > 0);
  if (minimums.length > 12) throw new Error("flowOptimum enumerates 2^minimums fixings: keep it to tiny markets");
  let best = 0;
  for (let mask = 0; mask < 1 << minimums.length; mask++) {
    const trading = new Set(minimums.filter((_, j) => (mask >> j) & 1));
    const welfare = fixedOptimum(intents, latency, now, (k) => ((k.minQuantity ?? 0) > 0 ? (trading.has(k) ? "must" : "none") : "free"));
    if (welfare !== undefined) best = Math.max(best, welfare);
  }
  return best;
}

/**
 * Among the optimal allocations, the best priority objective (CONTRACT.md section 3, as the solver's LP paths state
 * it: −(high units) + (low units)). Integer limits and quantities only: welfare is then an integer at every
 * integral flow, so scaling gains by more than any priority difference makes one cost lexicographic.
 */
export function rankedOptimum(intents: readonly Intent[], latency: LatencyTable, now?: number): { welfare: number; rank: number } {
  for (const k of intents)
    if (!Number.isInteger(k.limitPrice) || !Number.isInteger(k.quantity) || !Number.isInteger(k.minQuantity ?? 0)) throw new Error("rankedOptimum: integer books only");
  const minimums = intents.filter((k) => (k.minQuantity ?? 0) > 0);
  if (minimums.length > 12) throw new Error("rankedOptimum enumerates 2^minimums fixings: keep it to tiny markets");
  const scale = 1 + 2 * intents.reduce((s, k) => s + k.quantity, 0);
  const rank = (k: Intent) => (k.priority === "high" ? -1 : k.priority === "low" ? 1 : 0);
  let best = 0; // the empty allocation: welfare 0, rank 0
  for (let mask = 0; mask < 1 << minimums.length; mask++) {
    const trading = new Set(minimums.filter((_, j) => (mask >> j) & 1));
    const fix = (k: Intent) => ((k.minQuantity ?? 0) > 0 ? (trading.has(k) ? "must" : "none") : "free") as "must" | "none" | "free";
    const value = fixedOptimum(intents, latency, now, fix, { scale, rank });
    if (value !== undefined) best = Math.max(best, value);
  }
  const welfare = Math.round(best / scale);
  return { welfare, rank: welfare * scale - best };
}

/** The optimum with each minimum intent fixed to trade at least its minimum ("must") or nothing; undefined if infeasible. */
function fixedOptimum(
  intents: readonly Intent[],
  latency: LatencyTable,
  now: number | undefined,
  fix: (k: Intent) => "must" | "none" | "free",
  ranked: { scale: number; rank: (k: Intent) => number } = { scale: 1, rank: () => 0 },
): number | undefined {
  const pairs = tradableLegPairs(intents, latency, now);
  const grid = timeGrid(intents, now);
  const net = new Network();
  const source = net.node();
  const sink = net.node();
  const bonus = (1 + pairs.reduce((s, p) => s + Math.abs(p.gain), 0) * Math.max(1, grid.length)) * ranked.scale;
  // Each intent's quantity arc: a plain buy's from the source, a plain sell's to the sink, a swap's through it.
  const into = new Map<Intent, number>();
  const outOf = new Map<Intent, number>();
  const must: { arc: number; m: number; r: number }[] = [];
  for (const k of intents) {
    const a = net.node();
    const b = net.node();
    const state = fix(k);
    const m = state === "must" ? k.minQuantity ?? 0 : 0;
    const cap = state === "none" ? 0 : k.quantity;
    const r = ranked.rank(k);
    if (m > 0) must.push({ arc: net.arc(a, b, m, -bonus + r), m, r });
    net.arc(a, b, cap - m, r);
    into.set(k, a);
    outOf.set(k, b);
    if (isSwap(k)) continue;
    if (k.side === "buy") net.arc(source, a, Infinity, 0);
    else net.arc(b, sink, Infinity, 0);
  }
  net.arc(sink, source, Infinity, 0);
  // A leg's node per interval (or "any" when untimed), behind its rate cap.
  const legNodes = new Map<string, number>();
  const legNode = (leg: Leg, t: number | undefined) => {
    const key = `${leg.intent.id}|${leg.side}|${t ?? "any"}`;
    let v = legNodes.get(key);
    if (v === undefined) {
      v = net.node();
      legNodes.set(key, v);
      const hours = t === undefined ? Infinity : (grid[t + 1] - grid[t]) / HOUR_MS;
      const cap = leg.window !== undefined && leg.intent.maxRate !== undefined && t !== undefined ? leg.intent.maxRate * hours : Infinity;
      if (leg.side === "buy") net.arc(outOf.get(leg.intent)!, v, cap, 0);
      else net.arc(v, into.get(leg.intent)!, cap, 0);
    }
    return v;
  };
  for (const pair of pairs) {
    for (const t of pair.span === undefined ? [undefined] : intervalsIn(grid, pair.span)) {
      net.arc(legNode(pair.buy, t), legNode(pair.sell, t), Infinity, -pair.gain * ranked.scale);
    }
  }
  net.cancelCycles();
  if (must.some(({ arc, m }) => net.arcs[arc].flow < m * (1 - 1e-9) - 1e-9)) return undefined;
  let cost = 0;
  const mustArcs = new Set(must.map(({ arc }) => arc));
  for (const { arc, r } of must) cost += r * net.arcs[arc].flow; // its bonus is no welfare
  for (let a = 0; a < net.arcs.length; a += 2) if (!mustArcs.has(a)) cost += net.arcs[a].cost * net.arcs[a].flow;
  return -cost;
}
