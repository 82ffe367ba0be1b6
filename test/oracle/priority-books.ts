// Small books where allocations of equal welfare are common, and what the solver's answer on one gets wrong about
// priority (CONTRACT.md section 3): its welfare against the brute-force optimum, then its priority objective
// −(high units) + (low units) against the best among allocations of that welfare (rankedOptimum).
import type { Fill, Intent, LatencyTable } from "../../src/contract/schema.ts";
import { solve, verify } from "../../src/solver/index.ts";
import { seededRandom as rng } from "../../src/random.ts";
import { rankedOptimum } from "./time-flow.ts";
import { exactRankedOptimum } from "./ranked-lp.ts";

export const NOW = Date.UTC(2026, 11, 4, 17);
const at = (hours: number) => new Date(NOW + hours * 3_600_000).toISOString();
export const LATENCY: LatencyTable = { "eu-west": { "eu-central": 14 } };
const PRIORITIES = [undefined, "high", "normal", "low"] as const;

/**
 * 2–6 intents of one resource, each its own agent. Buyers' limits are even and sellers' odd, so no pair gains 0
 * (the LP paths leave a pair of zero gain out whatever the priorities) while equal limits on a side are common.
 * Windowed books, and timeless ones when `regions` says so, draw each intent's region from two (intents of one limit
 * in two regions are two classes of the timeless LP). Windowed books draw from 1–3 hour-aligned windows, some
 * intents windowless, some rate-capped.
 */
export function tieBook(seed: number, windowed: boolean, regions = windowed): Intent[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const n = 2 + Math.floor(r() * 5);
  const windows = Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
    const from = Math.floor(r() * 3);
    return { start: at(from), end: at(from + 1 + Math.floor(r() * 3)) };
  });
  const book: Intent[] = [];
  for (let k = 0; k < n; k++) {
    const side = k === 0 ? "buy" : k === 1 ? "sell" : pick(["buy", "sell"] as const);
    const quantity = pick([2, 4, 6, 10]);
    const it: Intent = {
      id: `i${k}`, agent: `a${k}`, side, resource: "gpu", quantity,
      limitPrice: side === "buy" ? pick([4, 6, 8]) : pick([3, 5, 7]),
      region: regions ? pick(["eu-west", "eu-central"]) : "eu-west",
    };
    const m = r();
    if (m < 0.4) it.minQuantity = quantity;
    else if (m < 0.6) it.minQuantity = Math.min(quantity, pick([2, 4, 6]));
    const p = pick(PRIORITIES);
    if (p) it.priority = p;
    if (windowed && r() < 0.75) {
      it.window = pick(windows);
      if (r() < 0.3) it.maxRate = pick([2, 4]);
    }
    book.push(it);
  }
  return book;
}

/** −(high units) + (low units) of an allocation: what the LP paths minimise among optimal ones. A swap's units are
 *  those it gives (its fills as the seller). */
export function rankOf(book: readonly Intent[], fills: readonly Fill[]): number {
  const weight = new Map(book.map((it) => [it.id!, it.priority === "high" ? -1 : it.priority === "low" ? 1 : 0]));
  const swap = new Set(book.filter((it) => it.swapFor !== undefined).map((it) => it.id!));
  let rank = 0;
  for (const f of fills) rank += ((swap.has(f.buy) ? 0 : weight.get(f.buy)!) + weight.get(f.sell)!) * f.quantity;
  return rank;
}

/** What is wrong with the solver's answer on a book, or null. */
export function priorityFault(book: Intent[], windowed: boolean): string | null {
  const now = windowed ? NOW : undefined;
  const r = solve(book, LATENCY, now === undefined ? {} : { now });
  const v = verify(book, LATENCY, r, now === undefined ? {} : { now });
  if (!v.ok) return `verify: ${v.errors.join("; ")}`;
  const best = rankedOptimum(book, LATENCY, now);
  if (Math.abs(r.welfare - best.welfare) > 1e-9 * Math.max(1, best.welfare)) return `welfare ${r.welfare}, the optimum ${best.welfare}`;
  const rank = rankOf(book, r.fills);
  if (Math.abs(rank - best.rank) > 1e-9) return `priority objective ${rank}, the best of equal welfare ${best.rank}`;
  return null;
}


/**
 * What a family adds to a tie book: a whale (numbers doubles cannot resolve), a swap or deferral, or soft latency;
 * "wide swap" and "wide soft" add a whale to those (their circulation is then solved exactly).
 */
export type Family = "whale" | "swap" | "soft" | "wide swap" | "wide soft";

/**
 * A tieBook (two regions) with a family's twist, limits kept so that no pair gains 0 (buyers even, sellers odd):
 * - whale: one more intent of 1e-7 or 1e12 units, a seller at 1e-6 or a buyer of 1e-7 at 1e9 (the component is
 *   solved exactly);
 * - swap: cpu buyers and sellers beside the gpu ones and one swap (gpu for cpu, or cpu for gpu; windowed books
 *   also draw a deferral, gpu for gpu later), its two limits of one parity (a chain's gain stays odd);
 * - soft: some intents prefer a latency, their penalties across regions 0, 2 or 4 per unit;
 * - wide swap, wide soft: a swap or soft latency, and a whale.
 */
export function familyBook(seed: number, family: Family, windowed: boolean): Intent[] {
  const book = tieBook(seed, windowed, true);
  const r = rng(seed ^ 0x7a11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  if (family === "soft" || family === "wide soft") {
    for (const it of book) {
      if (r() < 0.5) continue;
      const [preferLatencyMs, latencyDiscount] = pick([[10, 0.5], [12, 2], [14, 1], [0, 0]] as const);
      Object.assign(it, { preferLatencyMs, latencyDiscount });
    }
  }
  if (family === "swap" || family === "wide swap") addSwap(book, pick, windowed);
  if (family !== "swap" && family !== "soft") addWhale(book, pick);
  return book;
}

/** One more gpu intent of 1e-7 or 1e12 units, a seller at 1e-6 or a buyer of 1e-7 units at 1e9, somewhere in the book. */
function addWhale(book: Intent[], pick: <T>(xs: readonly T[]) => T): void {
  const kind = pick(["tiny buy", "tiny sell", "huge buy", "cheap sell", "dear buy"] as const);
  const side = kind.endsWith("buy") ? "buy" : "sell";
  const it: Intent = {
    id: `w`, agent: `w`, side, resource: "gpu", region: pick(["eu-west", "eu-central"]),
    quantity: kind.startsWith("tiny") || kind === "dear buy" ? 1e-7 : kind === "huge buy" ? 1e12 : pick([2, 4]),
    limitPrice: kind === "cheap sell" ? 1e-6 : kind === "dear buy" ? 1e9 : kind === "huge buy" ? 4 : side === "buy" ? pick([4, 6, 8]) : pick([3, 5, 7]),
  };
  const p = pick(PRIORITIES);
  if (p && kind !== "huge buy") it.priority = p;
  book.splice(Math.floor(pick([0, 0.25, 0.5, 0.75, 0.99]) * (book.length + 1)), 0, it);
}

/** cpu buyers and sellers and one swap (gpu for cpu, cpu for gpu, or in windowed books a deferral of gpu). */
function addSwap(book: Intent[], pick: <T>(xs: readonly T[]) => T, windowed: boolean): void {
  for (let k = 0; k < pick([1, 2, 3]); k++) {
    const side = pick(["buy", "sell"] as const);
    book.push({
      id: `c${k}`, agent: `c${k}`, side, resource: "cpu", quantity: pick([2, 4, 6]), limitPrice: side === "buy" ? pick([4, 6, 8]) : pick([1, 3, 5]),
      region: pick(["eu-west", "eu-central"]),
    });
  }
  const kind = windowed ? pick(["gpu for cpu", "cpu for gpu", "deferral"] as const) : pick(["gpu for cpu", "cpu for gpu"] as const);
  const limit = pick([0, 1, 2]);
  const swap: Intent = {
    id: "x", agent: "x", side: "sell", kind: "swap", resource: kind === "cpu for gpu" ? "cpu" : "gpu", quantity: pick([2, 4, 6]),
    limitPrice: limit, region: pick(["eu-west", "eu-central"]),
    swapFor: { resource: kind === "gpu for cpu" ? "cpu" : "gpu", limitPrice: limit + pick([0, 2, 4]) },
  };
  if (kind === "deferral") {
    swap.window = { start: at(0), end: at(2) };
    swap.swapFor!.window = { start: at(2), end: at(4) };
  }
  const p = pick(PRIORITIES);
  if (p) swap.priority = p;
  if (pick([0, 1, 2]) === 0) swap.minQuantity = swap.quantity;
  book.splice(Math.floor(pick([0, 0.25, 0.5, 0.75, 0.99]) * (book.length + 1)), 0, swap);
}

/** priorityFault against the exact oracle (exactRankedOptimum): any numbers, swaps, soft latency. */
export function exactPriorityFault(book: Intent[], windowed: boolean): string | null {
  const now = windowed ? NOW : undefined;
  const r = solve(book, LATENCY, now === undefined ? {} : { now });
  const v = verify(book, LATENCY, r, now === undefined ? {} : { now });
  if (!v.ok) return `verify: ${v.errors.join("; ")}`;
  // A budget that ran out states its gap: no claim of optimality to judge (windowed books with a losing leg).
  if (r.status !== "optimal") return null;
  const best = exactRankedOptimum(book, LATENCY, now);
  if (Math.abs(r.welfare - best.welfare) > 1e-9 * Math.max(1, best.welfare)) return `welfare ${r.welfare}, the optimum ${best.welfare}`;
  const rank = rankOf(book, r.fills);
  let ranked = 0;
  for (const it of book) if (it.priority === "high" || it.priority === "low") ranked += it.quantity;
  if (Math.abs(rank - best.rank) > 1e-9 * Math.max(1, ranked)) return `priority objective ${rank}, the best of equal welfare ${best.rank}`;
  return null;
}
