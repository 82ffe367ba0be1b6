// The scorer inside workerd (the market Durable Object), the way TOOLCHAIN.md measured it: onnxruntime-web's
// WASM bundle, its `.wasm` imported as a module (wrangler compiles it at deploy time), one thread, no proxy, and
// ort's compile-from-bytes call routed to that module, because workerd forbids compiling WebAssembly at run time.
import * as ort from "onnxruntime-web/wasm";
import ortWasm from "onnxruntime-web/ort-wasm-simd-threaded.wasm";
import { createScorerWith, type Scorer } from "./scorer.ts";

let ready: Promise<void> | undefined;

/** Configures ort once per isolate; returns after its WASM runtime is instantiated from the imported module. */
function init(): Promise<void> {
  ready ??= (async () => {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    // A placeholder: ort only needs to see bytes to skip its URL loader; instantiate() below swaps in the module.
    ort.env.wasm.wasmBinary = new Uint8Array(8);
    const original = WebAssembly.instantiate;
    const routed = async (source: unknown, imports?: WebAssembly.Imports) => {
      if (source instanceof WebAssembly.Module) return original(source, imports);
      return { instance: await original(ortWasm, imports), module: ortWasm };
    };
    WebAssembly.instantiate = routed as typeof WebAssembly.instantiate;
  })().catch((error: unknown) => {
    ready = undefined; // a failed start-up is retried by the next caller instead of poisoning the isolate
    throw error;
  });
  return ready;
}

/** A scorer for these model bytes; the first call in an isolate pays ort's start-up (measured in bench/model.ts). */
export async function createScorer(modelBytes: Uint8Array): Promise<Scorer> {
  await init();
  return createScorerWith(ort, modelBytes);
}
