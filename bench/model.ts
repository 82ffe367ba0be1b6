// `npm run bench:model`: the scorer's figures, printed as tables.
//   1. Node: first load, warm scoring latency per proposal, feature extraction time.
//   2. workerd (wrangler dev on 127.0.0.1:8821, inspector 8822; --skip-workerd to leave out): first load and warm
//      latency timed from outside (workerd freezes its clocks while running), and the bundle size (dry-run deploy).
//   3. Per market family (tools/train/families.ts): the families trained on (unseen seeds) and those held out
//      whole, model against the hand-written baseline; targets on held-out families Spearman ≥ 0.95, MAE ≤ 0.03.
//   4. Adversarial: crafted proposals (tools/train/adversarial.ts) scored above honest ones with 5% more welfare.
//   5. Reveals: the model fine-tuned round by round on revealed markets of a shifted family (metro-lowcap), every
//      family measured after each round; target: the shifted family's MAE cut ≥ 30% after one round, no other family
//      pushed above its target.
// Options: --model FILE (models/nash-scorer-v7.onnx), --port P (8821), --reveals N (markets revealed per round,
// 300), --rounds N (1), --large N (markets of the large family, 6), --adversarial-markets N (40), --skip-workerd.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { numberFlag, parseFlags, parseOrExit } from "../src/cli/args.ts";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { seededRandom } from "../src/random.ts";
import { SHIFTED_SHAPE } from "../support/generate.ts";
import { exactOptimum as exact } from "../support/highs.ts";
import { generateChallenge } from "../tools/train/challenges.ts";
import { commit } from "../src/model/commitment.ts";
import { batchContext, proposalFeatures } from "../src/model/features.ts";
import { predictEnsemble } from "../tools/train/mlp.ts";
import { importOnnx } from "../tools/train/onnx-export.ts";
import { createScorer } from "../src/model/scorer-node.ts";
import { evaluate } from "../tools/train/training.ts";
import { adversarialSets, familyTestSets, trainingData, TRAINING_MARKETS } from "../tools/train/families.ts";
import { revealRounds } from "../tools/train/reveals.ts";
import { adversarialTable, familyTable, revealTable } from "../tools/train/report.ts";
import { recordFigures } from "../support/figures.ts";

recordFigures("model", "Learned scorer");

const USAGE = "usage: npm run bench:model [-- --model FILE --port P --reveals N --rounds N --large N --adversarial-markets N --skip-workerd]";
const flags = parseOrExit(USAGE, () => {
  const text = { type: "string" } as const;
  const { values } = parseFlags({ options: { model: text, port: text, reveals: text, rounds: text, large: text, "adversarial-markets": text, "skip-workerd": { type: "boolean" } } });
  const count = (name: string) => numberFlag(values, name, { min: 1, integer: true });
  return {
    ...values, port: count("port"), reveals: count("reveals"), rounds: count("rounds"), large: count("large"),
    "adversarial-markets": count("adversarial-markets"),
  };
});
const MODEL = flags.model ?? "models/nash-scorer-v7.onnx";
const port = flags.port ?? 8821;
const log = (s: string) => process.stderr.write(`${s}\n`);
const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
const ms = (x: number) => x.toFixed(4);

const modelBytes = readFileSync(MODEL);

// 1. Node.
const t0 = performance.now();
const scorer = await createScorer(modelBytes);
const nodeFirstLoad = performance.now() - t0;
// Feature extraction over 20 shifted markets: the batch context (one banded solve) once per batch, then per proposal.
const probeRng = seededRandom(5);
const contextTimes: number[] = [];
const featureTimes: number[] = [];
const sizes: number[] = [];
let vectors: Float32Array[] = [];
while (contextTimes.length < 20) {
  const c = generateChallenge(probeRng, SHIFTED_SHAPE, exact, 64);
  if (c === null) continue;
  const commitments = c.market.intents.map((i) => commit(i, "ab".repeat(16)));
  const s = performance.now();
  const ctx = batchContext(commitments, c.market.latency);
  contextTimes.push(performance.now() - s);
  const f = performance.now();
  const xs = c.proposals.map((p) => proposalFeatures(ctx, p.fills));
  featureTimes.push((performance.now() - f) / xs.length);
  sizes.push(commitments.length);
  if (vectors.length === 0) vectors = xs;
}
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const nodeLatency = async (batch: number) => {
  const xs = vectors.slice(0, batch);
  for (let i = 0; i < 50; i++) await scorer.score(xs);
  const reps = 400;
  const s = performance.now();
  for (let i = 0; i < reps; i++) await scorer.score(xs);
  return (performance.now() - s) / reps / batch;
};
const node1 = await nodeLatency(1);
const node64 = await nodeLatency(64);
const rows: (string | number)[][] = [
  ["Node: first load (ort init + session)", `${nodeFirstLoad.toFixed(1)} ms`],
  ["Node: warm score, batch 1, per proposal", `${ms(node1)} ms`],
  ["Node: warm score, batch 64, per proposal", `${ms(node64)} ms`],
  [`features: batch context, once per batch (20 markets, median ${median(sizes)} intents)`,
    `median ${median(contextTimes).toFixed(2)} ms, max ${Math.max(...contextTimes).toFixed(1)} ms`],
  ["features: per proposal (median over the 20 markets)", `${ms(median(featureTimes))} ms`],
  ["model file", `${modelBytes.length} bytes`],
];

// 2. workerd.
if (flags["skip-workerd"] !== true) {
  const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
  const outdir = "/tmp/nash-model-bench-bundle";
  const dry = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--config", "bench/wrangler.model.toml", "--outdir", outdir], { env, encoding: "utf8" });
  if (dry.status === 0) {
    const files = readdirSync(outdir).map((f) => join(outdir, f)).filter((f) => statSync(f).isFile());
    const raw = files.reduce((a, f) => a + statSync(f).size, 0);
    const gz = files.reduce((a, f) => a + gzipSync(readFileSync(f)).length, 0);
    rows.push(["workerd bundle (worker + ort + wasm + model)", `${(raw / 1e6).toFixed(2)} MB raw, ${(gz / 1e6).toFixed(2)} MB gzipped`]);
  } else log(`dry-run deploy failed: ${dry.stderr.slice(-400)}`);
  const dev = spawn("npx", ["wrangler", "dev", "--config", "bench/wrangler.model.toml", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(port + 1)], { env, detached: true, stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  const timed = async (path: string) => {
    const s = performance.now();
    const r = await fetch(base + path);
    await r.text();
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    return performance.now() - s;
  };
  try {
    for (let i = 0; ; i++) {
      try { await timed("/noop"); break; } catch { if (i > 120) throw new Error("wrangler dev did not start"); }
      await new Promise((r) => setTimeout(r, 500));
    }
    const noop = Math.min(...(await Promise.all([0, 1, 2].map(() => timed("/noop")))));
    const firstLoad = (await timed("/load")) - noop;
    rows.push(["workerd: first load (ort init + session, per isolate)", `${firstLoad.toFixed(1)} ms`]);
    for (const batch of [1, 64]) {
      await timed(`/score?calls=200&batch=${batch}`);
      const calls = 2000;
      let best = Infinity;
      for (let rep = 0; rep < 3; rep++) {
        const empty = await timed(`/score?calls=0&batch=${batch}`);
        const full = await timed(`/score?calls=${calls}&batch=${batch}`);
        best = Math.min(best, (full - empty) / calls / batch);
      }
      rows.push([`workerd: warm score, batch ${batch}, per proposal`, `${ms(best)} ms`]);
    }
  } finally {
    if (dev.pid !== undefined) process.kill(-dev.pid, "SIGTERM");
  }
}
log("");
console.log(table(["figure", "value"], rows));

// 3. Per family, held-in and held-out, against the hand-written baseline (the training script's test sets).
const model = importOnnx(modelBytes).ensemble;
log("\nfamilies: building (or reading from the cache) the per-family test sets…");
const families = familyTestSets(150, flags.large ?? 6, 1, exact, (what) => (done) =>
  process.stderr.write(`\r  ${what}: ${done} markets   `));
const familyRows = families.map((f) => ({ ...f, metrics: evaluate(model, f.data), raw: evaluate({ members: model.members }, f.data) }));
console.log("\n" + familyTable(familyRows));

// 4. Adversarial: crafted proposals against honest ones with 5% more welfare, on the held-out families.
log("\nadversarial set…");
const pairs = adversarialSets(flags["adversarial-markets"] ?? 40, 1, exact);
console.log("\n" + adversarialTable(pairs, (x) => predictEnsemble(model, x.features).estimate));

// 5. Reveals: rounds of revealed metro-lowcap markets (a shifted family: LOW_CAP_SHAPE), the model fine-tuned on
// them, every family measured.
log("\nreveal rounds…");
// The replay is the training set of `npm run train` (from its cache; built here if absent).
const { train: replay } = trainingData(TRAINING_MARKETS, 1, exact, (what) => (done) => process.stderr.write(`\r  ${what}: ${done} markets   `));
const reveals = revealRounds(model, families, replay, 1, exact, { rounds: flags.rounds ?? 1, markets: flags.reveals ?? 300 });
console.log("\n" + revealTable(reveals));
