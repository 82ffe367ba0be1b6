// Continuous clearing with a warm start: a solve handed the previous solve's `warmStart` must give the same welfare
// as a cold solve, on random sequences of arrivals, fills, cancels and expiries, edits, reorders and new regions; on
// windowed books, the same result (the components a cold solve finds, from the earlier book's).
import { describe, expect, it } from "vitest";
import { compatible, DEFAULT_LATENCY, solve, verify, type SolveResult } from "../../src/solver/index.ts";
import { timeComponents } from "../../src/solver/components.ts";
import { TimeWarm } from "../../src/solver/time-warm.ts";
import { catalogClasses, updateClasses, type ClassIndex } from "../../src/solver/classes.ts";
import type { Intent, LatencyTable } from "../../src/contract/schema.ts";
import { seededRandom as rng } from "../../src/random.ts";
import { generateBook as generate } from "../../support/generate.ts";
import { generateWindowedMarket } from "../../support/generate-time.ts";

const close = (a: number, b: number, what: string) =>
  expect(Math.abs(a - b), what).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));

/** The index is a valid class index for `intents`: classes of compatible intents, price order, every pair covered. */
function checkIndex(intents: readonly Intent[], latency: LatencyTable, idx: ClassIndex, what: string) {
  const pairs = new Set<number>();
  for (let e = 0; e < idx.edgeBuy.length; e++) pairs.add(idx.edgeBuy[e] * 10_000 + idx.edgeSell[e]);
  const seen = new Set<number>();
  for (const side of ["buy", "sell"] as const) {
    idx[side].forEach((c, k) => {
      for (let m = 0; m < c.members.length; m++) {
        const i = c.members[m];
        seen.add(i);
        expect(intents[i].side, what).toBe(side);
        expect(idx.classOf[i], what).toBe(k);
        if (m > 0) {
          const [p, q] = [intents[c.members[m - 1]].limitPrice, intents[i].limitPrice];
          expect(side === "buy" ? p >= q : p <= q, `${what}: price order`).toBe(true);
        }
      }
    });
  }
  intents.forEach((it, i) => expect(seen.has(i), `${what}: intent ${it.id} in a class`).toBe(it.quantity > 0));
  for (let b = 0; b < intents.length; b++) {
    if (intents[b].side !== "buy" || !(intents[b].quantity > 0)) continue;
    for (let s = 0; s < intents.length; s++) {
      if (intents[s].side !== "sell" || !(intents[s].quantity > 0)) continue;
      const edge = pairs.has(idx.classOf[b] * 10_000 + idx.classOf[s]);
      expect(edge, `${what}: ${intents[b].id}/${intents[s].id}`).toBe(compatible(intents[b], intents[s], latency));
    }
  }
}

describe("warm start: the same welfare as a cold solve", () => {
  it("on 40 random sequences of arrivals, fills, cancels, edits, reorders and new regions", () => {
    let warmUsed = 0;
    let steps = 0;
    for (let seq = 1; seq <= 40; seq++) {
      const r = rng(1000 + seq);
      const latency = DEFAULT_LATENCY;
      let nextId = 0;
      const fresh = (k: number, seed: number): Intent[] =>
        generate(k, seed, { allOrNoneShare: seq % 3 === 0 ? 0.15 : 0, minQuantityShare: seq % 4 === 0 ? 0.1 : 0 }).map((it) => {
          // Sometimes the id of an intent that has left (ids are unique within a book).
          const id = r() < 0.05 && nextId > 0 ? `n${Math.floor(r() * nextId)}` : `n${nextId++}`;
          return { ...it, id };
        });
      let book = fresh(Math.floor(r() * 80), seq * 7);
      book = book.filter((it, k) => book.findIndex((x) => x.id === it.id) === k);
      let warm: unknown;
      let prevCatalog = catalogClasses(book, latency);
      for (let step = 0; step < 25; step++) {
        steps++;
        const what = `sequence ${seq}, step ${step}`;
        const w = solve(book, latency, { warmStart: warm, timeBudgetMs: 10_000, nodeBudget: 1_000_000 });
        const c = solve(book, latency, { timeBudgetMs: 10_000, nodeBudget: 1_000_000 });
        expect(w.status, what).toBe(c.status);
        close(w.welfare, c.welfare, what);
        const v = verify(book, latency, w);
        expect(v, what).toEqual({ ok: true });
        // The reused index itself is exact (when the catalog could be reused).
        const upd = updateClasses(book, latency, prevCatalog);
        if (upd) warmUsed++;
        prevCatalog = upd ?? catalogClasses(book, latency, true, true); // what solve does
        checkIndex(book, latency, prevCatalog.idx, what);
        warm = w.warmStart;

        // The next book: fills applied (fully filled intents leave), cancels and expiries, edits, arrivals.
        const filled = new Map<string, number>();
        for (const f of w.fills) {
          filled.set(f.buy, (filled.get(f.buy) ?? 0) + f.quantity);
          filled.set(f.sell, (filled.get(f.sell) ?? 0) + f.quantity);
        }
        const next: Intent[] = [];
        for (const it of book) {
          const left = it.quantity - (filled.get(it.id) ?? 0);
          if (left <= 1e-9 * it.quantity || r() < 0.08) continue; // filled, cancelled or expired
          const x: Intent = { ...it, quantity: left };
          if (filled.has(it.id)) delete x.minQuantity;
          const u = r();
          if (u < 0.1) x.quantity = left * (0.3 + r()); // a changed open quantity
          else if (u < 0.13) x.limitPrice = it.limitPrice * (0.9 + 0.2 * r()); // a replaced intent: new class facts
          else if (u < 0.15) x.maxLatencyMs = [undefined, 25, 100, 200][Math.floor(r() * 4)];
          else if (u < 0.16) x.quantity = 0; // nothing open: out of every class
          if ((x.minQuantity ?? 0) > x.quantity) x.minQuantity = x.quantity;
          next.push(x);
        }
        const live = new Set(next.map((it) => it.id));
        const arrivals = fresh(1 + Math.floor(r() * 6), seq * 1000 + step).map((a) => {
          const x = live.has(a.id) ? { ...a, id: `n${nextId++}` } : a;
          live.add(x.id);
          return x;
        });
        if (r() < 0.06) arrivals[0] = { ...arrivals[0], region: "sa-east" }; // a region the catalog has not seen
        for (const a of arrivals) next.splice(Math.floor(r() * (next.length + 1)), 0, a);
        if (r() < 0.1) next.reverse();
        book = next;
      }
    }
    expect(warmUsed).toBeGreaterThan(steps * 0.7); // most steps did reuse the catalog
  });

  it("ignores a warm state that does not match: another market, another latency table, a forged or copied one", () => {
    const a = generate(60, 1);
    const b = generate(60, 2).map((it) => ({ ...it, id: `b-${it.id}` }));
    const fromA = solve(a, DEFAULT_LATENCY).warmStart;
    const cold = solve(b, DEFAULT_LATENCY);
    const otherTable: LatencyTable = JSON.parse(JSON.stringify(DEFAULT_LATENCY));
    otherTable["us-east"]["eu-west"] = 500; // same regions, different caps: the classes differ
    const coldOther = solve(b, otherTable);
    for (const warmStart of [fromA, {}, JSON.parse(JSON.stringify(fromA)), null, 42, Object.create(Object.getPrototypeOf(fromA))]) {
      const r = solve(b, DEFAULT_LATENCY, { warmStart });
      close(r.welfare, cold.welfare, "another book");
      expect(verify(b, DEFAULT_LATENCY, r)).toEqual({ ok: true });
    }
    const r = solve(b, otherTable, { warmStart: solve(b, DEFAULT_LATENCY).warmStart });
    close(r.welfare, coldOther.welfare, "another latency table");
    expect(verify(b, otherTable, r)).toEqual({ ok: true });
  });

  it("books with swaps solve cold and hand no warm state on", () => {
    const book: Intent[] = [
      ...generate(30, 5),
      { id: "sw", agent: "sw", side: "sell", kind: "swap", resource: "gpu-h100-hr", quantity: 10, limitPrice: 1, region: "eu-west", swapFor: { resource: "storage-tb-day", limitPrice: 2 } },
    ];
    const r = solve(book, DEFAULT_LATENCY, { warmStart: solve(generate(30, 5), DEFAULT_LATENCY).warmStart });
    expect(r.warmStart).toBeUndefined();
    close(r.welfare, solve(book, DEFAULT_LATENCY).welfare, "swaps");
  });
});

describe("warm start, windowed books: the same result as a cold solve", () => {
  const options = { regions: 4, resources: 2, horizonHours: 24, minQuantityShare: 0, allOrNoneShare: 0 };
  /** A windowed book that no longer trades: a market re-solved on its leftovers until nothing fills. */
  function settledBook(seed: number, size: number, extra: object = {}) {
    const m = generateWindowedMarket(seed, { ...options, size, ...extra });
    let book = m.intents;
    for (let round = 0; round < 60; round++) {
      const r = solve(book, m.latency, { now: m.now });
      if (r.fills.length === 0) break;
      const filled = new Map<string, number>();
      for (const f of r.fills) for (const id of [f.buy, f.sell]) filled.set(id, (filled.get(id) ?? 0) + f.quantity);
      book = book.flatMap((it) => {
        const left = it.quantity - (filled.get(it.id) ?? 0);
        return left > 1e-9 * it.quantity ? [{ ...it, quantity: left }] : [];
      });
    }
    return { ...m, intents: book };
  }
  const same = (a: SolveResult, b: SolveResult, what: string) =>
    expect({ ...a, solveMs: 0, warmStart: 0 }, what).toEqual({ ...b, solveMs: 0, warmStart: 0 });

  it("arrivals one at a time (windowed, windowless, swaps, deferrals, soft latency): components and results equal", () => {
    let warmUsed = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const extra = seed % 3 === 0 ? { swapShare: 0.15, deferralShare: 0.1, agents: 40 } : seed % 3 === 1 ? { windowlessShare: 0.4 } : {};
      const m = settledBook(seed, 160, extra);
      const arrivals = generateWindowedMarket(seed + 100, { ...options, size: 12, now: m.now, ...extra }).intents.map((it) => ({ ...it, id: `new-${it.id}`, agent: `new-${it.agent}` }));
      let book = m.intents;
      let last = solve(book, m.latency, { now: m.now });
      for (const a of arrivals) {
        const grown = [...book, a];
        const comps = TimeWarm.of(last.warmStart)?.grown(grown, m.latency, m.now)?.comps;
        if (comps) {
          warmUsed++;
          expect(comps.map((c) => [...c]), `seed ${seed}, ${a.id}: components`).toEqual(timeComponents(grown, m.latency, m.now).map((c) => [...c]));
        }
        const warm = solve(grown, m.latency, { now: m.now, warmStart: last.warmStart });
        same(warm, solve(grown, m.latency, { now: m.now }), `seed ${seed}, ${a.id}`);
        expect(verify(grown, m.latency, warm, { now: m.now }), `seed ${seed}, ${a.id}`).toEqual({ ok: true });
        // An arrival that traded leaves a book that may cross again: the next one starts from it cold.
        if (warm.fills.length === 0) [book, last] = [grown, warm];
      }
    }
    expect(warmUsed).toBeGreaterThan(60);
  });

  it("ignores a warm state that does not fit: an intent changed in place, removed or moved, another now or table, a new boundary, a forgery", () => {
    const m = settledBook(7, 120);
    const arrival: Intent = { id: "new", agent: "new", side: "sell", resource: m.intents[0].resource, quantity: 5, limitPrice: 0.01, region: m.intents[0].region };
    const check = (book: Intent[], latency: LatencyTable, now: number, warmStart: unknown, what: string) => {
      expect(TimeWarm.of(warmStart)?.grown(book, latency, now), what).toBeUndefined();
      const warm = solve(book, latency, { now, warmStart });
      same(warm, solve(book, latency, { now }), what);
      expect(verify(book, latency, warm, { now }), what).toEqual({ ok: true });
    };
    // Changed in place after the solve: a buyer that now crosses everything (the earlier components do not hold it).
    const book = m.intents.map((it) => ({ ...it, window: it.window && { ...it.window } }));
    const warmStart = solve(book, m.latency, { now: m.now }).warmStart;
    const buyer = book.findIndex((it) => it.side === "buy" && it.window);
    book[buyer].limitPrice = 1e3;
    check([...book, arrival], m.latency, m.now, warmStart, "a limit raised in place");
    book[buyer].limitPrice = m.intents[buyer].limitPrice;
    expect(TimeWarm.of(warmStart)?.grown([...book, arrival], m.latency, m.now), "restored").toBeDefined();
    book[buyer].window!.end = book[buyer].window!.start;
    check([...book, arrival], m.latency, m.now, warmStart, "a window changed in place");
    const fresh = solve(m.intents, m.latency, { now: m.now }).warmStart;
    check([...m.intents.slice(1), arrival], m.latency, m.now, fresh, "an intent removed");
    check([...m.intents.slice(1), m.intents[0], arrival], m.latency, m.now, fresh, "an intent moved");
    check([...m.intents, arrival], m.latency, m.now + 60_000, fresh, "another now");
    check([...m.intents, arrival], JSON.parse(JSON.stringify(m.latency)), m.now, fresh, "another table");
    const odd = { ...arrival, window: { start: new Date(m.now + 90 * 60_000 + 17).toISOString(), end: new Date(m.now + 5 * 3_600_000 + 17).toISOString() } };
    check([...m.intents, odd], m.latency, m.now, fresh, "a new boundary");
    for (const forged of [{}, JSON.parse(JSON.stringify(fresh)), Object.create(Object.getPrototypeOf(fresh))]) check([...m.intents, arrival], m.latency, m.now, forged, "a forgery");
  });
});
