// The reference optimum for the adversarial suite's pure path (Node only: HiGHS is WebAssembly loaded at import).
// HiGHS judges ordinary books; books whose numbers doubles cannot hold exactly, and books HiGHS cannot solve, are
// judged by the exact rational oracle (exact.ts), which shares no code with HiGHS's model or with src/solver.
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";
import { solveWithHighs } from "../../support/highs.ts";
import { exactOptimum, toNumber } from "./exact.ts";
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
 * Whether the book's numbers span more than HiGHS resolves: it works to absolute tolerances of 1e-9 (and a double
 * to 2^-53 of the largest number in a sum), so it is trusted only while the largest quantity is within 1e6 of the
 * smallest (minimums included), and the largest positive price within 1e6 of the smallest.
 */
export function beyondDoubles(book: readonly Intent[]): boolean {
  const spread = (xs: number[]) => {
    const positive = xs.filter((x) => x > 0);
    return positive.length > 0 && Math.max(...positive) > 1e6 * Math.min(...positive);
  };
  return spread(book.flatMap((i) => [i.quantity, i.minQuantity ?? 0])) || spread(book.map((i) => i.limitPrice));
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
