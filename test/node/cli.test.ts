// The CLI as a user runs it: a real `nash` process, its stdout, stderr and exit code.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { Settlement } from "../../src/contract/schema.ts";

const bin = join(import.meta.dirname, "..", "..", "bin", "nash.mjs");
const dir = mkdtempSync(join(tmpdir(), "nash-cli-"));

function nash(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const bilateral = {
  intents: [
    { id: "inference", agent: "a", side: "buy", resource: "gpu-h100-hr", quantity: 100, limitPrice: 1.8, region: "eu-west" },
    { id: "compute", agent: "b", side: "sell", resource: "gpu-h100-hr", quantity: 500, limitPrice: 1.4, region: "eu-west" },
  ],
};

describe("nash solve", () => {
  test("settles the bilateral example at the midpoint", () => {
    const r = nash(["solve", file("bilateral.json", bilateral)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const settlement = Settlement.parse(JSON.parse(r.stdout));
    expect(settlement.fills).toHaveLength(1);
    expect(settlement.fills[0]).toMatchObject({ buy: "inference", sell: "compute", resource: "gpu-h100-hr", quantity: 100 });
    expect(settlement.fills[0].price).toBeCloseTo(1.6, 9);
    expect(settlement.welfare).toBeCloseTo(40, 9);
    expect(settlement.stats.status).toBe("optimal");
    expect(settlement.stats.solveMs).toBeGreaterThanOrEqual(0);
    expect(settlement.certificate).toBeDefined();
  });

  test("reads standard input with -", () => {
    const r = nash(["solve", "-"], JSON.stringify(bilateral));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).fills[0].quantity).toBe(100);
  });

  test("assigns ids to intents without one, and no trade gives no fills", () => {
    const r = nash(["solve", "-"], JSON.stringify({
      intents: [
        { agent: "a", side: "buy", resource: "r", quantity: 1, limitPrice: 1, region: "eu-west" },
        { agent: "b", side: "sell", resource: "r", quantity: 1, limitPrice: 2, region: "eu-west" },
      ],
    }));
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.fills).toEqual([]);
    expect(s.welfare).toBe(0);
  });

  test("an expired intent does not trade", () => {
    const past = { ...bilateral, intents: [{ ...bilateral.intents[0], expiresAt: "2000-01-01T00:00:00Z" }, bilateral.intents[1]] };
    const r = nash(["solve", "-"], JSON.stringify(past));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).fills).toEqual([]);
  });

  const bad: Array<[string, string, RegExp]> = [
    ["malformed JSON", "{ intents: ", /not valid JSON/],
    ["not an object", "[1,2]", /\(body\): must be a JSON object/],
    ["missing intents", "{}", /intents:/],
    ["negative quantity", JSON.stringify({ intents: [{ ...bilateral.intents[0], quantity: -5 }] }), /intents\.0\.quantity: must be greater than 0/],
    ["wrong type", JSON.stringify({ intents: [{ ...bilateral.intents[0], limitPrice: "1.8" }] }), /intents\.0\.limitPrice/],
    ["bad side", JSON.stringify({ intents: [{ ...bilateral.intents[0], side: "hold" }] }), /intents\.0\.side/],
    ["minQuantity above quantity", JSON.stringify({ intents: [{ ...bilateral.intents[0], minQuantity: 101 }] }), /intents\.0\.minQuantity: must not exceed quantity/],
    ["unknown field", JSON.stringify({ intents: [{ ...bilateral.intents[0], colour: "red" }] }), /intents\.0: unknown field\(s\): colour/],
    ["duplicate ids", JSON.stringify({ intents: [bilateral.intents[0], bilateral.intents[0]] }), /intents\.1\.id: duplicate id/],
    ["bad latency", JSON.stringify({ latency: { "eu-west": { "us-east": -1 } }, intents: [] }), /latency\.eu-west\.us-east/],
    ["bad expiresAt", JSON.stringify({ intents: [{ ...bilateral.intents[0], expiresAt: "tomorrow" }] }), /intents\.0\.expiresAt/],
  ];
  for (const [name, content, message] of bad) {
    test(`bad input: ${name} → message naming the field, nothing on stdout, exit 1`, () => {
      const r = nash(["solve", file(`${name.replace(/\W+/g, "-")}.json`, content)]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(message);
    });
  }

  test("usage errors exit 2", () => {
    expect(nash([]).code).toBe(2);
    expect(nash(["frobnicate"]).code).toBe(2);
    expect(nash(["solve"]).code).toBe(2);
    expect(nash(["solve", "-", "--node-budget", "x"], "{}").code).toBe(2);
    const missing = nash(["solve", join(dir, "nope.json")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read/);
  });
});
