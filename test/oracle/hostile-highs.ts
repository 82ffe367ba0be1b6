// The reference optimum for the adversarial suite's pure path (Node only: HiGHS is WebAssembly loaded at import).
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";
import { solveWithHighs } from "./highs.ts";
import { oracleTable, type Optimum } from "./hostile.ts";

/** HiGHS's optimum of `book` and its allocation, read from the prototype-free table the oracle must see. */
export const highsOptimum: Optimum = (book: readonly Intent[], latency: LatencyTable) => {
  const result = solveWithHighs(book, oracleTable(latency));
  const byId = new Map(book.map((i) => [i.id, i]));
  const allocation = [...result.x].map(([key, quantity]) => {
    const [buy, sell] = key.split("|");
    return { buy, sell, resource: byId.get(buy)!.resource, quantity };
  });
  return { welfare: result.welfare, allocation };
};
