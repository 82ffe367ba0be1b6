// The swap LP's exact optimum, for judging settlements of books with swaps (and no minimums), and the hostile swap
// books scripts/swap-books.ts and test/node/solver-swap-exact.test.ts throw at the solver. Shares no code with
// src/solver: compatibility from support/compat-time.ts (read from the contract), the LP by exact.ts's rational
// simplex.
import fc from "fast-check";
import type { Fill, Intent, LatencyTable } from "../../src/contract/schema.ts";
import { isSwap, tradableLegPairs } from "../../support/compat-time.ts";
import { exactOf, simplex, toNumber, type Q } from "./exact.ts";

/**
 * The LP optimum with swaps, exactly: max Σ gain·x over leg pairs; a plain intent's fills ≤ its quantity; a swap's
 * given ≤ its quantity and given = taken.
 */
export function exactSwapOptimum(intents: readonly Intent[], latency: LatencyTable): number {
  const pairs = tradableLegPairs(intents, latency);
  const c: Q[] = pairs.map((p) => {
    const b = exactOf(p.buyLimit);
    const s = exactOf(p.sellLimit);
    const d = b.d * s.d;
    return { n: b.n * s.d - s.n * b.d, d };
  });
  const ONE: Q = { n: 1n, d: 1n };
  const MINUS: Q = { n: -1n, d: 1n };
  const ZERO: Q = { n: 0n, d: 1n };
  const rows: { coef: Map<number, Q>; kind: "<=" | ">="; rhs: Q }[] = [];
  for (const it of intents) {
    const given = new Map<number, Q>();
    const balance = new Map<number, Q>();
    pairs.forEach((p, k) => {
      if (p.sell.intent === it) given.set(k, ONE), balance.set(k, ONE);
      else if (p.buy.intent === it) {
        if (!isSwap(it)) given.set(k, ONE);
        else balance.set(k, MINUS);
      }
    });
    if (given.size === 0 && balance.size === 0) continue;
    rows.push({ coef: given, kind: "<=", rhs: exactOf(it.quantity) });
    if (isSwap(it)) rows.push({ coef: balance, kind: "<=", rhs: ZERO }, { coef: balance, kind: ">=", rhs: ZERO });
  }
  if (pairs.length === 0) return 0;
  return toNumber(simplex(pairs.length, c, rows)!.value);
}

/** Σ |gain × quantity| over the fills, each hop's gain the buyer's limit (a swap's: its swapFor limit) less the seller's. */
export function grossWelfare(intents: readonly Intent[], fills: readonly Fill[]): number {
  const byId = new Map(intents.map((it) => [it.id, it]));
  let sum = 0;
  for (const f of fills) {
    const b = byId.get(f.buy)!;
    const value = b.swapFor ? (b.swapFor.limitPrice ?? 0) : b.limitPrice;
    sum += Math.abs((value - byId.get(f.sell)!.limitPrice) * f.quantity);
  }
  return sum;
}

const RESOURCES = ["r0", "r1", "r2", "r3"];
const extreme = <T>(...xs: T[]) => fc.constantFrom(...xs);
/**
 * What a hostile agent sends against swap components: rings of two to six swaps over four resources whose limits mix
 * 1e9, 1e-6 and 0 and whose sizes mix 1e12 and 1e-6, up to three plain intents, and maybe a plain whale of 1e12.
 */
export const swapRingBooks = fc
  .record({
    swaps: fc.array(
      fc.record({ agent: extreme("a0", "a1", "a2", "a3", "a4"), gives: fc.nat(3), step: fc.integer({ min: 1, max: 3 }), quantity: extreme(1e12, 1e-6, 1, 100), limit: extreme(1e9, 1e-6, 0, 1, 1.5), wants: extreme(1e9, 1e-6, 0, 1, 2.5) }),
      { minLength: 2, maxLength: 6 },
    ),
    plain: fc.array(fc.record({ agent: extreme("a0", "a5", "a6"), side: extreme("buy" as const, "sell" as const), resource: fc.nat(3), quantity: extreme(1e12, 1e-6, 1, 50), limit: extreme(1e9, 1e-6, 0, 1, 2) }), { maxLength: 3 }),
    whale: fc.option(fc.record({ side: extreme("buy" as const, "sell" as const), resource: fc.nat(3), limit: extreme(1e9, 1e-6, 0, 1) })),
    latency: extreme<LatencyTable>({}, { eu: { us: 10 } }),
    regions: fc.array(extreme("eu", "us"), { minLength: 10, maxLength: 10 }),
  })
  .map(({ swaps, plain, whale, latency, regions }) => {
    const intents: Intent[] = swaps.map((w, k) => ({
      id: `w${k}`, agent: w.agent, side: "sell", kind: "swap", resource: RESOURCES[w.gives], quantity: w.quantity, limitPrice: w.limit,
      region: regions[k], swapFor: { resource: RESOURCES[(w.gives + w.step) % 4], limitPrice: w.wants },
    }));
    plain.forEach((p, k) => intents.push({ id: `p${k}`, agent: p.agent, side: p.side, resource: RESOURCES[p.resource], quantity: p.quantity, limitPrice: p.limit, region: regions[6 + k], maxLatencyMs: 50 }));
    if (whale) intents.push({ id: "whale", agent: "a7", side: whale.side, resource: RESOURCES[whale.resource], quantity: 1e12, limitPrice: whale.limit, region: regions[9] });
    return { intents, latency };
  });
