// The market object's side of the settlement relay: read the bridge configuration once per isolate, put a
// committed settlement into the outbox (inside the settlement's own transaction), say when the object's shared
// alarm should fire for the relay, and drain the outbox when it does. No `cloudflare:*` import: the object hands
// in its SQL `exec` and `fetch`, so this runs under node:sqlite in tests too.
import type { OutboxView, Settlement } from "../contract/schema.ts";
import { SqlOutbox, buildSettlementMessage, type EnqueueDecision, type OutboxPolicy, type SqlExec } from "./outbox.ts";
import { drainOutbox, readBridgeConfig, relayUuid, type BridgeConfig, type BridgeConfigOutcome, type BridgeEnv, type DrainReport } from "./relay.ts";

let cached: { values: string; outcome: BridgeConfigOutcome } | undefined;

/**
 * `readBridgeConfig(env)`, computed once per isolate for a given set of values (deriving the key is slow). The
 * first computation logs the summary when the bridge is on and the errors when it is misconfigured; an off bridge
 * stays silent here because `npm run dev` says "bridge: off" once at start-up. The summary never
 * contains the secret `MINER_HOTKEY_URI`, only the public key derived from it.
 */
export function bridgeConfig(env: BridgeEnv, log: Pick<Console, "log" | "error"> = console): BridgeConfigOutcome {
  const values = JSON.stringify([env.MINER_NODE_URL, env.MINER_HOTKEY_URI, env.AXON_HOTKEY, env.VALIDATOR_HOTKEYS]);
  if (cached?.values === values) return cached.outcome;
  const outcome = readBridgeConfig(env);
  cached = { values, outcome };
  if (!outcome.ok) log.error(`bittensor bridge: misconfigured, bridge disabled: ${outcome.errors.join("; ")}`);
  else if (outcome.config.relay || outcome.config.axon) log.log(outcome.summary);
  return outcome;
}


type RelayTarget = NonNullable<BridgeConfig["relay"]>;

/**
 * How long after a commit the relay's first attempt waits. Default 50 ms. Signing (sr25519 in JS) and sending take
 * CPU in the object, and under `wrangler dev` the object and the worker share one process: an attempt at the
 * commit instant slowed the agent's own answer (measured in notes/bridge.md). Waiting lets the answer leave
 * first; a delivery takes longer than the wait anyway.
 */
export const DISPATCH_DELAY_MS = 50;

/** The relay of one market object: its outbox over the object's SQLite and the retry hold after a failure. */
export class MarketRelay {
  readonly outbox: SqlOutbox;
  readonly #relay: RelayTarget;
  /** After a failed attempt, the failed row is the probe: nothing is sent before its retry time, even if
   * newer rows are due (kept in memory; the persisted alarm carries it across an eviction). */
  #holdUntil: number | null = null;
  #draining = false;
  /** No attempt before this (the last commit + DISPATCH_DELAY_MS); in memory, so at worst lost on eviction. */
  #notBefore = 0;
  readonly #dispatchDelayMs: number;

  private constructor(exec: SqlExec, relay: RelayTarget, policy?: OutboxPolicy, dispatchDelayMs = DISPATCH_DELAY_MS) {
    this.outbox = new SqlOutbox(exec, policy);
    this.#relay = relay;
    this.#dispatchDelayMs = dispatchDelayMs;
  }

  /** The relay for an object, or undefined when the relay is off or misconfigured (then no outbox table is
   * created and no row is ever written). Call inside the object's `blockConcurrencyWhile`. */
  static open(env: BridgeEnv, exec: SqlExec, policy?: OutboxPolicy, dispatchDelayMs?: number): MarketRelay | undefined {
    const config = bridgeConfig(env);
    if (!config.ok || !config.config.relay) return undefined;
    return new MarketRelay(exec, config.config.relay, policy, dispatchDelayMs);
  }

  /** Freezes the settlement (and its scores, when it carries them) into the outbox. Call inside the
   * `transactionSync` that commits the settlement: both commit or neither does. */
  enqueue(market: string, settlement: Settlement, nowMs: number): EnqueueDecision | { action: "exists" } {
    const scores = (settlement as { scores?: unknown }).scores;
    const message = buildSettlementMessage({ market, settlement, scores, committedAt: settlement.createdAt ?? new Date(nowMs).toISOString() });
    const decision = this.outbox.enqueue(message, nowMs);
    if (decision.action === "insert") this.#notBefore = nowMs + this.#dispatchDelayMs;
    return decision;
  }

  /** When the relay wants the object's alarm (null: nothing pending). The object takes the minimum of this and
   * its other wants (batch due, next expiry). */
  wantsAlarmAt(): number | null {
    const next = this.outbox.nextAttemptAt();
    if (next === null) return null;
    return Math.max(next, this.#notBefore, this.#holdUntil ?? 0);
  }

  /** One alarm's delivery pass, if anything is due; never throws (failures are recorded with backoff). */
  async drain(market: string, nowMs: number, fetcher: (url: string, init: RequestInit) => Promise<Response>): Promise<DrainReport | undefined> {
    const want = this.wantsAlarmAt();
    if (this.#draining || want === null || want > nowMs) return undefined;
    this.#draining = true;
    try {
      const report = await drainOutbox(this.outbox, {
        fetch: fetcher,
        relay: this.#relay,
        uuid: relayUuid(market),
        nowMs: Date.now,
        random: Math.random,
      });
      this.#holdUntil = report.failed > 0 ? report.nextAlarmAt : null;
      return report;
    } finally {
      this.#draining = false;
    }
  }

  view(): OutboxView {
    return { relay: "on", target: this.#relay.url, ...this.outbox.metrics() };
  }
}

/** The market view's `outbox` for an object whose relay is `relay` (undefined: off or misconfigured). */
export function outboxView(env: BridgeEnv, relay: MarketRelay | undefined): OutboxView {
  if (relay) return relay.view();
  const config = bridgeConfig(env);
  return config.ok ? { relay: "off" } : { relay: "misconfigured", errors: config.errors };
}
