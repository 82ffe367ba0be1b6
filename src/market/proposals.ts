// Proposals, scores, reveals and training examples of a batch market (CONTRACT.md section 6), as pure functions:
// the market object loads rows, calls these, and persists what they return. Nothing here touches storage or ort.
// A proposal is an allocation (v1.1): its prices are ignored; the feasible proposal of greatest welfare settles,
// priced by Nash bargaining (priceAllocation, the solver's own pricing); scores rank miners for rewards only.
import { bytesToHex } from "../contract/codec.ts";
import { fieldErrors } from "../contract/errors.ts";
import { IntentInput, type Certificate, type ClosedProposalView, type Fill, type FieldError, type ProposalFill, type RevealBody, type Intent, type LatencyTable, type SolveStatus, type TrainingExample } from "../contract/schema.ts";
import { compatible, priceAllocation, verify, type AllocationFill } from "../solver/index.ts";
import { swapBuyView } from "../solver/multi.ts";
import { pairLimits } from "../solver/price.ts";
import { applyFills, tolerance, type IntentRecord, type IntentUpdate } from "./book.ts";
import { batchContext, proposalFeatures } from "../model/features.ts";
import { batchComplexity, scoreProposal, type ProposalScore } from "../model/reward.ts";
import { discountedEstimate, type Reputation } from "../model/reputation.ts";
import type { Commitment } from "../model/commitment.ts";
import type { Scorer } from "../model/scorer.ts";

// The request bodies live in the contract module (src/contract/schema.ts); re-exported for the existing importers.
export { BatchId, ProposalBody, RevealBody, SALT_PATTERN } from "../contract/schema.ts";
export type { AllocationFill } from "../solver/index.ts";

/** A fresh salt: 32 random bytes as hex. */
export function newSalt(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** What the market takes of a proposal's fills: the allocation. A price sent with a fill is dropped here. */
export function allocationOf(fills: readonly ProposalFill[]): AllocationFill[] {
  // A proposal's prices are ignored (section 6); its schedule is part of the allocation (section 2a).
  return fills.map(({ buy, sell, resource, quantity, start, end }) => ({ buy, sell, resource, quantity, ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) }));
}

/** `a` is greater than `b` by more than the tie tolerance of `b` (welfares within it are equal: the earlier wins). */
function exceeds(a: number, b: number): boolean {
  return a > b + tolerance(b);
}

/** Σ quantity × (buyer's limit − seller's limit) over the fills, as the solver and `verify` count welfare. */
export function fillsWelfare(book: readonly Intent[], latency: LatencyTable, fills: readonly AllocationFill[]): number {
  const byId = new Map(book.map((i) => [i.id, i] as const));
  let welfare = 0;
  for (const f of fills) {
    const b = byId.get(f.buy);
    const s = byId.get(f.sell);
    if (!b || !s) continue;
    // The pair's limits as soft latency moves them (a swap buys at its swapFor limit), as verify counts them.
    const [buyLimit, sellLimit] = pairLimits(latency, b, s);
    welfare += f.quantity * (buyLimit - sellLimit);
  }
  return welfare;
}

/**
 * Why this allocation cannot settle the book, as field errors (`fills.1.buy: unknown intent x`); empty when it
 * can. Every check is the market's own, with each intent's own tolerance (never the book's largest number):
 * known live intents, sides, resource, positive finite quantities, at most each intent's open quantity
 * (applyFills); minimums (all-or-none); no self-trade; latency caps; a price exists within both limits. Then the
 * allocation priced by Nash bargaining goes through `verify` for what only it checks (a swap trade's individual
 * rationality on its net, the schedule over windows); there is no certificate yet, so its optimality findings are not
 * refusals: the batch close compares welfare. Each stage runs only when the one before found nothing, so one
 * defect is reported once. Duplicate pairs are allowed: they sum per intent and price alike.
 */
export function proposalErrors(
  records: ReadonlyMap<string, IntentRecord>,
  book: readonly Intent[],
  latency: LatencyTable,
  fills: readonly AllocationFill[],
  now: number,
): FieldError[] {
  const byId = new Map(book.map((i) => [i.id, i] as const));
  const stages = [
    () => unknownIntents(byId, fills),
    () => {
      const applied = applyFills(records, fills, now);
      return applied.ok ? belowMinimum(byId, applied.updates) : applied.errors;
    },
    () => fills.flatMap((f, k) => pairErrors(byId, latency, f, k)),
    () => pricedErrors(book, latency, fills, now),
  ];
  let messages: string[] = [];
  for (const stage of stages) if (messages.length === 0) messages = stage();
  return [...new Set(messages)].map((m) => asFieldError(m, byId));
}

function unknownIntents(byId: ReadonlyMap<string, Intent>, fills: readonly AllocationFill[]): string[] {
  return fills.flatMap((f, k) => [
    ...(byId.has(f.buy) ? [] : [`fills.${k}.buy: unknown intent ${f.buy}`]),
    ...(byId.has(f.sell) ? [] : [`fills.${k}.sell: unknown intent ${f.sell}`]),
  ]);
}

/** All-or-none and partial minimums: an intent's total is 0 or at least its minimum (the book drops a met one). */
function belowMinimum(byId: ReadonlyMap<string, Intent>, updates: readonly IntentUpdate[]): string[] {
  return updates.flatMap((u) => {
    const m = byId.get(u.id)?.minQuantity ?? 0;
    return u.filled < m - tolerance(m) ? [`intent ${u.id}: fills ${u.filled} are below minQuantity ${m}`] : [];
  });
}

/** One fill's pair: two agents, latency caps, and (plain intents) a price within both limits exists. */
function pairErrors(byId: ReadonlyMap<string, Intent>, latency: LatencyTable, f: AllocationFill, k: number): string[] {
  const buy = byId.get(f.buy)!;
  const sell = byId.get(f.sell)!;
  if (buy.agent === sell.agent) return [`fills.${k}: buy and sell are both agent ${buy.agent}'s intents (no self-trade)`];
  if (!compatible(buy.swapFor ? swapBuyView(buy) : buy, sell, latency)) return [`fills.${k}: regions are outside a latency cap`];
  // A swap's individual rationality is on its net (verify, below; CONTRACT.md 2a); a plain pair needs buy limit ≥ sell limit.
  if (!buy.swapFor && !sell.swapFor && buy.limitPrice + tolerance(buy.limitPrice) < sell.limitPrice - tolerance(sell.limitPrice)) {
    return [`fills.${k}: the buyer's limit ${buy.limitPrice} is below the seller's ${sell.limitPrice}: no price lies within both`];
  }
  return [];
}

function pricedErrors(book: readonly Intent[], latency: LatencyTable, fills: readonly AllocationFill[], now: number): string[] {
  const check = verify(book, latency, { fills: priceAllocation(book, latency, fills), welfare: fillsWelfare(book, latency, fills) }, { now });
  return check.ok ? [] : check.errors.filter((e) => !/^certificate|^not optimal|^not proven optimal/.test(e));
}

/** `fills.3.buy: …` stays as is; `intent X: …` and `X: …` (an intent's totals) become `intents.X`. */
function asFieldError(message: string, ids: ReadonlyMap<string, unknown>): FieldError {
  const cut = message.indexOf(": ");
  const head = cut > 0 ? message.slice(0, cut) : "";
  const rest = message.slice(cut + 2);
  if (/^fills\.\d+(\.\w+)?$/.test(head)) return { field: head, message: rest };
  if (head.startsWith("intent ") && ids.has(head.slice(7))) return { field: `intents.${head.slice(7)}`, message: rest };
  if (ids.has(head)) return { field: `intents.${head}`, message: rest };
  return { field: "fills", message };
}

/** One proposal at the batch's close: the built-in solver's or an outside solver's, as an allocation. */
export interface Candidate {
  id: string;
  /** Agent key of the outside solver, or "market" for the built-in solver. */
  proposer: string;
  fills: AllocationFill[];
  welfare: number;
  /** ms after the batch opened that it arrived (the built-in one: at the close plus its solve time). */
  elapsedMs: number;
  errors: FieldError[];
  /** The built-in proposal's fills as its solve priced and scheduled them (start/end over windows): settled as
   *  they are. An outside allocation carries no schedule and is priced at the close. */
  priced?: Fill[];
}

export interface ScoredCandidate extends Candidate {
  score?: ProposalScore;
}

/** What a batch gives every one of its proposals' scores: its rings and its interval (src/model/reward.ts). */
export interface BatchTerms {
  /** Rings in the batch's exact-welfare allocation, the built-in solve's (`ringCount`). */
  rings: number;
  /** Delivery windows in that allocation (`windowCount`); absent = 0. */
  windows?: number;
  /** The batch's interval (ms): the time weight's half-life when longer than the default. */
  intervalMs: number;
  /** Proposers' reputations from earlier reveals: an estimate is discounted by its proposer's upward bias. */
  reputations?: ReadonlyMap<string, Reputation>;
  /** The batch's close (ms): the scorer reads windows from it on. */
  now?: number;
}

/**
 * Scores the feasible candidates in one model call: features from the batch's commitments and each proposal's
 * fills only (what a validator sees), then estimate × complexity reward × time weight. For miner rewards only.
 */
export async function scoreCandidates(
  scorer: Pick<Scorer, "score">,
  commitments: readonly Commitment[],
  latency: LatencyTable,
  candidates: readonly Candidate[],
  terms: BatchTerms,
): Promise<ScoredCandidate[]> {
  const feasible = candidates.filter((c) => c.errors.length === 0 && c.fills.length > 0);
  if (feasible.length === 0) return candidates.map((c) => ({ ...c }));
  const ctx = batchContext(commitments, latency, terms.now);
  const complexity = batchComplexity(commitments, terms.rings, terms.windows);
  const { estimates, spreads, model } = await scorer.score(feasible.map((c) => proposalFeatures(ctx, c.fills)));
  const scores = new Map(feasible.map((c, k) => {
    const estimate = discountedEstimate(estimates[k], terms.reputations?.get(c.proposer));
    const score = scoreProposal(estimate, complexity, c.elapsedMs, model, terms.intervalMs);
    if (estimate !== estimates[k]) score.discount = estimates[k] - estimate;
    if (spreads) score.spread = spreads[k];
    return [c.id, score] as const;
  }));
  return candidates.map((c) => (scores.has(c.id) ? { ...c, score: scores.get(c.id) } : { ...c }));
}

/**
 * The settling rule (CONTRACT.md section 6): the feasible candidate of greatest welfare; a tie (within 1e-9 of
 * the welfare's size) goes to the one listed first. The market lists outside proposals in arrival order and its
 * own last (received at the close), so it never settles below its own allocation, and a miner who matches it
 * wins the batch. Scores play no part.
 */
export function greatestWelfare<C extends Candidate>(candidates: readonly C[]): C | undefined {
  let best: C | undefined;
  for (const c of candidates) {
    if (c.errors.length > 0 || c.fills.length === 0) continue;
    if (!best || exceeds(c.welfare, best.welfare)) best = c;
  }
  return best;
}

/** What the built-in solve proved of the batch: its status, welfare and certificate. */
export type BuiltinProof = { status: SolveStatus; welfare: number; certificate: Certificate };

/** A settled allocation: Nash-priced fills and what it may claim against the built-in proof. */
export interface SettledAllocation<C extends Candidate> {
  winner: C;
  fills: Fill[];
  welfare: number;
  status: SolveStatus;
  /** Proven bound − settled welfare, when the status is a budget's. */
  gap?: number;
  certificate: Certificate;
}

/**
 * The allocation that settles: the greatest-welfare candidate, priced by Nash bargaining, stated against the
 * built-in proof, and passing `verify` with the built-in certificate (any optimal allocation meets the optimal
 * duals' conditions). A candidate that fails it (welfare above what the built-in solve proved possible: a
 * rounding edge or a solver fault) gets verify's findings as errors and the next one is tried. Nothing below the
 * built-in welfare ever settles, even when the built-in allocation itself failed.
 */
export function settleOnWelfare<C extends Candidate>(
  book: readonly Intent[],
  latency: LatencyTable,
  candidates: readonly C[],
  proof: BuiltinProof,
  now?: number,
): SettledAllocation<C> | undefined {
  for (let winner = greatestWelfare(candidates); winner; winner = greatestWelfare(candidates)) {
    if (exceeds(proof.welfare, winner.welfare)) return undefined;
    const fills = winner.priced ?? priceAllocation(book, latency, winner.fills);
    const settled = { winner, fills, welfare: winner.welfare, ...claims(proof, winner.welfare) };
    const check = verify(book, latency, { fills, welfare: settled.welfare, certificate: settled.certificate }, { now });
    if (check.ok) return settled;
    winner.errors.push(...check.errors.map((message) => ({ field: "fills", message })));
  }
  return undefined;
}

/**
 * The status, gap and certificate an allocation of this welfare may claim: "optimal" when the built-in solve
 * proved optimality or the welfare reaches its proven bound; else the budget's status with gap = proven bound −
 * welfare, and the certificate's gap restated from the bound the certificate itself proves (verify asks for it).
 */
function claims(proof: BuiltinProof, welfare: number): { status: SolveStatus; gap?: number; certificate: Certificate } {
  const { gap: certGap, ...cert } = proof.certificate;
  const checkable = certGap === undefined ? cert.bound : proof.welfare + certGap;
  const certificate = exceeds(checkable, welfare) ? { ...cert, gap: checkable - welfare } : cert;
  if (proof.status === "optimal" || !exceeds(cert.bound, welfare)) return { status: "optimal", certificate }; // welfare ≥ the built-in's
  return { status: proof.status, gap: Math.max(0, cert.bound - welfare), certificate };
}

/** What a settlement carries and `GET …/proposals?batch=` shows of each proposal (src/contract/schema.ts). */
export type ProposalView = ClosedProposalView;

export function proposalView(batch: string, c: ScoredCandidate, settled: string | undefined): ProposalView {
  const view: ProposalView = {
    id: c.id,
    batch,
    proposer: c.proposer,
    feasible: c.errors.length === 0,
    settled: c.id === settled,
    chosen: c.id === settled,
    welfare: c.welfare,
    elapsedMs: c.elapsedMs,
  };
  if (c.score) view.score = c.score;
  if (c.errors.length > 0) view.errors = c.errors;
  return view;
}

/** A reveal's intent: the one the agent sent (validated) or the one the market stored. */
export function revealedIntent(body: RevealBody, stored: Intent): { ok: true; intent: Intent } | { ok: false; errors: FieldError[] } {
  if (body.intent === undefined) return { ok: true, intent: stored };
  const { id, ...rest } = body.intent as Record<string, unknown>;
  if (id !== undefined && id !== body.intentId) return { ok: false, errors: [{ field: "intent.id", message: "must equal intentId" }] };
  const parsed = IntentInput.safeParse(rest);
  if (!parsed.success) {
    return { ok: false, errors: fieldErrors(parsed.error, "intent") };
  }
  return { ok: true, intent: { ...parsed.data, id: body.intentId } };
}

/**
 * One training example per proposal of a fully revealed batch, in the JSON-lines format `npm run train --
 * --reveals` reads: `{ commitments, latency, fills, label }` (plus where it came from). label = welfare / optimum,
 * the optimum being the exact re-solve's (or a better proposal's, should one beat it), clamped to [0, 1].
 */
export type { TrainingExample } from "../contract/schema.ts";

export function trainingExamples(
  batch: string,
  commitments: Commitment[],
  latency: LatencyTable,
  optimum: number,
  proposals: readonly { id: string; fills: AllocationFill[]; welfare: number; model?: string }[],
): TrainingExample[] {
  const best = Math.max(optimum, ...proposals.map((p) => p.welfare));
  return proposals.map((p) => {
    const label = best > 0 ? Math.min(1, Math.max(0, p.welfare / best)) : 1;
    const example: TrainingExample = { commitments, latency, fills: p.fills, label, batch, proposal: p.id, optimum: best };
    if (p.model !== undefined) example.model = p.model;
    return example;
  });
}
