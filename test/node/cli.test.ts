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

  test('the file\'s "now" is the settlement\'s time: expiries count from it, not from the clock', () => {
    const later = { ...bilateral, now: "2099-06-01T00:00:00Z", intents: [{ ...bilateral.intents[0], expiresAt: "2099-01-01T00:00:00Z" }, bilateral.intents[1]] };
    const r = nash(["solve", "-"], JSON.stringify(later));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ fills: [], stats: { intents: 1, expired: 1 } });
    // The same file without "now": the clock is before 2099, so the intent trades.
    const { now: _now, ...clock } = later;
    expect(JSON.parse(nash(["solve", "-"], JSON.stringify(clock)).stdout).fills).toHaveLength(1);
  });

  test('the file\'s "now" bounds delivery: a fill starts at it, not at the start of a window already under way', () => {
    const T = Date.parse("2030-01-01T00:00:00Z");
    const iso = (ms: number) => new Date(ms).toISOString();
    const windowed = {
      now: iso(T + 3_600_000),
      intents: [bilateral.intents[0], { ...bilateral.intents[1], window: { start: iso(T), end: iso(T + 3 * 3_600_000) } }],
    };
    const r = nash(["solve", "-"], JSON.stringify(windowed));
    expect(r.stderr).toBe("");
    const [fill] = Settlement.parse(JSON.parse(r.stdout)).fills;
    expect(fill).toMatchObject({ buy: "inference", sell: "compute", quantity: 100, start: iso(T + 3_600_000), end: iso(T + 3 * 3_600_000) });
  });

  test("the seed's three-party example settles the chain with windows: inference ← storage's swap ← compute's later slot", () => {
    const r = nash(["solve", join(import.meta.dirname, "..", "..", "examples", "seed-three-party.json")]);
    expect(r.stderr).toBe("");
    const s = Settlement.parse(JSON.parse(r.stdout));
    expect(s.welfare).toBeCloseTo(100, 6);
    const pairs = Object.fromEntries(s.fills.map((f) => [`${f.buy}<${f.sell}`, f]));
    expect(Object.keys(pairs).sort()).toEqual(["inference-now<storage-defer", "storage-defer<compute-idle"]);
    expect(pairs["inference-now<storage-defer"]).toMatchObject({ quantity: 200, start: "2026-06-01T08:00:00.000Z", end: "2026-06-01T10:00:00.000Z" });
    expect(Date.parse(pairs["storage-defer<compute-idle"].start!)).toBeGreaterThanOrEqual(Date.parse("2026-06-01T12:00:00Z"));
    expect(Date.parse(pairs["storage-defer<compute-idle"].end!)).toBeLessThanOrEqual(Date.parse("2026-06-01T16:00:00Z"));
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
    ["bad now", JSON.stringify({ ...bilateral, now: "yesterday" }), /now:/],
    ["now out of range", JSON.stringify({ ...bilateral, now: "1999-12-31T00:00:00Z" }), /now: must be a time between/],
    ["window ending before it starts", JSON.stringify({ intents: [{ ...bilateral.intents[0], window: { start: "2030-01-01T02:00:00Z", end: "2030-01-01T01:00:00Z" } }] }), /intents\.0\.window\.end: start must be before end/],
    ["maxRate without a window", JSON.stringify({ intents: [{ ...bilateral.intents[0], maxRate: 10 }] }), /intents\.0\.maxRate: needs a window/],
    ["priority urgent", JSON.stringify({ intents: [{ ...bilateral.intents[0], priority: "urgent" }] }), /intents\.0\.priority/],
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
