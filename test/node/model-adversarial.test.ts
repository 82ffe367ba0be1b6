// The adversarial set (tools/train/adversarial.ts): proposals crafted to look optimal in what a validator sees
// (dust fills, band-edge quantities, the optimum's shape on worse pairs) are feasible and waste welfare, and the
// committed model ranks them above an honest proposal with 5% more welfare less than 2% of the time.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { DEFAULT_MODEL_PATH } from "../../src/cli/score.ts";
import { seededRandom as rng } from "../../src/random.ts";
import { familyNamed, TRAIN_SHAPE } from "../../support/generate.ts";
import { exactOptimum as exact } from "../../support/highs.ts";
import { adversarialPairs, MARGIN, overScoredRate } from "../../tools/train/adversarial.ts";
import { ADVERSARIAL_KINDS, generateChallenge, infeasibility } from "../../tools/train/challenges.ts";
import { importOnnx } from "../../tools/train/onnx-export.ts";
import { predictEnsemble } from "../../tools/train/mlp.ts";

describe("adversarial proposals", () => {
  test("every crafted kind is feasible and never beats the optimum", () => {
    const r = rng(31);
    let seen = 0;
    for (let k = 0; k < 10; k++) {
      const c = generateChallenge(r, TRAIN_SHAPE, exact, 1, ADVERSARIAL_KINDS);
      if (c === null) continue;
      seen++;
      expect(c.proposals.map((p) => p.kind)).toEqual(["exact", ...ADVERSARIAL_KINDS]);
      for (const p of c.proposals) {
        expect(infeasibility(c.market, p.fills)).toBeNull();
        expect(p.label).toBeLessThanOrEqual(1 + 1e-9);
      }
    }
    expect(seen).toBeGreaterThan(5);
  });

  test("each pair's honest proposal has at least 5% more welfare than the crafted one", () => {
    const pairs = adversarialPairs(familyNamed("wide"), 4, 7, exact);
    expect(pairs.length).toBeGreaterThan(8);
    for (const p of pairs) expect(p.honest.label).toBeGreaterThanOrEqual(p.crafted.label * MARGIN - 1e-9);
  });

  test("the committed model over-scores fewer than 2% of crafted proposals on held-out families", () => {
    const model = importOnnx(readFileSync(DEFAULT_MODEL_PATH)).ensemble;
    const pairs = ["all-or-none", "resources"].flatMap((f, k) => adversarialPairs(familyNamed(f), 12, 40 + k, exact));
    expect(pairs.length).toBeGreaterThan(80);
    expect(overScoredRate(pairs, (s) => predictEnsemble(model, s.features).estimate)).toBeLessThan(0.02);
  });
});
