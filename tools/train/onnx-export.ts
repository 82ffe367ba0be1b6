// Writes a trained ensemble as an ONNX model with `onnx-proto` (a dev dependency: export happens in training, never
// at the edge). Graph: input `features` float32 [N, FEATURE_COUNT] → per member (Gemm → Relu)* → Gemm → Sigmoid;
// the members' mean through the calibration (a sum of ramps: linear between knots, flat outside) → `estimate`
// [N, 1], and max − min of the members → `spread` [N, 1]. Standardisation is folded into each first Gemm. The
// version and the feature layout travel as metadata.
import onnxProto from "onnx-proto";
import { foldedLayers, type Calibration, type Ensemble, type Mlp } from "./mlp.ts";

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT = onnx.AttributeProto.AttributeType.INT;
const INTS = onnx.AttributeProto.AttributeType.INTS;

export interface ModelMetadata {
  /** e.g. `nash-scorer-v3`; shown on every score. */
  version: string;
  /** FEATURES_VERSION the model was trained on. */
  features: string;
  [key: string]: string;
}

type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;

/** One member's nodes, its names prefixed `m{k}_`; returns the name of its sigmoid output [N, 1]. */
function memberGraph(m: Mlp, k: number, nodes: Node[], initializers: Tensor[]): string {
  let current = "features";
  const layers = foldedLayers(m);
  layers.forEach((layer, l) => {
    const p = `m${k}_`;
    initializers.push(
      { name: `${p}W${l}`, dims: [layer.outputs, layer.inputs], dataType: FLOAT, floatData: Array.from(layer.w) },
      { name: `${p}B${l}`, dims: [layer.outputs], dataType: FLOAT, floatData: Array.from(layer.b) },
    );
    nodes.push({ opType: "Gemm", name: `${p}gemm${l}`, input: [current, `${p}W${l}`, `${p}B${l}`], output: [`${p}z${l}`], attribute: [{ name: "transB", type: INT, i: 1 }] });
    const last = l + 1 === layers.length;
    current = `${p}${last ? "out" : `h${l}`}`;
    nodes.push({ opType: last ? "Sigmoid" : "Relu", name: `${current}_act`, input: [`${p}z${l}`], output: [current] });
  });
  return current;
}

/** y = y0 + Σ c_i · relu(x − x_i), c_i the change of slope at knot i: the calibration's interpolation. */
function calibrationGraph(c: Calibration, input: string, nodes: Node[], initializers: Tensor[]): string {
  const slopes = c.x.slice(1).map((x, i) => (c.y[i + 1] - c.y[i]) / (x - c.x[i]));
  const changes = c.x.slice(0, -1).map((_, i) => slopes[i] - (i > 0 ? slopes[i - 1] : 0));
  changes.push(-slopes[slopes.length - 1]);
  initializers.push(
    { name: "cal_knots", dims: [1, c.x.length], dataType: FLOAT, floatData: c.x },
    { name: "cal_changes", dims: [c.x.length, 1], dataType: FLOAT, floatData: changes },
    { name: "cal_y0", dims: [1], dataType: FLOAT, floatData: [c.y[0]] },
  );
  nodes.push(
    { opType: "Sub", name: "cal_sub", input: [input, "cal_knots"], output: ["cal_d"] },
    { opType: "Relu", name: "cal_relu", input: ["cal_d"], output: ["cal_ramps"] },
    { opType: "MatMul", name: "cal_mm", input: ["cal_ramps", "cal_changes"], output: ["cal_sum"] },
    { opType: "Add", name: "cal_add", input: ["cal_sum", "cal_y0"], output: ["estimate"] },
  );
  return "estimate";
}

export function exportOnnx(e: Ensemble | Mlp, meta: ModelMetadata): Uint8Array {
  const ensemble: Ensemble = "members" in e ? e : { members: [e] };
  const nodes: Node[] = [];
  const initializers: Tensor[] = [];
  const outs = ensemble.members.map((m, k) => memberGraph(m, k, nodes, initializers));
  const K = outs.length;
  initializers.push({ name: "mean_w", dims: [K, 1], dataType: FLOAT, floatData: new Array(K).fill(1 / K) });
  nodes.push(
    { opType: "Concat", name: "concat", input: outs, output: ["members"], attribute: [{ name: "axis", type: INT, i: 1 }] },
    { opType: "MatMul", name: "mean", input: ["members", "mean_w"], output: [ensemble.calibration ? "raw" : "estimate"] },
    { opType: "ReduceMax", name: "max", input: ["members"], output: ["hi"], attribute: [{ name: "axes", type: INTS, ints: [1] }] },
    { opType: "ReduceMin", name: "min", input: ["members"], output: ["lo"], attribute: [{ name: "axes", type: INTS, ints: [1] }] },
    { opType: "Sub", name: "range", input: ["hi", "lo"], output: ["spread"] },
  );
  if (ensemble.calibration) calibrationGraph(ensemble.calibration, "raw", nodes, initializers);
  const tensor = (name: string, width: number): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: "N" }, { dimValue: width }] } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: "", version: 13 }],
    producerName: "nash-train",
    producerVersion: meta.version,
    modelVersion: 1,
    docString: "NASH scorer: estimated welfare share of a proposal from commitments (CONTRACT.md section 6)",
    graph: {
      name: "nash_scorer",
      node: nodes,
      initializer: initializers,
      input: [tensor("features", ensemble.members[0].layers[0].inputs)],
      output: [tensor("estimate", 1), tensor("spread", 1)],
    },
    metadataProps: Object.entries(meta).map(([key, value]) => ({ key: `nash.${key}`, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Reads a model written by `exportOnnx` back (standardisation already folded: mean 0, std 1). A single-network
 * model of the earlier layout (initializers W0, B0, …) reads as an ensemble of one without calibration.
 */
export function importOnnx(bytes: Uint8Array): { ensemble: Ensemble; mlp: Mlp; meta: Record<string, string> } {
  const model = onnx.ModelProto.decode(bytes);
  const init = new Map((model.graph?.initializer ?? []).map((t) => [t.name, t]));
  const member = (p: string): Mlp => {
    const layers: Mlp["layers"] = [];
    for (let l = 0; init.has(`${p}W${l}`); l++) {
      const w = init.get(`${p}W${l}`)!;
      const [outputs, inputs] = (w.dims ?? []).map(Number);
      const b = init.get(`${p}B${l}`)!;
      layers.push({ w: Float64Array.from(w.floatData ?? []), b: Float64Array.from(b.floatData ?? []), inputs, outputs });
    }
    const d = layers[0].inputs;
    return { layers, mean: new Float64Array(d), std: new Float64Array(d).fill(1) };
  };
  const members = init.has("W0") ? [member("")] : [];
  for (let k = 0; init.has(`m${k}_W0`); k++) members.push(member(`m${k}_`));
  const knots = init.get("cal_knots");
  let calibration: Calibration | undefined;
  if (knots) {
    const x = Array.from(knots.floatData ?? []);
    const changes = Array.from(init.get("cal_changes")!.floatData ?? []);
    const y0 = init.get("cal_y0")!.floatData![0];
    // Back from ramps to knot values: y(x_j) = y0 + Σ_{i<j} c_i (x_j − x_i).
    const y = x.map((xj) => x.reduce((s, xi, i) => s + (xi < xj ? changes[i] * (xj - xi) : 0), y0));
    calibration = { x, y };
  }
  const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
  return { ensemble: { members, calibration }, mlp: members[0], meta };
}
