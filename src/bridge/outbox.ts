// The settlement relay's transactional outbox: what a relayed message contains (fixed when the settlement
// commits), its idempotency key, the retry schedule, the bound, and the SQL that keeps it beside the settlement.
// Policy is pure; `SqlOutbox` runs its statements through whatever `exec` the caller hands it (a Durable Object's
// `ctx.storage.sql`, node:sqlite in tests), so the market object only wires it.
import { z } from "zod";
import { Settlement } from "../contract/schema.ts";
import { utf8ToBytes } from "../contract/codec.ts";

/** Bumped only if the message shape changes incompatibly; miner nodes check it. */
export const MESSAGE_VERSION = 1;

/** What the `settlement` field of a `NashSettlement` synapse carries, as JSON text. */
export const SettlementMessage = z.looseObject({
  kind: z.literal("nash.settlement"),
  v: z.literal(MESSAGE_VERSION),
  /** The node deduplicates on it; it is inside the signed, hashed text, so it cannot be swapped in transit. */
  key: z.string().min(1).max(300),
  market: z.string(),
  settlement: Settlement,
  /** Proposal scores as the market recorded them (shape owned by the scoring module). */
  scores: z.unknown().optional(),
  committedAt: z.string(),
});
export type SettlementMessage = z.infer<typeof SettlementMessage>;

/** One key per settlement of a market: retries, restarts and re-enqueues of the same settlement share it. */
export function idempotencyKey(market: string, settlementId: string): string {
  return `nash:${market}:${settlementId}`;
}

export interface OutboxMessage {
  readonly key: string;
  readonly settlementId: string;
  /** The exact text every attempt sends (the synapse's `settlement` field). */
  readonly text: string;
  readonly bytes: number;
}

/** Freezes a committed settlement into the text that every delivery attempt will send. */
export function buildSettlementMessage(input: {
  market: string;
  settlement: Settlement;
  scores?: unknown;
  committedAt: string;
}): OutboxMessage {
  const key = idempotencyKey(input.market, input.settlement.id);
  const message: SettlementMessage = {
    kind: "nash.settlement",
    v: MESSAGE_VERSION,
    key,
    market: input.market,
    settlement: input.settlement,
    ...(input.scores === undefined ? {} : { scores: input.scores }),
    committedAt: input.committedAt,
  };
  const text = JSON.stringify(message);
  return { key, settlementId: input.settlement.id, text, bytes: utf8ToBytes(text).length };
}

export interface OutboxPolicy {
  /** Rows kept at most; at the bound new messages are refused and counted (the settlements themselves stay
   * in the market's tables, so an operator can re-enqueue them). Default 20 000: at one settlement a second,
   * five and a half hours of node outage. */
  readonly capacity: number;
  /** A Durable Object SQLite row holds at most 2 MB; larger messages are refused and counted. Default 1.5 MB. */
  readonly maxMessageBytes: number;
  /** First retry delay. Default 1 s. */
  readonly baseDelayMs: number;
  /** Longest delay between attempts. Default 5 min: a node back after hours is retried within 5 min. */
  readonly maxDelayMs: number;
  /** Messages sent per alarm. Default 50. */
  readonly batchSize: number;
}

export const DEFAULT_POLICY: OutboxPolicy = {
  capacity: 20_000,
  maxMessageBytes: 1_500_000,
  baseDelayMs: 1_000,
  maxDelayMs: 300_000,
  batchSize: 50,
};

/**
 * Delay before attempt `attempts + 1` after `attempts` failures: exponential, capped, with "equal jitter"
 * (half fixed, half uniform) so that a fleet of objects does not retry in step and no delay is near zero.
 * `random` returns [0, 1): inject a seeded one in tests.
 */
export function backoffDelayMs(attempts: number, random: () => number, policy: OutboxPolicy = DEFAULT_POLICY): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, Math.min(attempts - 1, 30)));
  return Math.round(exp / 2 + (exp / 2) * random());
}

export { seededRandom } from "../random.ts";

export type EnqueueDecision =
  | { action: "insert" }
  | { action: "refuse"; reason: "full" | "too_large" };

/** Whether a message may enter an outbox that holds `rows` rows. */
export function decideEnqueue(rows: number, message: OutboxMessage, policy: OutboxPolicy = DEFAULT_POLICY): EnqueueDecision {
  if (message.bytes > policy.maxMessageBytes) return { action: "refuse", reason: "too_large" };
  if (rows >= policy.capacity) return { action: "refuse", reason: "full" };
  return { action: "insert" };
}

/** What one delivery attempt came to. Only a 2xx from the node settles a row: every other answer is retried,
 * because dropping a settlement is worse than resending one the node will deduplicate. */
export type AttemptResult =
  | { kind: "delivered"; status: number; duplicate: boolean }
  | { kind: "failed"; status?: number; error: string };

/**
 * The outbox tables. `bridge_outbox` rows live from the settlement's commit (same transaction) until the node
 * acknowledges; `bridge_meta` holds counters and the relay's last nonce (so nonces keep increasing across
 * restarts even if the clock steps back).
 */
export const OUTBOX_DDL = `
CREATE TABLE IF NOT EXISTS bridge_outbox (
  key TEXT PRIMARY KEY,
  settlement_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_status INTEGER,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS bridge_outbox_due ON bridge_outbox (next_attempt_at);
CREATE TABLE IF NOT EXISTS bridge_meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/** Counter names kept in `bridge_meta`. */
export const METRICS = ["enqueued", "delivered", "duplicates", "failed_attempts", "refused_full", "refused_too_large"] as const;
export type MetricName = (typeof METRICS)[number];

export interface OutboxRow {
  readonly key: string;
  readonly settlementId: string;
  readonly payload: string;
  readonly enqueuedAt: number;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
}

export interface OutboxMetrics {
  readonly pending: number;
  readonly capacity: number;
  /** True while the outbox is at its bound: new settlements are not being relayed. */
  readonly full: boolean;
  readonly oldestPendingAt: number | null;
  readonly counters: Readonly<Record<MetricName, number>>;
}

/** Runs one SQL statement with bindings and returns its rows (DO: `(q, ...p) => sql.exec(q, ...p).toArray()`). */
export type SqlExec = (query: string, ...bindings: (string | number | null)[]) => Record<string, unknown>[];

/** The outbox over SQL. Call `enqueue` inside the transaction that commits the settlement. */
export class SqlOutbox {
  readonly #exec: SqlExec;
  readonly policy: OutboxPolicy;

  constructor(exec: SqlExec, policy: OutboxPolicy = DEFAULT_POLICY) {
    this.#exec = exec;
    this.policy = policy;
    for (const stmt of OUTBOX_DDL.split(";").map((s) => s.trim()).filter(Boolean)) exec(stmt);
  }

  #bump(name: MetricName, by = 1): void {
    this.#exec(
      "INSERT INTO bridge_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + ? AS TEXT)",
      `metric:${name}`,
      String(by),
      by,
    );
  }

  pendingCount(): number {
    return Number(this.#exec("SELECT COUNT(*) AS n FROM bridge_outbox")[0].n);
  }

  /** Adds the message unless it is already there (same key: a no-op) or refused by the bound. */
  enqueue(message: OutboxMessage, nowMs: number): EnqueueDecision | { action: "exists" } {
    if (this.#exec("SELECT 1 AS x FROM bridge_outbox WHERE key = ?", message.key).length > 0) return { action: "exists" };
    const decision = decideEnqueue(this.pendingCount(), message, this.policy);
    if (decision.action === "refuse") {
      this.#bump(decision.reason === "full" ? "refused_full" : "refused_too_large");
      return decision;
    }
    this.#exec(
      "INSERT INTO bridge_outbox (key, settlement_id, payload, enqueued_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, 0, ?)",
      message.key,
      message.settlementId,
      message.text,
      nowMs,
      nowMs,
    );
    this.#bump("enqueued");
    return decision;
  }

  /** Rows due at `nowMs`, oldest first, at most `batchSize`. */
  due(nowMs: number): OutboxRow[] {
    return this.#exec(
      "SELECT * FROM bridge_outbox WHERE next_attempt_at <= ? ORDER BY enqueued_at, key LIMIT ?",
      nowMs,
      this.policy.batchSize,
    ).map(toRow);
  }

  /** Settles or reschedules a row after an attempt; returns the retry time, or null once delivered. */
  record(row: OutboxRow, result: AttemptResult, nowMs: number, random: () => number): number | null {
    if (result.kind === "delivered") {
      this.#exec("DELETE FROM bridge_outbox WHERE key = ?", row.key);
      this.#bump("delivered");
      if (result.duplicate) this.#bump("duplicates");
      return null;
    }
    const attempts = row.attempts + 1;
    const retryAt = nowMs + backoffDelayMs(attempts, random, this.policy);
    this.#exec(
      "UPDATE bridge_outbox SET attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ? WHERE key = ?",
      attempts,
      retryAt,
      result.status ?? null,
      result.error.slice(0, 500),
      row.key,
    );
    this.#bump("failed_attempts");
    return retryAt;
  }

  /** When the next alarm should fire, or null when the outbox is empty. */
  nextAttemptAt(): number | null {
    const r = this.#exec("SELECT MIN(next_attempt_at) AS t FROM bridge_outbox")[0];
    return r.t === null || r.t === undefined ? null : Number(r.t);
  }

  /** The relay's last nonce (decimal text: nonces exceed 2^53). */
  lastNonce(): bigint | undefined {
    const r = this.#exec("SELECT value FROM bridge_meta WHERE name = 'relay:last_nonce'")[0];
    return r ? BigInt(String(r.value)) : undefined;
  }

  setLastNonce(nonce: bigint): void {
    this.#exec(
      "INSERT INTO bridge_meta (name, value) VALUES ('relay:last_nonce', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      nonce.toString(),
    );
  }

  metrics(): OutboxMetrics {
    const counters = Object.fromEntries(METRICS.map((m) => [m, 0])) as Record<MetricName, number>;
    for (const r of this.#exec("SELECT name, value FROM bridge_meta WHERE name LIKE 'metric:%'")) {
      const name = String(r.name).slice("metric:".length) as MetricName;
      if (name in counters) counters[name] = Number(r.value);
    }
    const agg = this.#exec("SELECT COUNT(*) AS n, MIN(enqueued_at) AS oldest FROM bridge_outbox")[0];
    const pending = Number(agg.n);
    return {
      pending,
      capacity: this.policy.capacity,
      full: pending >= this.policy.capacity,
      oldestPendingAt: agg.oldest === null || agg.oldest === undefined ? null : Number(agg.oldest),
      counters,
    };
  }
}

function toRow(r: Record<string, unknown>): OutboxRow {
  return {
    key: String(r.key),
    settlementId: String(r.settlement_id),
    payload: String(r.payload),
    enqueuedAt: Number(r.enqueued_at),
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    lastStatus: r.last_status === null || r.last_status === undefined ? null : Number(r.last_status),
    lastError: r.last_error === null || r.last_error === undefined ? null : String(r.last_error),
  };
}
