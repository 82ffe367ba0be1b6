// A small multilayer perceptron trained in plain TypeScript: ReLU hidden layers, a sigmoid output (an estimate in
// [0, 1]), absolute or squared error, Adam, seeded minibatches. Input standardisation is part of the model (mean/std),
// folded into the first layer on export, so the ONNX graph is Gemm/Relu/…/Gemm/Sigmoid only.
import { seededRandom } from "../../src/random.ts";

export interface Layer {
  /** Row-major [out][in]. */
  w: Float64Array;
  b: Float64Array;
  inputs: number;
  outputs: number;
}

export interface Mlp {
  layers: Layer[];
  mean: Float64Array;
  std: Float64Array;
}

export interface TrainOptions {
  hidden: readonly number[];
  epochs: number;
  batch: number;
  learningRate: number;
  /** L2 weight decay (AdamW style). */
  weightDecay: number;
  seed: number;
  /** "l1" fits the median (what MAE measures); "l2" the mean. */
  loss: "l1" | "l2";
  /** Called after each epoch with the mean training loss. */
  onEpoch?: (epoch: number, loss: number) => void;
}

export const DEFAULT_TRAIN: TrainOptions = {
  hidden: [32, 32], epochs: 60, batch: 64, learningRate: 2e-3, weightDecay: 1e-4, seed: 1, loss: "l1",
};

/** A fresh network with He-initialised weights and standardisation fitted to the data. */
export function initMlp(inputs: readonly Float32Array[], hidden: readonly number[], seed: number): Mlp {
  const d = inputs[0].length;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const x of inputs) for (let j = 0; j < d; j++) mean[j] += x[j] / inputs.length;
  for (const x of inputs) for (let j = 0; j < d; j++) std[j] += (x[j] - mean[j]) ** 2 / inputs.length;
  // A constant feature keeps std 1, so folding never divides by zero.
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]) > 1e-6 ? Math.sqrt(std[j]) : 1;
  const r = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const sizes = [d, ...hidden, 1];
  const layers: Layer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [i, o] = [sizes[l], sizes[l + 1]];
    const w = new Float64Array(i * o).map(() => gauss() * Math.sqrt(2 / i));
    layers.push({ w, b: new Float64Array(o), inputs: i, outputs: o });
  }
  return { layers, mean, std };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Forward pass in plain JS (double precision): the reference the ONNX graph is checked against. */
export function predict(m: Mlp, x: ArrayLike<number>): number {
  let a = Float64Array.from(x, (v, j) => (v - m.mean[j]) / m.std[j]);
  m.layers.forEach((layer, l) => {
    const z = new Float64Array(layer.outputs);
    for (let o = 0; o < layer.outputs; o++) {
      let s = layer.b[o];
      for (let i = 0; i < layer.inputs; i++) s += layer.w[o * layer.inputs + i] * a[i];
      z[o] = l + 1 < m.layers.length ? Math.max(0, s) : sigmoid(s);
    }
    a = z;
  });
  return a[0];
}

/** Trains in place on (x, y) with y in [0, 1]; returns the final epoch's mean loss. */
export function train(m: Mlp, xs: readonly Float32Array[], ys: readonly number[], opts: TrainOptions): number {
  const r = seededRandom(opts.seed ^ 0x5eed);
  const L = m.layers.length;
  const mW = m.layers.map((l) => new Float64Array(l.w.length));
  const vW = m.layers.map((l) => new Float64Array(l.w.length));
  const mB = m.layers.map((l) => new Float64Array(l.b.length));
  const vB = m.layers.map((l) => new Float64Array(l.b.length));
  const gW = m.layers.map((l) => new Float64Array(l.w.length));
  const gB = m.layers.map((l) => new Float64Array(l.b.length));
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  let step = 0;
  let loss = 0;
  const order = xs.map((_, k) => k);
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    // Cosine decay: large steps early, fine ones at the end.
    const lr = opts.learningRate * (0.5 + 0.5 * Math.cos((Math.PI * (epoch - 1)) / opts.epochs)) + 1e-5;
    loss = 0;
    for (let start = 0; start < order.length; start += opts.batch) {
      const batch = order.slice(start, start + opts.batch);
      gW.forEach((g) => g.fill(0));
      gB.forEach((g) => g.fill(0));
      for (const k of batch) {
        const acts: Float64Array[] = [Float64Array.from(xs[k], (v, j) => (v - m.mean[j]) / m.std[j])];
        for (let l = 0; l < L; l++) {
          const layer = m.layers[l];
          const a = acts[l];
          const z = new Float64Array(layer.outputs);
          for (let o = 0; o < layer.outputs; o++) {
            let s = layer.b[o];
            const row = o * layer.inputs;
            for (let i = 0; i < layer.inputs; i++) s += layer.w[row + i] * a[i];
            z[o] = l + 1 < L ? Math.max(0, s) : sigmoid(s);
          }
          acts.push(z);
        }
        const out = acts[L][0];
        const err = out - ys[k];
        loss += opts.loss === "l1" ? Math.abs(err) : err * err;
        // d(loss)/dz through the sigmoid.
        const dOut = opts.loss === "l1" ? Math.sign(err) : 2 * err;
        let delta = Float64Array.of(dOut * out * (1 - out));
        for (let l = L - 1; l >= 0; l--) {
          const layer = m.layers[l];
          const a = acts[l];
          const prev = new Float64Array(layer.inputs);
          for (let o = 0; o < layer.outputs; o++) {
            const d = delta[o];
            if (d === 0) continue;
            gB[l][o] += d;
            const row = o * layer.inputs;
            for (let i = 0; i < layer.inputs; i++) {
              gW[l][row + i] += d * a[i];
              prev[i] += d * layer.w[row + i];
            }
          }
          if (l > 0) for (let i = 0; i < layer.inputs; i++) if (acts[l][i] <= 0) prev[i] = 0;
          delta = prev;
        }
      }
      step++;
      const c1 = 1 - beta1 ** step;
      const c2 = 1 - beta2 ** step;
      for (let l = 0; l < L; l++) {
        const adam = (p: Float64Array, g: Float64Array, mm: Float64Array, vv: Float64Array, decay: number) => {
          for (let i = 0; i < p.length; i++) {
            const gi = g[i] / batch.length;
            mm[i] = beta1 * mm[i] + (1 - beta1) * gi;
            vv[i] = beta2 * vv[i] + (1 - beta2) * gi * gi;
            p[i] -= lr * ((mm[i] / c1) / (Math.sqrt(vv[i] / c2) + eps) + decay * p[i]);
          }
        };
        adam(m.layers[l].w, gW[l], mW[l], vW[l], opts.weightDecay);
        adam(m.layers[l].b, gB[l], mB[l], vB[l], 0);
      }
    }
    loss /= order.length;
    opts.onEpoch?.(epoch, loss);
  }
  return loss;
}

/** The first layer with standardisation folded in: W' = W / std, b' = b − W'·mean. */
export function foldedLayers(m: Mlp): Layer[] {
  const [first, ...rest] = m.layers;
  const w = new Float64Array(first.w.length);
  const b = Float64Array.from(first.b);
  for (let o = 0; o < first.outputs; o++) {
    for (let i = 0; i < first.inputs; i++) {
      w[o * first.inputs + i] = first.w[o * first.inputs + i] / m.std[i];
      b[o] -= w[o * first.inputs + i] * m.mean[i];
    }
  }
  return [{ ...first, w, b }, ...rest];
}

/** Deep copy (fine-tuning starts from a copy, so the model before feedback stays comparable). */
export function cloneMlp(m: Mlp): Mlp {
  return {
    layers: m.layers.map((l) => ({ ...l, w: Float64Array.from(l.w), b: Float64Array.from(l.b) })),
    mean: Float64Array.from(m.mean),
    std: Float64Array.from(m.std),
  };
}

/** Spearman rank correlation (ties get their average rank). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const rank = (xs: readonly number[]) => {
    const idx = xs.map((_, i) => i).sort((i, j) => xs[i] - xs[j]);
    const r = new Array<number>(xs.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && xs[idx[j + 1]] === xs[idx[i]]) j++;
      for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const mean = (ra.length - 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - mean) * (rb[i] - mean);
    da += (ra[i] - mean) ** 2;
    db += (rb[i] - mean) ** 2;
  }
  return num / Math.sqrt(da * db);
}

export function meanAbsoluteError(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** A monotone map from the members' mean to a calibrated share: linear between knots, flat outside them. */
export interface Calibration {
  x: number[];
  y: number[];
}

/** Members trained alike from different seeds: their mean (calibrated) is the estimate, their range the spread. */
export interface Ensemble {
  members: Mlp[];
  calibration?: Calibration;
}

export function calibrate(c: Calibration | undefined, v: number): number {
  if (!c) return v;
  if (v <= c.x[0]) return c.y[0];
  for (let i = 1; i < c.x.length; i++) {
    if (v <= c.x[i]) return c.y[i - 1] + ((v - c.x[i - 1]) / (c.x[i] - c.x[i - 1])) * (c.y[i] - c.y[i - 1]);
  }
  return c.y[c.y.length - 1];
}

export function predictEnsemble(e: Ensemble, x: ArrayLike<number>): { estimate: number; spread: number } {
  const outs = e.members.map((m) => predict(m, x));
  const mean = outs.reduce((a, b) => a + b, 0) / outs.length;
  return { estimate: calibrate(e.calibration, mean), spread: Math.max(...outs) - Math.min(...outs) };
}

/**
 * Isotonic regression of labels on raw estimates (pool adjacent violators), read at `knots` evenly spaced
 * points of [0, 1]: evenly spaced knots keep the slopes moderate, so float32 inference stays close to this.
 * Each pooled block takes its labels' median by default: the members are trained for absolute error, so the
 * median is what they estimate, and shares pile up at exactly 1, where a block's mean sits below what most of
 * its proposals score. `"mean"` fits the block means (the expected share at each estimate) instead.
 */
const MIN_SLOPE = 0.02;

export function fitIsotonic(raw: readonly number[], labels: readonly number[], knots = 21, statistic: "median" | "mean" = "median"): Calibration {
  const order = raw.map((_, k) => k).sort((a, b) => raw[a] - raw[b]);
  const blocks: { x: number; y: number; labels: number[] }[] = [];
  const value = (ys: number[]) => (statistic === "mean" ? ys.reduce((a, v) => a + v, 0) / ys.length : median(ys));
  for (const k of order) {
    blocks.push({ x: raw[k], y: labels[k], labels: [labels[k]] });
    while (blocks.length > 1 && blocks[blocks.length - 2].y >= blocks[blocks.length - 1].y) {
      const b = blocks.pop()!;
      const a = blocks[blocks.length - 1];
      a.x = (a.x * a.labels.length + b.x * b.labels.length) / (a.labels.length + b.labels.length);
      a.labels.push(...b.labels);
      a.y = value(a.labels);
    }
  }
  const fit: Calibration = { x: blocks.map((b) => b.x), y: blocks.map((b) => b.y) };
  const x = Array.from({ length: knots }, (_, i) => i / (knots - 1));
  const y = x.map((v) => calibrate(fit, v));
  // A small positive slope everywhere: the calibration never ties two estimates the members told apart. It ends
  // at most at 1 (a share), the slope kept by lowering the knots below it as far as needed.
  for (let i = 1; i < y.length; i++) y[i] = Math.max(y[i], y[i - 1] + MIN_SLOPE * (x[i] - x[i - 1]));
  for (let i = 0; i < y.length; i++) y[i] = Math.min(y[i], 1 - MIN_SLOPE * (1 - x[i]));
  return { x, y };
}

function median(ys: readonly number[]): number {
  const s = [...ys].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}
