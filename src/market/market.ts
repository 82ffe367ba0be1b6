// One market's operations over its store: intake, cancel, configuration, reads, proposals, reveals, the batch's
// close and the alarm's schedule. It decides with the pure modules beside it (book, guards, clearing, batch,
// schedule, settle) and writes through the store; the runtime hands in what it owns (the stream, the alarm, the
// relay), so this runs in Node against node:sqlite as it does in the Durable Object.
import { IntentInput, MarketConfig, type CancelAnswer, type ClosedProposalView, type EffectiveConfig, type FieldError, type Intent, type IntentAccepted, type LatencyTable, type MarketAnswer, type MarketEvent, type PendingProposalView, type ProposalAnswer, type RevealAnswer, type Settlement } from "../contract/schema.ts";
import { SIGNATURE_WINDOW_MS } from "../contract/auth.ts";
import { DEFAULT_LATENCY } from "../solver/index.ts";
import { commit, openCommitment, type Commitment } from "../model/commitment.ts";
import type { Scorer } from "../model/scorer.ts";
import { ringCount, windowCount } from "../model/reward.ts";
import type { MarketRelay } from "../bridge/market-hooks.ts";
import { bestPrices, buildSettlement, cancelCheck, endedFields, intentFill, intentView, leastCompetitive, mayTrade, priceDistance, solverBook, stopsTradingAt, type IntentRecord, type IntentUpdate, type IntentView } from "./book.ts";
import { IDEMPOTENCY_TTL_MS, agentOpenCap, idempotencyDecision, openIntentCheck, signatureForgetAt, type OpenIntentCaps, type WriteBudget } from "./guards.ts";
import { failure, success, type Outcome } from "./outcome.ts";
import { addReveal, reputationFrom, type RevealTotals } from "../model/reputation.ts";
import { allocationOf, fillsWelfare, newSalt, proposalErrors, revealedIntent, scoreCandidates, type AllocationFill, type ProposalBody, type RevealBody, type TrainingExample } from "./proposals.ts";
import { ContinuousClearing, SOLVE_TIME_BUDGET_MS, type Cleared } from "./clearing.ts";
import { candidates, closeBatch, resolution, type Builtin } from "./batch.ts";
import { nextAlarm } from "./schedule.ts";
import { settle } from "./settle.ts";
import type { MarketStore } from "./store.ts";

export const DEFAULT_BATCH_INTERVAL_MS = 1000;
export const OPEN_INTENTS_LIMIT = 1000;

/** A verified signature, as the worker hands it over: the market refuses it if seen before. */
export interface WriteAuth {
  agent: string;
  signature: string;
  timestamp: number;
}

/** `Idempotency-Key` and the fingerprint (method, path, body hash) of the request that carried it. */
export interface Idempotency {
  key: string;
  fingerprint: string;
}

/** What a submit answers (src/contract/schema.ts). */
export type SubmitAnswer = IntentAccepted;

/** `config` over the defaults. */
export function effectiveConfig(config: MarketConfig): EffectiveConfig {
  return {
    clearing: config.clearing ?? "continuous",
    batchIntervalMs: config.batchIntervalMs ?? DEFAULT_BATCH_INTERVAL_MS,
    latency: config.latency ?? DEFAULT_LATENCY,
  };
}

/** What the market uses of the runtime around it. */
export interface MarketHooks {
  /** Sends an event to the market's stream. */
  broadcast(event: MarketEvent): void;
  /** Sets the alarm (null: none). Called only when the time changes. */
  setAlarm(at: number | null): void;
  /** The settlement relay, when on: its outbox row commits with each settlement. */
  relay?: MarketRelay;
}

/** The guards' settings, read on every write (tests replace them). */
export interface MarketLimits {
  budget: WriteBudget;
  openIntentCaps: OpenIntentCaps;
}

export type ProposalListing = ClosedProposalView | PendingProposalView;

export class Market {
  readonly name: string;
  readonly store: MarketStore;
  readonly clearing: ContinuousClearing;
  private readonly hooks: MarketHooks;
  private readonly limits: MarketLimits;
  private config: MarketConfig;
  private intentSeq: number;
  private settlementSeq: number;
  /** No live intent expires before this time (ms); 0 = unknown. Arrivals lower it; nothing else can. */
  private expiryFloor = 0;
  private alarmAt: number | null;

  constructor(name: string, store: MarketStore, hooks: MarketHooks, limits: MarketLimits, alarmAt: number | null) {
    this.name = name;
    this.store = store;
    this.hooks = hooks;
    this.limits = limits;
    this.alarmAt = alarmAt;
    this.config = JSON.parse(store.meta("config") ?? "{}") as MarketConfig;
    this.intentSeq = store.maxIntentSeq();
    this.settlementSeq = store.maxSettlementSeq();
    this.clearing = new ContinuousClearing({
      store,
      expireDue: (now) => this.expireDue(now),
      commit: (result, updates, now) => {
        const seq = this.settlementSeq + 1;
        return this.commit(seq, buildSettlement(`s-${seq}`, this.name, result, new Date(now).toISOString()), updates, now);
      },
      log: (message, ...details) => console.error(`market ${this.name}: ${message}`, ...details),
    });
  }

  get effective(): EffectiveConfig {
    return effectiveConfig(this.config);
  }

  // ---- writes (the worker has verified the signature and validated the body) ----

  /** Submits an intent; in continuous clearing the answer carries the settlement it caused. */
  submit(input: IntentInput, auth: WriteAuth, idem?: Idempotency, salt?: string): Outcome<SubmitAnswer> {
    const now = Date.now();
    if (idem) {
      const stored = this.store.idempotent(auth.agent, idem.key, now - IDEMPOTENCY_TTL_MS);
      const decision = idempotencyDecision(stored, idem.fingerprint);
      if (decision === "repeat") return JSON.parse(stored!.answer) as Outcome<SubmitAnswer>;
      if (decision === "conflict") {
        return failure(422, "idempotency-conflict", "Idempotency-Key reused", "this Idempotency-Key was already used with a different request", {
          errors: [{ field: "Idempotency-Key", message: "already used with a different request body or path" }],
        });
      }
    }
    const guard = this.guardWrite(auth, now);
    if (!guard.ok) return guard;
    const outcome = this.accept(input, auth.agent, now, salt);
    if (idem) this.store.rememberIdempotent(auth.agent, idem.key, idem.fingerprint, JSON.stringify(outcome), now);
    return outcome;
  }

  /** Cancels an open or partly filled intent of `auth.agent`. */
  cancel(id: string, auth: WriteAuth): Outcome<CancelAnswer> {
    const now = Date.now();
    const guard = this.guardWrite(auth, now);
    if (!guard.ok) return guard;
    this.expireDue(now);
    const check = cancelCheck(this.store.record(id), id, auth.agent, now);
    if (!check.ok) return check;
    this.store.cancel(id);
    const view = this.store.view(id)!;
    this.hooks.broadcast({ type: "intent.cancelled", market: this.name, at: new Date(now).toISOString(), intent: view });
    // A book not known to be settled may hold a trade the cancelled intent stood in the way of (it stopped the
    // last solve short, or the solve failed): clear it now rather than at the next arrival.
    if (!this.clearing.bookSettled && this.effective.clearing === "continuous") {
      this.clearing.clear(now, this.effective.latency);
      this.schedule(now);
    }
    return success({ intent: view });
  }

  /** Replaces the market's configuration (the worker has checked the operator key). */
  setConfig(config: MarketConfig, auth: WriteAuth): Outcome<{ config: EffectiveConfig }> {
    const now = Date.now();
    const parsed = MarketConfig.safeParse(config);
    if (!parsed.success) return failure(422, "invalid-config", "Invalid market configuration", "the configuration is not valid");
    const guard = this.guardWrite(auth, now);
    if (!guard.ok) return guard;
    this.config = parsed.data;
    this.store.setMeta("config", JSON.stringify(this.config));
    // Switching to continuous clears the whole book (whatever a pending batch held, under the new latency
    // table); switching to batch starts the timer.
    if (this.effective.clearing === "continuous") {
      this.store.setMeta("batch_due_ms", "");
      this.clearing.clear(now, this.effective.latency);
    } else if (this.store.liveCount() > 0) {
      this.markBatchPending(now);
    }
    this.schedule(now);
    return success({ config: this.effective });
  }

  /** Replay refusal and rate limits for a signed write; records the signature as seen. */
  guardWrite(auth: WriteAuth, now: number): Outcome<true> {
    if (!this.store.rememberSignature(auth.signature, signatureForgetAt(auth.timestamp, SIGNATURE_WINDOW_MS), now)) {
      return failure(401, "replayed-signature", "Replayed request", "this signature was already used; sign each request afresh");
    }
    return this.limits.budget.take(auth.agent, now);
  }

  private accept(input: IntentInput, agent: string, now: number, salt?: string): Outcome<SubmitAnswer> {
    const parsed = IntentInput.safeParse(input);
    if (!parsed.success) return failure(422, "invalid-intent", "Invalid intent", "the intent is not valid");
    const { id: clientId, ...fields } = parsed.data;
    if (fields.agent !== agent) return failure(403, "forbidden", "Wrong agent", "an intent's agent must be the signing key");
    // An intent stops trading at its expiry or when a window it trades in ends (CONTRACT.md section 2a).
    const ended = endedFields(fields, now);
    if (ended.length > 0) return failure(422, "invalid-intent", "Invalid intent", "the intent has already expired or its window has ended", { errors: ended });
    const expiresAtMs = stopsTradingAt(fields);
    const id = clientId ?? crypto.randomUUID();
    const counts = this.store.intakeCounts(id, agent);
    if (clientId !== undefined && counts.taken) {
      return failure(409, "id-taken", "Intent id already used", `intent id ${id} is already used in this market`, {
        errors: [{ field: "id", message: "already used in this market" }],
      });
    }
    const cap = this.capacityCheck(agent, counts, fields, now);
    if (!cap.ok) return cap;
    const intent: Intent = { id, ...fields };
    this.intentSeq += 1;
    const record: IntentRecord = { intent, status: "open", filled: 0, seq: this.intentSeq, createdAt: new Date(now).toISOString() };
    if (expiresAtMs !== undefined) {
      record.expiresAtMs = expiresAtMs;
      if (this.expiryFloor > 0) this.expiryFloor = Math.min(this.expiryFloor, expiresAtMs);
    }
    // The commitment is published (GET …/commitments); the salt stays in the store until the agent reveals.
    const drawn = salt === undefined ? newSalt() : undefined;
    const commitment = commit(intent, salt ?? drawn!);
    this.store.insertIntent(record, commitment, salt ?? drawn!);
    this.hooks.broadcast({ type: "intent.accepted", market: this.name, at: record.createdAt, intent: intentView(record) });
    const cleared = this.clearOnArrival(record, now);
    this.schedule(now);
    return success({ ...arrivalAnswer(record, cleared), commitment, ...(drawn === undefined ? {} : { salt: drawn }) });
  }

  /**
   * What an arrival's priority makes of it (CONTRACT.md section 3). Continuous: it clears at once, except a `"low"`
   * one, which waits for the next sweep. Batch: it waits for the close, except a `"high"` one, which clears at once
   * against the resting book, its own trades only (the rest waits for the close; what it leaves open waits too).
   */
  private clearOnArrival(record: IntentRecord, now: number): Cleared | undefined {
    const priority = record.intent.priority ?? "normal";
    const latency = this.effective.latency;
    if (this.effective.clearing === "continuous") {
      if (priority !== "low") return this.clearing.clear(now, latency, record);
      // Not solved now: the book is no longer known to be settled, so the sweep (or an earlier arrival's
      // clearing) solves it whole.
      this.clearing.unsettle();
      this.markSweepPending(now);
      return undefined;
    }
    const cleared = priority === "high" ? this.clearing.clearArrival(now, latency, record) : undefined;
    this.markBatchPending(now);
    return cleared;
  }

  /**
   * Room for one more live intent of `agent`: its own cap, grown by its traded intents (counted only once it reaches
   * the new-key cap), then the market's. A full market evicts its least competitive resting intent for an arrival
   * that is more competitive, else 409. The reads behind both run only at a cap: the usual submit pays nothing.
   */
  private capacityCheck(agent: string, open: { agent: number; market: number }, arrival: IntentInput, now: number): Outcome<true> {
    const caps = this.limits.openIntentCaps;
    let perAgent = Math.min(caps.perAgent, caps.perNewAgent);
    if (open.agent >= perAgent) perAgent = agentOpenCap(this.store.tradedCount(agent), caps);
    const check = openIntentCheck(open, { perAgent, perMarket: caps.perMarket });
    if (check.ok || open.agent >= perAgent) return check;
    this.expireDue(now); // the count held intents past their expiry, maybe
    if (this.store.liveCount() < caps.perMarket || this.evictFor(arrival, now)) return success(true);
    return check;
  }

  /** Evicts the least competitive resting intent (src/market/book.ts) when `arrival` is more competitive. */
  private evictFor(arrival: IntentInput, now: number): boolean {
    const rows = this.store.resting(now);
    const best = bestPrices(rows);
    const victim = leastCompetitive(rows, best);
    if (!victim || !(priceDistance(arrival.side, arrival.limitPrice, best.get(arrival.resource)) < victim.distance)) return false;
    // Removing an intent cannot create a trade: a settled book stays settled.
    this.store.cancel(victim.id);
    this.hooks.broadcast({ type: "intent.cancelled", market: this.name, at: new Date(now).toISOString(), intent: this.store.view(victim.id)!, reason: "evicted" });
    return true;
  }

  /**
   * Commits a settlement in ONE transaction with the relay's outbox row and whatever `also` writes (a batch's
   * proposal scores), then announces it.
   */
  private commit(seq: number, settlement: Settlement, updates: readonly IntentUpdate[], now: number, also?: () => void): Settlement {
    this.store.commitSettlement(seq, settlement, updates, () => {
      also?.();
      // A full outbox refuses and counts; the settlement commits regardless.
      this.hooks.relay?.enqueue(this.name, settlement, now);
    });
    this.settlementSeq = seq;
    this.hooks.broadcast({ type: "settlement.committed", market: this.name, at: settlement.createdAt ?? "", settlement });
    return settlement;
  }

  // ---- reads ----

  intent(id: string): Outcome<IntentView> {
    this.expireDue(Date.now());
    const view = this.store.view(id, true);
    return view ? success(view) : failure(404, "not-found", "Intent not found", `no intent ${id} in this market`);
  }

  settlement(id: string): Outcome<Settlement> {
    const settlement = this.store.settlement(id);
    return settlement ? success(settlement) : failure(404, "not-found", "Settlement not found", `no settlement ${id} in this market`);
  }

  /** The market's configuration, counters and first open intents. */
  overview(): Pick<MarketAnswer, "market" | "config" | "counters" | "openIntents" | "openIntentsTruncated"> {
    this.expireDue(Date.now());
    const open = this.store.openIntents(OPEN_INTENTS_LIMIT + 1);
    return {
      market: this.name,
      config: this.effective,
      counters: this.store.counters(),
      openIntents: open.slice(0, OPEN_INTENTS_LIMIT),
      openIntentsTruncated: open.length > OPEN_INTENTS_LIMIT,
    };
  }

  // ---- learned validation (notes/model.md "Phase 2"): commitments, proposals, reveals ----

  /** Commitments of the open book (default), or of the intents of a settled batch. */
  commitments(batch?: string): Outcome<{ batch?: string; commitments: Commitment[] }> {
    if (batch !== undefined) {
      if (!this.store.batchExists(batch)) return failure(404, "not-found", "Batch not found", `no settled batch ${batch} in this market`);
      return success({ batch, commitments: this.store.commitmentsOf(this.store.batchIntentIds(batch)) });
    }
    this.expireDue(Date.now());
    const commitments = this.store.liveCommitments(OPEN_INTENTS_LIMIT);
    return success(this.effective.clearing === "batch" ? { batch: this.openBatchId(), commitments } : { commitments });
  }

  /** An outside solver's proposal for the open batch: checked against the live book now and again at the close.
   *  `warm` starts loading the model that will score it at the close. */
  propose(body: ProposalBody, auth: WriteAuth, warm: () => void): Outcome<ProposalAnswer> {
    const now = Date.now();
    const due = this.store.meta("batch_due_ms");
    if (this.effective.clearing !== "batch" || !due || Number(due) <= now) {
      return failure(409, "no-open-batch", "No batch open", "proposals are taken while a batch is open: batch clearing, with intents waiting for the close");
    }
    const batch = this.openBatchId();
    if (body.batch !== undefined && body.batch !== batch) {
      return failure(409, "batch-closed", "Batch closed", `batch ${body.batch} is not open; the open batch is ${batch}`, {
        errors: [{ field: "batch", message: `the open batch is ${batch}` }],
      });
    }
    const guard = this.guardWrite(auth, now);
    if (!guard.ok) return guard;
    this.expireDue(now);
    const { records, book } = this.liveBook(now);
    const fills = allocationOf(body.fills); // an allocation: prices sent with it are ignored
    const errors = proposalErrors(records, book, this.effective.latency, fills, now);
    if (errors.length > 0) return failure(422, "infeasible-proposal", "Infeasible proposal", "these fills cannot settle the open batch", { errors });
    warm();
    const id = `p-${this.store.nextProposalSeq()}`;
    this.store.insertProposal(id, batch, auth.agent, fills, now);
    return success({ proposal: { id, batch, receivedAt: new Date(now).toISOString(), closesAt: new Date(Number(due)).toISOString() } });
  }

  /** Proposals of a batch (default: the open one) with their scores once the batch has closed. */
  proposals(batch?: string): Outcome<{ batch: string; proposals: ProposalListing[] }> {
    const id = batch ?? this.openBatchId();
    const proposals = this.store
      .proposals(id)
      .map((r): ProposalListing => (r.view ? (JSON.parse(r.view) as ClosedProposalView) : { id: r.id, batch: id, proposer: r.proposer, pending: true, receivedAt: new Date(r.received_ms).toISOString() }));
    return success({ batch: id, proposals });
  }

  /**
   * Opens an intent's commitment after a batch it was in settled. When that completes a batch's reveals, the
   * batch is re-solved exactly, the certificate checked, and every proposal's true ratio recorded for training.
   */
  reveal(body: RevealBody, auth: WriteAuth): Outcome<RevealAnswer> {
    const now = Date.now();
    const stored = this.store.committed(body.intentId);
    if (!stored) return failure(404, "not-found", "Intent not found", `no committed intent ${body.intentId} in this market`);
    if (stored.agent !== auth.agent) return failure(403, "forbidden", "Not your intent", "only the intent's own agent can reveal it");
    const batches = this.store.batchesOf(body.intentId);
    if (batches.length === 0) return failure(409, "not-settled", "Nothing to reveal yet", "an intent is revealed after a batch it took part in has settled");
    const guard = this.guardWrite(auth, now);
    if (!guard.ok) return guard;
    const revealed = revealedIntent(body, stored.intent);
    if (!revealed.ok) return failure(422, "invalid-reveal", "Invalid reveal", "the revealed intent has invalid fields", { errors: revealed.errors });
    const opened = openCommitment(stored.commitment, revealed.intent, body.salt);
    if (!opened.ok) {
      const field = opened.reason === "bad_salt" || body.intent === undefined ? "salt" : "intent";
      return failure(422, "reveal-mismatch", "Reveal does not match the commitment", `${opened.reason}: ${opened.detail}`, {
        errors: [{ field, message: `${opened.reason}: ${opened.detail}` }],
      });
    }
    this.store.markRevealed(body.intentId);
    const out = batches.map((batch) => {
      const n = this.store.revealCount(batch);
      const entry: { id: string; revealed: number; intents: number; resolved?: unknown } = { id: batch, revealed: n.revealed, intents: n.all };
      if (n.revealed === n.all) entry.resolved = this.resolveBatch(batch, now);
      return entry;
    });
    return success({ intentId: body.intentId, batches: out });
  }

  trainingExamples(batch?: string): Outcome<TrainingExample[]> {
    return success(this.store.trainingExamples(batch) as TrainingExample[]);
  }

  /** The exact re-solve of a fully revealed batch (once): certificate checked, one training example per feasible proposal. */
  private resolveBatch(batch: string, now: number): unknown {
    const row = this.store.batch(batch)!;
    if (row.resolved) return JSON.parse(row.resolved) as unknown;
    const book = JSON.parse(row.book) as Intent[];
    const latency = JSON.parse(row.latency) as LatencyTable;
    // The batch's own time: what was deliverable at its close.
    const exact = settle(book, latency, { timeBudgetMs: 5_000, nodeBudget: 1_000_000, now: row.created_ms });
    const rows = this.store
      .proposals(batch, true)
      .map((p) => ({ id: p.id, fills: allocationOf(JSON.parse(p.fills) as AllocationFill[]), view: JSON.parse(p.view!) as ClosedProposalView }))
      .filter((p) => p.view.feasible);
    const proposals = rows.map((p) => ({ id: p.id, fills: p.fills, welfare: fillsWelfare(book, latency, p.fills), ...(p.view.score ? { model: p.view.score.model } : {}) }));
    const { resolved, examples } = resolution(batch, latency, exact, this.store.commitmentsOf(book.map((i) => i.id)), proposals);
    this.store.transaction(() => {
      for (const e of examples) this.store.insertTrainingExample(batch, e.proposal, e, now);
      this.recordReveals(rows.map((p) => p.view), examples);
      this.store.setResolved(batch, resolved);
    });
    return resolved;
  }

  /** Each scored proposal's model estimate beside its revealed share, summed per proposer (src/model/reputation.ts). */
  private recordReveals(views: readonly ClosedProposalView[], examples: readonly TrainingExample[]): void {
    const labels = new Map(examples.map((e) => [e.proposal, e.label]));
    for (const v of views) {
      const label = labels.get(v.id);
      if (!v.score || label === undefined) continue;
      const key = `reputation:${v.proposer}`;
      const totals = addReveal(this.reputationTotals(v.proposer), { estimate: v.score.estimate + (v.score.discount ?? 0), label });
      this.store.setMeta(key, JSON.stringify(totals));
    }
  }

  private reputationTotals(proposer: string): RevealTotals | undefined {
    const saved = this.store.meta(`reputation:${proposer}`);
    return saved ? (JSON.parse(saved) as RevealTotals) : undefined;
  }

  // ---- the batch's close ----

  /** Whether the open batch is due at `now` (batch clearing); a due batch is taken off the timer. */
  takeDueBatch(now: number): boolean {
    const due = this.store.meta("batch_due_ms");
    if (this.effective.clearing !== "batch" || !due || Number(due) > now) return false;
    this.store.setMeta("batch_due_ms", "");
    return true;
  }

  /** Whether an outside proposal waits for the close (then the close wants the model loaded). */
  wantsScorer(): boolean {
    return this.store.hasUnscoredProposal(this.openBatchId());
  }

  /**
   * The batch's close: the built-in solver proposes too; every proposal is checked against the book as it is now
   * and, when the model is loaded (`scorer`), the feasible ones scored in one model call (for miner rewards); the
   * one of greatest welfare settles (src/market/batch.ts). The batch's book is kept for the exact re-solve.
   */
  async closeBatch(now: number, scorer: Scorer | undefined): Promise<void> {
    this.expireDue(now);
    const batch = this.openBatchId();
    const latency = this.effective.latency;
    const { records, book } = this.liveBook(now);
    const intervalMs = this.effective.batchIntervalMs;
    const at = { records, book, latency, now, openedMs: Number(this.store.meta("batch_open_ms") || now - intervalMs) };
    const pending = this.store
      .proposals(batch, false)
      .map((p) => ({ id: p.id, proposer: p.proposer, fills: allocationOf(JSON.parse(p.fills) as AllocationFill[]), receivedMs: p.received_ms }));
    let builtin: Builtin | undefined;
    if (book.length > 0 && (mayTrade(book) || pending.length > 0)) {
      const solved = settle(book, latency, { timeBudgetMs: SOLVE_TIME_BUDGET_MS, now });
      // Not a refusal: the settling allocation is verified against this certificate by settleOnWelfare.
      if (!solved.verified) console.error(`market ${this.name}: the built-in batch solve failed verification`, solved.errors);
      builtin = { result: solved.result, ...(solved.result.fills.length > 0 ? { id: `p-${this.store.nextProposalSeq()}` } : {}) };
    }
    const all = candidates(at, pending, builtin);
    // The model loads on first need (the first outside proposal starts it, the close waits for it): a batch with
    // only the built-in proposal settles unscored until the model is loaded, so plain batch trading never pays
    // ort's start-up. Should the model fail to load, the batch settles unscored.
    const scored = scorer !== undefined && all.some((c) => c.errors.length === 0);
    const reputations = new Map(all.map((c) => [c.proposer, reputationFrom(this.reputationTotals(c.proposer))]));
    // Rings and delivery windows come from the market's own exact-welfare allocation: a property of the batch, the
    // same for every proposal, which no proposer can pad with rings or windows of its own.
    const allocation = builtin?.result.fills ?? [];
    const terms = { rings: ringCount(allocation), windows: windowCount(allocation), intervalMs, reputations, now };
    const ranked = scored ? await scoreCandidates(scorer, this.store.commitmentsOf(book.map((i) => i.id)), latency, all, terms) : all;
    const seq = this.settlementSeq + 1;
    const close = closeBatch(at, { market: this.name, batch, settlementId: `s-${seq}`, builtin, candidates: ranked, scored });
    const persist = () => {
      for (const p of close.proposals) {
        if (p.insert) this.store.insertProposal(p.id, batch, "market", p.insert, now, p.view);
        else this.store.setProposalView(p.id, p.view);
      }
      this.store.setMeta("batch_seq", batch.slice(2));
    };
    if (!close.settled) return this.store.transaction(persist);
    const { settlement, updates } = close.settled;
    this.commit(seq, settlement, updates, now, () => {
      persist();
      this.store.insertBatch(batch, settlement.id, book, latency, now);
    });
  }

  // ---- the continuous market's sweep (low-priority intents wait for it) ----

  /** Whether a sweep is due at `now` (continuous clearing); a due sweep is taken off the timer. */
  takeDueSweep(now: number): boolean {
    const due = this.store.meta("sweep_due_ms");
    if (!due || Number(due) > now) return false;
    this.store.setMeta("sweep_due_ms", "");
    return this.effective.clearing === "continuous";
  }

  /** A sweep: a clearing of the whole book. */
  sweep(now: number): void {
    this.clearing.clear(now, this.effective.latency);
  }

  // ---- expiry and the alarm ----

  /** Marks live intents past their expiry as `expired`, and announces them. */
  expireDue(now: number): void {
    if (now < this.expiryFloor) return;
    this.expiryFloor = 0;
    const due = this.store.expireDue(now);
    if (due.length > 0) this.hooks.broadcast({ type: "intent.expired", market: this.name, at: new Date(now).toISOString(), ids: due });
  }

  /** Sets the one alarm to whichever comes first: the next expiry, the pending batch, the relay's next attempt. */
  schedule(now: number): void {
    // A floor below the true next expiry (intents filled or cancelled since) only wakes the alarm early.
    if (this.expiryFloor <= now) this.expiryFloor = this.store.nextExpiry(now);
    const due = this.store.meta(this.effective.clearing === "batch" ? "batch_due_ms" : "sweep_due_ms");
    const next = nextAlarm({
      expiry: Number.isFinite(this.expiryFloor) ? this.expiryFloor : null,
      batchDue: due ? Number(due) : null,
      relay: this.hooks.relay?.wantsAlarmAt() ?? null,
    });
    if (next === this.alarmAt) return;
    this.alarmAt = next;
    this.hooks.setAlarm(next);
  }

  /** The alarm fired: it is no longer set. */
  alarmFired(): void {
    this.alarmAt = null;
  }

  // ---- helpers ----

  /** Opens a batch unless one is open: its close is due one interval from now; proposals' time weights count from now. */
  private markBatchPending(now: number): void {
    if (this.store.meta("batch_due_ms")) return;
    this.store.setMeta("batch_open_ms", String(now));
    this.store.setMeta("batch_due_ms", String(now + this.effective.batchIntervalMs));
  }

  /** Sets the next sweep one interval from now unless one is set. */
  private markSweepPending(now: number): void {
    if (this.store.meta("sweep_due_ms")) return;
    this.store.setMeta("sweep_due_ms", String(now + this.effective.batchIntervalMs));
  }

  /** The open batch's id: `b-<n>`, n one more than the batches closed so far. */
  private openBatchId(): string {
    return `b-${Number(this.store.meta("batch_seq") ?? "0") + 1}`;
  }

  private liveBook(now: number): { records: Map<string, IntentRecord>; book: Intent[] } {
    const records = this.store.liveRecords();
    return { records, book: solverBook(records.values(), now) };
  }
}

/** What a submit answers: the arrival as it stands after the clearing it caused (its fills can only come from
 *  that settlement), and the settlement. */
function arrivalAnswer(record: IntentRecord, cleared: Cleared | undefined): { intent: IntentView; settlement?: Settlement } {
  const update = cleared?.updates.find((u) => u.id === record.intent.id);
  if (!cleared) return { intent: intentView(record, []) };
  const { settlement } = cleared;
  if (!update) return { intent: intentView(record, []), settlement };
  const fills = settlement.fills.filter((f) => f.buy === record.intent.id || f.sell === record.intent.id).map((f) => intentFill(settlement.id, f));
  return { intent: intentView({ ...record, filled: update.filled, status: update.status }, fills), settlement };
}
