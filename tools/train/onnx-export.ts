// Writes a trained ensemble as an ONNX model with `onnx-proto` (a dev dependency: export happens in training, never
// at the edge). Graph: input `features` float32 [N, FEATURE_COUNT] → the members fused into one network (Gemm →
// Relu)* → Gemm → Sigmoid, one output column per member; the members' mean through the calibration (a sum of ramps: linear between knots, flat outside) → `estimate`
// [N, 1], and max − min of the members → `spread` [N, 1]. Standardisation is folded into each first Gemm. The
// version and the feature layout travel as metadata.
import onnxProto from "onnx-proto";
import { foldedLayers, type Calibration, type Ensemble, type Layer, type Mlp } from "./mlp.ts";

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT = onnx.AttributeProto.AttributeType.INT;
const INTS = onnx.AttributeProto.AttributeType.INTS;

export interface ModelMetadata {
  /** e.g. `nash-scorer-v7`; shown on every score. */
  version: string;
  /** FEATURES_VERSION the model was trained on. */
  features: string;
  [key: string]: string;
}

type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;

/**
 * The members fused into one network: the first layers stacked (one Gemm over the features), each later layer
 * block-diagonal (member k reads only its own units), so ort runs one Gemm per layer whatever the member count: a
 * call's cost is mostly per operator, not per multiply. Returns the name of the members' sigmoid outputs [N, K].
 */
function fusedGraph(members: readonly Mlp[], nodes: Node[], initializers: Tensor[]): string {
  const stacks = members.map(foldedLayers);
  let current = "features";
  stacks[0].forEach((_, l) => {
    const layers = stacks.map((s) => s[l]);
    const outputs = layers.reduce((a, x) => a + x.outputs, 0);
    const inputs = l === 0 ? layers[0].inputs : layers.reduce((a, x) => a + x.inputs, 0);
    const w = new Float32Array(outputs * inputs);
    const b = new Float32Array(outputs);
    let row = 0;
    let col = 0;
    for (const layer of layers) {
      const at = l === 0 ? 0 : col;
      for (let o = 0; o < layer.outputs; o++) {
        b[row + o] = layer.b[o];
        for (let i = 0; i < layer.inputs; i++) w[(row + o) * inputs + at + i] = layer.w[o * layer.inputs + i];
      }
      row += layer.outputs;
      col += layer.inputs;
    }
    initializers.push(
      { name: `fused_W${l}`, dims: [outputs, inputs], dataType: FLOAT, floatData: Array.from(w) },
      { name: `fused_B${l}`, dims: [outputs], dataType: FLOAT, floatData: Array.from(b) },
    );
    nodes.push({ opType: "Gemm", name: `gemm${l}`, input: [current, `fused_W${l}`, `fused_B${l}`], output: [`z${l}`], attribute: [{ name: "transB", type: INT, i: 1 }] });
    const last = l + 1 === stacks[0].length;
    current = last ? "members" : `h${l}`;
    nodes.push({ opType: last ? "Sigmoid" : "Relu", name: `${current}_act`, input: [`z${l}`], output: [current] });
  });
  return current;
}

/** The fused network's member `k` back as its own Mlp (the inverse of fusedGraph's stacking). */
function unfuse(layers: readonly Layer[], k: number, count: number): Mlp {
  const own = layers.map((layer, l) => {
    const outputs = layer.outputs / count;
    const inputs = l === 0 ? layer.inputs : layer.inputs / count;
    const at = l === 0 ? 0 : k * inputs;
    const w = new Float64Array(outputs * inputs);
    for (let o = 0; o < outputs; o++) {
      for (let i = 0; i < inputs; i++) w[o * inputs + i] = layer.w[(k * outputs + o) * layer.inputs + at + i];
    }
    return { w, b: layer.b.slice(k * outputs, (k + 1) * outputs), inputs, outputs };
  });
  const d = own[0].inputs;
  return { layers: own, mean: new Float64Array(d), std: new Float64Array(d).fill(1) };
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
  fusedGraph(ensemble.members, nodes, initializers);
  const K = ensemble.members.length;
  initializers.push({ name: "mean_w", dims: [K, 1], dataType: FLOAT, floatData: new Array(K).fill(1 / K) });
  nodes.push(
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
  const layersOf = (p: string): Layer[] => {
    const layers: Layer[] = [];
    for (let l = 0; init.has(`${p}W${l}`); l++) {
      const w = init.get(`${p}W${l}`)!;
      const [outputs, inputs] = (w.dims ?? []).map(Number);
      const b = init.get(`${p}B${l}`)!;
      layers.push({ w: Float64Array.from(w.floatData ?? []), b: Float64Array.from(b.floatData ?? []), inputs, outputs });
    }
    return layers;
  };
  const member = (p: string): Mlp => unfuse(layersOf(p), 0, 1);
  const members = init.has("W0") ? [member("")] : [];
  for (let k = 0; init.has(`m${k}_W0`); k++) members.push(member(`m${k}_`));
  if (init.has("fused_W0")) {
    const fused = layersOf("fused_");
    const count = fused[fused.length - 1].outputs;
    for (let k = 0; k < count; k++) members.push(unfuse(fused, k, count));
  }
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
