// What one whale does to an ordinary market: generated books of ordinary intents plus a 1e12 seller (all-or-none on
// odd seeds), a 1e12 − 1 buyer and two 1e-6 intents, all in one component. Components of at most 64 intents that
// span this much are solved in exact integers (src/solver/exact.ts); larger ones stay on the float path, and this
// counts what that costs: settlements verify refuses (the market then commits nothing), crossed pairs left resting
// and minimums missed, judged by the adversarial suite's checks (test/oracle/hostile.ts).
import { numberFlag, parseFlags, parseOrExit } from "../src/cli/args.ts";
import type { Intent } from "../src/contract/schema.ts";
import { solve, verify } from "../src/solver/index.ts";
import { generateMarket } from "../support/generate.ts";
import { afterFills, clearingFaults, crossedPairFaults } from "../test/oracle/hostile.ts";

const { books, size } = parseOrExit("usage: npx node scripts/wide-components.ts [--books N --size N]", () => {
  const { values } = parseFlags({ options: { books: { type: "string", default: "200" }, size: { type: "string", default: "200" } } });
  return { books: numberFlag(values, "books", { min: 1, integer: true })!, size: numberFlag(values, "size", { min: 2, integer: true })! };
});

let refused = 0;
let crossed = 0;
let faulty = 0;
const first: string[] = [];
const t0 = performance.now();
for (let seed = 1; seed <= books; seed++) {
  const market = generateMarket(seed, { size, allOrNoneShare: 0.2 });
  const like = market.intents[seed % market.intents.length];
  const whale = (id: string, side: "buy" | "sell", quantity: number, limitPrice: number, minQuantity?: number): Intent => ({
    ...like, id, agent: `whale-${id}`, side, quantity, limitPrice, minQuantity, maxLatencyMs: undefined,
  });
  const book = [
    ...market.intents,
    whale("big-sell", "sell", 1e12, 0.5 + (seed % 3), seed % 2 ? 1e12 : undefined),
    whale("big-buy", "buy", 1e12 - 1, 3),
    whale("tiny-sell", "sell", 1e-6, 0.1),
    whale("tiny-buy", "buy", 1e-6, 1e9),
  ];
  const result = solve(book, market.latency);
  const checks = [
    ...(verify(book, market.latency, result).ok ? [] : [{ property: "verify", message: "verify refused the solver's own settlement" }]),
    ...crossedPairFaults(afterFills(book, result.fills), market.latency),
    ...clearingFaults(book, market.latency, result.fills),
  ];
  if (checks.some((f) => f.property === "verify")) refused++;
  if (checks.some((f) => f.property === "no-crossed-pair")) crossed++;
  if (checks.some((f) => f.property !== "verify" && f.property !== "no-crossed-pair")) faulty++;
  if (checks.length > 0 && first.length < 5) first.push(`seed ${seed}: ${checks[0].property}: ${checks[0].message}`);
}
console.log(`${books} books of ${size} ordinary intents + 4 whale intents in one component, ${Math.round(performance.now() - t0)} ms`);
console.log("| verify refused | crossed pair left | other faults (minimums, limits) |");
console.log("| ---: | ---: | ---: |");
console.log(`| ${refused} | ${crossed} | ${faulty} |`);
for (const line of first) console.log(line);
