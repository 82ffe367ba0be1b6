// A market's order book as pure bookkeeping: which intents may trade, what a solve's fills do to them, how
// statuses move, expiry and cancellation. No storage and no Cloudflare imports: the market Durable Object loads
// records, calls these functions and persists what they return; Node tests exercise them directly.
import type { FieldError, Fill, Intent, IntentFillView, IntentStatus, IntentView, LatencyTable, Settlement } from "../contract/schema.ts";
import { compatible } from "../solver/latency.ts";
import { failure, success, type Outcome } from "./outcome.ts";
import type { SolveResult } from "../solver/index.ts";

/** Relative tolerance for "fully filled": fills are fractional floats, and 1e-9 of a unit is no trade. */
export const QUANTITY_EPSILON = 1e-9;

/** One intent as the market keeps it: what was submitted plus how much of it has traded. */
export interface IntentRecord {
  intent: Intent;
  status: IntentStatus;
  /** Units filled so far, summed over all settlements. */
  filled: number;
  /** Arrival order within the market. */
  seq: number;
  createdAt: string;
  /** When the intent stops trading (ms since the epoch), when it does: the earliest of `expiresAt` and the ends
   *  of its windows (`stopsTradingAt`). */
  expiresAtMs?: number;
}

/**
 * When an intent stops trading, in ms, or undefined for never: its `expiresAt`, or the end of a window it trades
 * in (a swap's given and taken legs both), whichever comes first. A window that has ended can deliver nothing
 * (CONTRACT.md section 2a), so the market expires the intent then, as it does at `expiresAt`.
 */
export function stopsTradingAt(intent: Pick<Intent, "expiresAt" | "window" | "swapFor">): number | undefined {
  const ends = [intent.expiresAt, intent.window?.end, intent.swapFor?.window?.end].filter((t) => t !== undefined).map((t) => Date.parse(t));
  return ends.length > 0 ? Math.min(...ends) : undefined;
}

/** The fields of an arrival that have already ended at `now` (an intent that would stop trading before it trades). */
export function endedFields(intent: Pick<Intent, "expiresAt" | "window" | "swapFor">, now: number): FieldError[] {
  const times: [string, string | undefined][] = [
    ["expiresAt", intent.expiresAt],
    ["window.end", intent.window?.end],
    ["swapFor.window.end", intent.swapFor?.window?.end],
  ];
  return times.filter(([, t]) => t !== undefined && !(Date.parse(t) > now)).map(([field]) => ({ field, message: "must be in the future" }));
}

/** Fill `f` of settlement `settlement` as an intent lists it (only the Fill fields, whatever `f` carries besides). */
export function intentFill(settlement: string, f: Fill): IntentFillView {
  const view: IntentFillView = { settlement, buy: f.buy, sell: f.sell, resource: f.resource, quantity: f.quantity, price: f.price };
  if (f.start != null) view.start = f.start;
  if (f.end != null) view.end = f.end;
  return view;
}

/** A fill as one intent sees it (which settlement it came from), and an intent as the API answers it. */
export type { IntentFillView as IntentFill, IntentView } from "../contract/schema.ts";

export function remainingOf(record: IntentRecord): number {
  const rest = record.intent.quantity - record.filled;
  return rest <= record.intent.quantity * QUANTITY_EPSILON ? 0 : rest;
}

/** Status of a live intent after `filled` units traded. */
export function statusAfterFill(quantity: number, filled: number): IntentStatus {
  if (filled >= quantity * (1 - QUANTITY_EPSILON)) return "filled";
  return filled > 0 ? "partially_filled" : "open";
}

/** The statuses of an intent that may still trade (src/market/store.ts writes the same rule in SQL from this list). */
export const LIVE_STATUSES: readonly IntentStatus[] = ["open", "partially_filled"];

/** A live status: open or partly filled (it may still be past its expiry). */
export function hasLiveStatus(record: Pick<IntentRecord, "status">): boolean {
  return LIVE_STATUSES.includes(record.status);
}

/** Open or partly filled, and not past its expiry at `now`: the only intents that may trade. */
export function isLive(record: IntentRecord, now: number): boolean {
  return hasLiveStatus(record) && (record.expiresAtMs === undefined || record.expiresAtMs > now);
}

/**
 * The intents to hand the solver: live ones only, with `quantity` the still-open quantity and `minQuantity`
 * dropped once an intent has traded (its minimum is already met). Arrival order is kept.
 */
export function solverBook(records: Iterable<IntentRecord>, now: number): Intent[] {
  const book: Intent[] = [];
  const live = [...records].filter((r) => isLive(r, now) && remainingOf(r) > 0).sort((a, b) => a.seq - b.seq);
  for (const r of live) {
    const { minQuantity, ...rest } = r.intent;
    const intent: Intent = { ...rest, quantity: remainingOf(r) };
    if (r.filled === 0 && minQuantity !== undefined) intent.minQuantity = minQuantity;
    book.push(intent);
  }
  return book;
}

/**
 * Whether any fill is possible at all: some resource has a buyer whose limit reaches a seller's. A cheap
 * necessary condition that lets clearing skip the solver for a book that cannot trade. A swap's worth depends on
 * the whole chain or ring it could join (a negative-gain swap can still be paid to move), so any swap in the book
 * means "maybe": the solver decides.
 */
export function mayTrade(book: readonly Intent[]): boolean {
  const maxBuy = new Map<string, number>();
  const minSell = new Map<string, number>();
  for (const i of book) {
    if (isSwap(i)) return true;
    if (i.side === "buy") maxBuy.set(i.resource, Math.max(maxBuy.get(i.resource) ?? -Infinity, i.limitPrice));
    else minSell.set(i.resource, Math.min(minSell.get(i.resource) ?? Infinity, i.limitPrice));
  }
  for (const [resource, buy] of maxBuy) if (buy >= (minSell.get(resource) ?? Infinity)) return true;
  return false;
}

/**
 * A swap or deferral (notes/solver.md, "Multi-party kinds"): a sell of `resource` that takes `swapFor.resource`
 * in return, one unit per unit. `kind` is only a label; `swapFor` is what counts.
 */
export function isSwap(intent: Intent): intent is Intent & { swapFor: NonNullable<Intent["swapFor"]> } {
  return intent.side === "sell" && intent.swapFor !== undefined;
}

/** The resources a book's live swaps connect to `start`, transitively (`start` included). */
export function connectedResources(start: string, swaps: Iterable<{ resource: string; wants: string }>): Set<string> {
  const links = new Map<string, string[]>();
  const link = (a: string, b: string) => {
    const list = links.get(a);
    if (list) list.push(b);
    else links.set(a, [b]);
  };
  for (const s of swaps) {
    link(s.resource, s.wants);
    link(s.wants, s.resource);
  }
  const seen = new Set([start]);
  const todo = [start];
  while (todo.length > 0) {
    for (const next of links.get(todo.pop()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        todo.push(next);
      }
    }
  }
  return seen;
}

/** The new filled amount and status of one intent after a settlement. */
export interface IntentUpdate {
  id: string;
  filled: number;
  status: IntentStatus;
}

/**
 * What a set of fills does to the book. Refuses (as a value: the caller commits nothing) fills that name an
 * unknown or non-live intent, put an intent on the wrong side, mix resources, or exceed what is still open.
 * A swap appears as the seller in fills of its `resource` and as the buyer in fills of its `swapFor.resource`;
 * its filled quantity is what it gave, and what it received must equal that in every settlement.
 */
export function applyFills(
  records: ReadonlyMap<string, IntentRecord>,
  fills: readonly Pick<Fill, "buy" | "sell" | "resource" | "quantity">[],
  now: number,
): { ok: true; updates: IntentUpdate[] } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  /** Units each intent gives (sells, swaps) or takes (plain buys): what counts against its quantity. */
  const added = new Map<string, number>();
  /** Units each swap receives, to be matched against what it gives. */
  const received = new Map<string, number>();
  const swaps = new Set<string>();
  fills.forEach((fill, k) => {
    const buy = records.get(fill.buy);
    const sell = records.get(fill.sell);
    const buySwap = buy !== undefined && isSwap(buy.intent);
    // What the buyer side takes: a plain buy its resource, a swap what it wants in return.
    const takes = buy === undefined ? undefined : buySwap ? buy.intent.swapFor?.resource : buy.intent.resource;
    if (!buy || !isLive(buy, now) || (buy.intent.side !== "buy" && !buySwap)) errors.push(`fills.${k}.buy: not a live buy intent`);
    if (!sell || !isLive(sell, now) || sell.intent.side !== "sell") errors.push(`fills.${k}.sell: not a live sell intent`);
    if (buy && sell && (takes !== fill.resource || sell.intent.resource !== fill.resource)) {
      errors.push(`fills.${k}.resource: does not match both intents`);
    }
    if (!(fill.quantity > 0) || !Number.isFinite(fill.quantity)) errors.push(`fills.${k}.quantity: must be > 0`);
    if (buySwap) {
      swaps.add(fill.buy);
      received.set(fill.buy, (received.get(fill.buy) ?? 0) + fill.quantity);
    } else {
      added.set(fill.buy, (added.get(fill.buy) ?? 0) + fill.quantity);
    }
    if (sell && isSwap(sell.intent)) swaps.add(fill.sell);
    added.set(fill.sell, (added.get(fill.sell) ?? 0) + fill.quantity);
  });
  // Give = receive per swap (the solver's circulation guarantees it); a mismatch means a tampered or broken result.
  for (const id of swaps) {
    const gave = added.get(id) ?? 0;
    const got = received.get(id) ?? 0;
    const scale = Math.max(records.get(id)?.intent.quantity ?? 0, gave, got);
    if (Math.abs(gave - got) > scale * QUANTITY_EPSILON) errors.push(`${id}: a swap gives ${gave} but receives ${got}`);
  }
  const updates: IntentUpdate[] = [];
  for (const [id, qty] of added) {
    const record = records.get(id);
    if (!record) continue;
    const open = record.intent.quantity - record.filled;
    if (qty > open + record.intent.quantity * QUANTITY_EPSILON) {
      errors.push(`${id}: fills total ${qty} but only ${open} is open`);
      continue;
    }
    const filled = Math.min(record.intent.quantity, record.filled + qty);
    updates.push({ id, filled, status: statusAfterFill(record.intent.quantity, filled) });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, updates };
}

/** The parts of a solver result a settlement is built from. */
export type SolveResultLike = Omit<SolveResult, "warmStart">;

/** CONTRACT.md section 2. */
export function buildSettlement(id: string, market: string, result: SolveResultLike, createdAt: string): Settlement {
  const stats: Settlement["stats"] = { status: result.status, solveMs: result.solveMs };
  if (result.gap !== undefined) stats.gap = result.gap;
  return { id, market, fills: result.fills, welfare: result.welfare, stats, certificate: result.certificate, createdAt };
}

/** Ids of live intents whose expiry has passed at `now`. */
export function dueExpiries(records: Iterable<IntentRecord>, now: number): string[] {
  const due: string[] = [];
  for (const r of records) {
    if (hasLiveStatus(r) && r.expiresAtMs !== undefined && r.expiresAtMs <= now) {
      due.push(r.intent.id);
    }
  }
  return due;
}

/** The earliest future expiry among live intents, if any. */
export function nextExpiry(records: Iterable<IntentRecord>, now: number): number | undefined {
  let next: number | undefined;
  for (const r of records) {
    if (!isLive(r, now) || r.expiresAtMs === undefined) continue;
    if (next === undefined || r.expiresAtMs < next) next = r.expiresAtMs;
  }
  return next;
}

/** Whether `agent` may cancel the intent now: only its own agent, and only while it can still trade. */
export function cancelCheck(record: IntentRecord | undefined, id: string, agent: string, now: number): Outcome<IntentRecord> {
  if (!record) return failure(404, "not-found", "Intent not found", `no intent ${id} in this market`);
  if (record.intent.agent !== agent) {
    return failure(403, "forbidden", "Not your intent", "only the agent that submitted an intent may cancel it");
  }
  if (!isLive(record, now)) {
    const status = hasLiveStatus(record) ? "expired" : record.status;
    return failure(409, "not-cancellable", "Intent cannot be cancelled", `the intent is already ${status}`);
  }
  return success(record);
}

export function intentView(record: IntentRecord, fills?: IntentFillView[]): IntentView {
  const view: IntentView = {
    ...record.intent,
    status: record.status,
    filledQuantity: record.filled,
    remainingQuantity: hasLiveStatus(record) ? remainingOf(record) : 0,
    createdAt: record.createdAt,
  };
  if (fills !== undefined) view.fills = fills;
  return view;
}

// ---- Capacity: which resting intent makes room when the market is full (notes/robust.md, "Lock-out") ----

/** A live intent as eviction ranks it (what the price index holds, plus whether it is a swap). */
export interface RestingIntent {
  id: string;
  seq: number;
  resource: string;
  side: "buy" | "sell";
  limitPrice: number;
  swap: boolean;
}

/** The best bid and ask of each resource among plain intents (a swap's limit is net of what it receives: no ask). */
export function bestPrices(rows: Iterable<RestingIntent>): Map<string, { bid?: number; ask?: number }> {
  const best = new Map<string, { bid?: number; ask?: number }>();
  for (const r of rows) {
    if (r.swap) continue;
    const b = best.get(r.resource) ?? {};
    if (r.side === "buy") b.bid = Math.max(b.bid ?? -Infinity, r.limitPrice);
    else b.ask = Math.min(b.ask ?? Infinity, r.limitPrice);
    best.set(r.resource, b);
  }
  return best;
}

/**
 * How far a limit is from the best opposite price of its resource, relative: (ask − bid) / max(ask, bid), so 0 at
 * the touch, negative when it crosses, at most 1; Infinity with no opposite side (nobody to trade with).
 * A swap is ranked as the sell it is, against the best bid of what it gives.
 */
export function priceDistance(side: "buy" | "sell", limit: number, best: { bid?: number; ask?: number } | undefined): number {
  const [bid, ask] = side === "buy" ? [limit, best?.ask] : [best?.bid, limit];
  if (bid === undefined || ask === undefined) return Infinity;
  return (ask - bid) / Math.max(ask, bid, Number.MIN_VALUE);
}

/** The least competitive resting intent: the farthest from the opposite best price (none at all is farthest),
 *  the newest first among equals. Undefined for an empty book. `best` is `bestPrices(rows)`. */
export function leastCompetitive(
  rows: readonly RestingIntent[],
  best: ReadonlyMap<string, { bid?: number; ask?: number }> = bestPrices(rows),
): { id: string; distance: number } | undefined {
  let worst: { id: string; seq: number; distance: number } | undefined;
  for (const r of rows) {
    const distance = priceDistance(r.side, r.limitPrice, best.get(r.resource));
    if (!worst || distance > worst.distance || (distance === worst.distance && r.seq > worst.seq)) worst = { id: r.id, seq: r.seq, distance };
  }
  return worst && { id: worst.id, distance: worst.distance };
}

// ---- The settled-book invariant: no compatible crossing pair rests after a clearing ----

/** The slack of a check that concerns one number of one intent: 1e-9 of its own size (CONTRACT.md section 1). */
export function tolerance(x: number): number {
  return QUANTITY_EPSILON * Math.max(1, Math.abs(x));
}

/** Whether `a` exceeds `b` by more than 1e-9 of their own size (CONTRACT.md: tolerances are the intents' own). */
function beyond(a: number, b: number): boolean {
  return a - b > tolerance(Math.max(Math.abs(a), Math.abs(b)));
}

/**
 * A live buy and sell that could trade alone: compatible (resource, regions, not one agent), the buy's limit above
 * the sell's beyond 1e-9 of their own limits, and each with open quantity at least the other's unmet minimum.
 * `book` is what `solverBook` returns (open quantities; minimums only while unmet). Swaps are left out: whether a
 * swap should trade is a property of a whole chain or ring, which the solver's certificate (verify) speaks for.
 * Sorted by price, so it reads only pairs that cross: after an optimal clearing, those are the few a latency cap,
 * a minimum or one agent keeps apart.
 */
export function crossedPair(book: readonly Intent[], latency: LatencyTable): { buy: string; sell: string } | undefined {
  const byResource = new Map<string, { buys: Intent[]; sells: Intent[] }>();
  for (const i of book) {
    if (isSwap(i)) continue;
    const sides = byResource.get(i.resource) ?? { buys: [], sells: [] };
    (i.side === "buy" ? sides.buys : sides.sells).push(i);
    byResource.set(i.resource, sides);
  }
  for (const { buys, sells } of byResource.values()) {
    buys.sort((a, b) => b.limitPrice - a.limitPrice);
    sells.sort((a, b) => a.limitPrice - b.limitPrice);
    for (const buy of buys) {
      for (const sell of sells) {
        if (!beyond(buy.limitPrice, sell.limitPrice)) break;
        if (tradesAlone(buy, sell, latency)) return { buy: buy.id, sell: sell.id };
      }
    }
  }
  return undefined;
}

function tradesAlone(buy: Intent, sell: Intent, latency: LatencyTable): boolean {
  const q = Math.min(buy.quantity, sell.quantity);
  return buy.agent !== sell.agent && compatible(buy, sell, latency) && q >= (buy.minQuantity ?? 0) && q >= (sell.minQuantity ?? 0);
}
