// The market Durable Object: the only writer of one market's state (intents, fills, settlements) in SQLite.
// Thin by design: it loads rows, calls the pure bookkeeping in src/market and the solver in src/solver, and
// persists the result in one transaction. Native RPC methods are its API; the edge worker maps their outcomes
// to HTTP. Later sessions add tables through MIGRATIONS and methods beside the ones here.
import { DurableObject } from "cloudflare:workers";
import { IntentInput, MarketConfig, StreamTypes, type FieldError, type Fill, type Intent, type IntentStatus, type LatencyTable, type Settlement } from "../contract/schema.ts";
import { compatible, DEFAULT_LATENCY, solve, verify } from "../solver/index.ts";
import { SIGNATURE_WINDOW_MS } from "../contract/auth.ts";
import {
  applyFills,
  buildSettlement,
  cancelCheck,
  connectedResources,
  intentFill,
  intentView,
  mayTrade,
  remainingOf,
  solverBook,
  crossedPair,
  bestPrices,
  leastCompetitive,
  priceDistance,
  type RestingIntent,
  type IntentRecord,
  type IntentUpdate,
  type IntentView,
} from "../market/book.ts";
import {
  IDEMPOTENCY_TTL_MS,
  idempotencyDecision,
  rateLimitsFrom,
  marketRateLimitsFrom,
  agentOpenCap,
  openIntentCapsFrom,
  openIntentCheck,
  pruneBuckets,
  type OpenIntentCaps,
  signatureForgetAt,
  takeToken,
  type RateLimits,
  type TokenBucket,
} from "../market/guards.ts";
import { failure, success, type Outcome } from "../market/outcome.ts";
import { HttpError, problemResponse } from "../workers/http.ts";
import { MarketRelay, outboxView, type OutboxView } from "../bridge/market-hooks.ts";
import type { BridgeEnv } from "../bridge/relay.ts";
import type { AxonObject } from "./axon.ts";
import type { MarketDirectory } from "./directory.ts";
import { base64 } from "@scure/base";
import defaultModel from "../../models/nash-scorer-v2.onnx";
import { commit, openCommitment, type Commitment } from "../model/commitment.ts";
import { readModelMetadata, type Scorer } from "../model/scorer.ts";
import { FEATURES_VERSION } from "../model/features.ts";
import {
  allocationOf,
  fillsWelfare,
  newSalt,
  proposalErrors,
  proposalView,
  revealedIntent,
  scoreCandidates,
  settleOnWelfare,
  trainingExamples,
  type AllocationFill,
  type Candidate,
  type ProposalBody,
  type ProposalView,
  type RevealBody,
  type ScoredCandidate,
  type TrainingExample,
} from "../market/proposals.ts";

/** The worker's environment: the generated `Env` plus plain-text settings (all optional). */
export interface EdgeEnv extends Env, BridgeEnv {
  /** The axon's objects (`POST /NashChallenge`, nonces per validator hotkey): src/durable/axon.ts. */
  AXON: DurableObjectNamespace<AxonObject>;
  /** The market directory (which markets accepted a write): src/durable/directory.ts. */
  DIRECTORY: DurableObjectNamespace<MarketDirectory>;
  /** Comma-separated agent public keys allowed to PUT a market's config. */
  OPERATOR_AGENTS?: string;
  RATE_LIMIT_BURST?: string;
  RATE_LIMIT_PER_SECOND?: string;
  /** One market's write budget over all agents (src/market/guards.ts). */
  RATE_LIMIT_MARKET_BURST?: string;
  RATE_LIMIT_MARKET_PER_SECOND?: string;
  /** Caps on live intents per agent and per market (src/market/guards.ts). */
  MAX_OPEN_INTENTS_PER_AGENT?: string;
  /** The cap of a key none of whose intents has traded in the market (grows by 10 per traded intent). */
  MAX_OPEN_INTENTS_PER_NEW_AGENT?: string;
  MAX_OPEN_INTENTS_PER_MARKET?: string;
}

/** A verified signature, as the worker hands it over: the object refuses it if seen before. */
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

export interface SubmitAnswer {
  intent: IntentView;
  settlement?: Settlement;
  /** The intent's published commitment (CONTRACT.md section 6). */
  commitment?: Commitment;
  /** The salt the market drew, when the agent sent none: only in this answer, to the submitting agent. */
  salt?: string;
}

/** The scoring model in force: its version, and whether this object has loaded it yet (lazily, on first need). */
export interface ModelView {
  version: string;
  features: string;
  loaded: boolean;
  /** True when an operator replaced the bundled model (PUT /v1/markets/{m}/model). */
  replaced: boolean;
}

/** The configuration in force: stored fields over the defaults. */
export interface EffectiveConfig {
  clearing: "continuous" | "batch";
  batchIntervalMs: number;
  latency: LatencyTable;
}

export interface MarketCounters {
  intents: number;
  openIntents: number;
  settlements: number;
  fills: number;
  /** Units traded, summed over fills. */
  volume: number;
  /** Σ quantity × price over fills. */
  notional: number;
  welfare: number;
}

export interface MarketView {
  market: string;
  config: EffectiveConfig;
  counters: MarketCounters;
  openIntents: IntentView[];
  /** True when there were more open intents than OPEN_INTENTS_LIMIT. */
  openIntentsTruncated: boolean;
  /** The Bittensor settlement relay: off, or its outbox's bound, backlog and counters. */
  outbox: OutboxView;
  /** The model that scores this market's proposals. */
  model?: ModelView;
}

/** Events on the market's WebSocket stream. */
export type MarketEvent =
  | { type: "hello"; market: string; at: string }
  | { type: "intent.accepted"; market: string; at: string; intent: IntentView }
  | { type: "intent.cancelled"; market: string; at: string; intent: IntentView; reason?: "evicted" }
  | { type: "intent.expired"; market: string; at: string; ids: string[] }
  | { type: "settlement.committed"; market: string; at: string; settlement: Settlement };

export const DEFAULT_BATCH_INTERVAL_MS = 1000;
/** Budget for one continuous or batch clearing: the solver returns its best with a gap when it runs out. */
export const SOLVE_TIME_BUDGET_MS = 100;
export const OPEN_INTENTS_LIMIT = 1000;
/** How many counterparties one arrival's walk reads before it reads every crossing intent instead. */
const COUNTERPARTY_WALK = 64;
/** The first, short walk (most arrivals are covered by their best counterparty or two). */
const COUNTERPARTY_FIRST_WALK = 8;
/** Expiry alarms fall on this grid (ms): an `intent.expired` event comes at most this late. */
export const EXPIRY_ALARM_GRID_MS = 250;
/** Version of the bundled model, read once per isolate from its ONNX metadata. */
let defaultModelVersion: string | undefined;

/**
 * Schema migrations, applied in order once each: index k brings the schema to version k+1.
 * Append a new entry to add tables or columns; never edit a shipped one.
 */
const MIGRATIONS: readonly string[][] = [
  [
    `CREATE TABLE intents (
       id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, agent TEXT NOT NULL, resource TEXT NOT NULL, body TEXT NOT NULL,
       status TEXT NOT NULL, filled REAL NOT NULL DEFAULT 0, expires_at_ms INTEGER, created_at TEXT NOT NULL)`,
    `CREATE INDEX intents_status ON intents(status, seq)`,
    `CREATE INDEX intents_resource ON intents(resource, status)`,
    `CREATE TABLE settlements (
       id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, body TEXT NOT NULL, welfare REAL NOT NULL,
       created_at TEXT NOT NULL)`,
    `CREATE TABLE fills (
       settlement_id TEXT NOT NULL, idx INTEGER NOT NULL, buy TEXT NOT NULL, sell TEXT NOT NULL,
       resource TEXT NOT NULL, quantity REAL NOT NULL, price REAL NOT NULL, PRIMARY KEY (settlement_id, idx))`,
    `CREATE INDEX fills_buy ON fills(buy)`,
    `CREATE INDEX fills_sell ON fills(sell)`,
    `CREATE TABLE idempotency (
       agent TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, answer TEXT NOT NULL,
       created_ms INTEGER NOT NULL, PRIMARY KEY (agent, key))`,
    `CREATE INDEX idempotency_created ON idempotency(created_ms)`,
    `CREATE TABLE seen_signatures (signature TEXT PRIMARY KEY, forget_at_ms INTEGER NOT NULL)`,
    `CREATE INDEX seen_signatures_forget ON seen_signatures(forget_at_ms)`,
  ],
  // v2: the per-agent open-intent cap counts an agent's live intents on every submit.
  [`CREATE INDEX intents_agent ON intents(agent, status)`],
  // v3 (learned validation, notes/model.md "Phase 2"): commitments of accepted intents (the salt never leaves the
  // object), proposals of batches with their scores, settled batches (book snapshot for the exact re-solve once
  // all is revealed) and the training examples that re-solve yields.
  [
    `CREATE TABLE commitments (intent_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL, salt TEXT NOT NULL,
       revealed INTEGER NOT NULL DEFAULT 0)`,
    `CREATE TABLE proposals (
       id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, batch TEXT NOT NULL, proposer TEXT NOT NULL, fills TEXT NOT NULL,
       received_ms INTEGER NOT NULL, view TEXT)`,
    `CREATE INDEX proposals_batch ON proposals(batch, seq)`,
    `CREATE TABLE batches (
       id TEXT PRIMARY KEY, settlement_id TEXT NOT NULL, book TEXT NOT NULL, latency TEXT NOT NULL, created_ms INTEGER NOT NULL,
       resolved TEXT)`,
    `CREATE TABLE batch_intents (batch TEXT NOT NULL, intent_id TEXT NOT NULL, PRIMARY KEY (batch, intent_id))`,
    `CREATE INDEX batch_intents_intent ON batch_intents(intent_id)`,
    `CREATE TABLE training_examples (batch TEXT NOT NULL, proposal TEXT NOT NULL, body TEXT NOT NULL, created_ms INTEGER NOT NULL,
       PRIMARY KEY (batch, proposal))`,
  ],
  // v4 (performance pass, notes/robust.md): the per-submit queries (best bid and ask, crossing intents, due
  // expiries, next expiry, live swaps) scanned and JSON-parsed every live row. Virtual columns read the body's
  // fields (nothing new is stored, so they cannot diverge from it) and partial indexes over the live rows make
  // each of those queries an index range; the queries name their index (INDEXED BY) so the plan cannot regress.
  [
    `ALTER TABLE intents ADD COLUMN side TEXT GENERATED ALWAYS AS (json_extract(body, '$.side')) VIRTUAL`,
    `ALTER TABLE intents ADD COLUMN limit_price REAL GENERATED ALWAYS AS (json_extract(body, '$.limitPrice')) VIRTUAL`,
    `ALTER TABLE intents ADD COLUMN swap_for TEXT GENERATED ALWAYS AS (json_extract(body, '$.swapFor.resource')) VIRTUAL`,
    `CREATE INDEX intents_live_price ON intents(resource, side, limit_price) WHERE status IN ('open', 'partially_filled')`,
    `CREATE INDEX intents_live_expiry ON intents(expires_at_ms) WHERE status IN ('open', 'partially_filled')`,
    `CREATE INDEX intents_live_swaps ON intents(swap_for, resource) WHERE status IN ('open', 'partially_filled')`,
  ],
  // v5 (continuous clearing of one arrival, see `clear`): untraded intents with a minimum (all-or-none or a minimum
  // fill), by price, so a submit can ask in one index probe whether one of them could now be reached.
  [
    `ALTER TABLE intents ADD COLUMN min_quantity REAL GENERATED ALWAYS AS (json_extract(body, '$.minQuantity')) VIRTUAL`,
    `CREATE INDEX intents_open_minimum ON intents(resource, side, limit_price) WHERE status = 'open' AND min_quantity IS NOT NULL`,
  ],
];

/** A committed clearing: its settlement and what it did to each intent it filled. */
interface Cleared {
  settlement: Settlement;
  updates: readonly IntentUpdate[];
}

/** Live at `?` (ms): open or partly filled and not expired. */
/** The statuses of a live intent; the partial indexes of migration v4 say the same in their own words. */
const LIVE_STATUS = "status IN ('open', 'partially_filled')";
const LIVE = `${LIVE_STATUS} AND (expires_at_ms IS NULL OR expires_at_ms > ?)`;

/** Whether this object's tables exist (a market that accepted a write); reads sqlite_master, writes nothing. */
export function schemaExists(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
}

/** Brings the tables to the newest schema version; `meta` holds the version and small settings. */
export function migrate(sql: SqlStorage): number {
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").toArray()[0];
  let version = row ? Number(row.value) : 0;
  while (version < MIGRATIONS.length) {
    for (const statement of MIGRATIONS[version]) sql.exec(statement);
    version += 1;
    sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", String(version));
  }
  return version;
}

interface IntentRow extends Record<string, SqlStorageValue> {
  id: string;
  seq: number;
  body: string;
  status: string;
  filled: number;
  expires_at_ms: number | null;
  created_at: string;
}

/**
 * Parsed intent bodies by id, per object instance. A body is written once (INSERT) and never updated, so a cached
 * parse cannot diverge from SQLite; status and filled always come from the row. Bounded: emptied when full.
 */
export class IntentBodies {
  private readonly parsed = new Map<string, Intent>();
  private readonly load: (id: string) => string | undefined;
  private readonly max: number;
  constructor(load: (id: string) => string | undefined, max = 20_000) {
    this.load = load;
    this.max = max;
  }
  /** The parsed body of `id`: from `body` when given (non-empty), else the cache, else one SELECT. */
  get(id: string, body: string): Intent {
    const hit = this.parsed.get(id);
    if (hit) return hit;
    const text = body !== "" ? body : this.load(id);
    if (text === undefined) throw new Error(`intent ${id} has no row`);
    const intent = JSON.parse(text) as Intent;
    if (this.parsed.size >= this.max) this.parsed.clear();
    this.parsed.set(id, intent);
    return intent;
  }
  /** Caches an intent just inserted (its body is `JSON.stringify(intent)`). */
  put(id: string, intent: Intent): void {
    if (this.parsed.size >= this.max) this.parsed.clear();
    this.parsed.set(id, intent);
  }
}

/** `rows` in groups of at most `size` (workerd binds at most 100 parameters per statement). */
function chunks<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** `(?, ?), (?, ?)` for rows of bound values. */
function placeholders(rows: readonly (readonly unknown[])[]): string {
  return rows.map((r) => `(${r.map(() => "?").join(", ")})`).join(", ");
}

function recordOf(row: IntentRow, bodies?: IntentBodies): IntentRecord {
  const record: IntentRecord = {
    intent: bodies ? bodies.get(row.id, row.body) : (JSON.parse(row.body) as Intent),
    status: row.status as IntentStatus,
    filled: row.filled,
    seq: row.seq,
    createdAt: row.created_at,
  };
  if (row.expires_at_ms !== null) record.expiresAtMs = row.expires_at_ms;
  return record;
}

export class MarketObject extends DurableObject<EdgeEnv> {
  private sql: SqlStorage;
  private market = "";
  private config: MarketConfig = {};
  private intentSeq = 0;
  private settlementSeq = 0;
  private alarmAt: number | null = null;
  private buckets = new Map<string, TokenBucket>();
  private intentBodies = new IntentBodies(
    (id) => this.sql.exec<{ body: string }>("SELECT body FROM intents WHERE id = ?", id).toArray()[0]?.body,
  );
  /** The settlement relay's outbox; undefined when the bridge's relay is off (then no outbox rows exist). */
  private relay: MarketRelay | undefined;
  /** Per-agent token bucket settings; from env, and replaceable in tests. */
  rateLimits: RateLimits;
  /** The market-wide bucket over all agents' writes, and the open-intent caps; from env, replaceable in tests. */
  marketRateLimits: RateLimits;
  openIntentCaps: OpenIntentCaps;
  private marketBucket: TokenBucket | undefined;
  /** The proposal scorer (onnxruntime-web), loaded lazily by the first batch that has something to score. */
  private scorer: Promise<Scorer> | undefined;
  private scorerLoaded = false;
  /**
   * Whether every resource's live book was left at its optimum by the last clearing (continuous clearing keeps it
   * so): then one arrival only needs its own resource solved, and a plain arrival only its best counterparties.
   * False until a clearing of the whole book has proven it (each new instance starts with one), after a clearing
   * that failed or stopped short of optimal, and when the configuration changes.
   */
  private bookSettled = false;
  /** No live intent expires before this time (ms); 0 = unknown. Arrivals lower it; nothing else can. */
  private expiryFloor = 0;
  /** When the seen-signature table was last pruned (it is pruned at most once a second). */
  private signaturesPrunedAt = 0;
  /** The last continuous solve's warm start (its intent classes); the solver checks it fits before using it. */
  private warmStart: unknown;
  /** Whether the last `clearOnce` ran a solve that claimed optimal (then `clear` checks the book for a crossed pair). */
  private solvedOptimal = false;
  /** Whether this market's tables exist: false until its first write (see `open`). */
  private stored = false;

  constructor(ctx: DurableObjectState, env: EdgeEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.rateLimits = rateLimitsFrom(env);
    this.marketRateLimits = marketRateLimitsFrom(env);
    this.openIntentCaps = openIntentCapsFrom(env);
    // Load once before any request runs; if loading throws, the object is reset and the next request retries.
    // A market's tables are created by its first write, not here: a read of a market that never accepted one
    // answers 404 and leaves no storage behind (an unsigned GET of any name must not create anything).
    void ctx.blockConcurrencyWhile(async () => {
      if (schemaExists(this.sql)) this.open();
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Migrates and loads the stored state: at start when the market exists, else on its first write. */
  private open(): void {
    migrate(this.sql);
    this.stored = true;
    this.market = this.meta("market") ?? "";
    this.config = JSON.parse(this.meta("config") ?? "{}") as MarketConfig;
    this.intentSeq = this.sql.exec<{ s: number }>("SELECT COALESCE(MAX(seq), 0) AS s FROM intents").one().s;
    this.settlementSeq = this.sql.exec<{ s: number }>("SELECT COALESCE(MAX(seq), 0) AS s FROM settlements").one().s;
    this.relay = MarketRelay.open(this.env, (q, ...p) => this.sql.exec(q, ...p).toArray());
  }

  /** A write's first step: the market exists from here on (its tables are created and its name noted). */
  private noteWrite(market: string): void {
    if (!this.stored) this.open();
    this.noteMarket(market);
  }

  /** A read's first step: 404 for a market that never accepted a write (and nothing is created). */
  private noteRead(market: string): Outcome<true> {
    if (!this.stored) return failure(404, "market-not-found", "Market not found", `market not found: ${market} has never accepted a write`);
    this.noteMarket(market);
    return success(true);
  }

  // ---- RPC: writes (the worker has verified the signature and validated the body) ----

  /** Submits an intent; in continuous clearing the answer carries the settlement it caused. */
  async submit(market: string, input: IntentInput, auth: WriteAuth, idem?: Idempotency, salt?: string): Promise<Outcome<SubmitAnswer>> {
    this.noteWrite(market);
    const now = Date.now();
    if (idem) {
      this.sql.exec("DELETE FROM idempotency WHERE created_ms < ?", now - IDEMPOTENCY_TTL_MS);
      const stored = this.sql
        .exec<{ fingerprint: string; answer: string }>(
          "SELECT fingerprint, answer FROM idempotency WHERE agent = ? AND key = ?",
          auth.agent,
          idem.key,
        )
        .toArray()[0];
      const decision = idempotencyDecision(stored, idem.fingerprint);
      if (decision === "repeat") return JSON.parse(stored.answer) as Outcome<SubmitAnswer>;
      if (decision === "conflict") {
        return failure(422, "idempotency-conflict", "Idempotency-Key reused", "this Idempotency-Key was already used with a different request", {
          errors: [{ field: "Idempotency-Key", message: "already used with a different request body or path" }],
        });
      }
    }
    const guard = this.guardWrite(auth, now);
    if (!guard.ok) return guard;
    const outcome = this.acceptIntent(input, auth.agent, now, salt);
    if (idem) {
      this.sql.exec(
        "INSERT INTO idempotency (agent, key, fingerprint, answer, created_ms) VALUES (?, ?, ?, ?, ?)",
        auth.agent,
        idem.key,
        idem.fingerprint,
        JSON.stringify(outcome),
        now,
      );
    }
    return outcome;
  }

  /** Cancels an open or partly filled intent of `auth.agent`. */
  async cancel(market: string, id: string, auth: WriteAuth): Promise<Outcome<{ intent: IntentView }>> {
    // No intent of a market that never accepted a write can be cancelled: 404, and nothing is created.
    const read = this.noteRead(market);
    if (!read.ok) return failure(404, "not-found", "Intent not found", `no intent ${id} in this market`);
    const now = Date.now();
    const guard = this.guardWrite(auth, now);
    if (!guard.ok) return guard;
    this.expireDue(now);
    const check = cancelCheck(this.record(id), id, auth.agent, now);
    if (!check.ok) return check;
    this.sql.exec("UPDATE intents SET status = 'cancelled' WHERE id = ?", id);
    const view = this.view(id)!;
    this.broadcast({ type: "intent.cancelled", market: this.market, at: new Date(now).toISOString(), intent: view });
    // A book not known to be settled may hold a trade the cancelled intent stood in the way of (it stopped the
    // last solve short, or the solve failed): clear it now rather than at the next arrival.
    if (!this.bookSettled && this.effectiveConfig().clearing === "continuous") {
      this.clearSafely(now);
      this.scheduleAlarm(now);
    }
    return success({ intent: view });
  }

  /** Replaces the market's configuration (the worker has checked the operator key). */
  async setConfig(market: string, config: MarketConfig, auth: WriteAuth): Promise<Outcome<{ config: EffectiveConfig }>> {
    this.noteWrite(market);
    const now = Date.now();
    const parsed = MarketConfig.safeParse(config);
    if (!parsed.success) return failure(422, "invalid-config", "Invalid market configuration", "the configuration is not valid");
    const guard = this.guardWrite(auth, now);
    if (!guard.ok) return guard;
    this.config = parsed.data;
    this.setMeta("config", JSON.stringify(this.config));
    this.bookSettled = false;
    // Switching to continuous clears whatever a pending batch held; switching to batch starts the timer.
    if (this.effectiveConfig().clearing === "continuous") {
      this.setMeta("batch_due_ms", "");
      this.clearSafely(now);
    } else if (this.openCount() > 0) {
      this.markBatchPending(now);
    }
    this.scheduleAlarm(now);
    return success({ config: this.effectiveConfig() });
  }

  // ---- RPC: reads ----

  async getIntent(market: string, id: string): Promise<Outcome<IntentView>> {
    const read = this.noteRead(market);
    if (!read.ok) return read;
    this.expireDue(Date.now());
    const view = this.view(id, true);
    return view ? success(view) : failure(404, "not-found", "Intent not found", `no intent ${id} in this market`);
  }

  async getSettlement(market: string, id: string): Promise<Outcome<Settlement>> {
    const read = this.noteRead(market);
    if (!read.ok) return read;
    const row = this.sql.exec<{ body: string }>("SELECT body FROM settlements WHERE id = ?", id).toArray()[0];
    return row
      ? success(JSON.parse(row.body) as Settlement)
      : failure(404, "not-found", "Settlement not found", `no settlement ${id} in this market`);
  }

  async getMarket(market: string): Promise<Outcome<MarketView>> {
    const read = this.noteRead(market);
    if (!read.ok) return read;
    const now = Date.now();
    this.expireDue(now);
    const rows = this.sql
      .exec<IntentRow>(
        `SELECT * FROM intents WHERE ${LIVE_STATUS} ORDER BY seq LIMIT ?`,
        OPEN_INTENTS_LIMIT + 1,
      )
      .toArray();
    return success({
      market,
      config: this.effectiveConfig(),
      counters: this.counters(),
      openIntents: rows.slice(0, OPEN_INTENTS_LIMIT).map((r) => intentView(recordOf(r))),
      openIntentsTruncated: rows.length > OPEN_INTENTS_LIMIT,
      outbox: outboxView(this.env, this.relay),
      model: this.modelView(),
    });
  }

  /** The configuration in force (the axon route solves validators' challenges under its latency table). */
  async getConfig(market: string): Promise<EffectiveConfig> {
    if (this.stored) this.noteMarket(market); // a market never written has the defaults, and stays unwritten
    return this.effectiveConfig();
  }

  // ---- Learned validation (notes/model.md "Phase 2"): commitments, proposals, reveals, the scoring model ----

  /** Commitments of the open book (default), or of the intents of a settled batch. */
  async getCommitments(market: string, batch?: string): Promise<Outcome<{ batch?: string; commitments: Commitment[] }>> {
    const read = this.noteRead(market);
    if (!read.ok) return read;
    if (batch !== undefined) {
      if (this.sql.exec("SELECT 1 FROM batches WHERE id = ?", batch).toArray().length === 0) {
        return failure(404, "not-found", "Batch not found", `no settled batch ${batch} in this market`);
      }
      return success({ batch, commitments: this.commitmentsOf(this.batchIntentIds(batch)) });
    }
    this.expireDue(Date.now());
    const commitments = this.sql
      .exec<{ body: string }>(
        `SELECT c.body FROM commitments c JOIN intents i ON i.id = c.intent_id
          WHERE i.${LIVE_STATUS} ORDER BY c.seq LIMIT ?`,
        OPEN_INTENTS_LIMIT,
      )
      .toArray()
      .map((r) => JSON.parse(r.body) as Commitment);
    return success(this.effectiveConfig().clearing === "batch" ? { batch: this.openBatchId(), commitments } : { commitments });
  }

  /** An outside solver's proposal for the open batch: checked against the live book now and again at the close. */
  async propose(market: string, body: ProposalBody, auth: WriteAuth): Promise<Outcome<{ proposal: { id: string; batch: string; receivedAt: string; closesAt: string } }>> {
    this.noteMarket(market);
    const now = Date.now();
    const due = this.meta("batch_due_ms");
    if (this.effectiveConfig().clearing !== "batch" || !due || Number(due) <= now) {
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
    const errors = proposalErrors(records, book, this.effectiveConfig().latency, fills, now);
    if (errors.length > 0) return failure(422, "infeasible-proposal", "Infeasible proposal", "these fills cannot settle the open batch", { errors });
    this.warmScorer(); // the close will score this proposal: load the model during the batch window
    const seq = this.nextProposalSeq();
    const id = `p-${seq}`;
    this.sql.exec(
      "INSERT INTO proposals (id, seq, batch, proposer, fills, received_ms) VALUES (?, ?, ?, ?, ?, ?)",
      id,
      seq,
      batch,
      auth.agent,
      JSON.stringify(fills),
      now,
    );
    return success({ proposal: { id, batch, receivedAt: new Date(now).toISOString(), closesAt: new Date(Number(due)).toISOString() } });
  }

  /** Proposals of a batch (default: the open one) with their scores once the batch has closed. */
  async getProposals(market: string, batch?: string): Promise<Outcome<{ batch: string; proposals: (ProposalView | { id: string; batch: string; proposer: string; pending: true })[] }>> {
    const read = this.noteRead(market);
    if (!read.ok) return read;
    const id = batch ?? this.openBatchId();
    const proposals = this.sql
      .exec<{ id: string; proposer: string; view: string | null }>("SELECT id, proposer, view FROM proposals WHERE batch = ? ORDER BY seq", id)
      .toArray()
      .map((r) => (r.view ? (JSON.parse(r.view) as ProposalView) : { id: r.id, batch: id, proposer: r.proposer, pending: true as const }));
    return success({ batch: id, proposals });
  }

  /**
   * Opens an intent's commitment after a batch it was in settled. When that completes a batch's reveals, the
   * batch is re-solved exactly, the certificate checked, and every proposal's true ratio recorded for training.
   */
  async reveal(market: string, body: RevealBody, auth: WriteAuth): Promise<Outcome<{ intentId: string; batches: { id: string; revealed: number; intents: number; resolved?: unknown }[] }>> {
    const read = this.noteRead(market); // nothing to reveal in a market without intents
    if (!read.ok) return failure(404, "not-found", "Intent not found", `no committed intent ${body.intentId} in this market`);
    const now = Date.now();
    const row = this.sql
      .exec<{ body: string; salt: string; agent: string; intent: string }>(
        "SELECT c.body, c.salt, i.agent, i.body AS intent FROM commitments c JOIN intents i ON i.id = c.intent_id WHERE c.intent_id = ?",
        body.intentId,
      )
      .toArray()[0];
    if (!row) return failure(404, "not-found", "Intent not found", `no committed intent ${body.intentId} in this market`);
    if (row.agent !== auth.agent) return failure(403, "forbidden", "Not your intent", "only the intent's own agent can reveal it");
    const batches = this.sql.exec<{ batch: string }>("SELECT batch FROM batch_intents WHERE intent_id = ? ORDER BY batch", body.intentId).toArray();
    if (batches.length === 0) {
      return failure(409, "not-settled", "Nothing to reveal yet", "an intent is revealed after a batch it took part in has settled");
    }
    const guard = this.guardWrite(auth, now);
    if (!guard.ok) return guard;
    const revealed = revealedIntent(body, JSON.parse(row.intent) as Intent);
    if (!revealed.ok) return failure(422, "invalid-reveal", "Invalid reveal", "the revealed intent has invalid fields", { errors: revealed.errors });
    const opened = openCommitment(JSON.parse(row.body) as Commitment, revealed.intent, body.salt);
    if (!opened.ok) {
      const field = opened.reason === "bad_salt" ? "salt" : body.intent === undefined ? "salt" : "intent";
      return failure(422, "reveal-mismatch", "Reveal does not match the commitment", `${opened.reason}: ${opened.detail}`, {
        errors: [{ field, message: `${opened.reason}: ${opened.detail}` }],
      });
    }
    this.sql.exec("UPDATE commitments SET revealed = 1 WHERE intent_id = ?", body.intentId);
    const out = batches.map(({ batch }) => {
      const n = this.sql
        .exec<{ all: number; revealed: number }>(
          `SELECT COUNT(*) AS "all", COALESCE(SUM(c.revealed), 0) AS revealed FROM batch_intents b JOIN commitments c ON c.intent_id = b.intent_id WHERE b.batch = ?`,
          batch,
        )
        .one();
      const entry: { id: string; revealed: number; intents: number; resolved?: unknown } = { id: batch, revealed: n.revealed, intents: n.all };
      if (n.revealed === n.all) entry.resolved = this.resolveBatch(batch, now);
      return entry;
    });
    return success({ intentId: body.intentId, batches: out });
  }

  /** Training examples of fully revealed batches, oldest first: what `npm run train -- --reveals` reads. */
  async getTrainingExamples(market: string, batch?: string): Promise<Outcome<TrainingExample[]>> {
    const read = this.noteRead(market);
    if (!read.ok) return read;
    const rows =
      batch === undefined
        ? this.sql.exec<{ body: string }>("SELECT body FROM training_examples ORDER BY created_ms, batch, proposal LIMIT 10000").toArray()
        : this.sql.exec<{ body: string }>("SELECT body FROM training_examples WHERE batch = ? ORDER BY proposal", batch).toArray();
    return success(rows.map((r) => JSON.parse(r.body) as TrainingExample));
  }

  /** Loads a new scoring model (the worker has checked the operator key); refused unless ort can run it. */
  async setModel(market: string, bytes: Uint8Array, auth: WriteAuth): Promise<Outcome<{ model: ModelView }>> {
    this.noteWrite(market);
    const now = Date.now();
    const guard = this.guardWrite(auth, now);
    if (!guard.ok) return guard;
    let meta: Record<string, string>;
    try {
      meta = readModelMetadata(bytes);
    } catch (err) {
      return failure(422, "invalid-model", "Invalid model", `not an ONNX model: ${(err as Error).message}`);
    }
    if (meta["nash.features"] !== FEATURES_VERSION) {
      return failure(422, "invalid-model", "Invalid model", `the model expects features ${meta["nash.features"] ?? "(none)"}; this market computes ${FEATURES_VERSION}`);
    }
    try {
      await (await this.loadScorer()).swap(bytes);
    } catch (err) {
      return failure(422, "invalid-model", "Invalid model", `onnxruntime refused the model: ${(err as Error).message}`);
    }
    this.setMeta("model", base64.encode(bytes));
    this.setMeta("model_version", meta["nash.version"] ?? "unversioned");
    return success({ model: this.modelView() });
  }

  /** Clears the batch that is due under the input gate: no request interleaves while its proposals are scored. */
  private async clearBatch(now: number): Promise<void> {
    // The model loads outside the gate (it touches no state, and a slow first load must not hold the gate for
    // blockConcurrencyWhile's 30 s limit); the proposals that want it have been waiting for the close anyway.
    const wanted = this.sql.exec("SELECT 1 FROM proposals WHERE batch = ? AND view IS NULL LIMIT 1", this.openBatchId()).toArray().length > 0;
    if (wanted && !this.scorerLoaded) {
      await this.loadScorer().catch((err: unknown) => console.error(`market ${this.market}: the model did not load; this batch settles unscored`, err));
    }
    await this.ctx.blockConcurrencyWhile(async () => {
      try {
        await this.settleBatch(now);
      } catch (err) {
        console.error(`market ${this.market}: batch clearing failed and was rolled back`, err);
      }
    });
  }

  /**
   * The batch's close: the built-in solver proposes too; every proposal is checked against the book as it is now
   * and the feasible ones scored in one model call (for miner rewards); the one of greatest welfare settles,
   * priced by Nash bargaining (settleOnWelfare). Scores ride on the settlement and are kept per proposal; the
   * batch's book is kept for the exact re-solve once every intent is revealed.
   */
  private async settleBatch(now: number): Promise<void> {
    this.expireDue(now);
    const batch = this.openBatchId();
    const advance = () => this.setMeta("batch_seq", String(Number(batch.slice(2))));
    const latency = this.effectiveConfig().latency;
    const { records, book } = this.liveBook(now);
    const candidate = (id: string, proposer: string, fills: AllocationFill[], elapsedMs: number): Candidate => ({
      id,
      proposer,
      fills,
      welfare: fillsWelfare(book, fills),
      elapsedMs,
      errors: proposalErrors(records, book, latency, fills, now),
    });
    const candidates: Candidate[] = this.sql
      .exec<{ id: string; proposer: string; fills: string }>("SELECT id, proposer, fills FROM proposals WHERE batch = ? AND view IS NULL ORDER BY seq", batch)
      .toArray()
      .map((p) => candidate(p.id, p.proposer, allocationOf(JSON.parse(p.fills) as AllocationFill[]), 0));
    let builtin: ReturnType<typeof solve> | undefined;
    let builtinId: string | undefined;
    if (book.length > 0 && (mayTrade(book) || candidates.length > 0)) {
      builtin = solve(book, latency, { timeBudgetMs: SOLVE_TIME_BUDGET_MS });
      if (builtin.fills.length > 0) {
        builtinId = `p-${this.nextProposalSeq()}`;
        candidates.push(candidate(builtinId, "market", allocationOf(builtin.fills), builtin.solveMs)); // received at the close: last
      }
    }
    const anyFeasible = candidates.some((c) => c.errors.length === 0);
    // The model loads on first need: the first outside proposal starts the load and the close waits for it
    // (clearBatch). A batch with only the built-in proposal never loads it: there are no miners to reward, so it
    // settles unscored until the model is loaded (then it is scored too: cheap). Plain batch trading never pays
    // ort's start-up, nor its CPU in the background. Should the model fail to load, the batch settles unscored.
    const scoreNow = anyFeasible && this.scorerLoaded;
    const scored: ScoredCandidate[] = scoreNow ? await scoreCandidates(await this.loadScorer(), this.commitmentsOf(book.map((i) => i.id)), latency, candidates) : candidates;
    const settled = builtin ? settleOnWelfare(book, latency, scored, builtin) : undefined;
    const views = scored.map((c) => proposalView(batch, c, settled?.winner.id));
    const persist = () => {
      scored.forEach((c, k) => {
        if (c.id === builtinId) {
          this.sql.exec(
            "INSERT INTO proposals (id, seq, batch, proposer, fills, received_ms, view) VALUES (?, ?, ?, 'market', ?, ?, ?)",
            c.id,
            Number(c.id.slice(2)),
            batch,
            JSON.stringify(c.fills),
            now,
            JSON.stringify(views[k]),
          );
        } else {
          this.sql.exec("UPDATE proposals SET view = ? WHERE id = ?", JSON.stringify(views[k]), c.id);
        }
      });
      advance();
    };
    const applied = settled ? applyFills(records, settled.fills, now) : undefined;
    if (!settled || !builtin || !applied?.ok) {
      this.ctx.storage.transactionSync(persist);
      return;
    }
    const seq = this.settlementSeq + 1;
    const { winner, gap, ...result } = settled;
    const settlement = buildSettlement(`s-${seq}`, this.market, { ...result, solveMs: builtin.solveMs, ...(gap === undefined ? {} : { gap }) }, new Date(now).toISOString());
    settlement.stats.batch = batch;
    settlement.stats.proposal = winner.id;
    const model = scored.find((c) => c.score)?.score?.model ?? null;
    // `settledOnWelfare`: the proposal that settled, by the welfare rule; the scores only rank the proposals.
    (settlement as Settlement & { scores: unknown }).scores = {
      batch,
      model,
      settledOnWelfare: winner.id,
      proposals: views,
      ...(scoreNow ? {} : { unscored: "the only proposal was the built-in one and the model was still loading" }),
    };
    this.commitSettlement(seq, settlement, applied.updates, now, () => {
      persist();
      this.sql.exec(
        "INSERT INTO batches (id, settlement_id, book, latency, created_ms) VALUES (?, ?, ?, ?, ?)",
        batch,
        settlement.id,
        JSON.stringify(book),
        JSON.stringify(latency),
        now,
      );
      for (const intent of book) this.sql.exec("INSERT INTO batch_intents (batch, intent_id) VALUES (?, ?)", batch, intent.id);
    });
  }

  /** The exact re-solve of a fully revealed batch: certificate checked, one training example per feasible proposal. */
  private resolveBatch(batch: string, now: number): unknown {
    const row = this.sql.exec<{ book: string; latency: string; resolved: string | null }>("SELECT book, latency, resolved FROM batches WHERE id = ?", batch).one();
    if (row.resolved) return JSON.parse(row.resolved) as unknown;
    const book = JSON.parse(row.book) as Intent[];
    const latency = JSON.parse(row.latency) as LatencyTable;
    const exact = solve(book, latency, { timeBudgetMs: 5_000, nodeBudget: 1_000_000 });
    const check = verify(book, latency, { fills: exact.fills, welfare: exact.welfare, certificate: exact.certificate });
    let resolved: Record<string, unknown>;
    if (!check.ok || exact.status !== "optimal") {
      resolved = { status: exact.status, optimum: null, examples: 0, errors: check.ok ? [] : check.errors };
      this.sql.exec("UPDATE batches SET resolved = ? WHERE id = ?", JSON.stringify(resolved), batch);
      return resolved;
    }
    const proposals = this.sql
      .exec<{ id: string; fills: string; view: string }>("SELECT id, fills, view FROM proposals WHERE batch = ? AND view IS NOT NULL ORDER BY seq", batch)
      .toArray()
      .map((p) => ({ id: p.id, fills: allocationOf(JSON.parse(p.fills) as AllocationFill[]), view: JSON.parse(p.view) as ProposalView }))
      .filter((p) => p.view.feasible)
      .map((p) => ({ id: p.id, fills: p.fills, welfare: fillsWelfare(book, p.fills), ...(p.view.score ? { model: p.view.score.model } : {}) }));
    const examples = trainingExamples(batch, this.commitmentsOf(book.map((i) => i.id)), latency, exact.welfare, proposals);
    resolved = { status: "optimal", optimum: examples[0]?.optimum ?? exact.welfare, examples: examples.length };
    this.ctx.storage.transactionSync(() => {
      for (const e of examples) {
        this.sql.exec("INSERT OR REPLACE INTO training_examples (batch, proposal, body, created_ms) VALUES (?, ?, ?, ?)", batch, e.proposal, JSON.stringify(e), now);
      }
      this.sql.exec("UPDATE batches SET resolved = ? WHERE id = ?", JSON.stringify(resolved), batch);
    });
    return resolved;
  }

  /** The scorer, created once per object on first need (ort's start-up is paid then, not by plain trading). */
  private loadScorer(): Promise<Scorer> {
    if (!this.scorer) {
      const stored = this.meta("model");
      const bytes = stored ? base64.decode(stored) : new Uint8Array(defaultModel);
      const loading = import("../model/scorer-workerd.ts").then((m) => m.createScorer(bytes));
      this.scorer = loading;
      // A failed load is retried by the next batch instead of poisoning the object.
      loading.then(
        () => (this.scorerLoaded = true),
        () => (this.scorer = undefined),
      );
    }
    return this.scorer;
  }

  /** Starts loading the model without waiting for it (the object stays alive until it is done). */
  private warmScorer(): void {
    if (!this.scorerLoaded) this.ctx.waitUntil(this.loadScorer().then(() => undefined, () => undefined));
  }

  private modelView(): ModelView {
    const stored = this.meta("model_version");
    defaultModelVersion ??= readModelMetadata(new Uint8Array(defaultModel))["nash.version"] ?? "unversioned";
    return { version: stored ?? defaultModelVersion, features: FEATURES_VERSION, loaded: this.scorerLoaded, replaced: stored !== undefined };
  }

  /** The open batch's id: `b-<n>`, n one more than the batches closed so far. */
  private openBatchId(): string {
    return `b-${Number(this.meta("batch_seq") ?? "0") + 1}`;
  }

  private nextProposalSeq(): number {
    return this.sql.exec<{ s: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM proposals").one().s;
  }

  private liveBook(now: number): { records: Map<string, IntentRecord>; book: Intent[] } {
    const rows = this.sql.exec<IntentRow>(`SELECT * FROM intents WHERE ${LIVE_STATUS}`).toArray();
    const records = new Map(rows.map((r) => [r.id, recordOf(r)] as const));
    return { records, book: solverBook(records.values(), now) };
  }

  private batchIntentIds(batch: string): string[] {
    return this.sql.exec<{ intent_id: string }>("SELECT intent_id FROM batch_intents WHERE batch = ?", batch).toArray().map((r) => r.intent_id);
  }

  /** Commitments of these intents, in the order of their acceptance. */
  private commitmentsOf(ids: readonly string[]): Commitment[] {
    return this.sql
      .exec<{ body: string }>("SELECT body FROM commitments WHERE intent_id IN (SELECT value FROM json_each(?)) ORDER BY seq", JSON.stringify(ids))
      .toArray()
      .map((r) => JSON.parse(r.body) as Commitment);
  }

  // ---- WebSocket stream (hibernation API: the object may sleep while sockets stay open) ----

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const match = /^\/v1\/markets\/([a-z0-9-]{1,64})\/stream$/.exec(new URL(request.url).pathname);
    const read = this.noteRead(match?.[1] ?? "");
    if (!read.ok) return problemResponse(new HttpError(read.problem));
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    // A `types` filter (checked by the worker) becomes the socket's hibernation tags; no tags means every event.
    const types = StreamTypes.safeParse(new URL(request.url).searchParams.get("types") ?? undefined);
    this.ctx.acceptWebSocket(server, types.success ? types.data : []);
    server.send(JSON.stringify({ type: "hello", market: this.market, at: new Date().toISOString() } satisfies MarketEvent));
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // The stream is one-way; a "ping" text gets a "pong" so clients can check liveness.
    if (message === "ping") ws.send("pong");
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code, reason);
    } catch {
      // already closed by the runtime
    }
  }

  // ---- alarm: expiry, batch clearing and the settlement relay ----

  override async alarm(): Promise<void> {
    if (!this.stored) return; // alarms are set by writes; a leftover one has nothing to do
    const now = Date.now();
    this.alarmAt = null;
    this.expireDue(now);
    const due = this.meta("batch_due_ms");
    if (this.effectiveConfig().clearing === "batch" && due && Number(due) <= now) {
      this.setMeta("batch_due_ms", "");
      // A batch is settled by its best-scoring proposal (the built-in solver's is one of them).
      await this.clearBatch(now);
    }
    // After the book's work, so that a batch settled just now goes out in this same pass. Never throws.
    if (this.relay) await this.relay.drain(this.market, Date.now(), (url, init) => fetch(url, init));
    this.scheduleAlarm(Date.now());
  }

  // ---- internals ----

  /** Replay refusal and rate limit for a signed write; records the signature as seen. */
  private guardWrite(auth: WriteAuth, now: number): Outcome<true> {
    // Rows past their forget time also fail the timestamp window in the worker, so pruning can lag a second.
    if (now - this.signaturesPrunedAt >= 1000) {
      this.sql.exec("DELETE FROM seen_signatures WHERE forget_at_ms < ?", now);
      this.signaturesPrunedAt = now;
    }
    const fresh = this.sql.exec(
      "INSERT INTO seen_signatures (signature, forget_at_ms) VALUES (?, ?) ON CONFLICT DO NOTHING",
      auth.signature,
      signatureForgetAt(auth.timestamp, SIGNATURE_WINDOW_MS),
    ).rowsWritten;
    if (fresh === 0) return failure(401, "replayed-signature", "Replayed request", "this signature was already used; sign each request afresh");
    if (this.buckets.size >= 10_000) pruneBuckets(this.buckets, now, this.rateLimits);
    const taken = takeToken(this.buckets.get(auth.agent), now, this.rateLimits);
    this.buckets.set(auth.agent, taken.bucket);
    if (!taken.allowed) {
      const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
      return failure(429, "rate-limited", "Too many requests", `this agent's write budget is spent; retry in ${seconds} s`, {
        retryAfterSeconds: seconds,
      });
    }
    const market = takeToken(this.marketBucket, now, this.marketRateLimits);
    this.marketBucket = market.bucket;
    if (!market.allowed) {
      const seconds = Math.max(1, Math.ceil(market.retryAfterMs / 1000));
      return failure(429, "rate-limited", "Too many requests", `this market's write budget (all agents) is spent; retry in ${seconds} s`, {
        retryAfterSeconds: seconds,
      });
    }
    return success(true);
  }

  private acceptIntent(input: IntentInput, agent: string, now: number, salt?: string): Outcome<SubmitAnswer> {
    const parsed = IntentInput.safeParse(input);
    if (!parsed.success) return failure(422, "invalid-intent", "Invalid intent", "the intent is not valid");
    const { id: clientId, ...fields } = parsed.data;
    if (fields.agent !== agent) return failure(403, "forbidden", "Wrong agent", "an intent's agent must be the signing key");
    let expiresAtMs: number | undefined;
    if (fields.expiresAt !== undefined) {
      expiresAtMs = Date.parse(fields.expiresAt);
      if (!(expiresAtMs > now)) {
        const errors: FieldError[] = [{ field: "expiresAt", message: "must be in the future" }];
        return failure(422, "invalid-intent", "Invalid intent", "the intent has already expired", { errors });
      }
    }
    const id = clientId ?? crypto.randomUUID();
    // One statement for the id check and both open-intent counts.
    const counts = this.sql
      .exec<{ taken: number; agent: number; market: number }>(
        `SELECT EXISTS(SELECT 1 FROM intents WHERE id = ?) AS taken,
           (SELECT COUNT(*) FROM intents WHERE agent = ? AND ${LIVE_STATUS}) AS agent,
           (SELECT COUNT(*) FROM intents WHERE ${LIVE_STATUS}) AS market`,
        id,
        agent,
      )
      .one();
    if (clientId !== undefined && counts.taken) {
      return failure(409, "id-taken", "Intent id already used", `intent id ${id} is already used in this market`, {
        errors: [{ field: "id", message: "already used in this market" }],
      });
    }
    const cap = this.capacityCheck(agent, { agent: counts.agent, market: counts.market }, fields, now);
    if (!cap.ok) return cap;
    const intent: Intent = { id, ...fields };
    const createdAt = new Date(now).toISOString();
    this.intentSeq += 1;
    const record: IntentRecord = { intent, status: "open", filled: 0, seq: this.intentSeq, createdAt };
    if (expiresAtMs !== undefined) {
      record.expiresAtMs = expiresAtMs;
      if (this.expiryFloor > 0) this.expiryFloor = Math.min(this.expiryFloor, expiresAtMs);
    }
    this.intentBodies.put(id, intent);
    this.sql.exec(
      "INSERT INTO intents (id, seq, agent, resource, body, status, filled, expires_at_ms, created_at) VALUES (?, ?, ?, ?, ?, 'open', 0, ?, ?)",
      id,
      this.intentSeq,
      agent,
      intent.resource,
      JSON.stringify(intent),
      expiresAtMs ?? null,
      createdAt,
    );
    // The commitment is published (GET …/commitments); the salt stays in the object until the agent reveals.
    const drawn = salt === undefined ? newSalt() : undefined;
    const commitment = commit(intent, salt ?? drawn!);
    this.sql.exec(
      "INSERT INTO commitments (intent_id, seq, body, salt) VALUES (?, ?, ?, ?)",
      id,
      this.intentSeq,
      JSON.stringify(commitment),
      salt ?? drawn!,
    );
    this.broadcast({ type: "intent.accepted", market: this.market, at: createdAt, intent: intentView(record) });
    let cleared: Cleared | undefined;
    if (this.effectiveConfig().clearing === "continuous") cleared = this.clearSafely(now, record);
    else this.markBatchPending(now);
    this.scheduleAlarm(now);
    // A new intent's fills can only come from the settlement its own arrival caused.
    let answer: SubmitAnswer = { intent: intentView(record, []) };
    const update = cleared?.updates.find((u) => u.id === id);
    if (cleared && update) {
      const { settlement } = cleared;
      const fills = settlement.fills
        .filter((f) => f.buy === id || f.sell === id)
        .map((f) => intentFill(settlement.id, f));
      answer = { intent: intentView({ ...record, filled: update.filled, status: update.status }, fills) };
    }
    if (cleared) answer.settlement = cleared.settlement;
    answer.commitment = commitment;
    if (drawn !== undefined) answer.salt = drawn;
    return success(answer);
  }

  /**
   * Room for one more live intent of `agent`: its own cap, grown by its traded intents (counted only once it reaches
   * the new-key cap), then the market's. A full market evicts its least competitive resting intent for an arrival
   * that is more competitive, else 409. The reads behind both run only at a cap: the usual submit pays nothing.
   */
  private capacityCheck(agent: string, open: { agent: number; market: number }, arrival: IntentInput, now: number): Outcome<true> {
    const caps = this.openIntentCaps;
    let perAgent = Math.min(caps.perAgent, caps.perNewAgent);
    if (open.agent >= perAgent) {
      const traded = this.sql
        .exec<{ n: number }>("SELECT COUNT(*) AS n FROM intents INDEXED BY intents_agent WHERE agent = ? AND filled > 0", agent)
        .one().n;
      perAgent = agentOpenCap(traded, caps);
    }
    const check = openIntentCheck(open, { perAgent, perMarket: caps.perMarket });
    if (check.ok || open.agent >= perAgent) return check;
    this.expireDue(now); // the count held intents past their expiry, maybe
    if (this.openCount() < caps.perMarket || this.evictFor(arrival, now)) return success(true);
    return check;
  }

  /** Evicts the least competitive resting intent (src/market/book.ts) when `arrival` is more competitive. */
  private evictFor(arrival: IntentInput, now: number): boolean {
    const rows = this.sql
      .exec<{ id: string; seq: number; resource: string; side: "buy" | "sell"; limit_price: number; swap_for: string | null }>(
        `SELECT id, seq, resource, side, limit_price, swap_for FROM intents WHERE ${LIVE}`,
        now,
      )
      .toArray()
      .map((r): RestingIntent => ({ id: r.id, seq: r.seq, resource: r.resource, side: r.side, limitPrice: r.limit_price, swap: r.swap_for !== null }));
    const best = bestPrices(rows);
    const victim = leastCompetitive(rows, best);
    if (!victim || !(priceDistance(arrival.side, arrival.limitPrice, best.get(arrival.resource)) < victim.distance)) return false;
    // Removing an intent cannot create a trade: a settled book stays settled.
    this.sql.exec("UPDATE intents SET status = 'cancelled' WHERE id = ?", victim.id);
    this.broadcast({ type: "intent.cancelled", market: this.market, at: new Date(now).toISOString(), intent: this.view(victim.id)!, reason: "evicted" });
    return true;
  }

  /**
   * Clearing that cannot fail the request that triggered it: the intent is already accepted, and a failed
   * clearing (a bug) has rolled back entirely, so the book stays as it was and the next clearing retries.
   */
  private clearSafely(now: number, arrived?: IntentRecord): Cleared | undefined {
    try {
      return this.clear(now, arrived);
    } catch (err) {
      this.bookSettled = false;
      console.error(`market ${this.market}: clearing failed and was rolled back`, err);
      return undefined;
    }
  }

  /**
   * Solves the live book and commits the settlement, if any fills, in ONE transaction: settlement row, fills,
   * filled quantities and statuses together. A result that fails verification commits nothing.
   * The settled-book invariant: the book is marked settled only while no compatible crossing pair rests in it. An
   * "optimal" solve that left one (a solver fault) is logged and the whole book is cleared once more; a pair still
   * there leaves the book unsettled, so the next clearing solves the whole book again.
   */
  private clear(now: number, arrived?: IntentRecord): Cleared | undefined {
    const scope = this.bookSettled ? arrived?.intent.resource : undefined;
    this.solvedOptimal = false;
    const first = this.clearOnce(now, arrived);
    if (!this.solvedOptimal) return first;
    const pair = this.restingCrossedPair(scope, now);
    if (pair === undefined) return first;
    // The solver called its result optimal, yet two intents that could trade alone still rest: a solver fault.
    console.error(`market ${this.market}: an optimal clearing left the crossing pair ${pair.buy} / ${pair.sell}; clearing the whole book again`);
    this.bookSettled = false;
    const again = this.clearOnce(now);
    if (this.bookSettled && this.restingCrossedPair(undefined, now)) this.bookSettled = false; // the next clearing retries
    if (!first || !again) return first ?? again;
    // Both committed: the arrival's status is the later one's; its answer shows the later settlement.
    return { settlement: again.settlement, updates: [...first.updates.filter((u) => !again.updates.some((v) => v.id === u.id)), ...again.updates] };
  }

  /**
   * A compatible crossing pair resting in `resource`'s live book (every resource's when undefined), or undefined.
   * First the index probe: where the best bid is below the best ask nothing crosses (two index reads); only a
   * crossed resource has its crossing intents read and checked pair by pair (`crossedPair`, src/market/book.ts).
   */
  private restingCrossedPair(resource: string | undefined, now: number): { buy: string; sell: string } | undefined {
    const resources =
      resource !== undefined
        ? [resource]
        : this.sql.exec<{ r: string }>(`SELECT DISTINCT resource AS r FROM intents INDEXED BY intents_live_price WHERE ${LIVE_STATUS}`).toArray().map((x) => x.r);
    for (const r of resources) {
      const bid = this.bestLimit(r, "buy", now);
      const ask = bid === null ? null : this.bestLimit(r, "sell", now);
      if (bid === null || ask === null || bid < ask) continue;
      const book = solverBook(this.crossingRows(r, bid, ask, now).map((row) => recordOf(row, this.intentBodies)), now);
      const pair = crossedPair(book, this.effectiveConfig().latency);
      if (pair) return pair;
    }
    return undefined;
  }

  /** The best live limit of `resource`'s buys (highest) or sells (lowest): a walk of the intents_live_price index
   *  from the best price, stopping at the first unexpired row. */
  private bestLimit(resource: string, side: "buy" | "sell", now: number): number | null {
    return (
      this.sql
        .exec<{ p: number }>(
          `SELECT limit_price AS p FROM intents INDEXED BY intents_live_price WHERE ${LIVE} AND resource = ? AND side = ?
            ORDER BY limit_price ${side === "buy" ? "DESC" : "ASC"} LIMIT 1`,
          now,
          resource,
          side,
        )
        .toArray()[0]?.p ?? null
    );
  }

  /**
   * `resource`'s live intents that price-cross someone: buys at or above the best ask, sells at or below the best bid.
   * A crossing intent can bring hundreds of rows: read them without the body and take the parsed body from the
   * isolate's cache (bodies never change once inserted), so only unseen bodies cross the SQL boundary.
   */
  private crossingRows(resource: string, bid: number, ask: number, now: number): IntentRow[] {
    const crossing = (side: "buy" | "sell", bound: number) =>
      this.sql
        .exec<{ id: string; seq: number; status: string; filled: number; expires_at_ms: number | null; created_at: string }>(
          `SELECT id, seq, status, filled, expires_at_ms, created_at FROM intents INDEXED BY intents_live_price
            WHERE ${LIVE} AND resource = ? AND side = ? AND limit_price ${side === "buy" ? ">=" : "<="} ?`,
          now,
          resource,
          side,
          bound,
        )
        .toArray()
        .map((r): IntentRow => ({ ...r, body: "" }));
    return [...crossing("buy", ask), ...crossing("sell", bid)];
  }

  /** One solve of the live book (in a settled book, of what one arrival can reach) and its commit; sets
   *  `bookSettled` from the solve's status, and `clear` holds that to the invariant. */
  private clearOnce(now: number, arrived?: IntentRecord): Cleared | undefined {
    this.expireDue(now);
    // Without a settled book an arrival proves nothing about the rest: solve the whole book once.
    const resource = this.bookSettled ? arrived?.intent.resource : undefined;
    const latency = this.effectiveConfig().latency;
    // Resources trade with each other only through swaps, and continuous clearing left the rest of the book at its
    // optimum: after one new intent only its resource needs solving, plus every resource live swaps connect to it
    // (a swap of R for S puts R's buyers and S's sellers in one chain or ring), transitively.
    let records: Map<string, IntentRecord> | undefined;
    let rows: IntentRow[] = [];
    const linked =
      resource === undefined
        ? new Set<string>()
        : connectedResources(
            resource,
            this.sql
              .exec<{ resource: string; wants: string }>(
                `SELECT DISTINCT resource, swap_for AS wants FROM intents INDEXED BY intents_live_swaps
                  WHERE ${LIVE_STATUS} AND swap_for IS NOT NULL`,
              )
              .toArray(),
          );
    if (resource === undefined) {
      rows = this.sql.exec<IntentRow>(`SELECT * FROM intents WHERE ${LIVE_STATUS}`).toArray();
    } else if (linked.size === 1 && (records = this.bestCounterparties(arrived!, latency, now))) {
      // a plain arrival into a settled book: only it and its best counterparties can trade (bestCounterparties)
    } else if (linked.size > 1) {
      // With swaps, whether prices cross is a property of a whole chain, not of one resource's bid and ask: load
      // the connected resources' live intents in full (one JSON parameter: no bound-parameter limit).
      rows = this.sql
        .exec<IntentRow>(
          `SELECT * FROM intents WHERE ${LIVE_STATUS} AND resource IN (SELECT value FROM json_each(?))`,
          JSON.stringify([...linked]),
        )
        .toArray();
    } else {
      // Profiled under load (notes/robust.md): loading and parsing the whole live book on every submit dominated.
      // A fill needs buy.limitPrice ≥ sell.limitPrice, so first ask SQLite for the best bid and ask (no rows
      // loaded): if they do not cross, nothing can trade. Otherwise load only the intents that can price-cross
      // someone; the others can be in no fill, so the solver's optimum is the same without them.
      // Each is a walk of the intents_live_price index from the best price (v4 migration), stopping at the first
      // unexpired row, instead of a scan of the live book.
      const bid = this.bestLimit(resource, "buy", now);
      const ask = bid === null ? null : this.bestLimit(resource, "sell", now);
      if (bid === null || ask === null || bid < ask) return undefined;
      rows = this.crossingRows(resource, bid, ask, now);
    }
    records ??= new Map(rows.map((r) => [r.id, recordOf(r, this.intentBodies)] as const));
    const book = solverBook(records.values(), now);
    if (!mayTrade(book)) {
      if (resource === undefined) this.bookSettled = true;
      return undefined;
    }
    const result = solve(book, latency, { timeBudgetMs: SOLVE_TIME_BUDGET_MS, warmStart: this.warmStart });
    this.warmStart = result.warmStart;
    // Only a proven optimum leaves nothing to trade in the rest of the book; anything less, and the next clearing
    // solves the whole book again.
    this.bookSettled = result.status === "optimal";
    this.solvedOptimal = this.bookSettled;
    if (result.fills.length === 0) return undefined;
    const check = verify(book, latency, { fills: result.fills, welfare: result.welfare, certificate: result.certificate });
    if (!check.ok) {
      this.bookSettled = false;
      console.error(`market ${this.market}: solver result failed verification, nothing committed`, check.errors);
      return undefined;
    }
    const applied = applyFills(records, result.fills, now);
    if (!applied.ok) {
      this.bookSettled = false;
      console.error(`market ${this.market}: fills do not fit the book, nothing committed`, applied.errors);
      return undefined;
    }
    const seq = this.settlementSeq + 1;
    const settlement = buildSettlement(`s-${seq}`, this.market, result, new Date(now).toISOString());
    return { settlement: this.commitSettlement(seq, settlement, applied.updates, now), updates: applied.updates };
  }

  /**
   * The records to solve when plain intent `arrived` joins a settled book (no swaps touch its resource): the arrival
   * and its compatible counterparties, best price first (ties in index order, the walk must not sort), until their open quantity covers
   * the arrival's. Nothing else can trade. The book held no trade before (settled), so any improving exchange of
   * the new book starts at the arrival, and its best exchange is its best counterparties: a path that would send a
   * resting intent elsewhere gains nothing, as that resting pair did not trade before. Linear pricing makes this
   * exact; what breaks it is an untraded opposite intent with a minimum (the arrival may lift it over its minimum,
   * with others), so then it answers undefined and clearing reads every crossing intent instead.
   * With `arrived` the solver's optimum over these records is the optimum over the whole book.
   */
  private bestCounterparties(arrived: IntentRecord, latency: LatencyTable, now: number): Map<string, IntentRecord> | undefined {
    const a = arrived.intent;
    if (a.swapFor !== undefined) return undefined;
    const buying = a.side === "buy";
    const other = buying ? "sell" : "buy";
    const reach = buying ? "<=" : ">=";
    const minimum = this.sql
      .exec(
        `SELECT 1 FROM intents INDEXED BY intents_open_minimum WHERE status = 'open' AND min_quantity IS NOT NULL
          AND resource = ? AND side = ? AND limit_price ${reach} ? AND (expires_at_ms IS NULL OR expires_at_ms > ?) LIMIT 1`,
        a.resource,
        other,
        a.limitPrice,
        now,
      )
      .toArray();
    if (minimum.length > 0) return undefined;
    // A bounded walk (workerd's cursor reads its whole result even when the loop stops early), short first: the
    // best counterparty or two usually cover an arrival, and every row read is allocated. An arrival that needs
    // more of the book than the long walk goes the crossing-read way.
    for (const walk of [COUNTERPARTY_FIRST_WALK, COUNTERPARTY_WALK]) {
      const records = new Map([[a.id, arrived]]);
      let covered = 0;
      const rows = this.sql
        .exec<IntentRow>(
          `SELECT id, seq, status, filled, expires_at_ms, created_at, '' AS body FROM intents INDEXED BY intents_live_price
            WHERE ${LIVE} AND resource = ? AND side = ? AND limit_price ${reach} ?
            ORDER BY limit_price ${buying ? "ASC" : "DESC"} LIMIT ${walk + 1}`,
          now,
          a.resource,
          other,
          a.limitPrice,
        )
        .toArray();
      for (const row of rows.slice(0, walk)) {
        const r = recordOf(row, this.intentBodies);
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
   * Commits a settlement in ONE transaction: relay outbox row, settlement row, fills, filled quantities and
   * statuses, plus whatever `also` writes (a batch's proposal scores), so all of it lands or none.
   */
  private commitSettlement(seq: number, settlement: Settlement, updates: readonly IntentUpdate[], now: number, also?: () => void): Settlement {
    this.ctx.storage.transactionSync(() => {
      also?.();
      // The relay's outbox row commits or rolls back with the settlement (a full outbox refuses and counts).
      this.relay?.enqueue(this.market, settlement, now);
      this.sql.exec(
        "INSERT INTO settlements (id, seq, body, welfare, created_at) VALUES (?, ?, ?, ?, ?)",
        settlement.id,
        seq,
        JSON.stringify(settlement),
        settlement.welfare,
        settlement.createdAt ?? "",
      );
      // Many rows per statement (each statement costs far more in workerd than the rows it writes); numbers are
      // bound, never passed through JSON text, so they land bit for bit.
      const fills = settlement.fills.map((f, idx) => [settlement.id, idx, f.buy, f.sell, f.resource, f.quantity, f.price]);
      for (const rows of chunks(fills, 14)) {
        this.sql.exec(`INSERT INTO fills (settlement_id, idx, buy, sell, resource, quantity, price) VALUES ${placeholders(rows)}`, ...rows.flat());
      }
      for (const rows of chunks(updates.map((u) => [u.id, u.filled, u.status]), 33)) {
        this.sql.exec(
          `UPDATE intents SET filled = v.column2, status = v.column3 FROM (VALUES ${placeholders(rows)}) AS v WHERE intents.id = v.column1`,
          ...rows.flat(),
        );
      }
    });
    this.settlementSeq = seq;
    this.broadcast({ type: "settlement.committed", market: this.market, at: settlement.createdAt ?? "", settlement });
    return settlement;
  }

  /** Marks live intents past their expiry as `expired`. */
  private expireDue(now: number): void {
    if (now < this.expiryFloor) return;
    this.expiryFloor = 0;
    const due = this.sql
      .exec<{ id: string }>(
        `SELECT id FROM intents INDEXED BY intents_live_expiry WHERE ${LIVE_STATUS} AND expires_at_ms IS NOT NULL AND expires_at_ms <= ?`,
        now,
      )
      .toArray()
      .map((r) => r.id);
    if (due.length === 0) return;
    this.sql.exec(
      `UPDATE intents INDEXED BY intents_live_expiry SET status = 'expired' WHERE ${LIVE_STATUS} AND expires_at_ms IS NOT NULL AND expires_at_ms <= ?`,
      now,
    );
    this.broadcast({ type: "intent.expired", market: this.market, at: new Date(now).toISOString(), ids: due });
  }

  private markBatchPending(now: number): void {
    if (!this.meta("batch_due_ms")) this.setMeta("batch_due_ms", String(now + this.effectiveConfig().batchIntervalMs));
  }

  /** One alarm serves the next expiry, the pending batch and the relay's next attempt: whichever comes first. */
  private scheduleAlarm(now: number): void {
    const candidates: number[] = [];
    if (this.expiryFloor <= now) {
      this.expiryFloor =
        this.sql
          .exec<{ t: number | null }>(
            `SELECT MIN(expires_at_ms) AS t FROM intents INDEXED BY intents_live_expiry WHERE ${LIVE_STATUS} AND expires_at_ms > ?`,
            now,
          )
          .one().t ?? Infinity;
    }
    // A floor below the true next expiry (intents filled or cancelled since) only wakes the alarm early.
    const expiry = Number.isFinite(this.expiryFloor) ? this.expiryFloor : null;
    // Expiries share alarms on a grid: an intent past its expiry never trades and reads as expired at once (every
    // clearing and read expires what is due first), so the alarm only has to mark and announce them, and a busy
    // book of short-lived intents wakes the object a few times a second, not once per intent.
    if (expiry !== null) candidates.push(Math.ceil(expiry / EXPIRY_ALARM_GRID_MS) * EXPIRY_ALARM_GRID_MS);
    if (this.effectiveConfig().clearing === "batch") {
      const due = this.meta("batch_due_ms");
      if (due) candidates.push(Number(due));
    }
    const relay = this.relay?.wantsAlarmAt() ?? null;
    if (relay !== null) candidates.push(relay);
    const next = candidates.length > 0 ? Math.min(...candidates) : null;
    if (next === this.alarmAt) return;
    this.alarmAt = next;
    // Storage writes are ordered and the output gate holds the reply until they are durable: no await needed.
    void (next === null ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(next));
  }

  private effectiveConfig(): EffectiveConfig {
    return {
      clearing: this.config.clearing ?? "continuous",
      batchIntervalMs: this.config.batchIntervalMs ?? DEFAULT_BATCH_INTERVAL_MS,
      latency: this.config.latency ?? DEFAULT_LATENCY,
    };
  }

  private counters(): MarketCounters {
    const i = this.sql
      .exec<{ n: number; open: number }>(
        `SELECT COUNT(*) AS n, COALESCE(SUM(${LIVE_STATUS}), 0) AS open FROM intents`,
      )
      .one();
    const s = this.sql.exec<{ n: number; w: number }>("SELECT COUNT(*) AS n, COALESCE(SUM(welfare), 0) AS w FROM settlements").one();
    const f = this.sql
      .exec<{ n: number; v: number; p: number }>(
        "SELECT COUNT(*) AS n, COALESCE(SUM(quantity), 0) AS v, COALESCE(SUM(quantity * price), 0) AS p FROM fills",
      )
      .one();
    return { intents: i.n, openIntents: i.open, settlements: s.n, fills: f.n, volume: f.v, notional: f.p, welfare: s.w };
  }

  private openCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM intents WHERE ${LIVE_STATUS}`).one().n;
  }

  private record(id: string): IntentRecord | undefined {
    const row = this.sql.exec<IntentRow>("SELECT * FROM intents WHERE id = ?", id).toArray()[0];
    return row ? recordOf(row) : undefined;
  }

  private view(id: string, withFills = false): IntentView | undefined {
    const record = this.record(id);
    if (!record) return undefined;
    if (!withFills) return intentView(record);
    const fills = this.sql
      .exec<{ settlement_id: string; buy: string; sell: string; resource: string; quantity: number; price: number }>(
        "SELECT settlement_id, buy, sell, resource, quantity, price FROM fills WHERE buy = ? OR sell = ? ORDER BY rowid",
        id,
        id,
      )
      .toArray()
      .map((r) => intentFill(r.settlement_id, r));
    return intentView(record, fills);
  }

  private broadcast(event: MarketEvent): void {
    let text: string | undefined;
    for (const ws of this.ctx.getWebSockets()) {
      const tags = this.ctx.getTags(ws);
      if (tags.length > 0 && !tags.includes(event.type)) continue;
      try {
        ws.send((text ??= JSON.stringify(event)));
      } catch {
        // a socket closing under us: it is dropped by the runtime
      }
    }
  }

  private noteMarket(market: string): void {
    if (this.market === market || !this.stored) return;
    if (this.market === "") {
      this.market = market;
      this.setMeta("market", market);
    }
  }

  private meta(key: string): string | undefined {
    if (!this.stored) return undefined; // a market never written has no settings (and no table to read them from)
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }
}
