// A proposal's score (CONTRACT.md section 6): the model's optimality estimate × a reward for the batch's
// complexity × a weight for how fast the proposal arrived. Scores rank miners for rewards; they never choose the
// allocation (the feasible proposal of greatest welfare settles: src/market/proposals.ts).
// Pure: the market object passes the estimate (from the scorer) and the arrival time.
import type { Commitment } from "./commitment.ts";

/** Proposals that arrive within this many ms of the batch's open (a challenge's answer: of its receipt) keep full weight. */
export const FULL_WEIGHT_MS = 50;
/** After that, the weight halves every this many ms, or every batch interval when that is longer (a batch market
 *  passes its interval, so that a long batch never weighs every proposal down to 0). */
export const WEIGHT_HALF_LIFE_MS = 100;

export interface Complexity {
  /** Intents in the batch. */
  parties: number;
  /** Intents whose constraints can bind a solver: all-or-none or partial minimums, and latency caps. */
  constrained: number;
  /** Rings of swaps in the batch's exact-welfare allocation (`ringCount`). */
  rings: number;
  /** Delivery windows in the batch's exact-welfare allocation (`windowCount`); 0 when nothing is scheduled. */
  windows?: number;
}

/**
 * Complexity of a batch from its commitments (validators see them) and the rings and delivery windows of its
 * exact-welfare allocation.
 */
export function batchComplexity(commitments: readonly Pick<Commitment, "features">[], rings = 0, windows = 0): Complexity {
  let constrained = 0;
  for (const c of commitments) {
    if (c.features.minimum !== "none" || c.features.latencyBand !== null) constrained++;
  }
  return { parties: commitments.length, constrained, rings, windows };
}

/**
 * reward = 1 + log2(1 + parties) / 8 + 0.5 × constrained / parties + 0.25 × min(rings, 4) + 0.125 × min(windows, 4).
 * So a lone pair earns about 1.2, a 100-intent batch about 1.8, a fully constrained one up to 0.5 more, each
 * ring (up to four) a quarter more and each delivery window (up to four) an eighth more: harder problems earn
 * more, but no term can dominate the estimate.
 */
export function complexityReward(c: Complexity): number {
  const constrainedShare = c.parties > 0 ? c.constrained / c.parties : 0;
  return 1 + Math.log2(1 + c.parties) / 8 + 0.5 * constrainedShare + 0.25 * Math.min(c.rings, 4) + 0.125 * Math.min(c.windows ?? 0, 4);
}

/**
 * Delivery windows in an allocation, from its fills alone: the distinct [start, end) intervals of fills that
 * carry them (fills between windowless intents carry none). A schedule over several windows is harder to find.
 */
export function windowCount(fills: readonly { start?: string; end?: string }[]): number {
  const seen = new Set<string>();
  for (const f of fills) if (f.start !== undefined && f.end !== undefined) seen.add(`${f.start}/${f.end}`);
  return seen.size;
}

/**
 * Rings in an allocation, from its fills alone (what a validator sees): goods go from each fill's seller to its
 * buyer; a ring is a cycle of swaps (only a swap both sells and buys). Counted as the independent cycles of each
 * strongly connected group of intents: edges − intents + 1, a repeated pair counted once. A chain
 * (buyer ← swap ← … ← seller) and plain pairs count 0; three swaps trading round count 1.
 */
export function ringCount(fills: readonly { buy: string; sell: string }[]): number {
  const next = new Map<string, Set<string>>();
  for (const f of fills) {
    if (!next.has(f.sell)) next.set(f.sell, new Set());
    next.get(f.sell)!.add(f.buy);
  }
  let rings = 0;
  for (const group of stronglyConnected(next)) {
    if (group.length < 2) continue;
    const members = new Set(group);
    let edges = 0;
    for (const v of group) for (const w of next.get(v) ?? []) if (members.has(w)) edges++;
    rings += edges - group.length + 1;
  }
  return rings;
}

/** Strongly connected groups of a directed graph (Tarjan's algorithm, iterative so a long chain cannot overflow the stack). */
function stronglyConnected(next: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  for (const root of next.keys()) {
    if (index.has(root)) continue;
    const work: { v: string; out: Iterator<string> }[] = [];
    const enter = (v: string) => {
      index.set(v, index.size);
      low.set(v, index.get(v)!);
      stack.push(v);
      onStack.add(v);
      work.push({ v, out: (next.get(v) ?? new Set<string>()).values() });
    };
    enter(root);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const step = top.out.next();
      if (!step.done) {
        const w = step.value;
        if (!index.has(w)) enter(w);
        else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) !== index.get(top.v)) continue;
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== top.v);
      groups.push(group);
    }
  }
  return groups;
}

/**
 * 1 up to FULL_WEIGHT_MS after the batch opened, then 2^(−(t − FULL_WEIGHT_MS) / h) with
 * h = max(WEIGHT_HALF_LIFE_MS, intervalMs): t is the proposal's arrival less the batch's open (the built-in
 * proposal arrives at the close plus its solve time), or a challenge's time to answer (no interval).
 */
export function timeWeight(elapsedMs: number, intervalMs = 0): number {
  if (!(elapsedMs > FULL_WEIGHT_MS)) return 1;
  return 2 ** (-(elapsedMs - FULL_WEIGHT_MS) / Math.max(WEIGHT_HALF_LIFE_MS, intervalMs));
}

export interface ProposalScore {
  score: number;
  estimate: number;
  reward: number;
  weight: number;
  /** The model version that produced the estimate. */
  model: string;
  /** How far the model's ensemble members disagree on this estimate (max − min): large means unsure. */
  spread?: number;
  /** What the proposer's reputation took off the model's estimate (src/model/reputation.ts). */
  discount?: number;
}

/** score = estimate × complexity reward × time weight; the estimate is clamped to [0, 1]. */
export function scoreProposal(estimate: number, complexity: Complexity, elapsedMs: number, model: string, intervalMs = 0): ProposalScore {
  const e = Number.isFinite(estimate) ? Math.min(1, Math.max(0, estimate)) : 0;
  const reward = complexityReward(complexity);
  const weight = timeWeight(elapsedMs, intervalMs);
  return { score: e * reward * weight, estimate: e, reward, weight, model };
}
