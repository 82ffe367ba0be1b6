// A batch market's close and its exact re-solve, as pure functions returning what to write: the object loads the
// book and the proposals, calls these, and persists the result in one transaction.
import type { Intent, LatencyTable, Settlement } from "../contract/schema.ts";
import type { SolveResult } from "../solver/index.ts";
import type { Commitment } from "../model/commitment.ts";
import { applyFills, buildSettlement, type IntentRecord, type IntentUpdate } from "./book.ts";
import {
  allocationOf,
  fillsWelfare,
  proposalErrors,
  proposalView,
  settleOnWelfare,
  trainingExamples,
  type AllocationFill,
  type Candidate,
  type ProposalView,
  type ScoredCandidate,
  type TrainingExample,
} from "./proposals.ts";
import type { Settled } from "./settle.ts";

/** The open book at the close, as the proposals are judged against it. */
export interface BatchBook {
  records: ReadonlyMap<string, IntentRecord>;
  book: readonly Intent[];
  latency: LatencyTable;
  now: number;
  /** When the batch opened (ms): proposals' time weights count from it. Default `now`. */
  openedMs?: number;
}

/** The built-in solver's proposal: its id (none when it found no fills) and its result. */
export interface Builtin {
  id?: string;
  result: SolveResult;
}

/** Each proposal as a candidate: its welfare, why it cannot settle (empty when it can) and when it arrived after
 *  the batch opened (an outside proposal when it was received, `receivedMs`; the built-in one at the close plus
 *  its solve time). */
export function candidates(at: BatchBook, proposals: readonly { id: string; proposer: string; fills: AllocationFill[]; receivedMs?: number }[], builtin?: Builtin): Candidate[] {
  const opened = at.openedMs ?? at.now;
  const since = (ms: number) => Math.max(0, ms - opened);
  const candidate = (id: string, proposer: string, fills: AllocationFill[], elapsedMs: number): Candidate => ({
    id,
    proposer,
    fills,
    welfare: fillsWelfare(at.book, at.latency, fills),
    elapsedMs,
    errors: proposalErrors(at.records, at.book, at.latency, fills, at.now),
  });
  const out = proposals.map((p) => candidate(p.id, p.proposer, p.fills, since(p.receivedMs ?? opened)));
  // Received at the close: listed last, so a tie goes to an outside proposal.
  if (builtin?.id !== undefined) out.push({ ...candidate(builtin.id, "market", allocationOf(builtin.result.fills), since(at.now) + builtin.result.solveMs), priced: builtin.result.fills });
  return out;
}

/** What a batch's close writes. */
export interface BatchClose {
  /** Every proposal's view; `insert` marks the built-in one, whose row is written at the close. */
  proposals: { id: string; view: ProposalView; insert?: AllocationFill[] }[];
  /** The settlement and what it does to the book, when a proposal settled. */
  settled?: { settlement: Settlement; updates: IntentUpdate[] };
}

/**
 * The close: the feasible proposal of greatest welfare settles, priced by Nash bargaining (settleOnWelfare) and
 * stated against the built-in solve's proof. Scores ride on the settlement for miner rewards only.
 * `settlementId` names the settlement; `scored` says whether the model scored the candidates.
 */
export function closeBatch(
  at: BatchBook,
  input: { market: string; batch: string; settlementId: string; builtin?: Builtin; candidates: readonly ScoredCandidate[]; scored: boolean },
): BatchClose {
  const { batch, builtin } = input;
  const settled = builtin ? settleOnWelfare(at.book, at.latency, input.candidates, builtin.result, at.now) : undefined;
  const proposals = input.candidates.map((c) => ({
    id: c.id,
    view: proposalView(batch, c, settled?.winner.id),
    ...(c.id === builtin?.id ? { insert: c.fills } : {}),
  }));
  const applied = settled ? applyFills(at.records, settled.fills, at.now) : undefined;
  if (!settled || !builtin || !applied?.ok) return { proposals };
  const { winner, gap, ...result } = settled;
  const settlement = buildSettlement(input.settlementId, input.market, { ...result, solveMs: builtin.result.solveMs, ...(gap === undefined ? {} : { gap }) }, new Date(at.now).toISOString());
  settlement.stats.batch = batch;
  settlement.stats.proposal = winner.id;
  const model = input.candidates.find((c) => c.score)?.score?.model ?? null;
  // `settledOnWelfare`: the proposal that settled, by the welfare rule; the scores only rank the proposals.
  (settlement as Settlement & { scores: unknown }).scores = {
    batch,
    model,
    settledOnWelfare: winner.id,
    proposals: proposals.map((p) => p.view),
    ...(input.scored ? {} : { unscored: "the only proposal was the built-in one and the model was still loading" }),
  };
  return { proposals, settled: { settlement, updates: applied.updates } };
}

/** What the exact re-solve of a fully revealed batch records: its summary and one training example per proposal. */
export interface Resolution {
  resolved: { status: string; optimum: number | null; examples: number; errors?: string[] };
  examples: TrainingExample[];
}

/**
 * The exact re-solve's verdict: a verified optimum labels every feasible proposal (welfare / optimum) for training;
 * anything less records why and labels nothing.
 */
export function resolution(
  batch: string,
  latency: LatencyTable,
  exact: Settled,
  commitments: Commitment[],
  proposals: readonly { id: string; fills: AllocationFill[]; welfare: number; model?: string }[],
): Resolution {
  if (!exact.verified || exact.result.status !== "optimal") {
    return { resolved: { status: exact.result.status, optimum: null, examples: 0, errors: exact.verified ? [] : exact.errors }, examples: [] };
  }
  const examples = trainingExamples(batch, commitments, latency, exact.result.welfare, proposals);
  return { resolved: { status: "optimal", optimum: examples[0]?.optimum ?? exact.result.welfare, examples: examples.length }, examples };
}
