// The reference optimum over schedules (CONTRACT.md section 2a): the time-indexed MILP, solved by HiGHS (npm
// `highs`, WebAssembly) at the tolerances of support/highs.ts. Time splits into the elementary intervals between
// window boundaries and now; a pair of legs may trade in every interval inside both windows at or after now.
//
//   max Σ gain_p · x[p,t]   over pairs p of a buy leg and a sell leg (support/compat-time.ts), intervals t
//   plain intent k:   Σ x ≤ Q_k            (minQuantity m_k > 0: m_k·z_k ≤ Σ x ≤ Q_k·z_k, z_k binary)
//   swap k:           Σ given x ≤ Q_k,  Σ given x − Σ taken x = 0
//   maxRate, per leg with a window and per interval t:  Σ x[·,t] ≤ maxRate · hours(t)
//   x ≥ 0
// A pair of two windowless legs has one column and no time. The model is passed to HiGHS as sparse columns.
import loadHighs from "highs";
import type { Fill, Intent, LatencyTable } from "../src/contract/schema.ts";
import { HOUR_MS, intervalsIn, isSwap, type Leg, type LegPair, timeGrid, tradableLegPairs } from "./compat-time.ts";
import type { WindowedMarket } from "./generate-time.ts";
import { HIGHS_OPTIONS } from "./highs.ts";

const highs = await loadHighs();
// One persistent HiGHS model, its options set once: setting them costs more than solving a small market.
const reusable = highs.createModel();
reusable.options.set(HIGHS_OPTIONS);
/** HiGHS takes only finite option values: "no time limit" is a limit no solve reaches. */
const NO_LIMIT_SEC = 1e30;
let timeLimit = NO_LIMIT_SEC;

/** One column of an optimal solution: a pair's quantity over [start, end), or untimed. */
export interface ScheduledFlow {
  pair: LegPair;
  quantity: number;
  start?: number;
  end?: number;
}

export interface TimeIndexedResult {
  /** HiGHS's optimal welfare Σ gain · x (with moved limits), or its incumbent when a time limit stopped it. */
  welfare: number;
  status: "optimal" | "time_limit";
  /** Building the model and solving it, in ms; `solveMs` is HiGHS's part. */
  ms: number;
  solveMs: number;
  /** Non-zero columns of HiGHS's solution (above its feasibility tolerance). */
  schedule: ScheduledFlow[];
  /** Model size: columns x, minQuantity binaries, rows, elementary intervals. */
  columns: number;
  binaries: number;
  rows: number;
  intervals: number;
}

export interface TimeIndexedOptions {
  /** Seconds before HiGHS stops (then status `time_limit`). Default: none. */
  timeLimitSec?: number;
}

/** The time-indexed model as sparse columns: what HiGHS gets, and what each column means. */
export function buildTimeIndexedModel(intents: readonly Intent[], latency: LatencyTable, now?: number) {
  const grid = timeGrid(intents, now);
  const rows = new RowBook();
  const cost: number[] = [];
  const starts: number[] = [0];
  const entries: { row: number; value: number }[] = [];
  const meaning: { pair: LegPair; t?: number }[] = [];
  const binaryOf = new Map<Intent, number>();

  const addColumn = (c: number, column: { row: number; value: number }[]) => {
    cost.push(c);
    entries.push(...column);
    starts.push(entries.length);
  };
  /** The rows a unit on this leg in interval t (undefined: untimed) touches. */
  const legRows = (leg: Leg, t: number | undefined) => {
    const k = leg.intent;
    const out: { row: number; value: number }[] = [];
    // A swap's quantity is what it gives; what it takes equals it by its balance row.
    if (leg.side === "sell" || !isSwap(k)) out.push({ row: rows.get(`q:${k.id}`, -Infinity, k.quantity), value: 1 });
    if (isSwap(k)) out.push({ row: rows.get(`b:${k.id}`, 0, 0), value: leg.side === "sell" ? 1 : -1 });
    if ((k.minQuantity ?? 0) > 0) out.push({ row: rows.get(`m:${k.id}`, 0, Infinity), value: 1 });
    if (t !== undefined && leg.window !== undefined && k.maxRate !== undefined) {
      const hours = (grid[t + 1] - grid[t]) / HOUR_MS;
      out.push({ row: rows.get(`r:${k.id}:${leg.side}:${t}`, -Infinity, k.maxRate * hours), value: 1 });
    }
    return out;
  };

  for (const pair of tradableLegPairs(intents, latency, now)) {
    const times = pair.span === undefined ? [undefined] : intervalsIn(grid, pair.span);
    for (const t of times) {
      addColumn(pair.gain, [...legRows(pair.buy, t), ...legRows(pair.sell, t)]);
      meaning.push({ pair, t });
    }
  }
  // A binary per intent with a minimum that can trade: Σ x − Q·z ≤ 0 and Σ x − m·z ≥ 0.
  const columns = meaning.length;
  for (const k of intents) {
    const m = k.minQuantity ?? 0;
    if (m <= 0 || !rows.has(`q:${k.id}`)) continue;
    rows.setUpper(`q:${k.id}`, 0);
    binaryOf.set(k, cost.length);
    addColumn(0, [{ row: rows.get(`q:${k.id}`), value: -k.quantity }, { row: rows.get(`m:${k.id}`), value: -m }]);
  }
  const numCols = cost.length;
  const integrality = Array.from({ length: numCols }, (_, j) => (j >= columns ? 1 : 0));
  const model = {
    numCols,
    numRows: rows.lower.length,
    sense: highs.constants.objectiveSense.maximize,
    colCost: cost,
    colLower: new Array(numCols).fill(0),
    colUpper: Array.from({ length: numCols }, (_, j) => (j >= columns ? 1 : highs.infinity)),
    rowLower: rows.lower.map((x) => (x === -Infinity ? -highs.infinity : x)),
    rowUpper: rows.upper.map((x) => (x === Infinity ? highs.infinity : x)),
    matrix: {
      format: "csc" as const,
      numRows: rows.lower.length,
      numCols,
      starts: Int32Array.from(starts),
      indices: Int32Array.from(entries, (e) => e.row),
      values: Float64Array.from(entries, (e) => e.value),
    },
    ...(numCols > columns ? { integrality: Int32Array.from(integrality) } : {}),
  };
  return { model, meaning, grid, binaries: numCols - columns, positiveGains: cost.some((c) => c > 0) };
}

/** Rows created on first use, by name; bounds as given then. */
class RowBook {
  private index = new Map<string, number>();
  lower: number[] = [];
  upper: number[] = [];
  has(name: string) {
    return this.index.has(name);
  }
  get(name: string, lower = -Infinity, upper = Infinity): number {
    let row = this.index.get(name);
    if (row === undefined) {
      row = this.lower.length;
      this.index.set(name, row);
      this.lower.push(lower);
      this.upper.push(upper);
    }
    return row;
  }
  setUpper(name: string, upper: number) {
    this.upper[this.get(name)] = upper;
  }
}

/**
 * The optimum welfare over schedules and one optimal schedule. Throws unless HiGHS proves optimality or stops at
 * the given time limit: a reference without a proof is a bug to look at.
 */
export function solveTimeIndexed(
  intents: readonly Intent[],
  latency: LatencyTable,
  now?: number,
  options: TimeIndexedOptions = {},
): TimeIndexedResult {
  const t0 = performance.now();
  const { model, meaning, grid, binaries, positiveGains } = buildTimeIndexedModel(intents, latency, now);
  const size = { columns: meaning.length, binaries, rows: model.numRows, intervals: Math.max(0, grid.length - 1) };
  // Nothing to gain: trading nothing is optimal (and HiGHS is spared an empty objective).
  if (!positiveGains) return { welfare: 0, status: "optimal", ms: performance.now() - t0, solveMs: 0, schedule: [], ...size };
  const t1 = performance.now();
  const limit = options.timeLimitSec ?? NO_LIMIT_SEC;
  if (limit !== timeLimit) reusable.options.set({ time_limit: (timeLimit = limit) });
  reusable.clearModel();
  reusable.passModel(model);
  // HiGHS's clock runs on across solves of one model: without this, the time limit would cover all of them.
  reusable.zeroAllClocks();
  reusable.run();
  const status = reusable.getModelStatus();
  const proven = status === highs.constants.modelStatus.optimal || status === highs.constants.modelStatus.timeLimit;
  const solved = { status, welfare: reusable.getObjectiveValue(), x: proven ? reusable.getSolution().colValue : undefined };
  const solveMs = performance.now() - t1;
  const limited = solved.status === highs.constants.modelStatus.timeLimit;
  if (solved.x === undefined || (limited && options.timeLimitSec === undefined)) throw new Error(`HiGHS did not prove optimality: model status ${solved.status}`);
  const schedule: ScheduledFlow[] = [];
  meaning.forEach(({ pair, t }, j) => {
    const q = solved.x![j];
    // HiGHS leaves round-off such as 1e-13 on unused columns; below its own tolerance that is 0.
    if (q <= HIGHS_OPTIONS.primal_feasibility_tolerance) return;
    schedule.push(t === undefined ? { pair, quantity: q } : { pair, quantity: q, start: grid[t], end: grid[t + 1] });
  });
  return { welfare: solved.welfare, status: limited ? "time_limit" : "optimal", ms: performance.now() - t0, solveMs, schedule, ...size };
}

/** For bench:solver: HiGHS's optimum on a generated windowed market, and how long building and solving took. */
export function highsTimeIndexed(market: WindowedMarket, options: TimeIndexedOptions = {}): { welfare: number; ms: number; status: TimeIndexedResult["status"] } {
  const r = solveTimeIndexed(market.intents, market.latency, market.now, options);
  return { welfare: r.welfare, ms: r.ms, status: r.status };
}

/**
 * HiGHS's schedule as contract fills (one per pair and interval), priced at the middle of the plain sides' moved
 * limits: a witness that the optimum is reachable, for the checker's feasibility rules (not its price rules).
 */
export function scheduleFills(schedule: readonly ScheduledFlow[]): Fill[] {
  return schedule.map(({ pair, quantity, start, end }) => {
    const bounds = [isSwap(pair.buy.intent) ? [] : [pair.buyLimit], isSwap(pair.sell.intent) ? [] : [pair.sellLimit]].flat();
    const price = bounds.length === 0 ? 0 : bounds.reduce((a, b) => a + b, 0) / bounds.length;
    const fill: Fill = { buy: pair.buy.intent.id, sell: pair.sell.intent.id, resource: pair.buy.resource, quantity, price };
    return start === undefined || end === undefined ? fill : { ...fill, start: new Date(start).toISOString(), end: new Date(end).toISOString() };
  });
}
