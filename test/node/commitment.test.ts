// Commitments: documented test vectors (hash checked against `sha256sum` of the preimage), band edges, openings
// that must be refused, and that the public part carries nothing beyond the documented bands.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Intent } from "../../src/contract/schema.ts";
import {
  commit, commitmentPreimage, latencyBand, openCommitment, PRICE_BANDS_PER_OCTAVE, priceBand, quantityBand,
  QUANTITY_BANDS_PER_OCTAVE, windowBand,
} from "../../src/model/commitment.ts";

const SALT = "000102030405060708090a0b0c0d0e0f";
const BUY: Intent = {
  id: "b1", agent: "agent-a", side: "buy", resource: "gpu-h100-hr", quantity: 100, limitPrice: 1.8,
  region: "eu-west", maxLatencyMs: 50,
};
const SELL: Intent = {
  id: "s1", agent: "agent-b", side: "sell", resource: "gpu-h100-hr", quantity: 500, minQuantity: 500,
  limitPrice: 1.4, region: "us-east", expiresAt: "2026-12-01T00:00:00Z",
};

describe("test vectors (notes/model.md)", () => {
  test("buy: preimage, hash and bands", () => {
    expect(commitmentPreimage(BUY, SALT)).toBe(
      '{"intent":{"agent":"agent-a","id":"b1","limitPrice":1.8,"maxLatencyMs":50,"quantity":100,"region":"eu-west",' +
        '"resource":"gpu-h100-hr","side":"buy"},"salt":"000102030405060708090a0b0c0d0e0f","v":1}',
    );
    expect(commit(BUY, SALT)).toEqual({
      v: 1, id: "b1", hash: "3bb1a25d86c647f157388ffe2e7a307fb084dcfd553c9aa347adbfd4e388dafe",
      features: {
        side: "buy", resource: "gpu-h100-hr", region: "eu-west", quantityBand: 26, priceBand: 27, minimum: "none",
        latencyBand: 4,
      },
    });
  });
  test("all-or-none sell with an expiry", () => {
    expect(commit(SELL, SALT)).toEqual({
      v: 1, id: "s1", hash: "94c64b712a8d6731831aa8f816f76033612f22c7134e6461c576ef9700809cc2",
      features: {
        side: "sell", resource: "gpu-h100-hr", region: "us-east", quantityBand: 35, priceBand: 15, minimum: "all",
        latencyBand: null,
      },
    });
  });
  test("band edges", () => {
    expect([quantityBand(1), quantityBand(1.18), quantityBand(1.19), quantityBand(2)]).toEqual([0, 0, 1, 4]);
    expect([priceBand(0), priceBand(1), priceBand(2 ** (1 / 32) - 1e-9), priceBand(2)]).toEqual([null, 0, 0, 32]);
    expect([latencyBand(undefined), latencyBand(5), latencyBand(5.5), latencyBand(500), latencyBand(501)])
      .toEqual([null, 0, 1, 10, 11]);
  });
});

describe("opening", () => {
  const c = commit(BUY, SALT);
  test("the committed intent and salt open it", () => {
    expect(openCommitment(c, BUY, SALT)).toEqual({ ok: true });
  });
  test("a changed field is refused", () => {
    for (const changed of [
      { ...BUY, limitPrice: 1.81 }, { ...BUY, quantity: 99 }, { ...BUY, maxLatencyMs: undefined },
      { ...BUY, agent: "agent-z" }, { ...BUY, minQuantity: 1 },
    ]) {
      const out = openCommitment(c, changed, SALT);
      expect(out.ok).toBe(false);
      if (!out.ok) expect(out.reason).toBe("hash_mismatch");
    }
  });
  test("a wrong salt, a wrong id, a malformed salt are refused with their reason", () => {
    expect(openCommitment(c, BUY, "f".repeat(32))).toMatchObject({ ok: false, reason: "hash_mismatch" });
    expect(openCommitment(c, { ...BUY, id: "b2" }, SALT)).toMatchObject({ ok: false, reason: "id_mismatch" });
    expect(openCommitment(c, BUY, "short")).toMatchObject({ ok: false, reason: "bad_salt" });
  });
  test("published bands that lie about the intent are refused even when the hash matches", () => {
    const lying = { ...c, features: { ...c.features, priceBand: 9 } };
    expect(openCommitment(lying, BUY, SALT)).toMatchObject({ ok: false, reason: "features_mismatch" });
  });
  test("commit refuses a weak salt", () => {
    expect(() => commit(BUY, "abcd")).toThrow(/salt/);
  });
});

const intentArb = fc.record({
  id: fc.constantFrom("x1", "x2"),
  agent: fc.constantFrom("a", "b"),
  side: fc.constantFrom("buy" as const, "sell" as const),
  resource: fc.constantFrom("gpu-h100-hr", "storage-tb-day"),
  quantity: fc.double({ min: 0.01, max: 1e6, noNaN: true }),
  limitPrice: fc.double({ min: 0, max: 1e4, noNaN: true }),
  region: fc.constantFrom("eu-west", "us-east"),
  maxLatencyMs: fc.option(fc.double({ min: 0, max: 1000, noNaN: true }), { nil: undefined }),
});

describe("what a commitment hides", () => {
  test("the public part is exactly id, version, hash and the documented bands", () => {
    fc.assert(
      fc.property(intentArb, (intent) => {
        const c = commit(intent, SALT);
        expect(Object.keys(c).sort()).toEqual(["features", "hash", "id", "v"]);
        expect(Object.keys(c.features).sort()).toEqual(
          ["latencyBand", "minimum", "priceBand", "quantityBand", "region", "resource", "side"],
        );
        for (const v of [c.features.quantityBand, c.features.priceBand, c.features.latencyBand]) {
          if (v !== null) expect(Number.isInteger(v)).toBe(true);
        }
      }),
    );
  });
  test("intents in the same bands publish identical features: the exact numbers are not recoverable", () => {
    fc.assert(
      fc.property(intentArb, fc.double({ min: 0, max: 0.999, noNaN: true }), (intent, t) => {
        // Move quantity and price within their bands: the features must not change.
        // Kept a little inside the band edges so floating-point rounding cannot cross them.
        const u = 0.01 + 0.98 * t;
        const qb = quantityBand(intent.quantity);
        const q2 = 2 ** ((qb + u) / QUANTITY_BANDS_PER_OCTAVE);
        const pb = priceBand(intent.limitPrice);
        const p2 = pb === null ? 0 : 2 ** ((pb + u) / PRICE_BANDS_PER_OCTAVE);
        expect([quantityBand(q2), priceBand(p2)]).toEqual([qb, pb]);
        const other = { ...intent, quantity: q2, limitPrice: p2, agent: "someone-else" };
        expect(commit(other, SALT).features).toEqual(commit(intent, SALT).features);
      }),
    );
  });
  test("the hash depends on the salt: the same intent under two salts gives unrelated hashes", () => {
    const h1 = commit(BUY, SALT).hash;
    const h2 = commit(BUY, "1".repeat(32)).hash;
    expect(h1).not.toBe(h2);
  });
});

describe("windows, rate caps and swaps (bands only when the intent has them)", () => {
  const WINDOWED: Intent = {
    id: "w1", agent: "agent-c", side: "sell", resource: "gpu-h100-hr", quantity: 40, limitPrice: 1.5, region: "eu-west",
    window: { start: "2026-12-04T18:00:00Z", end: "2026-12-04T21:00:00Z" }, maxRate: 12,
  };
  const SWAP: Intent = {
    id: "x1", agent: "agent-d", side: "sell", kind: "swap", resource: "gpu-h100-hr", quantity: 8, limitPrice: 2, region: "us-east",
    swapFor: { resource: "gpu-a100-hr", limitPrice: 1.2, window: { start: "2026-12-05T00:00:00Z", end: "2026-12-05T02:00:00Z" } },
  };
  const hour = Date.parse("2026-12-04T18:00:00Z") / 3_600_000;

  test("a window publishes its start hour and a √2 band of its length; maxRate its quantity band; a swap what it takes", () => {
    expect(commit(WINDOWED, SALT).features).toMatchObject({ window: { startHour: hour, lengthBand: 3 }, rateBand: quantityBand(12) });
    expect(commit(SWAP, SALT).features).toMatchObject({
      side: "sell", resource: "gpu-h100-hr", priceBand: 32,
      swapFor: { resource: "gpu-a100-hr", priceBand: priceBand(1.2), window: { startHour: hour + 6, lengthBand: 2 } },
    });
    expect(Object.keys(commit(SWAP, SALT).features)).not.toContain("window");
  });

  test("the hash binds the window, the rate and the swap's terms: a reveal that changes them is refused", () => {
    for (const [intent, changed] of [
      [WINDOWED, { ...WINDOWED, window: { start: "2026-12-04T18:30:00Z", end: "2026-12-04T21:00:00Z" } }],
      [WINDOWED, { ...WINDOWED, maxRate: 12.5 }],
      [SWAP, { ...SWAP, swapFor: { ...SWAP.swapFor!, limitPrice: 1.21 } }],
      [SWAP, { ...SWAP, swapFor: { resource: "gpu-a100-hr", limitPrice: 1.2 } }],
    ] as const) {
      expect(openCommitment(commit(intent, SALT), changed, SALT)).toMatchObject({ ok: false, reason: "hash_mismatch" });
    }
    expect(openCommitment(commit(SWAP, SALT), SWAP, SALT)).toEqual({ ok: true });
  });

  test("a published window band that lies is refused even when the hash matches", () => {
    const c = commit(WINDOWED, SALT);
    const early = { ...c, features: { ...c.features, window: { startHour: hour - 1, lengthBand: 3 } } };
    const bare = { ...c, features: { ...c.features, window: undefined } };
    expect(openCommitment(early, WINDOWED, SALT)).toMatchObject({ ok: false, reason: "features_mismatch" });
    expect(openCommitment(bare, WINDOWED, SALT)).toMatchObject({ ok: false, reason: "features_mismatch" });
  });

  test("within the start hour and the length band the exact window is hidden", () => {
    // 18:20 to 21:10 (2 h 50 min) and 18:00 to 21:00 (3 h): the same start hour, both lengths in [2^1.5, 2^2) h.
    expect(windowBand({ start: "2026-12-04T18:20:00Z", end: "2026-12-04T21:10:00Z" })).toEqual(windowBand(WINDOWED.window!));
    expect(windowBand({ start: "2026-12-04T19:00:00Z", end: "2026-12-04T22:00:00Z" })).not.toEqual(windowBand(WINDOWED.window!));
  });
});
