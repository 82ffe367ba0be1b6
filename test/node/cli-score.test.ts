// `nash score` as a user runs it: a real process scoring proposals with the committed model, and its errors.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { commit } from "../../src/model/commitment.ts";
import { batchContext, proposalFeatures } from "../../src/model/features.ts";
import { createScorer } from "../../src/model/scorer-node.ts";
import { DEFAULT_LATENCY } from "../../src/solver/index.ts";
import type { Intent } from "../../src/contract/schema.ts";

const bin = join(import.meta.dirname, "..", "..", "bin", "nash.mjs");
const dir = mkdtempSync(join(tmpdir(), "nash-score-"));

function nash(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: "utf8", timeout: 90_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const intents: Intent[] = [
  { id: "b1", agent: "a", side: "buy", resource: "gpu-h100-hr", quantity: 100, limitPrice: 1.8, region: "eu-west" },
  { id: "b2", agent: "c", side: "buy", resource: "gpu-h100-hr", quantity: 300, limitPrice: 1.5, region: "us-east", maxLatencyMs: 100 },
  { id: "s1", agent: "b", side: "sell", resource: "gpu-h100-hr", quantity: 250, limitPrice: 1.4, region: "eu-west" },
];
const fill = (buy: string, sell: string, quantity: number) => ({ buy, sell, resource: "gpu-h100-hr", quantity, price: 1.5 });
const good = { fills: [fill("b1", "s1", 100), fill("b2", "s1", 150)] };
const weak = { fills: [fill("b2", "s1", 20)] };

test("one proposal: the estimate, its spread and the model version; several: estimates in order, equal to the library's scorer", async () => {
  const one = nash(["score", file("one.json", { intents, proposal: good })]);
  expect(one.stderr).toBe("");
  expect(one.code).toBe(0);
  const single = JSON.parse(one.stdout);
  expect(Object.keys(single).sort()).toEqual(["estimate", "model", "spread"]);
  expect(single.spread).toBeGreaterThanOrEqual(0);
  expect(single.model).toBe("nash-scorer-v7");

  const many = nash(["score", "-"], JSON.stringify({ intents, proposals: [good, weak] }));
  expect(many.code).toBe(0);
  const out = JSON.parse(many.stdout);
  expect(out.model).toBe("nash-scorer-v7");
  expect(out.estimates).toHaveLength(2);
  expect(out.estimates[0]).toBe(single.estimate);
  expect(out.estimates[1]).toBeLessThan(out.estimates[0]);

  // The validator's computation, in process: commitments (any salt) → features → the committed model.
  const ctx = batchContext(intents.map((i) => commit(i, "ab".repeat(16))), DEFAULT_LATENCY);
  const scorer = await createScorer(new Uint8Array(readFileSync(join(import.meta.dirname, "..", "..", "models", "nash-scorer-v7.onnx"))));
  const { estimates, spreads } = await scorer.score([proposalFeatures(ctx, good.fills), proposalFeatures(ctx, weak.fills)]);
  expect(out.estimates[0]).toBe(Math.min(1, estimates[0]));
  expect(out.estimates[1]).toBe(estimates[1]);
  expect(out.spreads).toEqual(Array.from(spreads!));
  expect(out.spreads[0]).toBe(single.spread);
});

test("bad proposals name the field on stderr, print nothing on stdout and exit 1", () => {
  const cases: [unknown, string][] = [
    [{ intents, proposals: [good, { fills: [fill("nobody", "s1", 5)] }] }, 'proposals.1.fills.0.buy: unknown intent "nobody"'],
    [{ intents, proposal: { fills: [fill("s1", "b1", 5)] } }, 'proposal.fills.0.buy: "s1" is not a buy intent'],
    [{ intents, proposal: { fills: [{ buy: "b1", sell: "s1" }] } }, "proposal.fills.0.quantity"],
    [{ intents, proposal: { fills: [fill("b1", "s1", -1)] } }, "proposal.fills.0.quantity: must be greater than 0"],
    [{ intents }, "proposal: is required"],
    [{ intents, proposal: good, proposals: [good] }, "proposals: give either proposal or proposals, not both"],
    [{ intents: [{ ...intents[0], quantity: "x" }], proposal: good }, "intents.0.quantity"],
  ];
  cases.forEach(([content, message], k) => {
    const r = nash(["score", file(`bad-${k}.json`, content)]);
    expect(r.code, message).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(message);
  });
  expect(nash(["score"]).code).toBe(2);
  expect(nash(["score", file("m.json", { intents, proposal: good }), "--model", join(dir, "missing.onnx")]).stderr).toMatch(/cannot read model/);
});
