// Windowed challenges: markets with windows, rate caps, swaps and deferrals (issue 16's generator,
// support/generate-time.ts) whose optimum over schedules is known (HiGHS's time-indexed MILP), and proposals of
// every quality over them with their schedules, labelled with their true welfare share. Every proposal passes the
// market's own feasibility check (proposalErrors) and its welfare is the market's count (fillsWelfare).
import type { Intent } from "../../src/contract/schema.ts";
import type { IntentRecord } from "../../src/market/book.ts";
import { fillsWelfare, proposalErrors, type AllocationFill } from "../../src/market/proposals.ts";
import { isSwap, tradableLegPairs, type LegPair } from "../../support/compat-time.ts";
import { generateWindowedMarket, type WindowedMarket, type WindowedMarketOptions } from "../../support/generate-time.ts";
import { scheduleFills, solveTimeIndexed } from "../../support/highs-time.ts";
import type { Rng } from "../../support/generate.ts";
import { shuffle, type Challenge, type LabelledProposal } from "./challenges.ts";

/** A windowed family: ranges drawn per market for issue 16's generator. */
export interface WindowedShape {
  name: string;
  windowed: {
    size: readonly [number, number];
    regions: readonly [number, number];
    resources: readonly [number, number];
    horizonHours: readonly [number, number];
    maxWindowHours: number;
    windowlessShare: number;
    maxRateShare: number;
    swapShare: number;
    deferralShare: number;
    allOrNoneShare: number;
  };
}

export const isWindowedShape = (s: object): s is WindowedShape => "windowed" in s;

const between = (r: Rng, [lo, hi]: readonly [number, number]) => lo + Math.floor(r() * (hi - lo + 1));

/** One market of the family; soft latency is left out (commitments do not band it). */
export function windowedMarket(r: Rng, shape: WindowedShape): WindowedMarket {
  const w = shape.windowed;
  const options: WindowedMarketOptions = {
    size: between(r, w.size), regions: between(r, w.regions), resources: between(r, w.resources),
    horizonHours: between(r, w.horizonHours), maxWindowHours: w.maxWindowHours, windowlessShare: w.windowlessShare,
    maxRateShare: w.maxRateShare, swapShare: w.swapShare, deferralShare: w.deferralShare, allOrNoneShare: w.allOrNoneShare,
    softLatencyShare: 0,
  };
  return generateWindowedMarket(Math.floor(r() * 2 ** 31), options);
}

/** The optimum over schedules as fills (one per pair and elementary interval). */
function optimumOf(intents: readonly Intent[], m: WindowedMarket): AllocationFill[] {
  return scheduleFills(solveTimeIndexed(intents, m.latency, m.now).schedule).map(({ price: _, ...f }) => f);
}

export type WindowedKind = "exact" | "budget" | "thinned" | "perturbed" | "sparse" | "greedy" | "random" | "bad";
const KINDS: readonly WindowedKind[] = ["budget", "thinned", "perturbed", "sparse", "greedy", "random", "bad"];

/**
 * Drops fills until every intent is at 0 or at least its minimum and every swap takes what it gives (a swap gives
 * and takes one unit per unit): dropping a fill can break either, so it repeats until nothing changes.
 */
export function repair(intents: readonly Intent[], fills: readonly AllocationFill[]): AllocationFill[] {
  const byId = new Map(intents.map((i) => [i.id, i]));
  let kept = fills.filter((f) => f.quantity > 1e-9);
  for (;;) {
    const gives = new Map<string, number>();
    const takes = new Map<string, number>();
    for (const f of kept) {
      gives.set(f.sell, (gives.get(f.sell) ?? 0) + f.quantity);
      takes.set(f.buy, (takes.get(f.buy) ?? 0) + f.quantity);
    }
    const bad = (id: string) => {
      const it = byId.get(id)!;
      const done = isSwap(it) ? gives.get(id) ?? 0 : it.side === "buy" ? takes.get(id) ?? 0 : gives.get(id) ?? 0;
      const tol = 1e-7 * Math.max(1, it.quantity);
      if (done > 0 && done < (it.minQuantity ?? 0) - tol) return true;
      return isSwap(it) && Math.abs((gives.get(id) ?? 0) - (takes.get(id) ?? 0)) > tol;
    };
    const next = kept.filter((f) => !bad(f.buy) && !bad(f.sell));
    if (next.length === kept.length) return next;
    kept = next;
  }
}

/**
 * Plain pairs in the given order, each filled over the span both windows share (from now): what each intent has
 * left, and within a rate cap as if all its fills ran at once (so the schedule is feasible whatever they overlap).
 * Swaps stay out: a pair-at-a-time maker cannot keep their two legs equal.
 */
function pairFills(intents: readonly Intent[], pairs: readonly LegPair[]): AllocationFill[] {
  const left = new Map(intents.map((i) => [i.id, i.quantity]));
  const rateLeft = new Map(intents.map((i) => [i.id, i.maxRate ?? Infinity]));
  const fills: AllocationFill[] = [];
  for (const p of pairs) {
    const [b, s] = [p.buy.intent, p.sell.intent];
    const hours = p.span ? (p.span.end - p.span.start) / 3_600_000 : Infinity;
    const byRate = Math.min(rateLeft.get(b.id)!, rateLeft.get(s.id)!) * hours;
    const q = Math.min(left.get(b.id)!, left.get(s.id)!, byRate);
    if (!(q > 1e-9)) continue;
    left.set(b.id, left.get(b.id)! - q);
    left.set(s.id, left.get(s.id)! - q);
    if (p.span) {
      rateLeft.set(b.id, rateLeft.get(b.id)! - q / hours);
      rateLeft.set(s.id, rateLeft.get(s.id)! - q / hours);
    }
    fills.push({
      buy: b.id, sell: s.id, resource: p.buy.resource, quantity: q,
      ...(p.span ? { start: new Date(p.span.start).toISOString(), end: new Date(p.span.end).toISOString() } : {}),
    });
  }
  return repair(intents, fills);
}

/**
 * One proposal of the given kind (the timeless makers' meanings, challenges.ts): exact; budget (the optimum of a
 * random 30–90% of the intents); thinned (the optimum scaled by 0.2–1: rates and swap balances scale alike);
 * perturbed (10–60% of the optimum's fills dropped); sparse (one to three of them, scaled); greedy, random, bad
 * (plain pairs by gain, at random, worst first).
 */
function makeWindowed(r: Rng, m: WindowedMarket, kind: WindowedKind, optimum: readonly AllocationFill[]): AllocationFill[] {
  const plain = () => tradableLegPairs(m.intents, m.latency, m.now).filter((p) => !isSwap(p.buy.intent) && !isSwap(p.sell.intent) && p.gain > 0);
  switch (kind) {
    case "exact":
      return optimum.map((f) => ({ ...f }));
    case "budget": {
      const keep = 0.3 + 0.6 * r();
      return optimumOf(m.intents.filter(() => r() < keep), m);
    }
    case "thinned": {
      const scale = 0.2 + 0.8 * r();
      return repair(m.intents, optimum.map((f) => ({ ...f, quantity: f.quantity * scale })));
    }
    case "perturbed": {
      const drop = 0.1 + 0.5 * r();
      return repair(m.intents, optimum.filter(() => r() >= drop));
    }
    case "sparse":
      return repair(m.intents, shuffle(r, optimum.slice()).slice(0, 1 + Math.floor(r() * 3)).map((f) => ({ ...f, quantity: f.quantity * (0.3 + 0.7 * r()) })));
    case "greedy":
      return pairFills(m.intents, plain().sort((a, b) => b.gain - a.gain));
    case "random":
      return pairFills(m.intents, shuffle(r, plain()));
    case "bad":
      return pairFills(m.intents, plain().sort((a, b) => a.gain - b.gain));
  }
}

/** Records for the market's feasibility check: every intent open, nothing filled yet. */
export function recordsOf(m: WindowedMarket): Map<string, IntentRecord> {
  const at = new Date(m.now).toISOString();
  return new Map(m.intents.map((intent, seq) => [intent.id, { intent, status: "open", filled: 0, seq, createdAt: at }]));
}

/**
 * A windowed challenge: `perMarket` proposals of random kinds (the exact one first), each checked by the market's
 * own rules; labels are the market's welfare over the best kept. Null when the market has nothing to trade, or when
 * the market refuses HiGHS's optimum itself (verify prices swaps by Nash bargaining and may find a swap that loses
 * on its net where the MILP only balanced its legs): without a trusted optimum there is no label. A refused
 * proposal of another kind is left out, so a market may carry fewer proposals.
 */
export function generateWindowedChallenge(r: Rng, shape: WindowedShape, perMarket = 6): (Challenge & { market: WindowedMarket }) | null {
  const m = windowedMarket(r, shape);
  const best = optimumOf(m.intents, m);
  const welfare = (fills: readonly AllocationFill[]) => fillsWelfare(m.intents, m.latency, fills);
  if (welfare(best) <= 1e-9) return null;
  const kinds: WindowedKind[] = ["exact"];
  while (kinds.length < perMarket) kinds.push(KINDS[Math.floor(r() * KINDS.length)]);
  const records = recordsOf(m);
  const made = kinds.map((kind) => ({ kind, fills: makeWindowed(r, m, kind, best) }));
  const kept = made.filter((p) => proposalErrors(records, m.intents, m.latency, p.fills, m.now).length === 0);
  if (kept[0]?.kind !== "exact") return null;
  const welfares = kept.map((p) => welfare(p.fills));
  const optimum = Math.max(...welfares);
  const proposals: LabelledProposal[] = kept.map((p, k) => ({
    kind: p.kind, fills: p.fills.map((f) => ({ ...f, price: 0 })), welfare: welfares[k],
    label: Math.min(1, Math.max(0, welfares[k] / optimum)),
  }));
  return { market: { ...m, shape: shape.name }, optimum, proposals };
}
