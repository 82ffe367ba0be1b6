// A minimal worker for bench/model.ts: times the scorer inside workerd. workerd freezes clocks during execution,
// so the benchmark times requests from outside and subtracts a request that does no scoring.
import modelBytes from "../models/nash-scorer-v7.onnx";
import { FEATURE_COUNT } from "../src/model/features.ts";
import { createScorer } from "../src/model/scorer-workerd.ts";
import type { Scorer } from "../src/model/scorer.ts";

let scorer: Promise<Scorer> | undefined;

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/noop") return Response.json({ ok: true });
    scorer ??= createScorer(new Uint8Array(modelBytes));
    const s = await scorer;
    if (url.pathname === "/load") return Response.json({ version: s.version });
    const calls = Number(url.searchParams.get("calls") ?? "0");
    const batch = Number(url.searchParams.get("batch") ?? "1");
    const vectors = Array.from({ length: batch }, (_, k) =>
      Float32Array.from({ length: FEATURE_COUNT }, (_, j) => ((k * 31 + j * 7) % 97) / 97));
    let last = 0;
    for (let i = 0; i < calls; i++) last = (await s.score(vectors)).estimates[0];
    return Response.json({ calls, batch, last, model: s.version });
  },
};
