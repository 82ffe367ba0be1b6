// `npm run train`: generates synthetic challenges, trains the scorer MLP, reports held-out metrics (model and
// baseline, in-distribution and shifted), and writes models/<version>.onnx with its report and calibration plot.
// `npm run train -- --from models/X.onnx --reveals FILE --version V`: fine-tunes X on revealed examples instead.
// Options: --seed N (1), --markets N (6000 training markets), --quick (a small smoke run, writes nothing).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { numberFlag, parseFlags, parseOrExit } from "../src/cli/args.ts";
import { join } from "node:path";
import { SHIFTED_SHAPE, TRAIN_SHAPE } from "../src/model/challenges.ts";
import { loadExactHighs } from "../src/model/exact-highs.ts";
import { FEATURE_COUNT, FEATURE_NAMES, FEATURES_VERSION } from "../src/model/features.ts";
import { DEFAULT_TRAIN, initMlp, predict, train, type Mlp } from "../src/model/mlp.ts";
import { exportOnnx, importOnnx } from "../src/model/onnx-export.ts";
import { canvas, encodePng, plot } from "../src/model/png.ts";
import { createScorer } from "../src/model/scorer-node.ts";
import { buildDataset, evaluate, fineTune, fromRevealed, type Example, type Metrics, type RevealedExample } from "../src/model/training.ts";

const USAGE = "usage: npm run train -- [--quick] [--seed N] [--markets N] [--out DIR] [--version V] [--from MODEL.onnx --reveals FILE]";
const flags = parseOrExit(USAGE, () => {
  const text = { type: "string" } as const;
  const { values } = parseFlags({ options: { quick: { type: "boolean" }, seed: text, markets: text, from: text, version: text, out: text, reveals: text } });
  return { ...values, seed: numberFlag(values, "seed", { integer: true }), markets: numberFlag(values, "markets", { min: 1, integer: true }) };
});
const quick = flags.quick === true;
const seed = flags.seed ?? 1;
const markets = flags.markets ?? (quick ? 150 : 6000);
const testMarkets = quick ? 60 : 400;
const shiftedMarkets = quick ? 40 : 300;
const from = flags.from ?? "";
const version = flags.version ?? (from ? "nash-scorer-v2-tuned" : "nash-scorer-v2");
const outDir = flags.out ?? "models";
const log = (s: string) => process.stderr.write(`${s}\n`);

const revealsFile = flags.reveals ?? "";
if (from && !revealsFile) {
  log("nash train: --from needs --reveals FILE (JSON lines of revealed examples)");
  process.exit(2);
}

const started = performance.now();
const exact = await loadExactHighs();
const progress = (what: string, total: number) => (done: number) =>
  process.stderr.write(`\r  ${what}: ${done}/${total} markets (${((performance.now() - started) / 1000).toFixed(0)} s)   `);

log(`nash train: ${version}, seed ${seed}, ${FEATURE_COUNT} features (${FEATURES_VERSION})`);
// Distinct seeds per set: the test sets are markets the training never saw.
const trainSet = buildDataset(TRAIN_SHAPE, markets, seed * 1000 + 1, exact, 6, progress("training set", markets));
log("");
const testSet = buildDataset(TRAIN_SHAPE, testMarkets, seed * 1000 + 2, exact, 6, progress("test set", testMarkets));
log("");
const shiftedSet = buildDataset(SHIFTED_SHAPE, shiftedMarkets, seed * 1000 + 3, exact, 6, progress("shifted test set", shiftedMarkets));
log("");

let model: Mlp;
let revealedCount = 0;
if (from) {
  const base = importOnnx(readFileSync(from));
  const lines = readFileSync(revealsFile, "utf8").split("\n").filter((l) => l.trim() !== "");
  const revealed = lines.map((l) => fromRevealed(JSON.parse(l) as RevealedExample));
  revealedCount = revealed.length;
  log(`fine-tuning ${from} (${base.meta["nash.version"]}) on ${revealed.length} revealed examples`);
  // The training recipe itself, warm-started from the base model (chosen on validation markets, notes/model.md).
  model = fineTune(base.mlp, revealed, trainSet, {
    ...DEFAULT_TRAIN, seed,
    onEpoch: (e, loss) => process.stderr.write(`\r  epoch ${e}/${DEFAULT_TRAIN.epochs} loss ${loss.toFixed(5)}   `),
  });
} else {
  model = initMlp(trainSet.map((e) => e.features), DEFAULT_TRAIN.hidden, seed);
  const epochs = quick ? 10 : DEFAULT_TRAIN.epochs;
  train(model, trainSet.map((e) => e.features), trainSet.map((e) => e.label), {
    ...DEFAULT_TRAIN, epochs, seed,
    onEpoch: (e, loss) => {
      if (e % 5 === 0 || e === epochs) {
        const m = evaluate(model, testSet.slice(0, 600));
        process.stderr.write(`\r  epoch ${e}/${epochs} loss ${loss.toFixed(5)} test mae ${m.mae.toFixed(4)} spearman ${m.spearman.toFixed(4)}   `);
      }
    },
  });
}
log("");

const metrics = { test: evaluate(model, testSet), shifted: evaluate(model, shiftedSet) };
const row = (name: string, m: Metrics) =>
  `| ${name} | ${m.n} | ${m.spearman.toFixed(4)} | ${m.mae.toFixed(4)} | ${m.baselineSpearman.toFixed(4)} | ${m.baselineMae.toFixed(4)} | ${m.referenceSpearman.toFixed(4)} | ${m.referenceMae.toFixed(4)} |`;
const table = [
  "| set | examples | model Spearman | model MAE | baseline Spearman | baseline MAE | reference Spearman | reference MAE |",
  "|---|---|---|---|---|---|---|---|",
  row("test (training distribution)", metrics.test),
  row("shifted (larger markets, other regions)", metrics.shifted),
].join("\n");
log(table);

const bytes = exportOnnx(model, { version, features: FEATURES_VERSION, seed: String(seed), trainedOn: String(trainSet.length) });
// The exported graph must agree with the JS forward pass before anything is written.
const scorer = await createScorer(bytes);
const probe = testSet.slice(0, 256);
const { estimates } = await scorer.score(probe.map((e) => e.features));
const drift = Math.max(...probe.map((e, k) => Math.abs(estimates[k] - predict(model, e.features))));
log(`onnx vs js forward pass: max |diff| ${drift.toExponential(2)} over ${probe.length}; model ${bytes.length} bytes`);
if (drift > 1e-5) throw new Error("exported model disagrees with the trained one");

const seconds = (performance.now() - started) / 1000;
log(`done in ${seconds.toFixed(1)} s`);
if (quick) process.exit(0);

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `${version}.onnx`), bytes);
// Conformance vectors: Node's ort outputs, which workerd must reproduce exactly (test/workers/model.test.ts).
const vectors = probe.slice(0, 32).map((e, k) => ({
  features: Array.from(e.features), ort: estimates[k], js: predict(model, e.features),
}));
writeFileSync(join(outDir, `${version}.vectors.json`), `${JSON.stringify({ version, vectors })}\n`);
writeFileSync(join(outDir, `${version}.calibration.png`), calibrationPlot([testSet, shiftedSet], model));
const report = {
  version, features: FEATURES_VERSION, featureNames: FEATURE_NAMES, seed, from: from || undefined,
  revealedExamples: from ? revealedCount : undefined,
  data: { trainMarkets: markets, trainExamples: trainSet.length, testExamples: testSet.length, shiftedExamples: shiftedSet.length },
  architecture: `${FEATURE_COUNT} → ${DEFAULT_TRAIN.hidden.join(" → ")} → 1 (ReLU, sigmoid out)`,
  training: { ...DEFAULT_TRAIN, onEpoch: undefined, ...(from ? { warmStart: from, replay: "1:1" } : {}) },
  metrics, onnxBytes: bytes.length, onnxMaxDiff: drift, seconds: Number(seconds.toFixed(1)),
};
writeFileSync(join(outDir, `${version}.report.json`), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(outDir, `${version}.report.md`), [
  `# ${version}`, "",
  `Seed ${seed}; ${trainSet.length} training examples from ${markets} markets (${TRAIN_SHAPE.name} shape); held-out test`,
  `${testSet.length} examples; shifted test ${shiftedSet.length} examples (${SHIFTED_SHAPE.intents.join("–")} intents, regions never seen).`,
  `Network ${report.architecture}; ${bytes.length} bytes of ONNX. Trained in ${report.seconds} s.`, "",
  table, "",
  "Baseline: the hand-written estimator (estimated proposal welfare on band midpoints / greedy optimum on the same",
  "midpoints). Reference: the same share against the exact solver's optimum of the band-midpoint market (also a",
  "model feature). Targets: Spearman ≥ 0.95, MAE ≤ 0.03 on both sets, clearly better than the baseline.", "",
  `![calibration: estimate (x) vs true share (y); blue = test, orange = shifted](${version}.calibration.png)`, "",
].join("\n"));
log(`wrote ${join(outDir, `${version}.onnx`)} and its report`);

/** Estimate (x) against true share (y), test in blue and shifted in orange, over a grey diagonal. */
function calibrationPlot(sets: Example[][], m: Mlp): Uint8Array {
  const size = 400;
  const pad = 20;
  const c = canvas(size, size);
  const span = size - 2 * pad;
  for (let t = 0; t <= span; t++) {
    plot(c, pad + t, size - pad - t, 0xaaaaaa);
    for (const edge of [pad, size - pad]) {
      plot(c, pad + t, edge, 0x000000);
      plot(c, edge, pad + t, 0x000000);
    }
  }
  const colors = [0x1f77b4, 0xff7f0e];
  sets.forEach((set, k) => {
    for (const e of set) {
      const x = pad + predict(m, e.features) * span;
      const y = size - pad - e.label * span;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) plot(c, x + dx, y + dy, colors[k], 0.35);
    }
  });
  return encodePng(c);
}
