// What the axon route answers to a validator's NashChallenge, and where it keeps the validators' nonces.
// The answer is the market's settlement for the challenge's batch: the intents solved by the built-in solver
// under the market's latency table (or the challenge's own), verified, and never touching the market's live book.
// Pure: the axon's Durable Object hands in the latency table and its SQL `exec`.
import type { Intent, LatencyTable } from "../contract/schema.ts";
import { buildSettlement } from "../market/book.ts";
import { settle } from "../market/settle.ts";
import { commitmentFeatures } from "../model/commitment.ts";
import { batchComplexity, ringCount, scoreProposal } from "../model/reward.ts";
import type { SolveResult } from "../solver/index.ts";
import type { ChallengeAnswer, ChallengeInput } from "./axon.ts";
import type { SqlExec } from "./outbox.ts";
import type { NonceStore } from "./synapse.ts";
import { sha3Hex } from "./synapse.ts";

/** Longest solve for one challenge; the validator's own deadline cuts it shorter. Default 100 ms, the same
 * budget the market gives one clearing. */
export const CHALLENGE_SOLVE_BUDGET_MS = 100;

/**
 * The settlement for a challenge. Intents without an id get `c1`, `c2`, … in order; repeated ids are a 400.
 * Commitments are refused with 422: a commitment hides quantities and prices, so there is nothing to settle
 * until the intents are revealed (the validator sends the revealed intents instead).
 * The settlement id is `challenge-` + 16 hex of the SHA3-256 of the parsed challenge's JSON: the same challenge gets the
 * same id, so a validator can compare answers across miners. The settlement carries its `score` as a batch's
 * proposal is scored (src/model/reward.ts), the challenge being a batch that opens when it is received
 * (`receivedMs`, default `nowMs`): the time weight counts the time to answer (until the solve ends), the estimate
 * is the optimality the certificate proves (the intents are revealed, so no model is needed).
 */
export function settleChallenge(
  challenge: ChallengeInput,
  marketLatency: LatencyTable,
  opts: { nowMs: number; deadlineMs: number; budgetMs?: number; receivedMs?: number },
): ChallengeAnswer {
  if (challenge.intents === undefined) {
    return { ok: false, status: 422, message: "commitment challenges are not answered: a commitment hides what there is to settle; send the revealed intents" };
  }
  const intents: Intent[] = [];
  const ids = new Set<string>();
  for (const [i, input] of challenge.intents.entries()) {
    const { id, ...fields } = input;
    const intent: Intent = { id: id ?? `c${i + 1}`, ...fields };
    if (ids.has(intent.id)) return { ok: false, status: 400, message: `challenge: intents.${i}.id: ${intent.id} is used twice` };
    ids.add(intent.id);
    intents.push(intent);
  }
  const latency = challenge.latency ?? marketLatency;
  const budget = Math.max(1, Math.min(opts.budgetMs ?? CHALLENGE_SOLVE_BUDGET_MS, opts.deadlineMs - opts.nowMs));
  const { result, verified } = settle(intents, latency, { timeBudgetMs: budget, now: opts.nowMs });
  if (!verified) return { ok: false, status: 500, message: "the solver's settlement failed verification" };
  const id = `challenge-${sha3Hex(JSON.stringify(challenge)).slice(0, 16)}`;
  const settlement = buildSettlement(id, challenge.market, result, new Date(opts.nowMs).toISOString());
  const elapsedMs = Math.max(0, opts.nowMs - (opts.receivedMs ?? opts.nowMs)) + result.solveMs;
  const complexity = batchComplexity(intents.map((i) => ({ features: commitmentFeatures(i) })), ringCount(result.fills));
  return { ok: true, settlement: { ...settlement, score: { ...scoreProposal(provenShare(result), complexity, elapsedMs, "certificate"), elapsedMs } } };
}

/** The share of the optimum a solve proves it reached: 1 when optimal, else welfare / (welfare + gap). */
function provenShare(result: SolveResult): number {
  if (result.status === "optimal" || !(result.gap! > 0)) return 1;
  return result.welfare > 0 ? result.welfare / (result.welfare + result.gap!) : 0;
}

/** How long a validator endpoint's last nonce is kept after its last request. Default 30 days: a replay needs
 * a nonce newer than the stored one, and once the row is gone, the freshness window (4 s + the request's
 * timeout) refuses anything older. */
export const NONCE_RETENTION_MS = 30 * 24 * 3600 * 1000;

/**
 * The axon's `{hotkey}:{uuid}` → last nonce map in SQL, so that an evicted or restarted object still refuses a
 * replay (an SDK axon keeps it in memory and relies on freshness alone). Nonces are decimal text: they exceed 2^53.
 */
export class SqlNonceStore implements NonceStore {
  readonly #exec: SqlExec;
  readonly #now: () => number;

  constructor(exec: SqlExec, now: () => number = Date.now) {
    this.#exec = exec;
    this.#now = now;
    exec("CREATE TABLE IF NOT EXISTS axon_nonces (endpoint TEXT PRIMARY KEY, nonce TEXT NOT NULL, updated_ms INTEGER NOT NULL)");
    exec("CREATE INDEX IF NOT EXISTS axon_nonces_updated ON axon_nonces (updated_ms)");
  }

  get(key: string): bigint | undefined {
    const row = this.#exec("SELECT nonce FROM axon_nonces WHERE endpoint = ?", key)[0];
    return row ? BigInt(String(row.nonce)) : undefined;
  }

  set(key: string, nonce: bigint): void {
    this.#exec(
      "INSERT INTO axon_nonces (endpoint, nonce, updated_ms) VALUES (?, ?, ?) ON CONFLICT (endpoint) DO UPDATE SET nonce = excluded.nonce, updated_ms = excluded.updated_ms",
      key,
      nonce.toString(),
      this.#now(),
    );
  }

  /** Drops endpoints idle for longer than `retentionMs`; returns how many. */
  prune(retentionMs: number = NONCE_RETENTION_MS): number {
    const rows = this.#exec("DELETE FROM axon_nonces WHERE updated_ms < ? RETURNING endpoint", this.#now() - retentionMs);
    return rows.length;
  }
}
