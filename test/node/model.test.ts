// The learned-validation pipeline in Node: challenges are feasible and correctly labelled (HiGHS as the exact
// reference, checked against the production solver), features see only bands, the MLP/ONNX export matches a plain
// JS forward pass, and the committed model runs in onnxruntime-web with the recorded outputs.
import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import { beforeAll, describe, expect, test } from "vitest";
import { generateChallenge, infeasibility, PROPOSAL_KINDS, makeProposal, welfareOf } from "../../tools/train/challenges.ts";
import { generateShapedMarket as generateMarket, SHIFTED_SHAPE, TRAIN_SHAPE } from "../../support/generate.ts";
import { exactOptimum as exact } from "../../support/highs.ts";
import { seededRandom as rng } from "../../src/random.ts";
import {
  commit, LATENCY_BAND_CAPS, latencyBand, PRICE_BANDS_PER_OCTAVE, priceBand, QUANTITY_BANDS_PER_OCTAVE, quantityBand,
} from "../../src/model/commitment.ts";
import { baselineEstimate, batchContext, estimatedWelfare, FEATURE_COUNT, FEATURE_NAMES, FEATURES_VERSION, proposalFeatures } from "../../src/model/features.ts";
import { calibrate, fitIsotonic, initMlp, meanAbsoluteError, predict, predictEnsemble, spearman, train, DEFAULT_TRAIN } from "../../tools/train/mlp.ts";
import { exportOnnx, importOnnx } from "../../tools/train/onnx-export.ts";
import { generateWindowedChallenge, recordsOf, repair } from "../../tools/train/windowed.ts";
import { proposalErrors } from "../../src/market/proposals.ts";
import { WINDOWED_HELD_OUT, WINDOWED_SHAPE } from "../../tools/train/families.ts";
import { marketSpearman, pooledCeiling, type Example } from "../../tools/train/training.ts";
import { readModelMetadata } from "../../src/model/scorer.ts";
import { createScorer } from "../../src/model/scorer-node.ts";
import { solve } from "../../src/solver/index.ts";
import type { Intent } from "../../src/contract/schema.ts";

const SALT = "5a".repeat(16);

describe("challenges", () => {
  test("every proposal kind is feasible, welfare never beats the optimum, the exact one scores 1", () => {
    const r = rng(42);
    let seen = 0;
    for (const shape of [TRAIN_SHAPE, SHIFTED_SHAPE]) {
      for (let k = 0; k < 12; k++) {
        const c = generateChallenge(r, shape, exact, 12);
        if (c === null) continue;
        seen++;
        for (const p of c.proposals) {
          expect(infeasibility(c.market, p.fills)).toBeNull();
          expect(p.welfare).toBeLessThanOrEqual(c.optimum * (1 + 1e-9));
          expect(p.label).toBeGreaterThanOrEqual(0);
          expect(p.label).toBeLessThanOrEqual(1);
        }
        expect(c.proposals[0]).toMatchObject({ kind: "exact" });
        expect(c.proposals[0].label).toBeCloseTo(1, 6);
      }
    }
    expect(seen).toBeGreaterThan(15);
  });

  test("the HiGHS reference and the production solver agree where the solver proves optimality", () => {
    const r = rng(9);
    let compared = 0;
    for (let k = 0; k < 40; k++) {
      const m = generateMarket(r, TRAIN_SHAPE);
      const s = solve(m.intents, m.latency, { timeBudgetMs: 60_000 });
      if (s.status !== "optimal") continue;
      compared++;
      const h = exact(m.intents, m.latency);
      expect(infeasibility(m, s.fills)).toBeNull();
      expect(s.welfare).toBeCloseTo(h.welfare, 5);
    }
    expect(compared).toBeGreaterThan(30);
  });

  test("windowed challenges: every proposal passes the market's own check, the exact one scores 1", () => {
    const r = rng(17);
    const kinds = new Set<string>();
    let seen = 0;
    for (const shape of [WINDOWED_SHAPE, ...WINDOWED_HELD_OUT]) {
      for (let k = 0; k < 6; k++) {
        const c = generateWindowedChallenge(r, shape, 10);
        if (c === null) continue;
        seen++;
        expect(c.proposals[0]).toMatchObject({ kind: "exact", label: 1 });
        for (const p of c.proposals) {
          kinds.add(p.kind);
          expect(proposalErrors(recordsOf(c.market), c.market.intents, c.market.latency, p.fills, c.market.now)).toEqual([]);
          expect(p.label).toBeGreaterThanOrEqual(0);
          expect(p.label).toBeLessThanOrEqual(1);
          expect(p.welfare).toBeLessThanOrEqual(c.optimum * (1 + 1e-9));
        }
        // The families carry what they are for: windows, and swaps in the swap family.
        expect(c.market.intents.some((i) => i.window)).toBe(true);
        if (shape.name === "swaps") expect(c.market.intents.some((i) => i.swapFor)).toBe(true);
      }
    }
    expect(seen).toBeGreaterThan(14);
    expect(kinds.size).toBeGreaterThan(6);
  });

  test("repair drops fills until minimums hold and every swap takes what it gives", () => {
    const intents: Intent[] = [
      { id: "x", agent: "x", side: "sell", kind: "swap", resource: "r", quantity: 5, limitPrice: 1, region: "a", swapFor: { resource: "q" } },
      { id: "b", agent: "b", side: "buy", resource: "r", quantity: 5, limitPrice: 3, region: "a" },
      { id: "s", agent: "s", side: "sell", resource: "q", quantity: 5, minQuantity: 5, limitPrice: 1, region: "a" },
      { id: "b2", agent: "b2", side: "buy", resource: "q", quantity: 5, limitPrice: 3, region: "a" },
    ];
    // s is filled 3 of its minimum 5: its fill goes, then the swap gives 5 and takes nothing, so its fill goes too.
    expect(repair(intents, [{ buy: "b", sell: "x", resource: "r", quantity: 5 }, { buy: "x", sell: "s", resource: "q", quantity: 3 }])).toEqual([]);
    const ring = [{ buy: "b", sell: "x", resource: "r", quantity: 5 }, { buy: "x", sell: "s", resource: "q", quantity: 5 }];
    expect(repair(intents, ring)).toEqual(ring);
  });

  test("each maker returns feasible fills on a hand-made market", () => {
    const intents: Intent[] = [
      { id: "i0", agent: "a", side: "buy", resource: "r", quantity: 100, limitPrice: 1.8, region: "x" },
      { id: "i1", agent: "b", side: "sell", resource: "r", quantity: 500, limitPrice: 1.4, region: "x" },
      { id: "i2", agent: "c", side: "buy", resource: "r", quantity: 50, minQuantity: 50, limitPrice: 1.5, region: "x" },
    ];
    const market = { shape: "hand", intents, latency: { x: { x: 1 } } };
    const best = exact(intents, market.latency);
    expect(best.welfare).toBeCloseTo(0.4 * 100 + 0.1 * 50, 9);
    for (const kind of PROPOSAL_KINDS) {
      const fills = makeProposal(rng(1), market, kind, exact, best.fills);
      expect(infeasibility(market, fills)).toBeNull();
      expect(welfareOf(intents, fills)).toBeLessThanOrEqual(best.welfare + 1e-9);
    }
  });
});

describe("features see only the bands", () => {
  test("moving hidden numbers within their bands leaves every feature unchanged", () => {
    const r = rng(3);
    for (let k = 0; k < 20; k++) {
      const c = generateChallenge(r, TRAIN_SHAPE, exact, 3);
      if (c === null) continue;
      // Same bands, other exact numbers, other agents and salts: a validator must not be able to tell.
      const shadow = c.market.intents.map((it) => {
        const q = 2 ** ((quantityBand(it.quantity) + 0.37) / QUANTITY_BANDS_PER_OCTAVE);
        const pb = priceBand(it.limitPrice);
        const p = pb === null ? 0 : 2 ** ((pb + 0.61) / PRICE_BANDS_PER_OCTAVE);
        // The minimum keeps its band: all-or-none stays whole, a partial minimum stays partial.
        const m = it.minQuantity === undefined ? undefined : it.minQuantity >= it.quantity ? q : q * 0.5;
        // A cap moves to just above its band's lower edge.
        const lb = latencyBand(it.maxLatencyMs);
        const cap = lb === null ? undefined : lb === 0 ? 1 : lb >= LATENCY_BAND_CAPS.length ? 900 : LATENCY_BAND_CAPS[lb - 1] + 0.5;
        return {
          ...it, agent: `other-${it.agent}`, quantity: q, limitPrice: p, ...(m !== undefined ? { minQuantity: m } : {}),
          ...(cap !== undefined ? { maxLatencyMs: cap } : {}),
        };
      });
      const a = batchContext(c.market.intents.map((i) => commit(i, SALT)), c.market.latency);
      const b = batchContext(shadow.map((i) => commit(i, "77".repeat(16))), c.market.latency);
      for (const p of c.proposals) {
        expect(Array.from(proposalFeatures(b, p.fills))).toEqual(Array.from(proposalFeatures(a, p.fills)));
        expect(baselineEstimate(b, p.fills)).toBe(baselineEstimate(a, p.fills));
      }
    }
  });

  test("estimates never fill an all-or-none intent partly; the pessimistic readings drop what the bands cannot vouch for", () => {
    const latency = { x: { x: 1, y: 17 }, y: { x: 17, y: 1 } };
    const at = (id: string, side: "buy" | "sell", quantity: number, limitPrice: number, more: Partial<Intent> = {}): Intent =>
      ({ id, agent: id, side, resource: "r", region: "x", quantity, limitPrice, ...more });
    const ctx = (intents: Intent[]) => batchContext(intents.map((i) => commit(i, SALT)), latency);
    // An all-or-none buyer of 100 and a seller of 50: nothing can trade (f4's greedy filled the buyer by half).
    const short = ctx([at("b", "buy", 100, 2, { minQuantity: 100 }), at("s", "sell", 50, 1)]);
    expect(short.greedy.welfare).toBe(0);
    expect(short.banded.welfare).toBe(0);
    // 234 and 224 share a quantity band: the midpoint optimum matches them, the pessimistic one cannot.
    const same = ctx([at("b", "buy", 234, 2, { minQuantity: 234 }), at("s", "sell", 224, 1)]);
    expect(same.banded.welfare).toBeGreaterThan(0);
    expect(same.conservative).toBe(0);
    // 17 ms apart under a cap in the band (10, 20] ms: the band's edge allows the pair, its middle (15 ms) does not.
    const far = ctx([at("b", "buy", 10, 2, { maxLatencyMs: 20 }), at("s", "sell", 10, 1, { region: "y" })]);
    expect(far.greedy.welfare).toBeGreaterThan(0);
    expect(far.greedyMidCap).toBe(0);
    expect(far.conservative).toBe(0);
    expect(proposalFeatures(far, [])[FEATURE_NAMES.indexOf("latency_unsure_gain_share")]).toBe(1);
    const near = ctx([at("b", "buy", 10, 2, { maxLatencyMs: 20 }), at("s", "sell", 10, 1)]);
    expect(near.greedyMidCap).toBe(near.greedy.welfare);
    expect(proposalFeatures(near, [])[FEATURE_NAMES.indexOf("latency_unsure_gain_share")]).toBe(0);
  });

  test("windows, rate caps and swaps: a pair trades only where banded windows overlap, rates bound it, a swap's buy leg is its swapFor", () => {
    const latency = { x: { x: 1 } };
    const at = (id: string, side: "buy" | "sell", more: Partial<Intent> = {}): Intent =>
      ({ id, agent: id, side, resource: "r", region: "x", quantity: 10, limitPrice: side === "buy" ? 2 : 1, ...more });
    const w = (start: string, end: string) => ({ window: { start: `2026-12-04T${start}:00Z`, end: `2026-12-04T${end}:00Z` } });
    const ctx = (intents: Intent[]) => batchContext(intents.map((i) => commit(i, SALT)), latency);
    const apart = ctx([at("b", "buy", w("10:00", "12:00")), at("s", "sell", w("14:00", "15:00"))]);
    expect(apart.greedy.welfare).toBe(0);
    expect(apart.banded.welfare).toBe(0);
    expect(proposalFeatures(apart, [])[FEATURE_NAMES.indexOf("window_blocked_gain_share")]).toBe(1);
    const shared = ctx([at("b", "buy", w("10:00", "12:00")), at("s", "sell", w("11:00", "15:00"))]);
    expect(shared.greedy.welfare).toBeGreaterThan(0);
    // At the batch's time 13:30 the shared hour has passed: nothing can trade, and the features say how much is past.
    const late = batchContext([at("b", "buy", w("10:00", "12:00")), at("s", "sell", w("11:00", "15:00"))].map((i) => commit(i, SALT)),
      latency, Date.parse("2026-12-04T13:30:00Z"));
    expect(late.greedy.welfare).toBe(0);
    expect(late.banded.welfare).toBe(0);
    expect(proposalFeatures(late, [])[FEATURE_NAMES.indexOf("window_past_share")]).toBeGreaterThan(0.5);
    expect(proposalFeatures(shared, [])[FEATURE_NAMES.indexOf("window_past_share")]).toBe(0);
    // 2 units an hour over the one hour both windows share (read from the bands): far below 10 units.
    const slow = ctx([at("b", "buy", { ...w("10:00", "12:00"), maxRate: 2 }), at("s", "sell", w("11:00", "12:00"))]);
    expect(slow.greedy.volume).toBeLessThan(4);
    expect(proposalFeatures(slow, [])[FEATURE_NAMES.indexOf("rate_bound_gain_share")]).toBe(1);
    // A swap gives r at 1 and takes q at 3: as buyer of q it is worth its swapFor band, not its own limit.
    const swap = at("x", "sell", { kind: "swap", limitPrice: 1, swapFor: { resource: "q", limitPrice: 3 } });
    const book = ctx([swap, at("sq", "sell", { resource: "q", limitPrice: 2 }), at("br", "buy", { limitPrice: 4 })]);
    expect(book.intents.filter((l) => l.id === "x").map((l) => [l.buy, l.resource])).toEqual([[false, "r"], [true, "q"]]);
    const ring = [{ buy: "x", sell: "sq", quantity: 10 }, { buy: "br", sell: "x", quantity: 10 }];
    expect(estimatedWelfare(book, ring)).toBeCloseTo(10 * (3 - 2) + 10 * (4 - 1), 0);
    // Swaps trade only as chains: the pair-at-a-time greedy leaves them out, the banded optimum finds the chain.
    expect(book.greedy.welfare).toBe(0);
    expect(book.banded.welfare).toBeGreaterThan(30);
    expect(proposalFeatures(book, ring)[FEATURE_NAMES.indexOf("swap_leg_share")]).toBeCloseTo(2 / 4, 9);
  });

  test("windows read at their band's shortest length: gain that only the band's middle length can trade is flagged", () => {
    const latency = { x: { x: 1 } };
    const at = (id: string, side: "buy" | "sell", more: Partial<Intent> = {}): Intent =>
      ({ id, agent: id, side, resource: "r", region: "x", quantity: 10, limitPrice: side === "buy" ? 2 : 1, ...more });
    const w = (start: string, end: string) => ({ window: { start: `2026-12-04T${start}:00Z`, end: `2026-12-04T${end}:00Z` } });
    const ctx = (intents: Intent[]) => batchContext(intents.map((i) => commit(i, SALT)), latency);
    const feature = (c: ReturnType<typeof ctx>, name: (typeof FEATURE_NAMES)[number]) => proposalFeatures(c, [])[FEATURE_NAMES.indexOf(name)];
    // 10:00–12:50 lies in the band of 2.83–4 h: read at the middle (3.36 h) it meets a seller from 13:00, at the
    // band's shortest length it ends before; the all-or-none buyer is half of what is left.
    const edge = ctx([at("b", "buy", { ...w("10:00", "12:50"), minQuantity: 10 }), at("s", "sell", w("13:00", "14:00"))]);
    expect(edge.greedy.welfare).toBeGreaterThan(0);
    expect(edge.banded.welfare).toBeGreaterThan(0);
    expect(edge.greedyLowWindow).toBe(0);
    expect(edge.bandedLowWindow).toBe(0);
    expect(feature(edge, "greedy_low_window_lost_share")).toBe(1);
    expect(feature(edge, "residual_low_window_lost_share")).toBe(1);
    expect(feature(edge, "banded_low_window_lost_share")).toBe(1);
    expect(feature(edge, "residual_windowed_all_or_none_share")).toBeCloseTo(0.5, 9);
    // Windows well inside each other lose nothing; a book without windows reads 0 on all five.
    const inside = ctx([at("b", "buy", w("10:00", "16:00")), at("s", "sell", w("11:00", "13:00"))]);
    expect(inside.greedyLowWindow).toBe(inside.greedy.welfare);
    expect(feature(inside, "banded_low_window_lost_share")).toBe(0);
    const timeless = proposalFeatures(ctx([at("b", "buy", { minQuantity: 10 }), at("s", "sell")]), []);
    expect(Array.from(timeless.slice(FEATURE_NAMES.indexOf("greedy_low_window_lost_share")))).toEqual([0, 0, 0, 0, 0]);
  });

  test("the vector has the documented length and finite entries, the baseline lies in [0, 1]", () => {
    const c = generateChallenge(rng(5), SHIFTED_SHAPE, exact, 9)!;
    const ctx = batchContext(c.market.intents.map((i) => commit(i, SALT)), c.market.latency);
    for (const p of c.proposals) {
      const x = proposalFeatures(ctx, p.fills);
      expect(x.length).toBe(FEATURE_COUNT);
      expect(x.every(Number.isFinite)).toBe(true);
      const b = baselineEstimate(ctx, p.fills);
      expect(b >= 0 && b <= 1).toBe(true);
    }
    expect(Array.from(proposalFeatures(ctx, [])).every(Number.isFinite)).toBe(true);
  });
});

describe("mlp and onnx", () => {
  test("spearman and MAE on known cases", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2, 2, 3], [1, 2, 2, 3])).toBeCloseTo(1, 12);
    expect(meanAbsoluteError([0, 1], [0.5, 0.5])).toBe(0.5);
  });

  test("per-market Spearman: markets of tied labels carry no order and are skipped; a constant scorer earns 0, not a pass", () => {
    const ex = (market: number, label: number, f = label): Example =>
      ({ features: Float32Array.of(f), market, label, baseline: 0, reference: 0, kind: "exact" });
    const data = [ex(0, 1), ex(0, 1), ex(1, 0.2), ex(1, 0.5), ex(1, 1), ex(2, 0.1), ex(2, 0.9)];
    // Market 0 (all tied) is skipped; market 1 is ranked perfectly, market 2 backwards.
    expect(marketSpearman(data, [0.3, 0.9, 0.1, 0.4, 0.8, 0.7, 0.2])).toBeCloseTo((1 - 1) / 2, 12);
    expect(marketSpearman(data, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])).toBe(0);
    expect(marketSpearman(data, data.map((e) => e.label))).toBeCloseTo(1, 12);
    // Pooled, a ranker that breaks the tie at 1 between different proposals cannot reach 1; identical ones it may tie.
    const tied = [ex(0, 1, 0.1), ex(0, 1, 0.2), ex(0, 1, 0.3), ex(0, 0.5, 0.4)];
    expect(pooledCeiling(tied)).toBeLessThan(0.8);
    expect(pooledCeiling([ex(0, 1, 0.1), ex(0, 1, 0.1), ex(0, 1, 0.1), ex(0, 0.5, 0.4)])).toBeCloseTo(1, 12);
  });

  test("training fits a learnable target; the exported ONNX matches the JS forward pass within 1e-6", async () => {
    const r = rng(8);
    const xs = Array.from({ length: 1600 }, () => Float32Array.from({ length: FEATURE_COUNT }, () => r() * 4 - 1));
    const ys = xs.map((x) => 1 / (1 + Math.exp(-(x[0] - 0.5 * x[1]))));
    const m = initMlp(xs, [8, 8], 1);
    const before = meanAbsoluteError(ys, xs.map((x) => predict(m, x)));
    train(m, xs, ys, { ...DEFAULT_TRAIN, hidden: [8, 8], epochs: 40, seed: 1, loss: "l2" });
    const after = meanAbsoluteError(ys, xs.map((x) => predict(m, x)));
    expect(after).toBeLessThan(before / 3);
    const bytes = exportOnnx(m, { version: "test-v0", features: FEATURES_VERSION });
    expect(readModelMetadata(bytes)).toMatchObject({ "nash.version": "test-v0", "nash.features": FEATURES_VERSION });
    const scorer = await createScorer(bytes);
    const { estimates, model } = await scorer.score(xs.slice(0, 64));
    expect(model).toBe("test-v0");
    xs.slice(0, 64).forEach((x, k) => expect(Math.abs(estimates[k] - predict(m, x))).toBeLessThan(1e-6));
    // Read back, the model predicts the same (fine-tuning starts from the file).
    const back = importOnnx(bytes).mlp;
    xs.slice(0, 16).forEach((x) => expect(Math.abs(predict(back, x) - predict(m, x))).toBeLessThan(1e-6));
  });

  test("an ensemble exports with its calibration: estimate and spread match the JS pass, and read back the same", async () => {
    const r = rng(12);
    const xs = Array.from({ length: 300 }, () => Float32Array.from({ length: FEATURE_COUNT }, () => r() * 2 - 1));
    const members = [1, 2, 3].map((seed) => initMlp(xs, [8, 8], seed));
    const raw = xs.map((x) => predictEnsemble({ members }, x).estimate);
    // A miscalibrated scorer (true share = raw²): the isotonic fit bends it, strictly increasing (no new ties).
    const calibration = fitIsotonic(raw, raw.map((v) => v * v));
    calibration.y.slice(1).forEach((y, i) => expect(y).toBeGreaterThan(calibration.y[i]));
    const e = { members, calibration };
    expect(meanAbsoluteError(raw.map((v) => v * v), xs.map((x) => predictEnsemble(e, x).estimate)))
      .toBeLessThan(meanAbsoluteError(raw.map((v) => v * v), raw) / 3);
    const bytes = exportOnnx(e, { version: "ens-v0", features: FEATURES_VERSION });
    const { estimates, spreads } = await (await createScorer(bytes)).score(xs.slice(0, 64));
    xs.slice(0, 64).forEach((x, k) => {
      const js = predictEnsemble(e, x);
      expect(Math.abs(estimates[k] - js.estimate)).toBeLessThan(1e-6);
      expect(Math.abs(spreads![k] - js.spread)).toBeLessThan(1e-6);
      expect(js.spread).toBeGreaterThan(0);
    });
    const back = importOnnx(bytes).ensemble;
    expect(back.members).toHaveLength(3);
    xs.slice(0, 16).forEach((x) => expect(Math.abs(predictEnsemble(back, x).estimate - predictEnsemble(e, x).estimate)).toBeLessThan(1e-6));
  });

  test("the calibration fits medians: shares piled at exactly 1 stay at 1, and it never passes 1", () => {
    // Raw estimates in [0.8, 1]; 70% of the proposals score exactly 1, the rest 0.7 (a book where most makers find
    // the whole optimum). The block means sit near 0.91 and cost every proposal that scored 1.
    const r = rng(21);
    const raw = Array.from({ length: 2000 }, () => 0.8 + 0.2 * r());
    const labels = raw.map(() => (r() < 0.7 ? 1 : 0.7));
    const median = fitIsotonic(raw, labels);
    const mean = fitIsotonic(raw, labels, 21, "mean");
    const mae = (c: typeof median) => meanAbsoluteError(labels, raw.map((v) => calibrate(c, v)));
    expect(mae(median)).toBeLessThan(mae(mean) - 0.03);
    expect(calibrate(median, 0.99)).toBeGreaterThan(0.99);
    for (const c of [median, mean]) {
      expect(Math.max(...c.y)).toBeLessThanOrEqual(1);
      c.y.slice(1).forEach((y, i) => expect(y).toBeGreaterThan(c.y[i]));
    }
  });

  test("the members run as one fused network: one Gemm per layer whatever the member count, same outputs", async () => {
    const r = rng(13);
    const xs = Array.from({ length: 64 }, () => Float32Array.from({ length: FEATURE_COUNT }, () => r() * 2 - 1));
    const members = [1, 2, 3, 4].map((seed) => initMlp(xs, [8, 8], seed));
    const ops = (bytes: Uint8Array) => onnxProto.onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType);
    const one = ops(exportOnnx({ members: members.slice(0, 1) }, { version: "one", features: FEATURES_VERSION }));
    const bytes = exportOnnx({ members }, { version: "four", features: FEATURES_VERSION });
    expect(ops(bytes)).toEqual(one);
    expect(ops(bytes).filter((op) => op === "Gemm")).toHaveLength(3);
    const { estimates, spreads } = await (await createScorer(bytes)).score(xs);
    xs.forEach((x, k) => {
      const js = predictEnsemble({ members }, x);
      expect(Math.abs(estimates[k] - js.estimate)).toBeLessThan(1e-6);
      expect(Math.abs(spreads![k] - js.spread)).toBeLessThan(1e-6);
    });
    // Read back, each member is its own block again (a block leaking into another would change its outputs).
    importOnnx(bytes).ensemble.members.forEach((m, k) => xs.slice(0, 8).forEach((x) =>
      expect(Math.abs(predict(m, x) - predict(members[k], x))).toBeLessThan(1e-6)));
  });

  test("a model trained on another feature layout is refused", async () => {
    const m = initMlp([new Float32Array(FEATURE_COUNT)], [4], 1);
    await expect(createScorer(exportOnnx(m, { version: "old", features: "f0" }))).rejects.toThrow(/features/);
  });

  test("the committed model reproduces its recorded outputs in Node and can be swapped at run time", async () => {
    const bytes = readFileSync(new URL("../../models/nash-scorer-v7.onnx", import.meta.url));
    const file = JSON.parse(readFileSync(new URL("../../models/nash-scorer-v7.vectors.json", import.meta.url), "utf8")) as {
      version: string;
      vectors: { features: number[]; ort: number; js: number }[];
    };
    const scorer = await createScorer(bytes);
    expect(scorer.version).toBe(file.version);
    const { estimates } = await scorer.score(file.vectors.map((v) => Float32Array.from(v.features)));
    file.vectors.forEach((v, k) => {
      expect(estimates[k]).toBe(v.ort);
      expect(Math.abs(estimates[k] - v.js)).toBeLessThan(1e-6);
    });
    const other = exportOnnx(initMlp([new Float32Array(FEATURE_COUNT)], [4], 2), { version: "swapped", features: FEATURES_VERSION });
    await scorer.swap(other);
    expect(scorer.version).toBe("swapped");
    expect((await scorer.score([Float32Array.from(file.vectors[0].features)])).model).toBe("swapped");
  });
});

describe("score", () => {
  test("estimate × reward × time weight, with the documented numbers", async () => {
    const { scoreProposal, complexityReward, timeWeight, batchComplexity } = await import("../../src/model/reward.ts");
    expect(timeWeight(0)).toBe(1);
    expect(timeWeight(50)).toBe(1);
    expect(timeWeight(150)).toBeCloseTo(0.5, 12);
    expect(timeWeight(250)).toBeCloseTo(0.25, 12);
    expect(complexityReward({ parties: 1, constrained: 0, rings: 0 })).toBeCloseTo(1.125, 12);
    expect(complexityReward({ parties: 3, constrained: 3, rings: 0 })).toBeCloseTo(1.75, 12);
    expect(complexityReward({ parties: 3, constrained: 0, rings: 9 })).toBeCloseTo(2.25, 12);
    const c = batchComplexity([commit({ id: "x", agent: "a", side: "buy", resource: "r", quantity: 1, minQuantity: 1, limitPrice: 1, region: "x" }, SALT)]);
    expect(c).toEqual({ parties: 1, constrained: 1, rings: 0, windows: 0 });
    const s = scoreProposal(0.8, { parties: 3, constrained: 0, rings: 0 }, 150, "m1");
    expect(s.score).toBeCloseTo(0.8 * 1.25 * 0.5, 12);
    expect(s.model).toBe("m1");
    expect(scoreProposal(1.7, c, 0, "m").estimate).toBe(1);
    expect(scoreProposal(Number.NaN, c, 0, "m").score).toBe(0);
  });
});

describe("score terms that mean what the contract says", () => {
  test("a late proposal weighs less than an early one; the half-life is the batch's interval, never below 100 ms", async () => {
    const { timeWeight } = await import("../../src/model/reward.ts");
    expect(timeWeight(300, 1000)).toBeGreaterThan(timeWeight(800, 1000));
    expect(timeWeight(1050, 1000)).toBeCloseTo(0.5, 12);
    expect(timeWeight(150, 10)).toBeCloseTo(0.5, 12);
    // An hour-long batch still ranks a proposal at its close above 0 (a 100 ms half-life would give 2^-36000 = 0).
    expect(timeWeight(3_600_000, 3_600_000)).toBeGreaterThan(0.49);
  });

  test("rings are counted from an allocation's fills: a ring of swaps counts, chains and pairs do not", async () => {
    const { ringCount } = await import("../../src/model/reward.ts");
    const f = (sell: string, buy: string) => ({ buy, sell });
    expect(ringCount([])).toBe(0);
    expect(ringCount([f("s", "b"), f("s", "b2"), f("s2", "b")])).toBe(0); // plain pairs
    expect(ringCount([f("s", "w1"), f("w1", "w2"), f("w2", "b")])).toBe(0); // a chain buyer ← w2 ← w1 ← seller
    expect(ringCount([f("A", "B"), f("B", "C"), f("C", "A"), f("A", "B")])).toBe(1); // a repeated pair counts once
    expect(ringCount([f("A", "B"), f("B", "A"), f("C", "D"), f("D", "E"), f("E", "C")])).toBe(2);
    expect(ringCount([f("A", "B"), f("B", "C"), f("C", "A"), f("A", "D"), f("D", "A")])).toBe(2); // two rings through A
  });
});
