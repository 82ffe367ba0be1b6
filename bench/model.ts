// `npm run bench:model`: the scorer's figures, printed as tables.
//   1. Node: first load, warm scoring latency per proposal, feature extraction time.
//   2. workerd (wrangler dev on 127.0.0.1:8821, inspector 8822; --skip-workerd to leave out): first load and warm
//      latency timed from outside (workerd freezes its clocks while running), and the bundle size (dry-run deploy).
//   3. Feedback: the committed model before and after fine-tuning on revealed examples from a shifted
//      distribution (METRO_SHAPE: nearby regions, caps inside their latency bands; or --feedback-shape offgrid |
//      thin; revealed markets disjoint from the evaluation markets); target: error cut ≥ 30% there, with the
//      shifted and training test sets shown so a cut does not hide a loss elsewhere.
// Options: --model FILE (models/nash-scorer-v2.onnx), --port P (8821), --reveals N (markets revealed for feedback,
// 300), --feedback-shape metro|offgrid|thin, --write-reveals FILE (JSON lines), --skip-workerd.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { numberFlag, parseFlags, parseOrExit, UsageError } from "../src/cli/args.ts";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { generateChallenge, type MarketShape, METRO_SHAPE, OFFGRID_SHAPE, rng, SHIFTED_SHAPE, THIN_SHAPE, TRAIN_SHAPE } from "../src/model/challenges.ts";
import { commit } from "../src/model/commitment.ts";
import { loadExactHighs } from "../src/model/exact-highs.ts";
import { batchContext, proposalFeatures } from "../src/model/features.ts";
import { DEFAULT_TRAIN } from "../src/model/mlp.ts";
import { importOnnx } from "../src/model/onnx-export.ts";
import { createScorer } from "../src/model/scorer-node.ts";
import { buildDataset, evaluate, fineTune, type Example } from "../src/model/training.ts";

const USAGE = "usage: npm run bench:model [-- --model FILE --port P --reveals N --feedback-shape metro|offgrid|thin --write-reveals FILE --skip-workerd]";
const flags = parseOrExit(USAGE, () => {
  const text = { type: "string" } as const;
  const { values } = parseFlags({ options: { model: text, port: text, reveals: text, "feedback-shape": text, "write-reveals": text, "skip-workerd": { type: "boolean" } } });
  const shape = values["feedback-shape"];
  if (shape !== undefined && !["metro", "offgrid", "thin"].includes(shape)) throw new UsageError(`--feedback-shape is metro, offgrid or thin, not ${JSON.stringify(shape)}`);
  return { ...values, port: numberFlag(values, "port", { min: 1, integer: true }), reveals: numberFlag(values, "reveals", { min: 1, integer: true }) };
});
const MODEL = flags.model ?? "models/nash-scorer-v2.onnx";
const port = flags.port ?? 8821;
const log = (s: string) => process.stderr.write(`${s}\n`);
const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
const ms = (x: number) => x.toFixed(4);

const modelBytes = readFileSync(MODEL);
const exact = await loadExactHighs();

// 1. Node.
const t0 = performance.now();
const scorer = await createScorer(modelBytes);
const nodeFirstLoad = performance.now() - t0;
// Feature extraction over 20 shifted markets: the batch context (one banded solve) once per batch, then per proposal.
const probeRng = rng(5);
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

// 3. Feedback. Reveals come from the feedback shift, on markets disjoint from its test markets.
const revealMarkets = flags.reveals ?? 300;
log(`\nfeedback: building ${revealMarkets} revealed markets of the feedback shift and the test sets…`);
const base = importOnnx(modelBytes).mlp;
const feedbackShapes: Record<string, MarketShape | undefined> = { metro: METRO_SHAPE, offgrid: OFFGRID_SHAPE, thin: THIN_SHAPE };
const feedbackShape = feedbackShapes[flags["feedback-shape"] ?? "metro"];
if (feedbackShape === undefined) throw new Error("--feedback-shape: metro, offgrid or thin");
const revealed = buildDataset(feedbackShape, revealMarkets, 9_001, exact);
const sets = {
  feedback: buildDataset(feedbackShape, 300, 9_003, exact), // other seed: markets disjoint from the revealed ones
  shifted: buildDataset(SHIFTED_SHAPE, 300, 1003, exact), // the training script's shifted test seed
  test: buildDataset(TRAIN_SHAPE, 400, 1002, exact), // and its test seed
};
const replay = buildDataset(TRAIN_SHAPE, 300, 9_002, exact);
const writeTo = flags["write-reveals"] ?? "";
if (writeTo) writeFileSync(writeTo, revealed.map((e: Example) => JSON.stringify({ features: Array.from(e.features), label: e.label })).join("\n") + "\n");
// Same recipe as `npm run train -- --from`: the training run itself, warm-started, revealed and replayed 1:1.
const tuned = fineTune(base, revealed, replay, { ...DEFAULT_TRAIN, seed: 1 });
const f = (x: number) => x.toFixed(4);
const names = {
  feedback: `${feedbackShape.name} markets (feedback shift)`, shifted: "shifted (larger markets, other regions)", test: "test (training distribution)",
};
console.log("\n" + table(
  ["set", "examples", "Spearman before", "MAE before", "Spearman after", "MAE after", "MAE cut", "baseline Spearman", "baseline MAE", "reference MAE"],
  (["feedback", "shifted", "test"] as const).map((k) => {
    const before = evaluate(base, sets[k]);
    const after = evaluate(tuned, sets[k]);
    return [
      names[k], before.n, f(before.spearman), f(before.mae), f(after.spearman), f(after.mae),
      `${(100 * (1 - after.mae / before.mae)).toFixed(1)}%`, f(before.baselineSpearman), f(before.baselineMae), f(before.referenceMae),
    ];
  }),
));
console.log(`\nfine-tuned on ${revealed.length} revealed examples (${revealMarkets} ${feedbackShape.name} markets), mixed with as many replayed training examples`);
