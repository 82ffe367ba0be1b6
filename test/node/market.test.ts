// The market's pure bookkeeping (src/market): book building, fills, statuses, expiry, cancel and guards.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  applyFills,
  buildSettlement,
  cancelCheck,
  dueExpiries,
  intentView,
  isLive,
  mayTrade,
  nextExpiry,
  remainingOf,
  solverBook,
  statusAfterFill,
  type IntentRecord,
} from "../../src/market/book.ts";
import {
  DEFAULT_RATE_LIMITS,
  idempotencyDecision,
  rateLimitsFrom,
  requestFingerprint,
  signatureForgetAt,
  takeToken,
} from "../../src/market/guards.ts";
import type { Intent } from "../../src/contract/schema.ts";

const NOW = 1_700_000_000_000;

function rec(id: string, side: "buy" | "sell", quantity: number, extra: Omit<Partial<IntentRecord>, "intent"> & { intent?: Partial<Intent> } = {}, seq = 1): IntentRecord {
  const { intent, ...rest } = extra;
  return {
    intent: { id, agent: "A", side, resource: "gpu", quantity, limitPrice: side === "buy" ? 2 : 1, region: "eu-west", ...intent },
    status: "open",
    filled: 0,
    seq,
    createdAt: new Date(NOW).toISOString(),
    ...rest,
  };
}

describe("statuses", () => {
  test("statusAfterFill", () => {
    expect(statusAfterFill(10, 0)).toBe("open");
    expect(statusAfterFill(10, 3)).toBe("partially_filled");
    expect(statusAfterFill(10, 10)).toBe("filled");
    expect(statusAfterFill(0.3, 0.1 + 0.2)).toBe("filled"); // float sums still count as full
  });

  test("isLive: open/partial and not expired", () => {
    expect(isLive(rec("a", "buy", 1), NOW)).toBe(true);
    expect(isLive(rec("a", "buy", 1, { status: "partially_filled", filled: 0.5 }), NOW)).toBe(true);
    for (const status of ["filled", "cancelled", "expired"] as const) expect(isLive(rec("a", "buy", 1, { status }), NOW)).toBe(false);
    expect(isLive(rec("a", "buy", 1, { expiresAtMs: NOW }), NOW)).toBe(false);
    expect(isLive(rec("a", "buy", 1, { expiresAtMs: NOW + 1 }), NOW)).toBe(true);
  });
});

describe("solverBook", () => {
  test("live intents only, in arrival order, with open quantity; minQuantity dropped once traded", () => {
    const records = [
      rec("late", "sell", 5, {}, 9),
      rec("part", "buy", 10, { status: "partially_filled", filled: 4, intent: { minQuantity: 4 } }, 2),
      rec("aon", "buy", 3, { intent: { minQuantity: 3 } }, 3),
      rec("gone", "buy", 3, { status: "cancelled" }, 4),
      rec("old", "buy", 3, { expiresAtMs: NOW - 1 }, 5),
      rec("done", "sell", 3, { status: "filled", filled: 3 }, 1),
    ];
    const book = solverBook(records, NOW);
    expect(book.map((i) => i.id)).toEqual(["part", "aon", "late"]);
    expect(book[0]).toMatchObject({ quantity: 6 });
    expect(book[0].minQuantity).toBeUndefined();
    expect(book[1]).toMatchObject({ quantity: 3, minQuantity: 3 });
  });
});

describe("applyFills", () => {
  const book = () => new Map([rec("b", "buy", 10), rec("s", "sell", 4), rec("s2", "sell", 20, {}, 2)].map((r) => [r.intent.id, r] as const));
  const fill = (buy: string, sell: string, quantity: number) => ({ buy, sell, resource: "gpu", quantity, price: 1.5 });

  test("sums per intent and moves statuses", () => {
    const r = applyFills(book(), [fill("b", "s", 4), fill("b", "s2", 6)], NOW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const byId = Object.fromEntries(r.updates.map((u) => [u.id, u]));
    expect(byId.b).toEqual({ id: "b", filled: 10, status: "filled" });
    expect(byId.s).toEqual({ id: "s", filled: 4, status: "filled" });
    expect(byId.s2).toEqual({ id: "s2", filled: 6, status: "partially_filled" });
  });

  test("refuses over-fills, unknown ids, wrong sides, other resources and dead intents", () => {
    expect(applyFills(book(), [fill("b", "s", 5)], NOW).ok).toBe(false);
    expect(applyFills(book(), [fill("b", "nope", 1)], NOW).ok).toBe(false);
    expect(applyFills(book(), [fill("s", "b", 1)], NOW).ok).toBe(false);
    expect(applyFills(book(), [{ ...fill("b", "s", 1), resource: "cpu" }], NOW).ok).toBe(false);
    expect(applyFills(book(), [fill("b", "s", 0)], NOW).ok).toBe(false);
    const dead = book();
    dead.set("s", { ...dead.get("s")!, expiresAtMs: NOW });
    expect(applyFills(dead, [fill("b", "s", 1)], NOW).ok).toBe(false);
  });

  test("property: accepted fills never push an intent past its quantity", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ b: fc.integer({ min: 0, max: 2 }), s: fc.integer({ min: 0, max: 2 }), q: fc.double({ min: 0.01, max: 8, noNaN: true }) }), { maxLength: 6 }),
        (raw) => {
          const records = new Map<string, IntentRecord>();
          for (let k = 0; k < 3; k++) {
            records.set(`b${k}`, rec(`b${k}`, "buy", 5 + k, { filled: k }, k));
            records.set(`s${k}`, rec(`s${k}`, "sell", 6 - k, {}, 10 + k));
          }
          const r = applyFills(records, raw.map((f) => fill(`b${f.b}`, `s${f.s}`, f.q)), NOW);
          if (!r.ok) return;
          for (const u of r.updates) {
            const q = records.get(u.id)!.intent.quantity;
            expect(u.filled).toBeLessThanOrEqual(q);
            expect(u.status).toBe(statusAfterFill(q, u.filled));
          }
        },
      ),
    );
  });
});

describe("expiry, cancel, views, settlements", () => {
  test("dueExpiries and nextExpiry", () => {
    const records = [
      rec("a", "buy", 1, { expiresAtMs: NOW - 5 }),
      rec("b", "buy", 1, { expiresAtMs: NOW + 50 }),
      rec("c", "buy", 1, { expiresAtMs: NOW + 10 }),
      rec("d", "buy", 1, { expiresAtMs: NOW - 5, status: "filled" }),
    ];
    expect(dueExpiries(records, NOW)).toEqual(["a"]);
    expect(nextExpiry(records, NOW)).toBe(NOW + 10);
    expect(nextExpiry([rec("x", "buy", 1)], NOW)).toBeUndefined();
  });

  test("cancelCheck: 404, 403 for another agent, 409 once finished, ok while live", () => {
    const r = rec("a", "buy", 1);
    expect(cancelCheck(undefined, "a", "A", NOW)).toMatchObject({ ok: false, problem: { status: 404 } });
    expect(cancelCheck(r, "a", "B", NOW)).toMatchObject({ ok: false, problem: { status: 403 } });
    expect(cancelCheck({ ...r, status: "filled" }, "a", "A", NOW)).toMatchObject({ ok: false, problem: { status: 409 } });
    expect(cancelCheck({ ...r, expiresAtMs: NOW }, "a", "A", NOW)).toMatchObject({ ok: false, problem: { status: 409, detail: "the intent is already expired" } });
    expect(cancelCheck(r, "a", "A", NOW).ok).toBe(true);
  });

  test("intentView: filled and remaining quantities; nothing remains once cancelled", () => {
    const part = rec("a", "buy", 10, { status: "partially_filled", filled: 4 });
    expect(intentView(part)).toMatchObject({ id: "a", status: "partially_filled", filledQuantity: 4, remainingQuantity: 6 });
    expect(intentView({ ...part, status: "cancelled" }).remainingQuantity).toBe(0);
    expect(remainingOf(rec("z", "buy", 1, { filled: 1 - 1e-12 }))).toBe(0);
  });

  test("buildSettlement carries gap only when given", () => {
    const result = { fills: [], welfare: 0, status: "optimal" as const, solveMs: 1, certificate: { duals: {}, bound: 0 } };
    expect(buildSettlement("s-1", "m", result, "t")).toEqual({ id: "s-1", market: "m", fills: [], welfare: 0, stats: { status: "optimal", solveMs: 1 }, certificate: { duals: {}, bound: 0 }, createdAt: "t" });
    expect(buildSettlement("s-1", "m", { ...result, status: "time_budget", gap: 2 }, "t").stats).toEqual({ status: "time_budget", solveMs: 1, gap: 2 });
  });
});

describe("guards", () => {
  test("token bucket: burst, refusal with retry time, refill", () => {
    const limits = { burst: 2, perSecond: 4 };
    let t = takeToken(undefined, NOW, limits);
    expect(t.allowed).toBe(true);
    t = takeToken(t.bucket, NOW, limits);
    expect(t.allowed).toBe(true);
    t = takeToken(t.bucket, NOW, limits);
    expect(t.allowed).toBe(false);
    if (!t.allowed) expect(t.retryAfterMs).toBeCloseTo(250);
    expect(takeToken(t.bucket, NOW + 250, limits).allowed).toBe(true);
    expect(takeToken({ tokens: 0, updatedMs: NOW }, NOW + 60_000, limits).bucket.tokens).toBe(1); // capped at burst, minus one
  });

  test("rate limits from env strings, bad values keep defaults", () => {
    expect(rateLimitsFrom({})).toEqual(DEFAULT_RATE_LIMITS);
    expect(rateLimitsFrom({ RATE_LIMIT_BURST: "5", RATE_LIMIT_PER_SECOND: "0.5" })).toEqual({ burst: 5, perSecond: 0.5 });
    expect(rateLimitsFrom({ RATE_LIMIT_BURST: "x", RATE_LIMIT_PER_SECOND: "-1" })).toEqual(DEFAULT_RATE_LIMITS);
  });

  test("idempotency: new, repeat, conflict", () => {
    const f = requestFingerprint("post", "/p", "abc");
    expect(f).toBe("POST /p abc");
    expect(idempotencyDecision(undefined, f)).toBe("new");
    expect(idempotencyDecision({ fingerprint: f }, f)).toBe("repeat");
    expect(idempotencyDecision({ fingerprint: f }, requestFingerprint("POST", "/p", "abd"))).toBe("conflict");
  });

  test("a seen signature is remembered past the end of its window", () => {
    expect(signatureForgetAt(NOW, 30_000)).toBeGreaterThan(NOW + 30_000);
  });
});

describe("mayTrade", () => {
  const i = (side: "buy" | "sell", limitPrice: number, resource = "gpu"): Intent => ({ id: `${side}${limitPrice}${resource}`, agent: "A", side, resource, quantity: 1, limitPrice, region: "r" });
  test("true only when some buyer's limit reaches a seller's in the same resource", () => {
    expect(mayTrade([i("buy", 2), i("sell", 1)])).toBe(true);
    expect(mayTrade([i("buy", 1), i("sell", 1)])).toBe(true);
    expect(mayTrade([i("buy", 1), i("sell", 2)])).toBe(false);
    expect(mayTrade([i("buy", 2, "a"), i("sell", 1, "b")])).toBe(false);
    expect(mayTrade([i("buy", 2)])).toBe(false);
    expect(mayTrade([])).toBe(false);
  });
});
