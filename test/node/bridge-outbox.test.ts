// The outbox policy (message, key, backoff, bound) and its SQL, run on node:sqlite with the same statements a
// Durable Object runs.
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_POLICY,
  SettlementMessage,
  SqlOutbox,
  backoffDelayMs,
  buildSettlementMessage,
  decideEnqueue,
  idempotencyKey,
  seededRandom,
} from "../../src/bridge/outbox.ts";
import { settlement, sqliteExec } from "./bridge-fixtures.ts";

describe("messages and keys", () => {
  it("freezes the settlement, its scores and certificate into one text with a stable key", () => {
    const a = buildSettlementMessage({ market: "m1", settlement: settlement("s-1"), scores: { estimate: 0.97 }, committedAt: "2026-11-26T14:00:01.000Z" });
    const b = buildSettlementMessage({ market: "m1", settlement: settlement("s-1"), scores: { estimate: 0.97 }, committedAt: "2026-11-26T14:00:01.000Z" });
    expect(a.text).toBe(b.text);
    expect(a.key).toBe(idempotencyKey("m1", "s-1"));
    expect(a.key).toBe("nash:m1:s-1");
    expect(idempotencyKey("m2", "s-1")).not.toBe(a.key);
    const parsed = SettlementMessage.parse(JSON.parse(a.text));
    expect(parsed.key).toBe(a.key);
    expect(parsed.settlement.certificate?.bound).toBe(40);
    expect(parsed.scores).toEqual({ estimate: 0.97 });
    expect(a.bytes).toBe(new TextEncoder().encode(a.text).length);
  });
});

describe("backoff", () => {
  it("grows exponentially to the cap with equal jitter, reproducibly for a seed", () => {
    const r1 = seededRandom(7);
    const r2 = seededRandom(7);
    for (let attempts = 1; attempts <= 40; attempts++) {
      const exp = Math.min(DEFAULT_POLICY.maxDelayMs, DEFAULT_POLICY.baseDelayMs * 2 ** (attempts - 1));
      const d = backoffDelayMs(attempts, r1);
      expect(d).toBeGreaterThanOrEqual(Math.floor(exp / 2));
      expect(d).toBeLessThanOrEqual(exp);
      expect(backoffDelayMs(attempts, r2)).toBe(d);
    }
    expect(backoffDelayMs(1, () => 0)).toBe(500);
    expect(backoffDelayMs(3, () => 0.999999)).toBe(4000);
    expect(backoffDelayMs(100, () => 0.5)).toBe(225_000);
  });

  it("spreads a fleet's retries (jitter is not constant)", () => {
    const r = seededRandom(1);
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelayMs(10, r)));
    expect(delays.size).toBeGreaterThan(40);
  });
});

describe("SqlOutbox", () => {
  it("enqueues once per key, refuses past the bound and counts it", () => {
    const outbox = new SqlOutbox(sqliteExec(new DatabaseSync(":memory:")), { ...DEFAULT_POLICY, capacity: 3, maxMessageBytes: 2000 });
    const msg = (id: string) => buildSettlementMessage({ market: "m1", settlement: settlement(id), committedAt: "t" });
    expect(outbox.enqueue(msg("a"), 1000)).toEqual({ action: "insert" });
    expect(outbox.enqueue(msg("a"), 1001)).toEqual({ action: "exists" });
    outbox.enqueue(msg("b"), 1002);
    outbox.enqueue(msg("c"), 1003);
    expect(outbox.enqueue(msg("d"), 1004)).toEqual({ action: "refuse", reason: "full" });
    expect(outbox.enqueue(msg("e"), 1005)).toEqual({ action: "refuse", reason: "full" });
    const big = buildSettlementMessage({ market: "m1", settlement: { ...settlement("z"), note: "x".repeat(3000) }, committedAt: "t" });
    expect(decideEnqueue(0, big, outbox.policy)).toEqual({ action: "refuse", reason: "too_large" });
    outbox.enqueue(big, 1006);
    const m = outbox.metrics();
    expect(m).toMatchObject({ pending: 3, capacity: 3, full: true, oldestPendingAt: 1000 });
    expect(m.counters).toMatchObject({ enqueued: 3, refused_full: 2, refused_too_large: 1 });
  });

  it("hands out due rows oldest first, reschedules failures and settles deliveries", () => {
    const outbox = new SqlOutbox(sqliteExec(new DatabaseSync(":memory:")), { ...DEFAULT_POLICY, batchSize: 2 });
    for (const [i, id] of ["a", "b", "c"].entries()) {
      outbox.enqueue(buildSettlementMessage({ market: "m1", settlement: settlement(id), committedAt: "t" }), 1000 + i);
    }
    const due = outbox.due(5000);
    expect(due.map((r) => r.settlementId)).toEqual(["a", "b"]);
    const retryAt = outbox.record(due[0], { kind: "failed", status: 503, error: "down" }, 5000, () => 0);
    expect(retryAt).toBe(5500);
    outbox.record(due[1], { kind: "delivered", status: 200, duplicate: true }, 5000, () => 0);
    expect(outbox.due(5000).map((r) => r.settlementId)).toEqual(["c"]);
    const again = outbox.due(6000);
    expect(again.map((r) => r.settlementId)).toEqual(["a", "c"]);
    expect(again[0]).toMatchObject({ attempts: 1, lastStatus: 503, lastError: "down" });
    expect(outbox.nextAttemptAt()).toBe(1002);
    expect(outbox.metrics().counters).toMatchObject({ delivered: 1, duplicates: 1, failed_attempts: 1 });
  });

  it("keeps the relay's last nonce exactly, past 2^53", () => {
    const db = new DatabaseSync(":memory:");
    const outbox = new SqlOutbox(sqliteExec(db));
    expect(outbox.lastNonce()).toBeUndefined();
    outbox.setLastNonce(1_764_115_200_123_456_789n);
    outbox.setLastNonce(1_764_115_200_123_456_790n);
    expect(new SqlOutbox(sqliteExec(db)).lastNonce()).toBe(1_764_115_200_123_456_790n);
  });
});
