// Small books where allocations of equal welfare are common, and what the solver's answer on one gets wrong about
// priority (CONTRACT.md section 3): its welfare against the brute-force optimum, then its priority objective
// −(high units) + (low units) against the best among allocations of that welfare (rankedOptimum).
import type { Fill, Intent, LatencyTable } from "../../src/contract/schema.ts";
import { solve, verify } from "../../src/solver/index.ts";
import { seededRandom as rng } from "../../src/random.ts";
import { rankedOptimum } from "./time-flow.ts";

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

/** −(high units) + (low units) of an allocation: what the LP paths minimise among optimal ones. */
export function rankOf(book: readonly Intent[], fills: readonly Fill[]): number {
  const weight = new Map(book.map((it) => [it.id!, it.priority === "high" ? -1 : it.priority === "low" ? 1 : 0]));
  let rank = 0;
  for (const f of fills) rank += (weight.get(f.buy)! + weight.get(f.sell)!) * f.quantity;
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

