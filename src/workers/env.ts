// The edge worker's environment: the generated `Env`, the bridge's and the guards' settings, and the bindings
// only the worker uses. The Durable Objects declare just the part they read, so src/durable never imports this.
import type { BridgeEnv } from "../bridge/relay.ts";
import type { AxonObject } from "../durable/axon-nonces.ts";
import type { MarketDirectory } from "../durable/directory.ts";
import type { GuardVars } from "../market/guards.ts";

/** The worker's environment: the generated `Env` plus plain-text settings (all optional). */
export interface EdgeEnv extends Env, BridgeEnv, GuardVars {
  /** The axon's objects (`POST /NashChallenge`, nonces per validator hotkey): src/durable/axon-nonces.ts. */
  AXON: DurableObjectNamespace<AxonObject>;
  /** The market directory (which markets accepted a write): src/durable/directory.ts. */
  DIRECTORY: DurableObjectNamespace<MarketDirectory>;
  /** Comma-separated agent public keys allowed to PUT a market's config. */
  OPERATOR_AGENTS?: string;
}
