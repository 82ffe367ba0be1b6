// The axon's Durable Object: `POST /NashChallenge` runs here so that the validators' nonces live in SQLite and
// survive eviction and restarts (an SDK axon keeps them in memory). The worker shards by the validator's hotkey
// (nonces are per hotkey and uuid), so validators never wait on each other; all strangers share one object,
// which refuses them before any nonce is touched. The logic is `handleNashChallenge` (src/bridge/axon.ts); the
// answer is `settleChallenge` (src/bridge/challenge.ts) under the target market's latency table.
import { DurableObject } from "cloudflare:workers";
import { handleNashChallenge } from "../bridge/axon.ts";
import { SqlNonceStore, settleChallenge } from "../bridge/challenge.ts";
import { bridgeConfig } from "../bridge/market-hooks.ts";
import { relayUuid } from "../bridge/relay.ts";
import type { AxonResponse } from "../bridge/synapse.ts";
import type { BridgeEnv } from "../bridge/relay.ts";
import type { MarketObject } from "./market.ts";

/** The name of the object that answers requests from `hotkey` (the header as sent; verified inside). */
export function axonObjectName(hotkey: string | undefined, validators: { has(k: string): boolean }): string {
  return hotkey !== undefined && validators.has(hotkey) ? `validator:${hotkey}` : "strangers";
}

export class AxonObject extends DurableObject<Env & BridgeEnv> {
  private nonces: SqlNonceStore | undefined;

  constructor(ctx: DurableObjectState, env: Env & BridgeEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.nonces = new SqlNonceStore((q, ...p) => ctx.storage.sql.exec(q, ...p).toArray());
      this.nonces.prune();
    });
  }

  /** One `POST /NashChallenge`, already capped in size by the worker. Never throws for a caller's mistake. */
  async challenge(path: string, headers: Record<string, string>, body: string): Promise<AxonResponse> {
    const config = bridgeConfig(this.env);
    if (!config.ok || !config.config.axon || !this.nonces) {
      return { status: 404, headers: { "content-type": "application/json" }, body: JSON.stringify({ message: "the axon route is off" }) };
    }
    const axon = config.config.axon;
    return handleNashChallenge(path, headers, body, {
      axon,
      nonces: this.nonces,
      uuid: relayUuid(`axon:${axon.hotkey}`),
      nowNs: () => BigInt(Date.now()) * 1_000_000n,
      nowMs: Date.now,
      answer: async (challenge, deadlineMs, receivedMs) => {
        const market = this.env.MARKET.getByName(challenge.market) as unknown as Pick<MarketObject, "getConfig">;
        const { latency } = await market.getConfig();
        return settleChallenge(challenge, latency, { nowMs: Date.now(), deadlineMs, receivedMs });
      },
    });
  }
}
