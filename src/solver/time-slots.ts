// Time as the solver and verify see it (CONTRACT.md section 2a): every intent is one or two legs (a buy or a sell of
// one resource over one window), and time splits into elementary intervals between the legs' window boundaries and
// now. Slot t < count is the finite interval [bounds[t], bounds[t + 1]); slot `count` is the untimed slot where two
// windowless legs trade (their fills carry no start/end).
import type { Intent } from "../contract/schema.ts";

/**
 * One side of an intent: a plain buy or sell, or a swap's given leg (sell) or taken leg (buy). A class, built by
 * `new`, not object literals: V8 may pretenure a literal's allocation site once its objects survive a scavenge (a
 * leg lives through the whole solve), and then every later solve's legs are allocated in old space, slower to build
 * and to write. A constructor call has no allocation site.
 */
export class Leg {
  intent: number;
  buy: boolean;
  resource: string;
  /** What a unit is worth to it: a buyer's limit, a swap's `swapFor.limitPrice` on its taken leg, else its limit. */
  value: number;
  /** Its window in ms, or ±Infinity when it has none. */
  start: number;
  end: number;
  /** Units per hour at most (`maxRate`, on a leg with a window); Infinity without. */
  rate: number;
  /** The finite slots it is active in: first .. last − 1 (empty when its window ended by now). */
  first = 0;
  last = 0;
  constructor(intent: number, buy: boolean, resource: string, value: number, start: number, end: number, rate: number) {
    this.intent = intent;
    this.buy = buy;
    this.resource = resource;
    this.value = value;
    this.start = start;
    this.end = end;
    this.rate = rate;
  }
}

export interface Slots {
  /** Sorted distinct boundaries (ms): window starts and ends, and now. */
  bounds: number[];
  /** Number of finite slots (bounds.length − 1, at least 0); also the untimed slot's index. */
  count: number;
  /** Index of a boundary, by its ms. */
  at: Map<number, number>;
  /** The first finite slot at or after now (0 without now). */
  open: number;
}

/** Whether a book needs the time path: some leg has a window. */
export function isTimed(intents: readonly Intent[]): boolean {
  for (const it of intents) if (it.window !== undefined || it.swapFor?.window !== undefined) return true;
  return false;
}

// Window boundaries repeat across a book (and across the solves of a continuous market): Date.parse is the cost.
const parsed = new Map<string, number>();
const parse = (iso: string): number => {
  let t = parsed.get(iso);
  if (t === undefined) {
    if (parsed.size >= 65_536) parsed.clear();
    parsed.set(iso, (t = Date.parse(iso)));
  }
  return t;
};

const ms = (w: { start: string; end: string } | undefined): [number, number] => (w ? [parse(w.start), parse(w.end)] : [-Infinity, Infinity]);

/** The legs of the intents with something to trade (positive quantity), and the elementary intervals. */
export function timeLegs(intents: readonly Intent[], now?: number): { legs: Leg[]; slots: Slots } {
  return placed(unplacedLegs(intents, 0), now);
}

/**
 * timeLegs of the intents `members` (ascending indices of the book whose legs `legs` are; every one with something to
 * trade): the book's legs copied, renumbered by place in `members`, on their own intervals. No window parsed again.
 */
export function memberLegs(legs: readonly Leg[], members: Int32Array, now?: number): { legs: Leg[]; slots: Slots } {
  const out: Leg[] = [];
  // The book's legs are in intent order, one or two per intent with something to trade.
  for (let j = 0, k = 0; j < members.length; j++) {
    while (k < legs.length && legs[k].intent < members[j]) k++;
    for (; k < legs.length && legs[k].intent === members[j]; k++) {
      const l = legs[k];
      out.push(new Leg(j, l.buy, l.resource, l.value, l.start, l.end, l.rate));
    }
  }
  return placed(out, now);
}

/** The legs on the elementary intervals of their windows and now. */
function placed(legs: Leg[], now: number | undefined): { legs: Leg[]; slots: Slots } {
  const set = new Set<number>();
  for (const l of legs) if (l.start > -Infinity) set.add(l.start).add(l.end);
  if (now !== undefined) set.add(now);
  const bounds = [...set].sort((a, b) => a - b);
  const at = new Map<number, number>();
  bounds.forEach((b, k) => at.set(b, k));
  const count = Math.max(0, bounds.length - 1);
  const open = now === undefined ? 0 : at.get(now)!;
  const slots = { bounds, count, at, open };
  for (const l of legs) place(l, slots);
  return { legs, slots };
}

/**
 * The legs of intents[from ..] on intervals of an earlier book: undefined when one of their window boundaries is not
 * a boundary of `slots` (the intervals would split).
 */
export function legsOn(intents: readonly Intent[], from: number, slots: Slots): Leg[] | undefined {
  const legs = unplacedLegs(intents, from);
  for (const l of legs) if (l.start > -Infinity && !(slots.at.has(l.start) && slots.at.has(l.end))) return undefined;
  for (const l of legs) place(l, slots);
  return legs;
}

function unplacedLegs(intents: readonly Intent[], from: number): Leg[] {
  const legs: Leg[] = [];
  const push = (intent: number, buy: boolean, resource: string, value: number, w: [number, number], maxRate?: number) =>
    legs.push(new Leg(intent, buy, resource, value, w[0], w[1], w[0] > -Infinity && maxRate !== undefined ? maxRate : Infinity));
  for (let i = from; i < intents.length; i++) {
    const it = intents[i];
    if (!(it.quantity > 0)) continue;
    if (it.swapFor) {
      push(i, false, it.resource, it.limitPrice, ms(it.window), it.maxRate);
      push(i, true, it.swapFor.resource, it.swapFor.limitPrice ?? 0, ms(it.swapFor.window), it.maxRate);
    } else push(i, it.side === "buy", it.resource, it.limitPrice, ms(it.window), it.maxRate);
  }
  return legs;
}

/** A leg's active slots: a windowed one's inside its window from now on, a windowless one's every finite slot from now. */
function place(l: Leg, slots: Slots): void {
  if (l.start === -Infinity) {
    l.first = slots.open;
    l.last = slots.count;
  } else {
    l.first = Math.max(slots.open, slots.at.get(l.start)!);
    l.last = Math.max(l.first, slots.at.get(l.end)!);
  }
}

/** Hours in finite slot t. */
export const slotHours = (s: Slots, t: number): number => (s.bounds[t + 1] - s.bounds[t]) / 3_600_000;

/** Whether the leg has a window (a windowless leg is active in every finite slot from now, and in the untimed one). */
export const windowed = (l: Leg): boolean => l.start > -Infinity;
