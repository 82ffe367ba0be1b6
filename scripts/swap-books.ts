// Whole hostile books with swaps (test/oracle/hostile.ts, hostileBookWithSwaps), minimums stripped: what a hostile
// agent's swap of extreme size or limit does to a clearing. Per seed, the books with a swap are solved and judged:
// settlements verify refuses (the market then commits nothing), crossed plain pairs left resting, other faults of
// the adversarial suite (limits, self-trade, a swap's balance and net), and the welfare against the exact optimum of
// the swap LP in rationals (test/oracle/exact.ts's simplex over support/compat-time.ts's leg pairs; no src/solver).
// `--family rings`: what a hostile agent would send next, rings of two to six swaps over four resources whose limits
// mix 1e9, 1e-6 and 0 and whose sizes mix 1e12 and 1e-6, beside a plain whale of 1e12 (or none).
//   npx node scripts/swap-books.ts [--seeds 7,8 --books 2200 --show 5 --family hostile|rings]
import fc from "fast-check";
import type { Intent, LatencyTable } from "../src/contract/schema.ts";
import { numberFlag, parseFlags, parseOrExit } from "../src/cli/args.ts";
import { solve, verify } from "../src/solver/index.ts";
import { isSwap } from "../support/compat-time.ts";
import { exactSwapOptimum, grossWelfare, swapRingBooks } from "../test/oracle/swap-lp.ts";
import { afterFills, clearingFaults, crossedPairFaults, hostileBookWithSwaps } from "../test/oracle/hostile.ts";

const { seeds, books, show, family } = parseOrExit("usage: npx node scripts/swap-books.ts [--seeds 7,8 --books N --show N --family hostile|rings]", () => {
  const { values } = parseFlags({
    options: {
      seeds: { type: "string", default: "7,8" },
      books: { type: "string", default: "2200" },
      show: { type: "string", default: "5" },
      family: { type: "string", default: "hostile" },
    },
  });
  const seeds = String(values.seeds).split(",").map(Number);
  if (seeds.some((s) => !Number.isInteger(s))) throw new Error("--seeds: integers, comma-separated");
  if (values.family !== "hostile" && values.family !== "rings") throw new Error("--family: hostile or rings");
  return {
    seeds,
    books: numberFlag(values, "books", { min: 1, integer: true })!,
    show: numberFlag(values, "show", { min: 0, integer: true })!,
    family: values.family,
  };
});

/** The books of one seed that have a swap, minimums stripped (the swap LP without branch and bound). */
export function swapBooks(seed: number, count: number): { intents: Intent[]; latency: LatencyTable }[] {
  return fc
    .sample<{ intents: Intent[]; latency: LatencyTable }>(family === "rings" ? swapRingBooks : hostileBookWithSwaps, { seed, numRuns: count })
    .filter(({ intents }) => intents.some(isSwap))
    .map(({ intents, latency }) => ({ intents: intents.map(({ minQuantity: _, ...it }) => it), latency }));
}

let total = 0;
const t0 = performance.now();
for (const seed of seeds) {
  const list = swapBooks(seed, books);
  let refused = 0;
  let crossed = 0;
  let faulty = 0;
  let below = 0;
  let above = 0;
  let worst = 0;
  const reasons = new Map<string, number>();
  const examples: string[] = [];
  list.forEach(({ intents, latency }, k) => {
    const r = solve(intents, latency);
    const v = verify(intents, latency, r);
    const faults = [...clearingFaults(intents, latency, r.fills), ...crossedPairFaults(afterFills(intents, r.fills), latency)];
    const optimum = exactSwapOptimum(intents, latency);
    // Welfare against the optimum, 1e-9 relative to the fills' own |gain × quantity| (a chain through a 1e9 swap
    // sums hop gains of ±1e9 to a net of a few units), as verify's welfare check.
    const scale = Math.max(1, Math.abs(optimum), grossWelfare(intents, r.fills));
    const tolerance = 1e-9 * scale;
    if (r.welfare < optimum - tolerance) below++;
    if (r.welfare > optimum + tolerance) above++;
    worst = Math.max(worst, (optimum - r.welfare) / scale);
    if (process.env.DEBUG && Math.abs(optimum - r.welfare) > tolerance) console.log(`  seed ${seed} book ${k}: welfare ${r.welfare}, optimum ${optimum}`);
    if (!v.ok) {
      refused++;
      for (const e of v.errors) {
        const reason = e.replace(/-?\d[\d.]*(e[-+]?\d+)?/g, "#").replace(/^fills\.# /, "fills ").replace(/^intent [^:]*:/, "intent:");
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
      if (examples.length < show) examples.push(`  seed ${seed} book ${k}: ${v.errors[0]}`);
      if (process.env.DEBUG) console.log(JSON.stringify({ intents, latency }));
    }
    if (faults.some((f) => f.property === "no-crossed-pair")) crossed++;
    // The oracle's Nash check reads plain fills alone; with swaps a plain intent is priced on its net over all its
    // fills (CONTRACT.md section 2a), which verify checks. The other properties hold whatever the kinds.
    if (faults.some((f) => f.property !== "no-crossed-pair" && f.property !== "nash")) faulty++;
  });
  total += list.length;
  console.log(`seed ${seed}: ${list.length} books with a swap of ${books} (${family})`);
  console.log("| verify refused | crossed pair left | other faults (limits, self-trade, a swap's net) | welfare below optimum | above | largest shortfall (of the fills' gross) |");
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
  console.log(`| ${refused} | ${crossed} | ${faulty} | ${below} | ${above} | ${worst.toExponential(1)} |`);
  for (const [reason, count] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${count} × ${reason}`);
  for (const line of examples) console.log(line);
}
console.log(`${total} books in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
