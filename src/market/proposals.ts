// Proposals, scores, reveals and training examples of a batch market (CONTRACT.md section 6), as pure functions:
// the market object loads rows, calls these, and persists what they return. Nothing here touches storage or ort.
import { IntentInput, type Fill, type FieldError, type ProposalBody, type RevealBody, type Intent, type LatencyTable } from "../schema.ts";
import { verify } from "../solver/index.ts";
import { swapBuyView } from "../solver/multi.ts";
import { applyFills, type IntentRecord, type IntentUpdate } from "./book.ts";
import { batchContext, proposalFeatures } from "../model/features.ts";
import { batchComplexity, scoreProposal, type ProposalScore } from "../model/score.ts";
import type { Commitment } from "../model/commitment.ts";
import type { Scorer } from "../model/scorer.ts";

// The request bodies live in the contract module (src/schema.ts); re-exported for the existing importers.
export { BatchId, ProposalBody, RevealBody, SALT_PATTERN } from "../schema.ts";

/** A fresh salt: 32 random bytes as hex. */
export function newSalt(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Σ quantity × (buyer's limit − seller's limit) over the fills, as the solver and `verify` count welfare. */
export function fillsWelfare(book: readonly Intent[], fills: readonly Fill[]): number {
  const byId = new Map(book.map((i) => [i.id, i] as const));
  let welfare = 0;
  for (const f of fills) {
    const b = byId.get(f.buy);
    const s = byId.get(f.sell);
    if (!b || !s) continue;
    const buyLimit = b.swapFor ? swapBuyView(b).limitPrice : b.limitPrice;
    welfare += f.quantity * (buyLimit - s.limitPrice);
  }
  return welfare;
}

/**
 * Why these fills cannot settle the book, as field errors (`fills.1.buy: not a live buy intent`); empty when they
 * can. The book's own checks (live intents, sides, open quantity) and the solver's `verify` for the rest
 * (latency caps, minimums, prices within limits). An outside proposal carries no certificate and its prices are
 * its own, so `verify`'s optimality and Nash-price findings are not refusals here: the score judges quality.
 */
export function proposalErrors(
  records: ReadonlyMap<string, IntentRecord>,
  book: readonly Intent[],
  latency: LatencyTable,
  fills: readonly Fill[],
  now: number,
): FieldError[] {
  const messages: string[] = [];
  const inBook = new Set(book.map((i) => i.id));
  fills.forEach((f, k) => {
    if (!records.has(f.buy) || !inBook.has(f.buy)) messages.push(`fills.${k}.buy: unknown intent ${f.buy}`);
    if (!records.has(f.sell) || !inBook.has(f.sell)) messages.push(`fills.${k}.sell: unknown intent ${f.sell}`);
  });
  if (messages.length === 0) {
    const applied = applyFills(records, fills, now);
    if (!applied.ok) messages.push(...applied.errors);
    const check = verify(book, latency, { fills: [...fills], welfare: fillsWelfare(book, fills) });
    if (!check.ok) messages.push(...check.errors.filter((e) => !/^certificate|^not optimal|Nash bargaining price|favours the/.test(e)));
  }
  return [...new Set(messages)].map((m) => asFieldError(m, inBook));
}

/** `fills.3.buy: …` stays as is; `intent X: …` and `X: …` (an intent's totals) become `intents.X`. */
function asFieldError(message: string, ids: ReadonlySet<string>): FieldError {
  const cut = message.indexOf(": ");
  const head = cut > 0 ? message.slice(0, cut) : "";
  const rest = message.slice(cut + 2);
  if (/^fills\.\d+(\.\w+)?$/.test(head)) return { field: head, message: rest };
  if (head.startsWith("intent ") && ids.has(head.slice(7))) return { field: `intents.${head.slice(7)}`, message: rest };
  if (ids.has(head)) return { field: `intents.${head}`, message: rest };
  return { field: "fills", message };
}

/** One proposal at the batch's close: the built-in solver's or an outside solver's. */
export interface Candidate {
  id: string;
  /** Agent key of the outside solver, or "market" for the built-in solver. */
  proposer: string;
  fills: Fill[];
  welfare: number;
  /** ms after the batch closed (outside proposals arrive before: 0; the built-in one: its solve time). */
  elapsedMs: number;
  errors: FieldError[];
  /** Applied fills, for the feasible ones (what committing them does to the book). */
  updates?: IntentUpdate[];
}

export interface ScoredCandidate extends Candidate {
  score?: ProposalScore;
}

/**
 * Scores the feasible candidates in one model call: features from the batch's commitments and each proposal's
 * fills only (what a validator sees), then estimate × complexity reward × time weight.
 */
export async function scoreCandidates(
  scorer: Pick<Scorer, "score">,
  commitments: readonly Commitment[],
  latency: LatencyTable,
  candidates: readonly Candidate[],
): Promise<ScoredCandidate[]> {
  const feasible = candidates.filter((c) => c.errors.length === 0 && c.fills.length > 0);
  if (feasible.length === 0) return candidates.map((c) => ({ ...c }));
  const ctx = batchContext(commitments, latency);
  const complexity = batchComplexity(commitments);
  const { estimates, model } = await scorer.score(feasible.map((c) => proposalFeatures(ctx, c.fills)));
  const scores = new Map(feasible.map((c, k) => [c.id, scoreProposal(estimates[k], complexity, c.elapsedMs, model)] as const));
  return candidates.map((c) => (scores.has(c.id) ? { ...c, score: scores.get(c.id) } : { ...c }));
}

/**
 * The best-scoring feasible candidate; ties go to the one listed first. The market lists outside proposals in
 * arrival order before its own, so a miner who matches the built-in solver's quality wins the batch.
 */
export function chooseBest(candidates: readonly ScoredCandidate[]): ScoredCandidate | undefined {
  let best: ScoredCandidate | undefined;
  for (const c of candidates) {
    if (!c.score) continue;
    if (!best || c.score.score > best.score!.score) best = c;
  }
  return best;
}

/** What a settlement carries and `GET …/proposals?batch=` shows of each proposal. */
export interface ProposalView {
  id: string;
  batch: string;
  proposer: string;
  feasible: boolean;
  chosen: boolean;
  welfare: number;
  elapsedMs: number;
  score?: ProposalScore;
  errors?: FieldError[];
}

export function proposalView(batch: string, c: ScoredCandidate, chosen: string | undefined): ProposalView {
  const view: ProposalView = {
    id: c.id,
    batch,
    proposer: c.proposer,
    feasible: c.errors.length === 0,
    chosen: c.id === chosen,
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
    return { ok: false, errors: parsed.error.issues.map((i) => ({ field: ["intent", ...i.path.map(String)].join("."), message: i.message })) };
  }
  return { ok: true, intent: { ...parsed.data, id: body.intentId } };
}

/**
 * One training example per proposal of a fully revealed batch, in the JSON-lines format `npm run train --
 * --reveals` reads: `{ commitments, latency, fills, label }` (plus where it came from). label = welfare / optimum,
 * the optimum being the exact re-solve's (or a better proposal's, should one beat it), clamped to [0, 1].
 */
export interface TrainingExample {
  commitments: Commitment[];
  latency: LatencyTable;
  fills: Fill[];
  label: number;
  batch: string;
  proposal: string;
  optimum: number;
  model?: string;
}

export function trainingExamples(
  batch: string,
  commitments: Commitment[],
  latency: LatencyTable,
  optimum: number,
  proposals: readonly { id: string; fills: Fill[]; welfare: number; model?: string }[],
): TrainingExample[] {
  const best = Math.max(optimum, ...proposals.map((p) => p.welfare));
  return proposals.map((p) => {
    const label = best > 0 ? Math.min(1, Math.max(0, p.welfare / best)) : 1;
    const example: TrainingExample = { commitments, latency, fills: p.fills, label, batch, proposal: p.id, optimum: best };
    if (p.model !== undefined) example.model = p.model;
    return example;
  });
}
