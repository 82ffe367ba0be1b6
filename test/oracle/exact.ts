// An exact reference optimum for small books (the adversarial suite's hostile books): the allocation MILP of
// MATH.md in rational arithmetic, so that books mixing 1e-6 and 1e12 quantities, where HiGHS's 1e-9 absolute
// tolerances cannot decide, still get a verdict. Shares no code with src/solver: numbers become BigInt fractions,
// each LP is a dense two-phase simplex with Bland's rule, and minimums are branched on (left out / at least the
// minimum) with the LP relaxation as the bound. Compatibility comes from ./compat.ts, read from the contract.
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";
import { tradablePairs } from "../../support/compat.ts";

// ---- rationals ----

/** A fraction n / d in lowest terms, d > 0. */
export interface Q {
  n: bigint;
  d: bigint;
}

const gcd = (a: bigint, b: bigint): bigint => {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
};

function frac(n: bigint, d: bigint): Q {
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d);
  return g > 1n ? { n: n / g, d: d / g } : { n, d };
}

const ZERO: Q = { n: 0n, d: 1n };
const ONE: Q = { n: 1n, d: 1n };
const add = (a: Q, b: Q) => (a.d === b.d ? frac(a.n + b.n, a.d) : frac(a.n * b.d + b.n * a.d, a.d * b.d));
const sub = (a: Q, b: Q) => add(a, { n: -b.n, d: b.d });
const mul = (a: Q, b: Q) => (a.n === 0n || b.n === 0n ? ZERO : frac(a.n * b.n, a.d * b.d));
const div = (a: Q, b: Q) => frac(a.n * b.d, a.d * b.n);
const cmp = (a: Q, b: Q) => {
  const x = a.n * b.d - b.n * a.d;
  return x < 0n ? -1 : x > 0n ? 1 : 0;
};

/** A double as an exact fraction: doubling a double is exact, and some 2^k·x (k ≤ 1074) is an integer. */
export function exactOf(x: number): Q {
  let k = 0;
  let y = x;
  while (!Number.isInteger(y)) {
    y *= 2;
    k++;
  }
  return frac(BigInt(y), 1n << BigInt(k));
}

/** The double nearest a fraction (to within a unit in the last place). */
export function toNumber(q: Q): number {
  if (q.n === 0n) return 0;
  const a = q.n < 0n ? -q.n : q.n;
  // 64 bits of the quotient, then one rounding to 53.
  const shift = a.toString(2).length - q.d.toString(2).length - 64;
  const top = shift >= 0 ? a / (q.d << BigInt(shift)) : (a << BigInt(-shift)) / q.d;
  return (q.n < 0n ? -1 : 1) * Number(top) * 2 ** shift;
}

// ---- the dense simplex ----

/** A row Σ a·x (≤ or ≥) rhs, rhs ≥ 0, over the LP's columns. */
interface Row {
  coef: Map<number, Q>;
  kind: "<=" | ">=";
  rhs: Q;
}

/**
 * max c·x over x ≥ 0 and the rows, by a two-phase tableau simplex with Bland's rule (smallest index enters and
 * leaves on ties, so it terminates). Returns the optimum and x, or null when infeasible. The LPs here are bounded
 * (every column sits in a ≤ row of a positive quantity).
 */
export function simplex(columns: number, c: readonly Q[], rows: readonly Row[]): { value: Q; x: Q[] } | null {
  const m = rows.length;
  const surplus = rows.filter((r) => r.kind === ">=").length;
  // Columns: structural, one slack or surplus per row, one artificial per ≥ row; the last entry of a row is its rhs.
  const width = columns + m + surplus;
  const T: Q[][] = [];
  const basis: number[] = [];
  let art = columns + m;
  rows.forEach((r, i) => {
    const row = new Array<Q>(width + 1).fill(ZERO);
    for (const [j, a] of r.coef) row[j] = a;
    row[columns + i] = r.kind === "<=" ? ONE : { n: -1n, d: 1n };
    row[width] = r.rhs;
    if (r.kind === ">=") {
      row[art] = ONE;
      basis.push(art++);
    } else basis.push(columns + i);
    T.push(row);
  });
  const isArtificial = (j: number) => j >= columns + m;
  // Phase 1: maximise −Σ artificials; phase 2: c, artificials barred from entering.
  const phase1 = new Array<Q>(width).fill(ZERO).map((_, j) => (isArtificial(j) ? { n: -1n, d: 1n } : ZERO));
  if (surplus > 0) {
    run(T, basis, phase1, width, () => true);
    const infeasibility = objective(T, basis, phase1, width);
    if (infeasibility.n !== 0n) return null;
    // An artificial left basic (at 0) is pivoted out on any other column of its row, else its row is redundant.
    for (let i = 0; i < basis.length; i++) {
      if (!isArtificial(basis[i])) continue;
      const j = T[i].findIndex((a, k) => k < columns + m && a.n !== 0n);
      if (j >= 0) pivot(T, basis, i, j);
    }
  }
  const cost = new Array<Q>(width).fill(ZERO).map((_, j) => (j < columns ? c[j] : ZERO));
  run(T, basis, cost, width, (j) => !isArtificial(j));
  const x = new Array<Q>(columns).fill(ZERO);
  basis.forEach((j, i) => {
    if (j < columns) x[j] = T[i][width];
  });
  return { value: objective(T, basis, cost, width), x };
}

function objective(T: Q[][], basis: number[], cost: readonly Q[], width: number): Q {
  let z = ZERO;
  basis.forEach((j, i) => (z = add(z, mul(cost[j], T[i][width]))));
  return z;
}

/** Pivots while a column (allowed to enter) has positive reduced gain; Bland's rule picks entering and leaving. */
function run(T: Q[][], basis: number[], cost: readonly Q[], width: number, allowed: (j: number) => boolean): void {
  // The reduced gains, kept up to date by each pivot like any other row.
  let reduced = cost.slice(0, width);
  basis.forEach((b, i) => {
    if (cost[b].n !== 0n) reduced = reduced.map((r, j) => (T[i][j].n === 0n ? r : sub(r, mul(cost[b], T[i][j]))));
  });
  for (;;) {
    const enter = reduced.findIndex((r, j) => r.n > 0n && allowed(j));
    if (enter < 0) return;
    let leave = -1;
    let best: Q | null = null;
    for (let i = 0; i < T.length; i++) {
      if (T[i][enter].n <= 0n) continue;
      const ratio = div(T[i][width], T[i][enter]);
      const order = best === null ? -1 : cmp(ratio, best);
      if (order < 0 || (order === 0 && basis[i] < basis[leave])) {
        best = ratio;
        leave = i;
      }
    }
    if (leave < 0) throw new Error("exact oracle: unbounded LP (cannot happen for an allocation)");
    pivot(T, basis, leave, enter);
    const f = reduced[enter];
    reduced = reduced.map((r, j) => (T[leave][j].n === 0n ? r : sub(r, mul(f, T[leave][j]))));
  }
}

function pivot(T: Q[][], basis: number[], r: number, j: number): void {
  const p = T[r][j];
  T[r] = T[r].map((a) => div(a, p));
  for (let i = 0; i < T.length; i++) {
    if (i === r || T[i][j].n === 0n) continue;
    const f = T[i][j];
    T[i] = T[i].map((a, k) => (T[r][k].n === 0n ? a : sub(a, mul(f, T[r][k]))));
  }
  basis[r] = j;
}

// ---- the allocation MILP ----

export interface ExactOptimum {
  welfare: Q;
  /** One optimal allocation: per tradable pair with a positive fill, its exact quantity. */
  fills: { buy: Intent; sell: Intent; quantity: Q }[];
  /** LPs solved (branch-and-bound nodes). */
  lps: number;
}

/**
 * The book's optimal welfare, exactly: max Σ (b − c)·x over tradable pairs, per intent Σ x ≤ quantity, and an
 * intent with a minimum either left out or at least at its minimum (capped at its quantity).
 */
export function exactOptimum(intents: readonly Intent[], latency: LatencyTable): ExactOptimum {
  const pairs = tradablePairs(intents, latency);
  const gain = pairs.map((p) => sub(exactOf(p.buy.limitPrice), exactOf(p.sell.limitPrice)));
  const users = new Map<Intent, number[]>();
  pairs.forEach((p, k) => {
    for (const i of [p.buy, p.sell]) users.set(i, [...(users.get(i) ?? []), k]);
  });
  const traders = [...users.keys()];
  const minimum = (i: Intent) => {
    const q = exactOf(i.quantity);
    const m = exactOf(i.minQuantity ?? 0);
    return cmp(m, q) > 0 ? q : m;
  };
  // A node fixes some minimums: "out" (no fill) or "in" (at least the minimum).
  const lp = (fixed: Map<Intent, "in" | "out">) => {
    const out = new Set([...fixed].filter(([, z]) => z === "out").map(([i]) => i));
    const rows: Row[] = [];
    for (const i of traders) {
      const cols = users.get(i)!.filter((k) => !out.has(pairs[k].buy) && !out.has(pairs[k].sell));
      if (out.has(i)) continue;
      const coef = new Map(cols.map((k) => [k, ONE]));
      rows.push({ coef, kind: "<=", rhs: exactOf(i.quantity) });
      if (fixed.get(i) === "in") rows.push({ coef, kind: ">=", rhs: minimum(i) });
    }
    // Columns of left-out intents get a zero gain and no rows: they stay at 0 (never enter with gain 0).
    const c = gain.map((g, k) => (out.has(pairs[k].buy) || out.has(pairs[k].sell) ? ZERO : g));
    return simplex(pairs.length, c, rows);
  };
  const filledBy = (x: readonly Q[], i: Intent) => users.get(i)!.reduce((t, k) => add(t, x[k]), ZERO);
  let best: { value: Q; x: Q[] } = { value: ZERO, x: pairs.map(() => ZERO) };
  let lps = 0;
  const open: Map<Intent, "in" | "out">[] = [new Map()];
  while (open.length > 0) {
    const fixed = open.pop()!;
    const sol = lp(fixed);
    lps++;
    if (sol === null || cmp(sol.value, best.value) <= 0) continue;
    const v = traders.find((i) => {
      if (fixed.has(i) || i.minQuantity === undefined) return false;
      const f = filledBy(sol.x, i);
      return f.n > 0n && cmp(f, minimum(i)) < 0;
    });
    if (v === undefined) {
      best = sol;
      continue;
    }
    open.push(new Map([...fixed, [v, "out"]]), new Map([...fixed, [v, "in"]]));
  }
  const fills = pairs.flatMap((p, k) => (best.x[k].n > 0n ? [{ buy: p.buy, sell: p.sell, quantity: best.x[k] }] : []));
  return { welfare: best.value, fills, lps };
}
