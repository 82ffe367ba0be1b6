// An exact welfare optimum for training labels, as a mixed-integer program solved by HiGHS (Node only: `highs`
// is a dev dependency). It is the model's own reference so training does not wait on, or share bugs with, the
// production solver; `scripts/train.ts` cross-checks it against `src/solver` when that is present.
import type { Fill, Intent, LatencyTable } from "../contract/schema.ts";
import { compatible } from "./latency.ts";

export interface ExactResult {
  fills: Fill[];
  welfare: number;
}
export type ExactSolve = (intents: readonly Intent[], latency: LatencyTable) => ExactResult;

interface HighsLike {
  solve(lp: string, options?: Record<string, unknown>): {
    Status: string;
    ObjectiveValue: number;
    Columns: Record<string, { Primal: number }>;
  };
}

/** Loads HiGHS once and returns an exact solver over true intents (fills priced at the limits' midpoint). */
export async function loadExactHighs(): Promise<ExactSolve> {
  const { default: loadHighs } = await import("highs");
  const highs = (await loadHighs()) as unknown as HighsLike;
  return (intents, latency) => solveExact(highs, intents, latency);
}

function num(x: number): string {
  // LP text wants plain decimals; 12 significant digits keep the optimum exact enough for labels.
  return Number(x.toPrecision(12)).toString();
}

function solveExact(highs: HighsLike, intents: readonly Intent[], latency: LatencyTable): ExactResult {
  const buys = intents.filter((i) => i.side === "buy");
  const sells = intents.filter((i) => i.side === "sell");
  const pairs: { b: Intent; s: Intent; gain: number }[] = [];
  for (const b of buys) {
    for (const s of sells) {
      const gain = b.limitPrice - s.limitPrice;
      if (gain > 0 && compatible(b, s, latency)) pairs.push({ b, s, gain });
    }
  }
  if (pairs.length === 0) return { fills: [], welfare: 0 };
  const byIntent = new Map<string, number[]>();
  pairs.forEach((p, k) => {
    for (const id of [p.b.id, p.s.id]) {
      const list = byIntent.get(id) ?? [];
      list.push(k);
      byIntent.set(id, list);
    }
  });
  const index = new Map(intents.map((it, k) => [it.id, k]));
  const rows: string[] = [];
  const binaries: string[] = [];
  for (const [id, ks] of byIntent) {
    const it = intents[index.get(id)!];
    const sum = ks.map((k) => `x${k}`).join(" + ");
    const min = it.minQuantity ?? 0;
    if (min > 0) {
      const y = `y${index.get(id)}`;
      binaries.push(y);
      rows.push(` u${y}: ${sum} - ${num(it.quantity)} ${y} <= 0`);
      rows.push(` l${y}: ${sum} - ${num(min)} ${y} >= 0`);
    } else {
      rows.push(` q${index.get(id)}: ${sum} <= ${num(it.quantity)}`);
    }
  }
  const objective = pairs.map((p, k) => `${num(p.gain)} x${k}`).join(" + ");
  const bounds = pairs.map((p, k) => ` 0 <= x${k} <= ${num(Math.min(p.b.quantity, p.s.quantity))}`);
  const lp = [
    "Maximize", ` obj: ${objective}`, "Subject To", ...rows, "Bounds", ...bounds,
    ...(binaries.length > 0 ? ["Binary", ...binaries.map((y) => ` ${y}`)] : []), "End",
  ].join("\n");
  const result = highs.solve(lp, { output_flag: false, mip_rel_gap: 0, mip_abs_gap: 1e-9 });
  if (result.Status !== "Optimal") throw new Error(`exact-highs: unexpected status ${result.Status}`);
  const fills: Fill[] = [];
  let welfare = 0;
  pairs.forEach((p, k) => {
    const q = result.Columns[`x${k}`]?.Primal ?? 0;
    if (q > 1e-9) {
      fills.push({ buy: p.b.id, sell: p.s.id, resource: p.b.resource, quantity: q, price: (p.b.limitPrice + p.s.limitPrice) / 2 });
      welfare += p.gain * q;
    }
  });
  return { fills, welfare };
}
