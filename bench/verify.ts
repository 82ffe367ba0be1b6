// Micro-benchmark: verify of the bench's 10,000-intent settlement (bench/solver.ts row "verify a 10,000-intent settlement"),
// best of many runs after warm-up. `npx node bench/verify.ts [runs] [--as-bench]`; run with --cpu-prof to profile.
import { solve, verify } from "../src/solver/index.ts";
import { generateMarket } from "../support/generate.ts";

const runs = Number(process.argv[2] ?? 200);
// --as-bench: first run what bench/solver.ts runs before its verify row (the warm solves, the solve rows, the
// all-or-none rows with their verifies), so the timing sees the same compiled code and heap.
if (process.argv.includes("--as-bench")) {
  const warm = generateMarket(1, { size: 100, allOrNoneShare: 0 });
  for (let k = 0; k < 500; k++) solve(warm.intents, warm.latency);
  for (const n of [100, 250, 500, 1000, 10_000, 100_000]) {
    const b = generateMarket(1, { size: n, allOrNoneShare: 0 });
    for (let k = 0; k < (n <= 1000 ? 20 : n <= 10_000 ? 5 : 1); k++) solve(b.intents, b.latency);
  }
  for (const seed of [1, 2, 3]) {
    const b = generateMarket(seed, { size: 500, allOrNoneShare: 0.2 });
    const s = solve(b.intents, b.latency, { timeBudgetMs: 50 });
    verify(b.intents, b.latency, s);
  }
}
const m = generateMarket(1, { size: 10_000, allOrNoneShare: 0 });
const r = solve(m.intents, m.latency);
for (let k = 0; k < 20; k++) verify(m.intents, m.latency, r);
let best = Infinity;
let sum = 0;
let ok = true;
for (let k = 0; k < runs; k++) {
  const t = performance.now();
  const v = verify(m.intents, m.latency, r);
  const dt = performance.now() - t;
  ok &&= v.ok;
  best = Math.min(best, dt);
  sum += dt;
}
console.log(`verify 10,000 intents: best ${best.toFixed(2)} ms, mean ${(sum / runs).toFixed(2)} ms over ${runs} runs, ok=${ok}`);
