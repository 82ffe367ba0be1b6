// The per-market guards added for issue 6 (src/market/guards.ts), as pure properties: the open-intent cap check,
// environment parsing, and bucket pruning that forgets only buckets whose absence changes nothing.
import fc from "fast-check";
import { expect, test } from "vitest";
import {
  DEFAULT_MARKET_RATE_LIMITS,
  DEFAULT_OPEN_INTENT_CAPS,
  marketRateLimitsFrom,
  openIntentCapsFrom,
  openIntentCheck,
  pruneBuckets,
  takeToken,
  type TokenBucket,
} from "../../src/market/guards.ts";

test("openIntentCheck refuses exactly at the cap, naming which one", () => {
  const caps = { perAgent: 3, perMarket: 5 };
  expect(openIntentCheck({ agent: 2, market: 4 }, caps).ok).toBe(true);
  const agent = openIntentCheck({ agent: 3, market: 0 }, caps);
  expect(agent.ok).toBe(false);
  if (!agent.ok) expect(agent.problem).toMatchObject({ status: 409, code: "open-intents-limit", detail: expect.stringMatching(/agent/) });
  const market = openIntentCheck({ agent: 0, market: 5 }, caps);
  if (!market.ok) expect(market.problem.detail).toMatch(/market/);
  expect(market.ok).toBe(false);
});

test("limits from the environment: numbers win, junk keeps the defaults", () => {
  expect(marketRateLimitsFrom({})).toEqual(DEFAULT_MARKET_RATE_LIMITS);
  expect(marketRateLimitsFrom({ RATE_LIMIT_MARKET_BURST: "7", RATE_LIMIT_MARKET_PER_SECOND: "2.5" })).toEqual({ burst: 7, perSecond: 2.5 });
  expect(openIntentCapsFrom({ MAX_OPEN_INTENTS_PER_AGENT: "NaN", MAX_OPEN_INTENTS_PER_MARKET: "-3" })).toEqual(DEFAULT_OPEN_INTENT_CAPS);
  expect(openIntentCapsFrom({ MAX_OPEN_INTENTS_PER_AGENT: "10.7", MAX_OPEN_INTENTS_PER_MARKET: "1e308" })).toEqual({ ...DEFAULT_OPEN_INTENT_CAPS, perAgent: 10, perMarket: 1e308 });
  expect(openIntentCapsFrom({ MAX_OPEN_INTENTS_PER_NEW_AGENT: "7" }).perNewAgent).toBe(7);
});

test("pruneBuckets forgets only buckets that have refilled: the next decision is the same either way", () => {
  fc.assert(
    fc.property(
      fc.record({ burst: fc.integer({ min: 1, max: 50 }), perSecond: fc.double({ min: 0.1, max: 100, noNaN: true }) }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 50, noNaN: true }), fc.integer({ min: 0, max: 10_000 })), { maxLength: 20 }),
      fc.integer({ min: 0, max: 20_000 }),
      (limits, entries, later) => {
        const now = 10_000;
        const buckets = new Map<string, TokenBucket>(entries.map(([tokens, age], i) => [`a${i}`, { tokens: Math.min(tokens, limits.burst), updatedMs: now - age }]));
        const kept = new Map(buckets);
        pruneBuckets(kept, now, limits);
        for (const [agent, bucket] of buckets) {
          const withBucket = takeToken(bucket, now + later, limits).allowed;
          const afterPrune = takeToken(kept.get(agent), now + later, limits).allowed;
          expect(afterPrune).toBe(withBucket);
        }
      },
    ),
  );
});
