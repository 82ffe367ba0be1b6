// One market's tables: the schema and its migrations, and every statement the market runs, on whatever SQL
// `exec` the caller hands in (a Durable Object's `ctx.storage.sql`, node:sqlite in tests). Rows go in and come
// out as the book's own types (src/market/book.ts); nothing here decides anything about trading.
import type { IntentStatus, Intent, MarketCounters, Settlement } from "../contract/schema.ts";
import type { SqlExec } from "../bridge/outbox.ts";
import type { Commitment } from "../model/commitment.ts";
import { LIVE_STATUSES, intentFill, intentView, type IntentRecord, type IntentUpdate, type IntentView, type RestingIntent } from "./book.ts";

/** Runs `fn` as one transaction: all of its statements commit or none do. */
export type Transaction = <T>(fn: () => T) => T;

/**
 * Schema migrations, applied in order once each: index k brings the schema to version k+1.
 * Append a new entry to add tables or columns; never edit a shipped one.
 */
export const MIGRATIONS: readonly (readonly string[])[] = [
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
  // v4: virtual columns read the body's fields (nothing new is stored, so they cannot diverge from it) and partial
  // indexes over the live rows make the per-submit queries (best bid and ask, crossing intents, due expiries, next
  // expiry, live swaps) index ranges; the queries name their index (INDEXED BY) so the plan cannot regress.
  [
    `ALTER TABLE intents ADD COLUMN side TEXT GENERATED ALWAYS AS (json_extract(body, '$.side')) VIRTUAL`,
    `ALTER TABLE intents ADD COLUMN limit_price REAL GENERATED ALWAYS AS (json_extract(body, '$.limitPrice')) VIRTUAL`,
    `ALTER TABLE intents ADD COLUMN swap_for TEXT GENERATED ALWAYS AS (json_extract(body, '$.swapFor.resource')) VIRTUAL`,
    `CREATE INDEX intents_live_price ON intents(resource, side, limit_price) WHERE status IN ('open', 'partially_filled')`,
    `CREATE INDEX intents_live_expiry ON intents(expires_at_ms) WHERE status IN ('open', 'partially_filled')`,
    `CREATE INDEX intents_live_swaps ON intents(swap_for, resource) WHERE status IN ('open', 'partially_filled')`,
  ],
  // v5: untraded intents with a minimum (all-or-none or a minimum fill), by price, so a submit can ask in one index
  // probe whether one of them could now be reached.
  [
    `ALTER TABLE intents ADD COLUMN min_quantity REAL GENERATED ALWAYS AS (json_extract(body, '$.minQuantity')) VIRTUAL`,
    `CREATE INDEX intents_open_minimum ON intents(resource, side, limit_price) WHERE status = 'open' AND min_quantity IS NOT NULL`,
  ],
  // v6 (CONTRACT.md section 2a): a fill between intents with windows is delivered over [start, end); an intent's
  // fills show when. NULL for a fill without a window (and for every fill stored before).
  [`ALTER TABLE fills ADD COLUMN start_at TEXT`, `ALTER TABLE fills ADD COLUMN end_at TEXT`],
];

/**
 * `isLive` (src/market/book.ts) in SQL, generated from the same statuses. The v4 partial indexes spell the status
 * part out (a shipped migration never changes); SQLite uses a partial index only when a query's WHERE contains
 * its predicate, so test/node/store.test.ts checks that the two texts agree and that the SQL selects what
 * `isLive`, `dueExpiries` and `nextExpiry` select.
 */
export const LIVE_STATUS_SQL = `status IN (${LIVE_STATUSES.map((s) => `'${s}'`).join(", ")})`;
/** Live at the bound time `?` (ms): a live status and not expired. */
export const LIVE_AT_SQL = `${LIVE_STATUS_SQL} AND (expires_at_ms IS NULL OR expires_at_ms > ?)`;
/** Live status but past its expiry at `?`: what `expireDue` marks. */
export const DUE_AT_SQL = `${LIVE_STATUS_SQL} AND expires_at_ms IS NOT NULL AND expires_at_ms <= ?`;

/** An intent row; `body` is "" when a query leaves it out (the parsed body then comes from `IntentBodies`). */
export interface IntentRow {
  id: string;
  seq: number;
  body: string;
  status: string;
  filled: number;
  expires_at_ms: number | null;
  created_at: string;
}

/** A stored proposal: the allocation as received, and its view once its batch has closed. */
export interface ProposalRow {
  id: string;
  proposer: string;
  fills: string;
  received_ms: number;
  view: string | null;
}

/**
 * Parsed intent bodies by id. A body is written once (INSERT) and never updated, so a cached parse cannot diverge
 * from SQLite; status and filled always come from the row. Bounded: emptied when full.
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
    this.put(id, intent);
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

type Binding = string | number | null;

/** Whether a market's tables exist (it accepted a write); reads sqlite_master, writes nothing. */
export function schemaExists(exec: SqlExec): boolean {
  return exec("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'meta'").length > 0;
}

/** Brings the tables to the newest schema version; `meta` holds the version and small settings. */
export function migrate(exec: SqlExec): number {
  exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const row = exec("SELECT value FROM meta WHERE key = 'schema_version'")[0];
  let version = row ? Number(row.value) : 0;
  while (version < MIGRATIONS.length) {
    for (const statement of MIGRATIONS[version]) exec(statement);
    version += 1;
    exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", String(version));
  }
  return version;
}

/** The statements of one market, over its migrated tables (construct only once `migrate` has run). */
export class MarketStore {
  private readonly exec: SqlExec;
  readonly transaction: Transaction;
  private readonly bodies: IntentBodies;
  /** When the seen-signature table was last pruned (it is pruned at most once a second). */
  private signaturesPrunedAt = 0;

  constructor(exec: SqlExec, transaction: Transaction) {
    this.exec = exec;
    this.transaction = transaction;
    this.bodies = new IntentBodies((id) => this.one<{ body: string }>("SELECT body FROM intents WHERE id = ?", id)?.body);
  }

  private rows<T>(query: string, ...bindings: Binding[]): T[] {
    return this.exec(query, ...bindings) as T[];
  }

  private one<T>(query: string, ...bindings: Binding[]): T | undefined {
    return this.rows<T>(query, ...bindings)[0];
  }

  private recordOf(row: IntentRow, cached = false): IntentRecord {
    const record: IntentRecord = {
      intent: cached ? this.bodies.get(row.id, row.body) : (JSON.parse(row.body) as Intent),
      status: row.status as IntentStatus,
      filled: row.filled,
      seq: row.seq,
      createdAt: row.created_at,
    };
    if (row.expires_at_ms !== null) record.expiresAtMs = row.expires_at_ms;
    return record;
  }

  // ---- settings ----

  meta(key: string): string | undefined {
    return this.one<{ value: string }>("SELECT value FROM meta WHERE key = ?", key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }

  // ---- request guards ----

  /** The stored answer under an agent's Idempotency-Key, after forgetting those older than `since`. */
  idempotent(agent: string, key: string, since: number): { fingerprint: string; answer: string } | undefined {
    this.exec("DELETE FROM idempotency WHERE created_ms < ?", since);
    return this.one("SELECT fingerprint, answer FROM idempotency WHERE agent = ? AND key = ?", agent, key);
  }

  rememberIdempotent(agent: string, key: string, fingerprint: string, answer: string, now: number): void {
    this.exec("INSERT INTO idempotency (agent, key, fingerprint, answer, created_ms) VALUES (?, ?, ?, ?, ?)", agent, key, fingerprint, answer, now);
  }

  /** Records a signature as seen until `forgetAt`; false when it was seen before (a replay). */
  rememberSignature(signature: string, forgetAt: number, now: number): boolean {
    // Rows past their forget time also fail the timestamp window in the worker, so pruning can lag a second.
    if (now - this.signaturesPrunedAt >= 1000) {
      this.exec("DELETE FROM seen_signatures WHERE forget_at_ms < ?", now);
      this.signaturesPrunedAt = now;
    }
    const sql = "INSERT INTO seen_signatures (signature, forget_at_ms) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING signature";
    return this.exec(sql, signature, forgetAt).length > 0;
  }

  // ---- intents ----

  maxIntentSeq(): number {
    return this.one<{ s: number }>("SELECT COALESCE(MAX(seq), 0) AS s FROM intents")!.s;
  }

  /** Whether `id` is taken, and the live intents of `agent` and of the market, in one statement. */
  intakeCounts(id: string, agent: string): { taken: boolean; agent: number; market: number } {
    const row = this.one<{ taken: number; agent: number; market: number }>(
      `SELECT EXISTS(SELECT 1 FROM intents WHERE id = ?) AS taken,
         (SELECT COUNT(*) FROM intents WHERE agent = ? AND ${LIVE_STATUS_SQL}) AS agent,
         (SELECT COUNT(*) FROM intents WHERE ${LIVE_STATUS_SQL}) AS market`,
      id,
      agent,
    )!;
    return { taken: row.taken !== 0, agent: row.agent, market: row.market };
  }

  /** How many of `agent`'s intents have traded. */
  tradedCount(agent: string): number {
    return this.one<{ n: number }>("SELECT COUNT(*) AS n FROM intents INDEXED BY intents_agent WHERE agent = ? AND filled > 0", agent)!.n;
  }

  /** Inserts an accepted intent with its published commitment (the salt stays here until the agent reveals). */
  insertIntent(record: IntentRecord, commitment: Commitment, salt: string): void {
    const { intent } = record;
    this.bodies.put(intent.id, intent);
    this.exec(
      "INSERT INTO intents (id, seq, agent, resource, body, status, filled, expires_at_ms, created_at) VALUES (?, ?, ?, ?, ?, 'open', 0, ?, ?)",
      intent.id,
      record.seq,
      intent.agent,
      intent.resource,
      JSON.stringify(intent),
      record.expiresAtMs ?? null,
      record.createdAt,
    );
    this.exec("INSERT INTO commitments (intent_id, seq, body, salt) VALUES (?, ?, ?, ?)", intent.id, record.seq, JSON.stringify(commitment), salt);
  }

  record(id: string): IntentRecord | undefined {
    const row = this.one<IntentRow>("SELECT * FROM intents WHERE id = ?", id);
    return row ? this.recordOf(row) : undefined;
  }

  /** The intent as the API shows it, with its fills when asked. */
  view(id: string, withFills = false): IntentView | undefined {
    const record = this.record(id);
    if (!record) return undefined;
    if (!withFills) return intentView(record);
    const fills = this.rows<{ settlement_id: string; buy: string; sell: string; resource: string; quantity: number; price: number; start: string | null; end: string | null }>(
      "SELECT settlement_id, buy, sell, resource, quantity, price, start_at AS start, end_at AS end FROM fills WHERE buy = ? OR sell = ? ORDER BY rowid",
      id,
      id,
    ).map(({ start, end, ...r }) => intentFill(r.settlement_id, { ...r, ...(start === null ? {} : { start }), ...(end === null ? {} : { end }) }));
    return intentView(record, fills);
  }

  cancel(id: string): void {
    this.exec("UPDATE intents SET status = 'cancelled' WHERE id = ?", id);
  }

  liveCount(): number {
    return this.one<{ n: number }>(`SELECT COUNT(*) AS n FROM intents WHERE ${LIVE_STATUS_SQL}`)!.n;
  }

  /** Every intent of a live status (expired ones included: `solverBook` leaves them out), by id. */
  liveRecords(): Map<string, IntentRecord> {
    const rows = this.rows<IntentRow>(`SELECT * FROM intents WHERE ${LIVE_STATUS_SQL}`);
    return new Map(rows.map((r) => [r.id, this.recordOf(r, true)] as const));
  }

  /** The live-status intents of these resources, by id. */
  liveRecordsOf(resources: Iterable<string>): Map<string, IntentRecord> {
    const rows = this.rows<IntentRow>(`SELECT * FROM intents WHERE ${LIVE_STATUS_SQL} AND resource IN (SELECT value FROM json_each(?))`, JSON.stringify([...resources]));
    return new Map(rows.map((r) => [r.id, this.recordOf(r, true)] as const));
  }

  /** The first `limit` live-status intents in arrival order (GET /v1/markets/{m}). */
  openIntents(limit: number): IntentView[] {
    return this.rows<IntentRow>(`SELECT * FROM intents WHERE ${LIVE_STATUS_SQL} ORDER BY seq LIMIT ?`, limit).map((r) => intentView(this.recordOf(r)));
  }

  /** Live intents as eviction ranks them. */
  resting(now: number): RestingIntent[] {
    return this.rows<{ id: string; seq: number; resource: string; side: "buy" | "sell"; limit_price: number; swap_for: string | null }>(
      `SELECT id, seq, resource, side, limit_price, swap_for FROM intents WHERE ${LIVE_AT_SQL}`,
      now,
    ).map((r) => ({ id: r.id, seq: r.seq, resource: r.resource, side: r.side, limitPrice: r.limit_price, swap: r.swap_for !== null }));
  }

  /** Marks live intents past their expiry at `now` as expired; their ids. */
  expireDue(now: number): string[] {
    const due = this.rows<{ id: string }>(`SELECT id FROM intents INDEXED BY intents_live_expiry WHERE ${DUE_AT_SQL}`, now).map((r) => r.id);
    if (due.length > 0) this.exec(`UPDATE intents INDEXED BY intents_live_expiry SET status = 'expired' WHERE ${DUE_AT_SQL}`, now);
    return due;
  }

  /** The earliest expiry after `now` among live-status intents, or Infinity. */
  nextExpiry(now: number): number {
    const sql = `SELECT MIN(expires_at_ms) AS t FROM intents INDEXED BY intents_live_expiry WHERE ${LIVE_STATUS_SQL} AND expires_at_ms > ?`;
    return this.one<{ t: number | null }>(sql, now)!.t ?? Infinity;
  }

  // ---- what continuous clearing reads (src/market/clearing.ts) ----

  /** Resources with a live-status intent. */
  liveResources(): string[] {
    return this.rows<{ r: string }>(`SELECT DISTINCT resource AS r FROM intents INDEXED BY intents_live_price WHERE ${LIVE_STATUS_SQL}`).map((x) => x.r);
  }

  /** The live swaps' links: what each gives and what it wants. */
  swapLinks(): { resource: string; wants: string }[] {
    return this.rows(`SELECT DISTINCT resource, swap_for AS wants FROM intents INDEXED BY intents_live_swaps WHERE ${LIVE_STATUS_SQL} AND swap_for IS NOT NULL`);
  }

  /** The best live limit of `resource`'s buys (highest) or sells (lowest): a walk of the price index from the best
   *  price, stopping at the first unexpired row. */
  bestLimit(resource: string, side: "buy" | "sell", now: number): number | null {
    const sql = `SELECT limit_price AS p FROM intents INDEXED BY intents_live_price WHERE ${LIVE_AT_SQL} AND resource = ? AND side = ?
      ORDER BY limit_price ${side === "buy" ? "DESC" : "ASC"} LIMIT 1`;
    return this.one<{ p: number }>(sql, now, resource, side)?.p ?? null;
  }

  /**
   * `resource`'s live intents that price-cross someone: buys at or above the best ask, sells at or below the best
   * bid. Read without the body (bodies never change once inserted, so the parse is cached): a crossing intent can
   * bring hundreds of rows, and only unseen bodies cross the SQL boundary.
   */
  crossing(resource: string, bid: number, ask: number, now: number): IntentRecord[] {
    const side = (s: "buy" | "sell", bound: number) =>
      this.rows<IntentRow>(
        `SELECT id, seq, status, filled, expires_at_ms, created_at, '' AS body FROM intents INDEXED BY intents_live_price
          WHERE ${LIVE_AT_SQL} AND resource = ? AND side = ? AND limit_price ${s === "buy" ? ">=" : "<="} ?`,
        now,
        resource,
        s,
        bound,
      );
    return [...side("buy", ask), ...side("sell", bid)].map((r) => this.recordOf(r, true));
  }

  /** Whether an untraded live intent with a minimum on `side` of `resource` has a limit within `limit`'s reach. */
  reachableMinimum(resource: string, side: "buy" | "sell", limit: number, now: number): boolean {
    const reach = side === "sell" ? "<=" : ">=";
    const sql = `SELECT 1 AS x FROM intents INDEXED BY intents_open_minimum WHERE status = 'open' AND min_quantity IS NOT NULL
      AND resource = ? AND side = ? AND limit_price ${reach} ? AND (expires_at_ms IS NULL OR expires_at_ms > ?) LIMIT 1`;
    return this.exec(sql, resource, side, limit, now).length > 0;
  }

  /** Up to `limit` live intents on `side` of `resource` within `limit`'s reach, best price first (ties in index order). */
  counterparties(resource: string, side: "buy" | "sell", price: number, limit: number, now: number): IntentRecord[] {
    const selling = side === "sell";
    const sql = `SELECT id, seq, status, filled, expires_at_ms, created_at, '' AS body FROM intents INDEXED BY intents_live_price
      WHERE ${LIVE_AT_SQL} AND resource = ? AND side = ? AND limit_price ${selling ? "<=" : ">="} ?
      ORDER BY limit_price ${selling ? "ASC" : "DESC"} LIMIT ${limit}`;
    return this.rows<IntentRow>(sql, now, resource, side, price).map((r) => this.recordOf(r, true));
  }

  // ---- settlements ----

  maxSettlementSeq(): number {
    return this.one<{ s: number }>("SELECT COALESCE(MAX(seq), 0) AS s FROM settlements")!.s;
  }

  /**
   * Commits a settlement in ONE transaction: settlement row, fills, filled quantities and statuses, plus whatever
   * `also` writes (the relay's outbox row, a batch's proposal scores), so all of it lands or none.
   */
  commitSettlement(seq: number, settlement: Settlement, updates: readonly IntentUpdate[], also: () => void): void {
    this.transaction(() => {
      also();
      this.exec(
        "INSERT INTO settlements (id, seq, body, welfare, created_at) VALUES (?, ?, ?, ?, ?)",
        settlement.id,
        seq,
        JSON.stringify(settlement),
        settlement.welfare,
        settlement.createdAt ?? "",
      );
      // Many rows per statement (each statement costs far more in workerd than the rows it writes); numbers are
      // bound, never passed through JSON text, so they land bit for bit.
      const fills = settlement.fills.map((f, idx) => [settlement.id, idx, f.buy, f.sell, f.resource, f.quantity, f.price, f.start ?? null, f.end ?? null]);
      for (const rows of chunks(fills, 11)) {
        this.exec(`INSERT INTO fills (settlement_id, idx, buy, sell, resource, quantity, price, start_at, end_at) VALUES ${placeholders(rows)}`, ...rows.flat());
      }
      for (const rows of chunks(updates.map((u) => [u.id, u.filled, u.status]), 33)) {
        this.exec(`UPDATE intents SET filled = v.column2, status = v.column3 FROM (VALUES ${placeholders(rows)}) AS v WHERE intents.id = v.column1`, ...rows.flat());
      }
    });
  }

  settlement(id: string): Settlement | undefined {
    const row = this.one<{ body: string }>("SELECT body FROM settlements WHERE id = ?", id);
    return row ? (JSON.parse(row.body) as Settlement) : undefined;
  }

  counters(): MarketCounters {
    const i = this.one<{ n: number; open: number }>(`SELECT COUNT(*) AS n, COALESCE(SUM(${LIVE_STATUS_SQL}), 0) AS open FROM intents`)!;
    const s = this.one<{ n: number; w: number }>("SELECT COUNT(*) AS n, COALESCE(SUM(welfare), 0) AS w FROM settlements")!;
    const f = this.one<{ n: number; v: number; p: number }>(
      "SELECT COUNT(*) AS n, COALESCE(SUM(quantity), 0) AS v, COALESCE(SUM(quantity * price), 0) AS p FROM fills",
    )!;
    return { intents: i.n, openIntents: i.open, settlements: s.n, fills: f.n, volume: f.v, notional: f.p, welfare: s.w };
  }

  // ---- commitments and reveals ----

  /** Commitments of these intents, in the order of their acceptance. */
  commitmentsOf(ids: readonly string[]): Commitment[] {
    return this.rows<{ body: string }>("SELECT body FROM commitments WHERE intent_id IN (SELECT value FROM json_each(?)) ORDER BY seq", JSON.stringify(ids)).map(
      (r) => JSON.parse(r.body) as Commitment,
    );
  }

  /** Commitments of the first `limit` live-status intents. */
  liveCommitments(limit: number): Commitment[] {
    const sql = `SELECT c.body FROM commitments c JOIN intents i ON i.id = c.intent_id WHERE i.${LIVE_STATUS_SQL} ORDER BY c.seq LIMIT ?`;
    return this.rows<{ body: string }>(sql, limit).map((r) => JSON.parse(r.body) as Commitment);
  }

  /** An intent's commitment, salt, agent and body, for its reveal. */
  committed(intentId: string): { commitment: Commitment; salt: string; agent: string; intent: Intent } | undefined {
    const row = this.one<{ body: string; salt: string; agent: string; intent: string }>(
      "SELECT c.body, c.salt, i.agent, i.body AS intent FROM commitments c JOIN intents i ON i.id = c.intent_id WHERE c.intent_id = ?",
      intentId,
    );
    return row && { commitment: JSON.parse(row.body) as Commitment, salt: row.salt, agent: row.agent, intent: JSON.parse(row.intent) as Intent };
  }

  markRevealed(intentId: string): void {
    this.exec("UPDATE commitments SET revealed = 1 WHERE intent_id = ?", intentId);
  }

  /** How many of a batch's intents there are, and how many are revealed. */
  revealCount(batch: string): { all: number; revealed: number } {
    const sql = `SELECT COUNT(*) AS "all", COALESCE(SUM(c.revealed), 0) AS revealed FROM batch_intents b JOIN commitments c ON c.intent_id = b.intent_id WHERE b.batch = ?`;
    return this.one<{ all: number; revealed: number }>(sql, batch)!;
  }

  // ---- batches and proposals ----

  nextProposalSeq(): number {
    return this.one<{ s: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM proposals")!.s;
  }

  insertProposal(id: string, batch: string, proposer: string, fills: unknown, now: number, view?: unknown): void {
    this.exec(
      "INSERT INTO proposals (id, seq, batch, proposer, fills, received_ms, view) VALUES (?, ?, ?, ?, ?, ?, ?)",
      id,
      Number(id.slice(2)),
      batch,
      proposer,
      JSON.stringify(fills),
      now,
      view === undefined ? null : JSON.stringify(view),
    );
  }

  setProposalView(id: string, view: unknown): void {
    this.exec("UPDATE proposals SET view = ? WHERE id = ?", JSON.stringify(view), id);
  }

  /** A batch's proposals in arrival order; `scored`: only those with a view (true) or without one (false). */
  proposals(batch: string, scored?: boolean): ProposalRow[] {
    const filter = scored === undefined ? "" : scored ? " AND view IS NOT NULL" : " AND view IS NULL";
    return this.rows<ProposalRow>(`SELECT id, proposer, fills, received_ms, view FROM proposals WHERE batch = ?${filter} ORDER BY seq`, batch);
  }

  hasUnscoredProposal(batch: string): boolean {
    return this.exec("SELECT 1 AS x FROM proposals WHERE batch = ? AND view IS NULL LIMIT 1", batch).length > 0;
  }

  batchExists(batch: string): boolean {
    return this.exec("SELECT 1 AS x FROM batches WHERE id = ?", batch).length > 0;
  }

  /** A settled batch's book and latency as they were at its close, for the exact re-solve. */
  insertBatch(batch: string, settlementId: string, book: readonly Intent[], latency: unknown, now: number): void {
    this.exec("INSERT INTO batches (id, settlement_id, book, latency, created_ms) VALUES (?, ?, ?, ?, ?)", batch, settlementId, JSON.stringify(book), JSON.stringify(latency), now);
    for (const intent of book) this.exec("INSERT INTO batch_intents (batch, intent_id) VALUES (?, ?)", batch, intent.id);
  }

  batch(batch: string): { book: string; latency: string; resolved: string | null; created_ms: number } | undefined {
    return this.one("SELECT book, latency, resolved, created_ms FROM batches WHERE id = ?", batch);
  }

  setResolved(batch: string, resolved: unknown): void {
    this.exec("UPDATE batches SET resolved = ? WHERE id = ?", JSON.stringify(resolved), batch);
  }

  batchIntentIds(batch: string): string[] {
    return this.rows<{ intent_id: string }>("SELECT intent_id FROM batch_intents WHERE batch = ?", batch).map((r) => r.intent_id);
  }

  /** The settled batches an intent took part in. */
  batchesOf(intentId: string): string[] {
    return this.rows<{ batch: string }>("SELECT batch FROM batch_intents WHERE intent_id = ? ORDER BY batch", intentId).map((r) => r.batch);
  }

  insertTrainingExample(batch: string, proposal: string, example: unknown, now: number): void {
    this.exec("INSERT OR REPLACE INTO training_examples (batch, proposal, body, created_ms) VALUES (?, ?, ?, ?)", batch, proposal, JSON.stringify(example), now);
  }

  /** Training examples of one batch, or of all batches oldest first (at most 10 000). */
  trainingExamples(batch?: string): unknown[] {
    const rows =
      batch === undefined
        ? this.rows<{ body: string }>("SELECT body FROM training_examples ORDER BY created_ms, batch, proposal LIMIT 10000")
        : this.rows<{ body: string }>("SELECT body FROM training_examples WHERE batch = ? ORDER BY proposal", batch);
    return rows.map((r) => JSON.parse(r.body) as unknown);
  }
}
