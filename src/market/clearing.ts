// Continuous clearing: which part of the live book one event has to solve, and the settled-book invariant that
// lets an arrival into a settled book solve only what it can reach. The solve itself is `settle`; the reads are
// the store's; committing is the caller's (`commit`), so this runs in Node against node:sqlite too.
import type { Fill, LatencyTable, Settlement } from "../contract/schema.ts";
import type { SolveResult } from "../solver/index.ts";
import { compatible } from "../solver/latency.ts";
import { applyFills, connectedResources, crossedPair, isSwap, mayTrade, remainingOf, solverBook, type IntentRecord, type IntentUpdate } from "./book.ts";
import { settle, type Settled } from "./settle.ts";
import type { MarketStore } from "./store.ts";

/** Budget for one continuous or batch clearing: the solver returns its best with a gap when it runs out. */
export const SOLVE_TIME_BUDGET_MS = 100;
/** How many counterparties one arrival's walk reads before it reads every crossing intent instead. */
const COUNTERPARTY_WALK = 64;
/** The first, short walk (most arrivals are covered by their best counterparty or two). */
const COUNTERPARTY_FIRST_WALK = 8;

/** A committed clearing: its settlement and what it did to each intent it filled. */
export interface Cleared {
  settlement: Settlement;
  updates: readonly IntentUpdate[];
}

/** What clearing needs from the market around it. */
export interface ClearingHost {
  readonly store: MarketStore;
  /** Marks what is due as expired (and announces it) before the book is read. */
  expireDue(now: number): void;
  /** Commits a verified result's settlement with these updates, in one transaction; the settlement. */
  commit(result: SolveResult, updates: readonly IntentUpdate[], now: number): Settlement;
  log(message: string, ...details: unknown[]): void;
}

/** One solve's outcome: what it committed, whether the book is left settled, whether the solve claimed optimal. */
interface Pass {
  cleared?: Cleared;
  settled: boolean;
  optimal: boolean;
}

export class ContinuousClearing {
  /**
   * Whether every resource's live book was left at its optimum by the last clearing: then one arrival only needs
   * its own resource solved, and a plain arrival only its best counterparties. False until a clearing of the whole
   * book has proven it, and after a clearing that failed or stopped short of optimal. Set only by `clear`.
   */
  private settled = false;
  /** The last solve's warm start (its intent classes); the solver checks it fits before using it. */
  private warmStart: unknown;
  private readonly host: ClearingHost;

  constructor(host: ClearingHost) {
    this.host = host;
  }

  get bookSettled(): boolean {
    return this.settled;
  }

  /**
   * Clears the live book after `arrived` (or any other change: then the whole book) and commits what trades.
   * Never throws: the event that triggered it has already been accepted, and a failed clearing (a bug) has rolled
   * back entirely, so the book stays as it was and the next clearing solves it whole. The book is marked settled
   * only while no compatible crossing pair rests in it: an "optimal" solve that left one (a solver fault) is logged
   * and the whole book cleared once more; a pair still there leaves the book unsettled.
   */
  clear(now: number, latency: LatencyTable, arrived?: IntentRecord): Cleared | undefined {
    const scope = this.settled ? arrived?.intent.resource : undefined;
    let settled = false;
    let cleared: Cleared | undefined;
    try {
      const first = this.pass(now, latency, arrived);
      ({ settled, cleared } = first);
      const pair = first.optimal ? this.restingCrossedPair(scope, latency, now) : undefined;
      if (pair) {
        this.host.log(`an optimal clearing left the crossing pair ${pair.buy} / ${pair.sell}; clearing the whole book again`);
        const again = this.pass(now, latency);
        settled = again.settled && !this.restingCrossedPair(undefined, latency, now);
        cleared = merged(first.cleared, again.cleared);
      }
    } catch (err) {
      settled = false;
      cleared = undefined;
      this.host.log("clearing failed and was rolled back", err);
    }
    this.settled = settled;
    return cleared;
  }

  /** One solve of the live book (in a settled book, of what one arrival can reach) and its commit. */
  private pass(now: number, latency: LatencyTable, arrived?: IntentRecord): Pass {
    this.host.expireDue(now);
    const records = this.reach(now, latency, this.settled ? arrived : undefined);
    const book = records ? solverBook(records.values(), now) : [];
    // Nothing can trade: a whole book is proven settled, and a settled book stays so.
    if (!records || !mayTrade(book)) return { settled: true, optimal: false };
    const settled = settle(book, latency, { timeBudgetMs: SOLVE_TIME_BUDGET_MS, warmStart: this.warmStart, verifyEmpty: false, now });
    this.warmStart = settled.result.warmStart;
    // Only a proven optimum leaves nothing to trade in the rest of the book.
    const optimal = settled.result.status === "optimal";
    const cleared = this.commitVerified(records, settled, now);
    return { ...(cleared ? { cleared } : {}), settled: optimal && cleared !== null, optimal };
  }

  /** Commits a verified result's fills (none: undefined); null when it cannot be committed (logged). */
  private commitVerified(records: ReadonlyMap<string, IntentRecord>, settled: Settled, now: number): Cleared | undefined | null {
    const { result } = settled;
    if (result.fills.length === 0) return undefined;
    if (!settled.verified) {
      this.host.log("solver result failed verification, nothing committed", settled.errors);
      return null;
    }
    const applied = applyFills(records, result.fills, now);
    if (!applied.ok) {
      this.host.log("fills do not fit the book, nothing committed", applied.errors);
      return null;
    }
    return { settlement: this.host.commit(result, applied.updates, now), updates: applied.updates };
  }

  /**
   * A `"high"` priority arrival in a batch market (CONTRACT.md section 3): it clears at once against the resting
   * book as it stands, and only the trades that involve it commit; the rest of the book waits for the close. The
   * book of the arrival's resources (and those swaps link to them) is solved; the arrival's trades are the fills
   * that reach it through swaps (the chains and rings it is in); their intents, capped at what they trade there,
   * are solved again alone, so that what commits is an exact, verified and Nash-priced settlement of those intents.
   * Never throws (as `clear`). Leaves the continuous book's state alone: a batch book is never "settled".
   */
  clearArrival(now: number, latency: LatencyTable, arrived: IntentRecord): Cleared | undefined {
    try {
      this.host.expireDue(now);
      const { store } = this.host;
      const records = store.liveRecordsOf(connectedResources(arrived.intent.resource, store.swapLinks()));
      const book = solverBook(records.values(), now);
      if (!book.some((i) => i.id === arrived.intent.id) || !mayTrade(book)) return undefined;
      const whole = settle(book, latency, { timeBudgetMs: SOLVE_TIME_BUDGET_MS, verifyEmpty: false, now });
      if (!whole.verified) return undefined;
      const traded = arrivalTrades(whole.result.fills, arrived.intent.id, new Set(book.filter(isSwap).map((i) => i.id)));
      if (traded.size === 0) return undefined;
      const sub = book.filter((i) => traded.has(i.id)).map((i) => ({ ...i, quantity: Math.min(i.quantity, traded.get(i.id)!) }));
      return this.commitVerified(records, settle(sub, latency, { timeBudgetMs: SOLVE_TIME_BUDGET_MS, now }), now) ?? undefined;
    } catch (err) {
      this.host.log("clearing a high-priority arrival failed and was rolled back", err);
      return undefined;
    }
  }

  /** Marks the book as not known to be settled (an intent rests that no clearing has seen): the next clearing
   *  solves the whole book. */
  unsettle(): void {
    this.settled = false;
  }

  /**
   * The records to solve: the whole live book without an arrival. With one (into a settled book): only its
   * resource, plus every resource live swaps connect to it (a swap of R for S puts R's buyers and S's sellers in
   * one chain or ring), transitively; a plain arrival only its best counterparties; else the intents that
   * price-cross someone (the others can be in no fill). Undefined when nothing crosses.
   */
  private reach(now: number, latency: LatencyTable, arrived?: IntentRecord): Map<string, IntentRecord> | undefined {
    const { store } = this.host;
    if (!arrived) return store.liveRecords();
    const resource = arrived.intent.resource;
    const linked = connectedResources(resource, store.swapLinks());
    // With swaps, whether prices cross is a property of a whole chain, not of one resource's bid and ask.
    if (linked.size > 1) return store.liveRecordsOf(linked);
    const best = this.bestCounterparties(arrived, latency, now);
    if (best) return best;
    const crossing = this.crossingRecords(resource, now);
    return crossing && new Map(crossing.map((r) => [r.intent.id, r] as const));
  }

  /** `resource`'s live intents that price-cross someone, or undefined when its best bid is below its best ask. */
  private crossingRecords(resource: string, now: number): IntentRecord[] | undefined {
    const { store } = this.host;
    const bid = store.bestLimit(resource, "buy", now);
    const ask = bid === null ? null : store.bestLimit(resource, "sell", now);
    if (bid === null || ask === null || bid < ask) return undefined;
    return store.crossing(resource, bid, ask, now);
  }

  /**
   * The records to solve when plain intent `arrived` joins a settled book (no swaps touch its resource): the arrival
   * and its compatible counterparties, best price first (ties in index order, the walk must not sort), until their
   * open quantity covers the arrival's. Nothing else can trade: the book held no trade before (settled), so any
   * improving exchange of the new book starts at the arrival, and its best exchange is its best counterparties.
   * Linear pricing makes this exact; what breaks it is an untraded opposite intent with a minimum (the arrival may
   * lift it over its minimum, with others), so then it answers undefined and clearing reads every crossing intent.
   */
  private bestCounterparties(arrived: IntentRecord, latency: LatencyTable, now: number): Map<string, IntentRecord> | undefined {
    const a = arrived.intent;
    if (a.swapFor !== undefined) return undefined;
    const buying = a.side === "buy";
    const other = buying ? "sell" : "buy";
    if (this.host.store.reachableMinimum(a.resource, other, a.limitPrice, now)) return undefined;
    // A bounded walk, short first: the best counterparty or two usually cover an arrival, and every row read is
    // allocated. An arrival that needs more of the book than the long walk goes the crossing-read way.
    for (const walk of [COUNTERPARTY_FIRST_WALK, COUNTERPARTY_WALK]) {
      const records = new Map([[a.id, arrived]]);
      let covered = 0;
      const rows = this.host.store.counterparties(a.resource, other, a.limitPrice, walk + 1, now);
      for (const r of rows.slice(0, walk)) {
        if (!compatible(buying ? a : r.intent, buying ? r.intent : a, latency)) continue;
        records.set(r.intent.id, r);
        covered += remainingOf(r);
        if (covered >= a.quantity) return records;
      }
      // The whole reachable side is in hand (it did not cover the arrival); else walk further, or give up.
      if (rows.length <= walk) return records;
    }
    return undefined;
  }

  /**
   * A compatible crossing pair resting in `resource`'s live book (every resource's when undefined): where the best
   * bid is below the best ask nothing crosses (two index reads); only a crossed resource has its crossing intents
   * read and checked pair by pair (`crossedPair`, src/market/book.ts).
   */
  private restingCrossedPair(resource: string | undefined, latency: LatencyTable, now: number): { buy: string; sell: string } | undefined {
    for (const r of resource !== undefined ? [resource] : this.host.store.liveResources()) {
      const crossing = this.crossingRecords(r, now);
      const pair = crossing && crossedPair(solverBook(crossing, now), latency);
      if (pair) return pair;
    }
    return undefined;
  }
}

/** Two committed clearings as one answer: the arrival's status is the later one's, and so is the settlement shown. */
function merged(first: Cleared | undefined, again: Cleared | undefined): Cleared | undefined {
  if (!first || !again) return first ?? again;
  return { settlement: again.settlement, updates: [...first.updates.filter((u) => !again.updates.some((v) => v.id === u.id)), ...again.updates] };
}

/**
 * The trades of intent `id` in these fills, as how much each intent in them gives or takes there: the fills that
 * name it, and through every swap among their parties (a swap passes on what it takes) that swap's other fills,
 * transitively. A plain counterparty links no further: its other fills are other trades.
 */
export function arrivalTrades(fills: readonly Pick<Fill, "buy" | "sell" | "quantity">[], id: string, swaps: ReadonlySet<string>): Map<string, number> {
  const reached = new Set([id]);
  const kept = new Set<number>();
  const todo = [id];
  while (todo.length > 0) {
    const at = todo.pop()!;
    fills.forEach((f, k) => {
      if (kept.has(k) || (f.buy !== at && f.sell !== at)) return;
      kept.add(k);
      for (const other of [f.buy, f.sell]) {
        if (reached.has(other)) continue;
        reached.add(other);
        if (swaps.has(other)) todo.push(other);
      }
    });
  }
  // What counts against an intent's quantity: a plain buy what it takes, a seller or swap what it gives.
  const amount = new Map<string, number>();
  for (const k of kept) {
    const f = fills[k];
    if (!swaps.has(f.buy)) amount.set(f.buy, (amount.get(f.buy) ?? 0) + f.quantity);
    amount.set(f.sell, (amount.get(f.sell) ?? 0) + f.quantity);
  }
  return amount;
}
