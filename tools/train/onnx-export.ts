// Writes a trained MLP as an ONNX model with `onnx-proto` (a dev dependency: export happens in training, never at
// the edge). Graph: input `features` float32 [N, FEATURE_COUNT] → (Gemm → Relu)* → Gemm → Sigmoid → `estimate`
// [N, 1]; standardisation is folded into the first Gemm. The version and the feature layout travel as metadata.
import onnxProto from "onnx-proto";
import { foldedLayers, type Mlp } from "./mlp.ts";

const { onnx } = onnxProto;

export interface ModelMetadata {
  /** e.g. `nash-scorer-v2`; shown on every score. */
  version: string;
  /** FEATURES_VERSION the model was trained on. */
  features: string;
  [key: string]: string;
}

export function exportOnnx(m: Mlp, meta: ModelMetadata): Uint8Array {
  const layers = foldedLayers(m);
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  let current = "features";
  layers.forEach((layer, l) => {
    initializers.push(
      { name: `W${l}`, dims: [layer.outputs, layer.inputs], dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(layer.w) },
      { name: `B${l}`, dims: [layer.outputs], dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(layer.b) },
    );
    const z = `z${l}`;
    nodes.push({
      opType: "Gemm", name: `gemm${l}`, input: [current, `W${l}`, `B${l}`], output: [z],
      attribute: [{ name: "transB", type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    });
    const last = l + 1 === layers.length;
    const out = last ? "estimate" : `h${l}`;
    nodes.push({ opType: last ? "Sigmoid" : "Relu", name: last ? "sigmoid" : `relu${l}`, input: [z], output: [out] });
    current = out;
  });
  const tensor = (name: string, width: number): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: "N" }, { dimValue: width }] },
      },
    },
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
      input: [tensor("features", layers[0].inputs)],
      output: [tensor("estimate", 1)],
    },
    metadataProps: Object.entries(meta).map(([key, value]) => ({ key: `nash.${key}`, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Reads a model written by `exportOnnx` back into an MLP (standardisation already folded: mean 0, std 1). */
export function importOnnx(bytes: Uint8Array): { mlp: Mlp; meta: Record<string, string> } {
  const model = onnx.ModelProto.decode(bytes);
  const init = new Map((model.graph?.initializer ?? []).map((t) => [t.name, t]));
  const layers: Mlp["layers"] = [];
  for (let l = 0; init.has(`W${l}`); l++) {
    const w = init.get(`W${l}`)!;
    const [outputs, inputs] = (w.dims ?? []).map(Number);
    const b = init.get(`B${l}`)!;
    layers.push({ w: Float64Array.from(w.floatData ?? []), b: Float64Array.from(b.floatData ?? []), inputs, outputs });
  }
  const d = layers[0].inputs;
  const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
  return { mlp: { layers, mean: new Float64Array(d), std: new Float64Array(d).fill(1) }, meta };
}
