// The learned scorer at run time: an ONNX model run by onnxruntime-web (WASM, one thread). This module is the
// runtime-neutral core; `scorer-node.ts` and `scorer-workerd.ts` are the two adapters that load ort's WASM the way
// each runtime allows, then call `createScorerWith`. A scorer can swap its model while running (a newer version
// from storage): the version travels with every score.
import type * as Ort from "onnxruntime-web";
import { FEATURE_COUNT, FEATURES_VERSION } from "./features.ts";

export type OrtApi = typeof Ort;

export interface Scores {
  estimates: Float32Array;
  /** Per estimate, how far the ensemble's members disagree (max − min, in share units); absent for a model of one. */
  spreads?: Float32Array;
  /** The model version that produced these estimates. */
  model: string;
}

export interface Scorer {
  readonly version: string;
  /** One estimate in [0, 1] per feature vector (each FEATURE_COUNT long), in order. */
  score(batch: readonly Float32Array[]): Promise<Scores>;
  /** Loads another model; scores already under way finish on the old one. Refuses a wrong feature layout. */
  swap(modelBytes: Uint8Array): Promise<void>;
}

interface Loaded {
  session: Ort.InferenceSession;
  version: string;
}

async function load(ort: OrtApi, modelBytes: Uint8Array): Promise<Loaded> {
  const meta = readModelMetadata(modelBytes);
  const features = meta["nash.features"];
  if (features !== FEATURES_VERSION) {
    throw new Error(`scorer: model expects features ${features ?? "(none)"}, this code computes ${FEATURES_VERSION}`);
  }
  const session = await ort.InferenceSession.create(modelBytes, { executionProviders: ["wasm"] });
  return { session, version: meta["nash.version"] ?? "unversioned" };
}

/** A scorer over an already configured ort module. */
export async function createScorerWith(ort: OrtApi, modelBytes: Uint8Array): Promise<Scorer> {
  let current = await load(ort, modelBytes);
  return {
    get version() {
      return current.version;
    },
    async score(batch) {
      const { session, version } = current;
      if (batch.length === 0) return { estimates: new Float32Array(0), model: version };
      const data = new Float32Array(batch.length * FEATURE_COUNT);
      batch.forEach((x, k) => {
        if (x.length !== FEATURE_COUNT) throw new RangeError(`scorer: vector ${k} has ${x.length} features, not ${FEATURE_COUNT}`);
        data.set(x, k * FEATURE_COUNT);
      });
      const out = await session.run({ features: new ort.Tensor("float32", data, [batch.length, FEATURE_COUNT]) });
      const estimates = Float32Array.from(out.estimate.data as Float32Array);
      return out.spread ? { estimates, spreads: Float32Array.from(out.spread.data as Float32Array), model: version } : { estimates, model: version };
    },
    async swap(bytes) {
      const next = await load(ort, bytes);
      const old = current;
      current = next;
      await old.session.release();
    },
  };
}

/**
 * Reads ModelProto.metadata_props (field 14: key = 1, value = 2) with a minimal protobuf walk, so the edge needs no
 * protobuf library to learn a model's version.
 */
export function readModelMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const text = new TextDecoder();
  const varint = (buf: Uint8Array, at: number): [number, number] => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = buf[at++];
      if (b === undefined) throw new RangeError("model bytes end inside a varint");
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return [v, at];
    }
  };
  const fields = (buf: Uint8Array, visit: (field: number, body: Uint8Array) => void) => {
    let at = 0;
    while (at < buf.length) {
      const [key, next] = varint(buf, at);
      at = next;
      const wire = key % 8;
      if (wire === 0) at = varint(buf, at)[1];
      else if (wire === 1) at += 8;
      else if (wire === 5) at += 4;
      else if (wire === 2) {
        const [len, start] = varint(buf, at);
        visit(Math.floor(key / 8), buf.subarray(start, start + len));
        at = start + len;
      } else throw new RangeError(`unsupported protobuf wire type ${wire}`);
    }
  };
  fields(bytes, (field, body) => {
    if (field !== 14) return;
    let key = "";
    let value = "";
    fields(body, (f, b) => {
      if (f === 1) key = text.decode(b);
      if (f === 2) value = text.decode(b);
    });
    out[key] = value;
  });
  return out;
}
