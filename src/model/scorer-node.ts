// The scorer in Node (the CLI, training checks, benchmarks): onnxruntime-web's WASM build, bytes read from disk.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-web/wasm";
import { createScorerWith, type Scorer } from "./scorer.ts";

let ready: Promise<void> | undefined;

function init(): Promise<void> {
  ready ??= (async () => {
    const wasm = await readFile(fileURLToPath(import.meta.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm")));
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmBinary = wasm;
  })();
  return ready;
}

/** A scorer for these model bytes (ort is initialised once per process). */
export async function createScorer(modelBytes: Uint8Array): Promise<Scorer> {
  await init();
  return createScorerWith(ort, modelBytes);
}
