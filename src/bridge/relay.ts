// The bridge's configuration and the settlement relay's delivery loop: one alarm's pass over the outbox, sending
// each due message as a signed NashSettlement dendrite request. I/O only through the injected `fetch` and clock.
import { keypairFromUri, ss58Decode, type Sr25519Keypair } from "./keys.ts";
import { sha3Hex, NASH_SETTLEMENT, nextNonce, readAxonResponse, signDendriteRequest } from "./synapse.ts";
import type { AttemptResult, OutboxRow, SqlOutbox } from "./outbox.ts";

export interface BridgeEnv {
  readonly MINER_NODE_URL?: string;
  readonly MINER_HOTKEY_URI?: string;
  readonly AXON_HOTKEY?: string;
  readonly VALIDATOR_HOTKEYS?: string;
}

export interface BridgeConfig {
  /** Relay target; undefined when the relay is off (inbound route may still be on). */
  readonly relay?: { readonly url: string; readonly keypair: Sr25519Keypair; readonly axonHotkey: string };
  /** Inbound `/NashChallenge`; undefined when off. */
  readonly axon?: { readonly hotkey: string; readonly validators: ReadonlySet<string>; readonly keypair?: Sr25519Keypair };
}

export type BridgeConfigOutcome =
  | { ok: true; config: BridgeConfig; summary: string }
  | { ok: false; errors: string[] };

const blank = (s: string | undefined) => s === undefined || s.trim() === "";

/**
 * Reads the four bridge variables. None set: the bridge is off (ok, with a summary saying so). The relay needs
 * MINER_NODE_URL, MINER_HOTKEY_URI and AXON_HOTKEY; the axon route needs AXON_HOTKEY and VALIDATOR_HOTKEYS.
 * A half-configured bridge is an error naming what is missing, never a silent partial start.
 */
export function readBridgeConfig(env: BridgeEnv): BridgeConfigOutcome {
  const errors: string[] = [];
  const { MINER_NODE_URL, MINER_HOTKEY_URI, AXON_HOTKEY, VALIDATOR_HOTKEYS } = env;
  if ([MINER_NODE_URL, MINER_HOTKEY_URI, AXON_HOTKEY, VALIDATOR_HOTKEYS].every(blank)) {
    return { ok: true, config: {}, summary: "bittensor bridge: off (set MINER_NODE_URL, MINER_HOTKEY_URI, AXON_HOTKEY, VALIDATOR_HOTKEYS to enable)" };
  }
  let axonHotkey: string | undefined;
  if (blank(AXON_HOTKEY)) errors.push("AXON_HOTKEY is required by the bridge (the miner's hotkey, SS58)");
  else if (!ss58Decode(AXON_HOTKEY!.trim()).ok) errors.push("AXON_HOTKEY is not a valid SS58 address");
  else axonHotkey = AXON_HOTKEY!.trim();

  let keypair: Sr25519Keypair | undefined;
  if (!blank(MINER_HOTKEY_URI)) {
    const k = keypairFromUri(MINER_HOTKEY_URI!.trim());
    if (k.ok) keypair = k.keypair;
    else errors.push(`MINER_HOTKEY_URI: ${k.error}`);
  }
  let relay: BridgeConfig["relay"];
  const wantsRelay = !blank(MINER_NODE_URL) || !blank(MINER_HOTKEY_URI);
  if (wantsRelay) {
    if (blank(MINER_NODE_URL)) errors.push("MINER_NODE_URL is required for the relay");
    else if (!/^https?:\/\/[^/]+/.test(MINER_NODE_URL!.trim())) errors.push("MINER_NODE_URL must be an http(s) URL");
    if (blank(MINER_HOTKEY_URI)) errors.push("MINER_HOTKEY_URI is required for the relay");
    if (keypair && axonHotkey && !blank(MINER_NODE_URL)) {
      relay = { url: MINER_NODE_URL!.trim().replace(/\/+$/, ""), keypair, axonHotkey };
    }
  }
  let axon: BridgeConfig["axon"];
  if (!blank(VALIDATOR_HOTKEYS)) {
    const list = VALIDATOR_HOTKEYS!.split(",").map((s) => s.trim()).filter(Boolean);
    for (const v of list) if (!ss58Decode(v).ok) errors.push(`VALIDATOR_HOTKEYS: ${v} is not a valid SS58 address`);
    // The edge signs its axon answers only if it holds the axon's own key.
    if (axonHotkey) axon = { hotkey: axonHotkey, validators: new Set(list), keypair: keypair?.ss58 === axonHotkey ? keypair : undefined };
  }
  if (errors.length > 0) return { ok: false, errors };
  const parts = [
    relay ? `relay on → ${relay.url} as ${relay.keypair.ss58} to ${relay.axonHotkey}` : "relay off",
    axon ? `/NashChallenge on for ${axon.validators.size} validator(s)` : "/NashChallenge off (no VALIDATOR_HOTKEYS)",
  ];
  return { ok: true, config: { relay, axon }, summary: `bittensor bridge: ${parts.join("; ")}` };
}

/** A stable uuid-shaped dendrite id per sender (a market object): nonces are checked per (hotkey, uuid), so each
 * object needs its own sequence, and it must survive restarts. */
export function relayUuid(sender: string): string {
  const h = sha3Hex(`nash-relay:${sender}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface RelayDeps {
  readonly fetch: (url: string, init: RequestInit) => Promise<Response>;
  readonly relay: NonNullable<BridgeConfig["relay"]>;
  readonly uuid: string;
  /** Per-request timeout in seconds. Default 12 (the SDK's). */
  readonly timeoutSec?: number;
  readonly nowMs: () => number;
  /** Nanosecond clock; default nowMs × 10^6. */
  readonly nowNs?: () => bigint;
  readonly random: () => number;
}

/** Sends one outbox row once. Never throws: network errors and timeouts are failed attempts. */
export async function deliverRow(row: OutboxRow, nonce: bigint, deps: RelayDeps): Promise<AttemptResult> {
  const timeoutSec = deps.timeoutSec ?? 12;
  const req = signDendriteRequest({
    synapse: NASH_SETTLEMENT,
    fields: { settlement: row.payload },
    keypair: deps.relay.keypair,
    axonHotkey: deps.relay.axonHotkey,
    timeoutSec,
    nonce,
    uuid: deps.uuid,
  });
  try {
    const res = await deps.fetch(deps.relay.url + req.path, {
      method: "POST",
      headers: { ...req.headers, "content-type": "application/json" },
      body: req.body,
      signal: AbortSignal.timeout(timeoutSec * 1000),
    });
    const text = await res.text();
    const read = readAxonResponse(res.status, res.headers, text);
    if (res.status >= 200 && res.status < 300) {
      let duplicate = false;
      const receipt = read.fields?.receipt;
      if (typeof receipt === "string") {
        try {
          duplicate = (JSON.parse(receipt) as { duplicate?: unknown }).duplicate === true;
        } catch {
          duplicate = false;
        }
      }
      return { kind: "delivered", status: res.status, duplicate };
    }
    return { kind: "failed", status: res.status, error: read.message ?? `HTTP ${res.status}` };
  } catch (e) {
    return { kind: "failed", error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

export interface DrainReport {
  readonly attempted: number;
  readonly delivered: number;
  readonly failed: number;
  /** When to set the next alarm; null when the outbox is empty. */
  readonly nextAlarmAt: number | null;
  /** ms from enqueue to acknowledgement, per delivered row: the relay's added latency. */
  readonly deliveryLatencyMs: number[];
}

/**
 * One alarm's work: send every due row (sequentially, so nonces arrive in order), then record each result. On
 * the first failure the rest of the batch waits for its own retry time: the node is most likely down.
 */
export async function drainOutbox(outbox: SqlOutbox, deps: RelayDeps): Promise<DrainReport> {
  const now = deps.nowMs();
  const rows = outbox.due(now);
  let delivered = 0;
  let failed = 0;
  const latencies: number[] = [];
  let probeRetryAt: number | null = null;
  for (const row of rows) {
    const nowNs = deps.nowNs ? deps.nowNs() : BigInt(deps.nowMs()) * 1_000_000n;
    const nonce = nextNonce(nowNs, outbox.lastNonce());
    outbox.setLastNonce(nonce);
    const result = await deliverRow(row, nonce, deps);
    const after = deps.nowMs();
    const retryAt = outbox.record(row, result, after, deps.random);
    if (result.kind === "delivered") {
      delivered++;
      latencies.push(after - row.enqueuedAt);
    } else {
      failed++;
      probeRetryAt = retryAt;
      break;
    }
  }
  // After a failure the failed row is the probe: the rest wait for its retry instead of spinning the alarm.
  const nextAlarmAt = probeRetryAt ?? outbox.nextAttemptAt();
  return { attempted: delivered + failed, delivered, failed, nextAlarmAt, deliveryLatencyMs: latencies };
}
