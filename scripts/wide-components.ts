// What one whale does to an ordinary market: generated books of ordinary intents plus a 1e12 seller (all-or-none on
// odd seeds), a 1e12 − 1 buyer and two 1e-6 intents, all in one component (support/generate.ts, wideBook). Components
// that span this much are solved in exact integers over classes (src/solver/exact.ts, exact-flow.ts), whatever their
// size. This counts settlements verify refuses (the market then commits nothing), crossed pairs left resting and
// minimums missed, judged by the adversarial suite's checks (test/oracle/hostile.ts), and what the solves cost.
import { loadavg } from "node:os";
import { numberFlag, parseFlags, parseOrExit } from "../src/cli/args.ts";
import { solve, verify } from "../src/solver/index.ts";
import { wideBook } from "../support/generate.ts";
import { afterFills, clearingFaults, crossedPairFaults } from "../test/oracle/hostile.ts";

const { books, size } = parseOrExit("usage: npx node scripts/wide-components.ts [--books N --size N]", () => {
  const { values } = parseFlags({ options: { books: { type: "string", default: "200" }, size: { type: "string", default: "200" } } });
  return { books: numberFlag(values, "books", { min: 1, integer: true })!, size: numberFlag(values, "size", { min: 2, integer: true })! };
});

let refused = 0;
let crossed = 0;
let faulty = 0;
const first: string[] = [];
const solveMs: number[] = [];
for (let seed = 1; seed <= books; seed++) {
  const { intents: book, latency } = wideBook(seed, size);
  const t0 = performance.now();
  const result = solve(book, latency);
  solveMs.push(performance.now() - t0);
  const checks = [
    ...(verify(book, latency, result).ok ? [] : [{ property: "verify", message: "verify refused the solver's own settlement" }]),
    ...crossedPairFaults(afterFills(book, result.fills), latency),
    ...clearingFaults(book, latency, result.fills),
  ];
  if (checks.some((f) => f.property === "verify")) refused++;
  if (checks.some((f) => f.property === "no-crossed-pair")) crossed++;
  if (checks.some((f) => f.property !== "verify" && f.property !== "no-crossed-pair")) faulty++;
  if (checks.length > 0 && first.length < 5) first.push(`seed ${seed}: ${checks[0].property}: ${checks[0].message}`);
}
solveMs.sort((a, b) => a - b);
const total = solveMs.reduce((a, b) => a + b, 0);
const at = (p: number) => solveMs[Math.min(solveMs.length - 1, Math.floor(p * solveMs.length))].toFixed(1);
console.log(`${books} books of ${size} ordinary intents + 4 whale intents in one component`);
console.log(`solve ms: total ${total.toFixed(0)}, median ${at(0.5)}, p90 ${at(0.9)}, max ${at(1)} (load average ${loadavg()[0].toFixed(1)})`);
console.log("| verify refused | crossed pair left | other faults (minimums, limits) |");
console.log("| ---: | ---: | ---: |");
console.log(`| ${refused} | ${crossed} | ${faulty} |`);
for (const line of first) console.log(line);
