// `npm run train`: generates labelled challenges over the training families, trains an ensemble of small MLPs,
// calibrates their mean (isotonic), reports per market family (held-in and held-out) against the hand-written
// baseline, the adversarial over-scoring rate and a round of reveals, and writes models/<version>.onnx with its
// report (markdown, JSON) and plots (PNG). Progress goes to stderr, a line per stage and per epoch.
// `npm run train -- --from models/X.onnx --reveals FILE --version V`: fine-tunes X on revealed examples instead.
// Options: --seed N (1), --markets N (6000 training markets), --members K (3), --quick (a small run, writes
// nothing), --out DIR (models).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { numberFlag, parseFlags, parseOrExit } from "../src/cli/args.ts";
import { exactOptimum as exact } from "../support/highs.ts";
import { FEATURE_COUNT, FEATURE_NAMES, FEATURES_VERSION } from "../src/model/features.ts";
import { DEFAULT_TRAIN, fitIsotonic, initMlp, predictEnsemble, train, type Ensemble, type Mlp } from "../tools/train/mlp.ts";
import { exportOnnx, importOnnx } from "../tools/train/onnx-export.ts";
import { createScorer } from "../src/model/scorer-node.ts";
import {
  asEnsemble, DEFAULT_FINE_TUNE, evaluate, fineTuneEnsemble, fromRevealed, holdBack, type Example, type RevealedExample,
} from "../tools/train/training.ts";
import { adversarialSets, familyTestSets, trainingData, TRAINING_MARKETS, TRAINING_MIX } from "../tools/train/families.ts";
import { overScoredRate } from "../tools/train/adversarial.ts";
import { revealRounds } from "../tools/train/reveals.ts";
import { adversarialTable, calibrationPlot, familyErrorPlot, familyTable, revealPlot, revealTable } from "../tools/train/report.ts";

const USAGE = "usage: npm run train -- [--quick] [--seed N] [--markets N] [--members K] [--out DIR] [--version V] [--from MODEL.onnx --reveals FILE]";
const flags = parseOrExit(USAGE, () => {
  const text = { type: "string" } as const;
  const { values } = parseFlags({ options: { quick: { type: "boolean" }, seed: text, markets: text, members: text, from: text, version: text, out: text, reveals: text } });
  return {
    ...values, seed: numberFlag(values, "seed", { integer: true }), markets: numberFlag(values, "markets", { min: 1, integer: true }),
    members: numberFlag(values, "members", { min: 1, integer: true }),
  };
});
const quick = flags.quick === true;
const seed = flags.seed ?? 1;
const markets = flags.markets ?? (quick ? 150 : TRAINING_MARKETS);
const memberCount = flags.members ?? (quick ? 2 : 3);
const testMarkets = quick ? 20 : 150;
const largeMarkets = quick ? 1 : 6;
const from = flags.from ?? "";
const version = flags.version ?? (from ? "nash-scorer-v7-tuned" : "nash-scorer-v7");
const outDir = flags.out ?? "models";
const log = (s: string) => process.stderr.write(`${s}\n`);
const revealsFile = flags.reveals ?? "";
if (from && !revealsFile) {
  log("nash train: --from needs --reveals FILE (JSON lines of revealed examples)");
  process.exit(2);
}

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const progress = (what: string) => (done: number) => process.stderr.write(`\r  ${what}: ${done} markets (${elapsed()})      `);

log(`nash train: ${version}, seed ${seed}, ${FEATURE_COUNT} features (${FEATURES_VERSION}), ${memberCount} members`);
log(`training families: ${TRAINING_MIX.map((m) => m.shape.name).join(", ")}`);
const { train: trainSet, calibration: calibrationSet, calibrationByShape } = trainingData(markets, seed, exact, progress);
log(`\n${trainSet.length} training examples, ${calibrationSet.length} calibration examples (${elapsed()})`);
const families = familyTestSets(testMarkets, largeMarkets, seed, exact, progress);
log(`\ntest sets: ${families.map((f) => `${f.name} ${f.data.length}`).join(", ")} (${elapsed()})`);
const watch = families.flatMap((f) => f.data.filter((_, k) => k % 8 === 0));

let model: Ensemble;
let revealedCount = 0;
if (from) {
  const base = importOnnx(readFileSync(from));
  const lines = readFileSync(revealsFile, "utf8").split("\n").filter((l) => l.trim() !== "");
  const revealed = lines.map((l) => fromRevealed(JSON.parse(l) as RevealedExample));
  revealedCount = revealed.length;
  // A fifth of the reveals and the calibration markets of each trained shape decide which epoch is kept.
  const { train: tuneOn, held } = holdBack(revealed);
  log(`fine-tuning ${from} (${base.meta["nash.version"]}) on ${tuneOn.length} revealed examples (${held.length} held back)`);
  model = fineTuneEnsemble(base.ensemble, tuneOn, trainSet, {
    ...DEFAULT_FINE_TUNE, seed, validation: { revealed: held, families: calibrationByShape }, onEpoch: epochLine("fine-tune", DEFAULT_FINE_TUNE.epochs),
  });
} else {
  const members: Mlp[] = [];
  const epochs = quick ? 10 : DEFAULT_TRAIN.epochs;
  for (let k = 0; k < memberCount; k++) {
    const m = initMlp(trainSet.map((e) => e.features), DEFAULT_TRAIN.hidden, seed + k);
    train(m, trainSet.map((e) => e.features), trainSet.map((e) => e.label), {
      ...DEFAULT_TRAIN, epochs, seed: seed + k,
      onEpoch: (e, loss) => {
        if (e % 5 !== 0 && e !== epochs) return;
        const w = evaluate(m, watch);
        log(`  member ${k + 1}/${memberCount} epoch ${e}/${epochs} loss ${loss.toFixed(5)} all-family mae ${w.mae.toFixed(4)} pooled spearman ${w.pooledSpearman.toFixed(4)} (${elapsed()})`);
      },
    });
    members.push(m);
  }
  const raw = calibrationSet.map((e) => predictEnsemble({ members }, e.features).estimate);
  model = { members, calibration: fitIsotonic(raw, calibrationSet.map((e) => e.label)) };
}

function epochLine(what: string, epochs: number) {
  return (e: number, loss: number) => log(`  ${what} epoch ${e}/${epochs} loss ${loss.toFixed(5)} (${elapsed()})`);
}

const uncalibrated: Ensemble = { members: model.members };
const rows = families.map((f) => ({ ...f, metrics: evaluate(model, f.data), raw: evaluate(uncalibrated, f.data) }));
const familyMd = familyTable(rows);
log(familyMd);
log(`adversarial sets… (${elapsed()})`);
const pairs = adversarialSets(quick ? 4 : 40, seed, exact);
const score = (e: Ensemble) => (s: { features: Float32Array }) => predictEnsemble(e, s.features).estimate;
const adversarial = {
  pairs: pairs.length, model: overScoredRate(pairs, score(model)), baseline: overScoredRate(pairs, (s) => s.baseline),
};
const adversarialMd = adversarialTable(pairs, score(model));
log(adversarialMd);
log(`reveal rounds… (${elapsed()})`);
const reveals = revealRounds(model, families, trainSet, seed, exact, { rounds: quick ? 1 : 2, markets: quick ? 20 : 300, quick, onRound: (k) => log(`  round ${k} done (${elapsed()})`) });
const revealMd = revealTable(reveals);
log(revealMd);

const meta = { version, features: FEATURES_VERSION, seed: String(seed), trainedOn: String(trainSet.length), members: String(model.members.length) };
const bytes = exportOnnx(model, meta);
// The exported graph must agree with the JS forward pass before anything is written.
const scorer = await createScorer(bytes);
const probe = families.flatMap((f) => f.data.slice(0, 24)).slice(0, 256);
const { estimates, spreads } = await scorer.score(probe.map((e) => e.features));
const js = probe.map((e) => predictEnsemble(model, e.features));
const drift = Math.max(...probe.map((_, k) => Math.max(Math.abs(estimates[k] - js[k].estimate), Math.abs(spreads![k] - js[k].spread))));
log(`onnx vs js forward pass: max |diff| ${drift.toExponential(2)} over ${probe.length}; model ${bytes.length} bytes`);
if (drift > 1e-5) throw new Error("exported model disagrees with the trained one");

const seconds = (performance.now() - started) / 1000;
log(`done in ${seconds.toFixed(1)} s`);
if (quick) process.exit(0);

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `${version}.onnx`), bytes);
// Conformance vectors: Node's ort outputs, which workerd must reproduce exactly (test/workers/model.test.ts).
const vectors = probe.slice(0, 32).map((e, k) => ({
  features: Array.from(e.features), ort: estimates[k], spread: spreads![k], js: js[k].estimate,
}));
writeFileSync(join(outDir, `${version}.vectors.json`), `${JSON.stringify({ version, vectors })}\n`);
writeFileSync(join(outDir, `${version}.calibration.png`), calibrationPlot(rows, model, uncalibrated));
writeFileSync(join(outDir, `${version}.families.png`), familyErrorPlot(rows));
writeFileSync(join(outDir, `${version}.reveals.png`), revealPlot(reveals));
const report = {
  version, features: FEATURES_VERSION, featureNames: FEATURE_NAMES, seed, from: from || undefined,
  revealedExamples: from ? revealedCount : undefined,
  data: { trainMarkets: markets, trainExamples: trainSet.length, calibrationExamples: calibrationSet.length },
  architecture: `${model.members.length} × (${FEATURE_COUNT} → ${DEFAULT_TRAIN.hidden.join(" → ")} → 1, ReLU, sigmoid out); mean → isotonic calibration`,
  training: { ...DEFAULT_TRAIN, onEpoch: undefined },
  families: rows.map((r) => ({ name: r.name, heldOut: r.heldOut, metrics: r.metrics, uncalibrated: r.raw })),
  calibration: model.calibration, adversarial, reveals, onnxBytes: bytes.length, onnxMaxDiff: drift, seconds: Number(seconds.toFixed(1)),
};
writeFileSync(join(outDir, `${version}.report.json`), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(outDir, `${version}.report.md`), [
  `# ${version}`, "",
  `Seed ${seed}; ${trainSet.length} training examples from ${markets} markets of ${TRAINING_MIX.map((m) => m.shape.name).join(", ")}`,
  `(a tenth more with crafted proposals); calibration on ${calibrationSet.length} examples of other markets of the same shapes.`,
  `Network ${report.architecture}; ${bytes.length} bytes of ONNX. Trained in ${report.seconds} s.`, "",
  "## Per family (targets on held-out families: Spearman ≥ 0.95, MAE ≤ 0.03)", "", familyMd, "",
  "Baseline: the hand-written estimator (estimated proposal welfare on band midpoints / greedy optimum on the same",
  "midpoints). Spread: the mean of max − min over the ensemble's members (the uncertainty output).", "",
  `![per-family MAE: model and baseline](${version}.families.png)`, "",
  `![calibration: estimate (x) against mean true share (y), calibrated and raw](${version}.calibration.png)`, "",
  "## Adversarial set (crafted proposals against honest ones with ≥ 5% more welfare; target < 2%)", "", adversarialMd, "",
  "## Reveals (fine-tuning on revealed examples of a shifted family, round by round)", "", revealMd, "",
  `![MAE per family before and after each reveal round](${version}.reveals.png)`, "",
].join("\n"));
log(`wrote ${join(outDir, `${version}.onnx`)} and its report (${asEnsemble(model).members.length} members)`);
