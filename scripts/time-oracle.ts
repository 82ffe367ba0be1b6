// The time oracle's longer run (npm run oracle:time): generated windowed markets of every mode, each solved by
// src/solver with `now` and judged by the time checker against HiGHS's time-indexed optimum
// (test/oracle/time-judge.ts); prints a table per mode and size. Failing markets go to
// $TMPDIR/nash-time-oracle-failures/ as `nash solve` files.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { numberFlag, parseFlags, parseOrExit } from "../src/cli/args.ts";
import { solve, verify } from "../src/solver/index.ts";
import { progress } from "../support/progress.ts";
import { judgeTimedMarket, TIME_MODE_NAMES, timeInstance, writeTimeFailure } from "../test/oracle/time-judge.ts";

const usage = "usage: npm run oracle:time -- [--markets N] [--first-seed N] [--min-size N] [--max-size N] [--highs-limit SECONDS]";
const options = parseOrExit(usage, () => {
  const { values } = parseFlags({
    options: {
      markets: { type: "string", default: "5000" },
      "first-seed": { type: "string", default: "1000001" },
      "min-size": { type: "string", default: "2" },
      "max-size": { type: "string", default: "60" },
      "highs-limit": { type: "string", default: "60" },
    },
  });
  const int = (name: string, min: number) => numberFlag(values, name, { min, integer: true })!;
  return { markets: int("markets", 1), firstSeed: int("first-seed", 0), minSize: int("min-size", 2), maxSize: int("max-size", 2), highsLimit: int("highs-limit", 1) };
});

const solver = { solve, verify };
const failureDir = join(tmpdir(), "nash-time-oracle-failures");
const span = Math.max(1, options.maxSize - options.minSize + 1);
const bucket = (n: number) => (n <= 12 ? "2-12" : n <= 40 ? "13-40" : n <= 120 ? "41-120" : "121+");

interface Row {
  markets: number;
  trading: number;
  failures: number;
  undecided: number;
  solverMs: number;
  highsMs: number;
}
const rows = new Map<string, Row>();
const row = (key: string) => rows.get(key) ?? rows.set(key, { markets: 0, trading: 0, failures: 0, undecided: 0, solverMs: 0, highsMs: 0 }).get(key)!;
const first: string[] = [];
const bar = progress("time oracle", options.markets);
const t0 = performance.now();
for (let seed = options.firstSeed; seed < options.firstSeed + options.markets; seed++) {
  const size = options.minSize + ((seed * 2654435761) >>> 0) % span;
  const instance = timeInstance(seed, size, TIME_MODE_NAMES);
  const j = judgeTimedMarket(instance, solver, options.highsLimit);
  for (const key of [`${instance.mode} | ${bucket(size)}`, `all | all`]) {
    const r = row(key);
    r.markets++;
    if (j.highsWelfare > 0) r.trading++;
    if (j.problems.length > 0) r.failures++;
    if (j.undecided) r.undecided++;
    r.solverMs += j.ms.solver;
    r.highsMs += j.ms.highs;
  }
  if (j.problems.length > 0 && first.length < 10) {
    const file = writeTimeFailure(failureDir, instance, j);
    first.push(`seed ${seed} (${instance.mode}, ${size} intents, ${file}): ${j.problems[0].split("\n")[0]}`);
  }
  bar.tick();
}
bar.finish();

console.log(`${options.markets} windowed markets of ${options.minSize}-${options.maxSize} intents, seeds from ${options.firstSeed}, ${Math.round(performance.now() - t0)} ms`);
console.log("| mode | intents | markets | with trade | failures | undecided | solver ms | HiGHS ms |");
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const [key, r] of [...rows].sort(([a], [b]) => (a.startsWith("all") ? 1 : b.startsWith("all") ? -1 : a.localeCompare(b)))) {
  console.log(`| ${key} | ${r.markets} | ${r.trading} | ${r.failures} | ${r.undecided} | ${r.solverMs.toFixed(0)} | ${r.highsMs.toFixed(0)} |`);
}
for (const line of first) console.log(line);
process.exitCode = rows.get("all | all")!.failures > 0 ? 1 : 0;
