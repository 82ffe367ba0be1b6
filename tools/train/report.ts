// The training report's tables (markdown) and plots (PNG, support/chart.ts).
import { barChart, lineChart } from "../../support/chart.ts";
import type { AdversarialPair } from "./adversarial.ts";
import { ADVERSARIAL_KINDS } from "./challenges.ts";
import type { FamilySet } from "./families.ts";
import { predictEnsemble, type Ensemble } from "./mlp.ts";
import type { RevealRounds } from "./reveals.ts";
import type { Metrics } from "./training.ts";

export const SPEARMAN_TARGET = 0.95;
export const MAE_TARGET = 0.03;
const f4 = (x: number) => x.toFixed(4);
const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

export type FamilyRow = FamilySet & { metrics: Metrics; raw: Metrics };

export function familyTable(rows: readonly FamilyRow[]): string {
  return table(
    ["family", "role", "examples", "model Spearman (per market)", "pooled Spearman", "pooled ceiling", "model MAE", "uncalibrated MAE",
      "mean spread", "baseline Spearman (per market)", "baseline pooled", "baseline MAE", "targets"],
    rows.map((r) => [
      r.name, r.heldOut ? "held out" : "trained", r.metrics.n, f4(r.metrics.spearman), f4(r.metrics.pooledSpearman), f4(r.metrics.pooledCeiling),
      f4(r.metrics.mae), f4(r.raw.mae), f4(r.metrics.spread),
      f4(r.metrics.baselineSpearman), f4(r.metrics.baselinePooledSpearman), f4(r.metrics.baselineMae),
      r.metrics.spearman >= SPEARMAN_TARGET && r.metrics.mae <= MAE_TARGET ? "met" : "missed",
    ]),
  );
}

export function adversarialTable(pairs: readonly AdversarialPair[], score: (s: AdversarialPair["crafted"]) => number): string {
  const rate = (ps: readonly AdversarialPair[], f: (s: AdversarialPair["crafted"]) => number) =>
    ps.length === 0 ? "–" : `${(100 * ps.filter((p) => f(p.crafted) > f(p.honest)).length / ps.length).toFixed(1)}%`;
  const kinds = [...ADVERSARIAL_KINDS, "all"] as const;
  return table(["crafted kind", "pairs", "model over-scored", "baseline over-scored", "mean true share"], kinds.map((k) => {
    const ps = k === "all" ? pairs : pairs.filter((p) => p.kind === k);
    const share = ps.reduce((a, p) => a + p.crafted.label, 0) / Math.max(1, ps.length);
    return [k, ps.length, rate(ps, score), rate(ps, (s) => s.baseline), f4(share)];
  }));
}

export function revealTable(r: RevealRounds): string {
  const rounds = r.mae.map((_, k) => (k === 0 ? "before" : `after round ${k}`));
  return table(["family", ...rounds.map((x) => `MAE ${x}`), "MAE cut (last round)", `≤ ${MAE_TARGET}`], r.families.map((name, f) => {
    const first = r.mae[0][f];
    const last = r.mae[r.mae.length - 1][f];
    return [name, ...r.mae.map((row) => f4(row[f])), `${(100 * (1 - last / first)).toFixed(1)}%`, last <= MAE_TARGET ? "yes" : "no"];
  })) + `\n\nEach round reveals ${r.markets} ${r.shift} markets (6 proposals each).`;
}

/** Reliability: mean true share per estimate bin (20 bins), calibrated and raw, over every family's examples. */
export function calibrationPlot(rows: readonly FamilyRow[], model: Ensemble, raw: Ensemble): Buffer {
  const all = rows.flatMap((r) => r.data);
  const curve = (e: Ensemble) => {
    const bins = Array.from({ length: 20 }, () => ({ x: 0, y: 0, n: 0 }));
    for (const ex of all) {
      const v = predictEnsemble(e, ex.features).estimate;
      const b = bins[Math.min(19, Math.floor(v * 20))];
      b.x += v;
      b.y += ex.label;
      b.n++;
    }
    return bins.filter((b) => b.n >= 5).map((b) => [b.x / b.n, b.y / b.n] as const);
  };
  return lineChart([
    { name: "calibrated", points: curve(model) },
    { name: "raw mean", points: curve(raw) },
    { name: "ideal", points: [[0, 0], [1, 1]] },
  ], { title: "calibration: mean true share per estimate bin", xLabel: "estimate", yLabel: "true share", yFromZero: true });
}

export function familyErrorPlot(rows: readonly FamilyRow[]): Buffer {
  return barChart(rows.map((r) => ({ label: r.name.slice(0, 7), values: [r.metrics.mae, r.metrics.baselineMae] })), {
    title: "MAE per family (held-out: last six)", seriesNames: ["model", "baseline"], yLabel: "MAE", width: 900,
  });
}

export function revealPlot(r: RevealRounds): Buffer {
  return lineChart(r.families.map((name, f) => ({ name, points: r.mae.map((row, k) => [k, row[f]] as const) })), {
    title: "MAE per family after each reveal round", xLabel: "reveal round", yLabel: "MAE", yFromZero: true, width: 900, height: 500,
  });
}
