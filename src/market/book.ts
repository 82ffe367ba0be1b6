// A market's order book as pure bookkeeping: which intents may trade, what a solve's fills do to them, how
// statuses move, expiry and cancellation. No storage and no Cloudflare imports: the market Durable Object loads
// records, calls these functions and persists what they return; Node tests exercise them directly.
import type { Certificate, Fill, Intent, IntentStatus, Settlement, SolveStatus } from "../schema.ts";
import { failure, success, type Outcome } from "./outcome.ts";

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
  /** `intent.expiresAt` as ms since the epoch, when set. */
  expiresAtMs?: number;
}

/** A fill as one intent sees it: which settlement it came from. */
export interface IntentFill extends Fill {
  settlement: string;
}

/** What the API answers for an intent (CONTRACT.md section 5). */
export type IntentView = Intent & {
  status: IntentStatus;
  filledQuantity: number;
  remainingQuantity: number;
  createdAt: string;
  fills?: IntentFill[];
};

export function remainingOf(record: IntentRecord): number {
  const rest = record.intent.quantity - record.filled;
  return rest <= record.intent.quantity * QUANTITY_EPSILON ? 0 : rest;
}

/** Status of a live intent after `filled` units traded. */
export function statusAfterFill(quantity: number, filled: number): IntentStatus {
  if (filled >= quantity * (1 - QUANTITY_EPSILON)) return "filled";
  return filled > 0 ? "partially_filled" : "open";
}

/** Open or partly filled, and not past its expiry at `now`: the only intents that may trade. */
export function isLive(record: IntentRecord, now: number): boolean {
  if (record.status !== "open" && record.status !== "partially_filled") return false;
  return record.expiresAtMs === undefined || record.expiresAtMs > now;
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
 * necessary condition that lets clearing skip the solver for a book that cannot trade.
 */
export function mayTrade(book: readonly Intent[]): boolean {
  const maxBuy = new Map<string, number>();
  const minSell = new Map<string, number>();
  for (const i of book) {
    if (i.side === "buy") maxBuy.set(i.resource, Math.max(maxBuy.get(i.resource) ?? -Infinity, i.limitPrice));
    else minSell.set(i.resource, Math.min(minSell.get(i.resource) ?? Infinity, i.limitPrice));
  }
  for (const [resource, buy] of maxBuy) if (buy >= (minSell.get(resource) ?? Infinity)) return true;
  return false;
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
 */
export function applyFills(
  records: ReadonlyMap<string, IntentRecord>,
  fills: readonly Fill[],
  now: number,
): { ok: true; updates: IntentUpdate[] } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const added = new Map<string, number>();
  fills.forEach((fill, k) => {
    const buy = records.get(fill.buy);
    const sell = records.get(fill.sell);
    if (!buy || !isLive(buy, now) || buy.intent.side !== "buy") errors.push(`fills.${k}.buy: not a live buy intent`);
    if (!sell || !isLive(sell, now) || sell.intent.side !== "sell") errors.push(`fills.${k}.sell: not a live sell intent`);
    if (buy && sell && (buy.intent.resource !== fill.resource || sell.intent.resource !== fill.resource)) {
      errors.push(`fills.${k}.resource: does not match both intents`);
    }
    if (!(fill.quantity > 0) || !Number.isFinite(fill.quantity)) errors.push(`fills.${k}.quantity: must be > 0`);
    added.set(fill.buy, (added.get(fill.buy) ?? 0) + fill.quantity);
    added.set(fill.sell, (added.get(fill.sell) ?? 0) + fill.quantity);
  });
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

/** The parts of a solver result a settlement is built from (src/solver `solve`). */
export interface SolveResultLike {
  fills: Fill[];
  welfare: number;
  status: SolveStatus;
  gap?: number;
  solveMs: number;
  certificate: Certificate;
}

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
    if ((r.status === "open" || r.status === "partially_filled") && r.expiresAtMs !== undefined && r.expiresAtMs <= now) {
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
    const status = record.status === "open" || record.status === "partially_filled" ? "expired" : record.status;
    return failure(409, "not-cancellable", "Intent cannot be cancelled", `the intent is already ${status}`);
  }
  return success(record);
}

export function intentView(record: IntentRecord, fills?: IntentFill[]): IntentView {
  const view: IntentView = {
    ...record.intent,
    status: record.status,
    filledQuantity: record.filled,
    remainingQuantity: record.status === "open" || record.status === "partially_filled" ? remainingOf(record) : 0,
    createdAt: record.createdAt,
  };
  if (fills !== undefined) view.fills = fills;
  return view;
}
