// The committed scorer inside workerd: onnxruntime-web loads from the imported WASM module and reproduces, bit
// for bit, the outputs Node's onnxruntime-web gave for the same model (models/<version>.vectors.json).
import { expect, test } from "vitest";
import modelBytes from "../../models/nash-scorer-v7.onnx";
import vectorsFile from "../../models/nash-scorer-v7.vectors.json";
import { createScorer } from "../../src/model/scorer-workerd.ts";

test("workerd scores equal Node's scores exactly, and the JS forward pass within 1e-6", async () => {
  const scorer = await createScorer(new Uint8Array(modelBytes));
  expect(scorer.version).toBe(vectorsFile.version);
  const { estimates, model } = await scorer.score(vectorsFile.vectors.map((v) => Float32Array.from(v.features)));
  expect(model).toBe(vectorsFile.version);
  vectorsFile.vectors.forEach((v, k) => {
    expect(estimates[k]).toBe(v.ort);
    expect(Math.abs(estimates[k] - v.js)).toBeLessThan(1e-6);
  });
});

test("warm scoring is fast and a model can be swapped at run time", async () => {
  const scorer = await createScorer(new Uint8Array(modelBytes));
  const batch = vectorsFile.vectors.map((v) => Float32Array.from(v.features));
  for (let i = 0; i < 20; i++) await scorer.score(batch);
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) await scorer.score(batch);
  // workerd freezes timers during synchronous work; this only guards against a pathological slowdown.
  expect(performance.now() - t0).toBeLessThan(5_000);
  await scorer.swap(new Uint8Array(modelBytes));
  expect((await scorer.score(batch.slice(0, 1))).estimates[0]).toBe(vectorsFile.vectors[0].ort);
});
