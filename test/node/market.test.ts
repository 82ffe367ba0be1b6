// The market's pure bookkeeping (src/market): book building, fills, statuses, expiry, cancel and guards.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  applyFills,
  buildSettlement,
  cancelCheck,
  dueExpiries,
  endedFields,
  intentView,
  isLive,
  mayTrade,
  nextExpiry,
  remainingOf,
  solverBook,
  statusAfterFill,
  stopsTradingAt,
  type IntentRecord,
} from "../../src/market/book.ts";
import { arrivalTrades } from "../../src/market/clearing.ts";
import { DEFAULT_LATENCY, priceAllocation, solve, verify } from "../../src/solver/index.ts";
import { seededRandom } from "../../src/random.ts";
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

describe("time and priority (CONTRACT.md sections 2a and 3)", () => {
  const H = 3_600_000;
  const iso = (ms: number) => new Date(ms).toISOString();

  test("an intent stops trading at its expiry or when a window it trades in ends, whichever is first", () => {
    expect(stopsTradingAt({})).toBeUndefined();
    expect(stopsTradingAt({ expiresAt: iso(NOW + 5 * H), window: { start: iso(NOW), end: iso(NOW + 2 * H) } })).toBe(NOW + 2 * H);
    expect(stopsTradingAt({ expiresAt: iso(NOW + H), window: { start: iso(NOW), end: iso(NOW + 2 * H) } })).toBe(NOW + H);
    // A swap: both legs must still have time.
    const swapFor = { resource: "r", window: { start: iso(NOW + 4 * H), end: iso(NOW + 6 * H) } };
    expect(stopsTradingAt({ window: { start: iso(NOW), end: iso(NOW + 8 * H) }, swapFor })).toBe(NOW + 6 * H);
    // As expiry: not live from that instant on, and due for the alarm.
    const r = rec("w", "sell", 10, { expiresAtMs: stopsTradingAt({ window: { start: iso(NOW - H), end: iso(NOW + H) } }) });
    expect(isLive(r, NOW + H - 1)).toBe(true);
    expect(isLive(r, NOW + H)).toBe(false);
    expect(dueExpiries([r], NOW + H)).toEqual(["w"]);
    expect(nextExpiry([r], NOW)).toBe(NOW + H);
  });

  test("an arrival whose expiry or window has already ended is refused by field", () => {
    const ended = endedFields(
      { expiresAt: iso(NOW), window: { start: iso(NOW - 2 * H), end: iso(NOW - H) }, swapFor: { resource: "r", window: { start: iso(NOW), end: iso(NOW + H) } } },
      NOW,
    );
    expect(ended.map((e) => e.field)).toEqual(["expiresAt", "window.end"]);
    // A window under way (started before now, ends after) is fine: what is left of it trades.
    expect(endedFields({ window: { start: iso(NOW - H), end: iso(NOW + 1) } }, NOW)).toEqual([]);
  });

  test("a high arrival's trades: its own fills, and through swaps the chains it is in; a plain counterparty's other fills are not", () => {
    const fills = [
      { buy: "h", sell: "s1", quantity: 30 },
      { buy: "b", sell: "s1", quantity: 50 }, // s1's other trade: waits for the close
      { buy: "h", sell: "swap", quantity: 20 },
      { buy: "swap", sell: "s2", quantity: 20 }, // the swap's other leg: one chain with h
      { buy: "x", sell: "y", quantity: 5 },
    ];
    expect(Object.fromEntries(arrivalTrades(fills, "h", new Set(["swap"])))).toEqual({ h: 50, s1: 30, swap: 20, s2: 20 });
    expect(arrivalTrades(fills, "nobody", new Set()).size).toBe(0);
  });

  test("priority breaks ties between equal-welfare allocations, never moves a price", () => {
    const r = seededRandom(16);
    const priorities = ["low", "normal", "high"] as const;
    let changedWho = 0;
    for (let k = 0; k < 200; k++) {
      // Coarse limits and a few regions, so equal limits (ties) are common.
      const book: Intent[] = Array.from({ length: 4 + Math.floor(r() * 10) }, (_, i) => ({
        id: `i${i}`,
        agent: `a${i}`,
        side: r() < 0.5 ? "buy" : "sell",
        resource: r() < 0.8 ? "gpu" : "cpu",
        quantity: 1 + Math.floor(r() * 20),
        limitPrice: 1 + Math.floor(r() * 4) / 2,
        region: r() < 0.7 ? "eu-west" : "eu-central",
      }));
      const plain = solve(book, DEFAULT_LATENCY);
      const ranked = book.map((i) => ({ ...i, priority: priorities[Math.floor(r() * 3)] }));
      const withPriority = solve(ranked, DEFAULT_LATENCY);
      expect(withPriority.welfare).toBeCloseTo(plain.welfare, 9);
      expect(verify(ranked, DEFAULT_LATENCY, withPriority).ok).toBe(true);
      // Prices come from the allocation alone: the same allocation priced with no priorities at all gives the
      // same prices (priority chooses among equal-welfare allocations, never enters the price).
      const unranked = priceAllocation(book, DEFAULT_LATENCY, withPriority.fills);
      expect(unranked.map((f) => f.price)).toEqual(withPriority.fills.map((f) => f.price));
      if (JSON.stringify(plain.fills.map((f) => [f.buy, f.sell])) !== JSON.stringify(withPriority.fills.map((f) => [f.buy, f.sell]))) changedWho++;
    }
    // The tie-break does act: on some books priority changed who traded.
    expect(changedWho).toBeGreaterThan(10);
  });

  test("among buyers of equal limit the higher priority fills first; its price is the same", () => {
    const book = (p1: "low" | "normal" | "high", p2: "low" | "normal" | "high"): Intent[] => [
      { id: "b1", agent: "x", side: "buy", resource: "r", quantity: 10, limitPrice: 2, region: "eu-west", priority: p1 },
      { id: "b2", agent: "y", side: "buy", resource: "r", quantity: 10, limitPrice: 2, region: "eu-west", priority: p2 },
      { id: "s", agent: "z", side: "sell", resource: "r", quantity: 10, limitPrice: 1, region: "eu-west" },
    ];
    for (const [p1, p2, winner] of [["normal", "high", "b2"], ["high", "normal", "b1"], ["low", "normal", "b2"], ["normal", "low", "b1"]] as const) {
      const { fills } = solve(book(p1, p2), DEFAULT_LATENCY);
      expect(fills).toEqual([{ buy: winner, sell: "s", resource: "r", quantity: 10, price: 1.5 }]);
    }
  });
});
