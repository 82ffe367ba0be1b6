// The reference optimum for the adversarial suite's pure path (Node only: HiGHS is WebAssembly loaded at import).
// HiGHS judges ordinary books; books whose numbers doubles cannot hold exactly, and books HiGHS cannot solve, are
// judged by the exact rational oracle (exact.ts), which shares no code with HiGHS's model or with src/solver.
import type { Intent, LatencyTable } from "../../src/schema.ts";
import { solveWithHighs } from "./highs.ts";
import { exactOf, exactOptimum, toNumber } from "./exact.ts";
import { oracleTable, type Optimum } from "./hostile.ts";

/** HiGHS's optimum of `book` and its allocation, read from the prototype-free table the oracle must see. */
export const highsOptimum: Optimum = (book: readonly Intent[], latency: LatencyTable) => {
  const result = solveWithHighs(book, oracleTable(latency));
  const byId = new Map(book.map((i) => [i.id, i]));
  const allocation = [...result.x].map(([key, quantity]) => {
    const [buy, sell] = key.split("|");
    return { buy, sell, resource: byId.get(buy)!.resource, quantity };
  });
  return { welfare: result.welfare, allocation, judge: "highs" };
};

/** The exact oracle's optimum, its fills rounded to doubles once. */
export const exactReference: Optimum = (book: readonly Intent[], latency: LatencyTable) => {
  const best = exactOptimum(book, oracleTable(latency));
  const allocation = best.fills.map((f) => ({ buy: f.buy.id, sell: f.sell.id, resource: f.buy.resource, quantity: toNumber(f.quantity) }));
  return { welfare: toNumber(best.welfare), allocation, judge: "exact" };
};

/**
 * Whether doubles hold every sum of the book's quantities (or of its prices) exactly: at their common binary
 * scale, n numbers of at most 2^b need b + log2(n) < 53 bits. Past it, HiGHS's answer cannot be trusted to 1e-9.
 */
export function beyondDoubles(book: readonly Intent[]): boolean {
  const span = (xs: number[]) => {
    const qs = xs.map(exactOf);
    let den = 1n;
    for (const q of qs) if (q.d > den) den = q.d; // powers of two: the largest is the common denominator
    let top = 0n;
    for (const q of qs) top += (q.n < 0n ? -q.n : q.n) * (den / q.d);
    return top >= 1n << 53n;
  };
  return span(book.flatMap((i) => [i.quantity, i.minQuantity ?? 0])) || span(book.map((i) => i.limitPrice));
}

/** HiGHS for ordinary books; the exact oracle where doubles cannot decide or HiGHS finds no optimum. */
export const referenceOptimum: Optimum = (book: readonly Intent[], latency: LatencyTable) => {
  if (beyondDoubles(book)) return exactReference(book, latency);
  try {
    return highsOptimum(book, latency);
  } catch {
    return { ...exactReference(book, latency), judge: "exact (HiGHS found no optimum)" };
  }
};
