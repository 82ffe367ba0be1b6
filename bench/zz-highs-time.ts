import { generateWindowedMarket } from "../support/generate-time.ts";
import { solveTimeIndexed } from "../support/highs-time.ts";
for (const [size, opts] of [[1000, {}], [1000, { minQuantityShare: 0.1, allOrNoneShare: 0.05 }], [10000, {}]] as const) {
  const m = generateWindowedMarket(1, { size, resources: 2, maxRateShare: 0.5, minQuantityShare: 0, allOrNoneShare: 0, ...opts });
  const r = solveTimeIndexed(m.intents, m.latency, m.now, { timeLimitSec: 600 });
  console.log(size, JSON.stringify(opts), { welfare: r.welfare, status: r.status, ms: Math.round(r.ms), solveMs: Math.round(r.solveMs), columns: r.columns, rows: r.rows, binaries: r.binaries, intervals: r.intervals });
}
