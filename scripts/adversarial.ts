// The long adversarial run (issue 14): hostile books and hostile proposals over the pure path (solve, the batch's
// close, priceAllocation), every case judged by the oracle: HiGHS as the reference optimum of ordinary books, the
// exact rational oracle (test/oracle/exact.ts) where doubles cannot hold the book's sums or HiGHS finds no optimum.
// Deterministic by seed; prints failing cases per property, and how many cases each oracle decided; exits
// non-zero on any failure or undecided case.
//   npm run fuzz:adversarial [-- --cases 100000 --seed 14]   (or ADVERSARIAL_SEED=15 npm run fuzz:adversarial)
import fc from "fast-check";
import { numberFlag, parseFlags, parseOrExit } from "../src/cli/args.ts";
import { describeFaults, independenceCase, pureFaults, type Optimum, type PureCase } from "../test/oracle/hostile.ts";
import { referenceOptimum } from "../test/oracle/hostile-highs.ts";
import { recordFigures } from "../support/figures.ts";

recordFigures("adversarial", "Adversarial long run");

const { cases, seed } = parseOrExit("usage: npm run fuzz:adversarial [-- --cases N --seed S] (or ADVERSARIAL_SEED=S)", () => {
  const { values } = parseFlags({ options: { cases: { type: "string", default: "100000" }, seed: { type: "string", default: process.env.ADVERSARIAL_SEED ?? "14" } } });
  return { cases: numberFlag(values, "cases", { min: 1, integer: true })!, seed: numberFlag(values, "seed", { integer: true })! };
});
const CHUNK = 1000;
const UNDECIDED = "undecided (no oracle found an optimum)";
/** Cases each oracle decided, and the judge of the case being run. */
const judged = new Map<string, number>();
let judge = "";
const optimum: Optimum = (book, latency) => {
  const best = referenceOptimum(book, latency);
  judge = best.judge ?? "?";
  return best;
};

/** Failing cases per "scope/property", with the first one's case number and faults to reproduce it. */
const failures = new Map<string, { count: number; first: number; example: string }>();
const note = (key: string, k: number, example: string) => {
  const row = failures.get(key) ?? { count: 0, first: k, example };
  failures.set(key, { ...row, count: row.count + 1 });
};

const start = performance.now();
for (let done = 0; done < cases; done += CHUNK) {
  // Each chunk of cases from its own seed: any case can be regenerated from (seed, chunk) alone.
  const chunk = fc.sample(independenceCase, { seed: seed + done / CHUNK, numRuns: Math.min(CHUNK, cases - done) });
  chunk.forEach((c: PureCase, j) => {
    const k = done + j;
    try {
      judge = "";
      const faults = pureFaults(c, optimum);
      judged.set(judge, (judged.get(judge) ?? 0) + 1);
      for (const key of new Set(faults.map((f) => `${f.scope}/${f.property}`))) note(key, k, `${JSON.stringify(c)}\njudge: ${judge}\n${describeFaults(faults)}`);
    } catch (err) {
      note(UNDECIDED, k, `${JSON.stringify(c)}\n${String(err)}`);
    }
  });
  if ((done / CHUNK) % 10 === 9) process.stderr.write(`${done + CHUNK} cases, ${((performance.now() - start) / 1000).toFixed(0)} s\n`);
}
const seconds = (performance.now() - start) / 1000;

const failing = [...failures].reduce((n, [, r]) => n + r.count, 0);
console.log(`adversarial: ${cases} cases, seed ${seed}, ${seconds.toFixed(1)} s (${((seconds * 1e6) / cases).toFixed(0)} µs a case)`);
console.log("| property | failing cases | first case |");
console.log("| --- | ---: | ---: |");
for (const [key, row] of [...failures].sort()) console.log(`| ${key} | ${row.count} | ${row.first} |`);
if (failing === 0) console.log("| every property | 0 | — |");
console.log(`\ndecided by: ${[...judged].sort().map(([j, n]) => `${j} ${n}`).join(", ")}`);
for (const [key, row] of [...failures].sort()) console.log(`\n${key}, case ${row.first} (chunk seed ${seed + Math.floor(row.first / CHUNK)}):\n${row.example.slice(0, 2000)}`);
process.exit(failing === 0 ? 0 : 1);
