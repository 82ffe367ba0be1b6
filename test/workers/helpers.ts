// Shared helpers for the workerd tests: agents with real Ed25519 keys, signed requests through SELF, and
// unique market names so tests never share state.
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { expect } from "vitest";
import { agentKeyFromSeed, generateAgentKey, signRequest, type AgentKey } from "../../src/contract/auth.ts";

export const BASE = "http://nash.test";

let counter = 0;
/** A market name no other test uses. */
export function freshMarket(prefix = "t"): string {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export function newAgent(): Promise<AgentKey> {
  return generateAgentKey();
}

export interface SignedOptions {
  headers?: Record<string, string>;
  timestamp?: number;
  /** Sign this instead of the body actually sent (to forge a bad signature). */
  signBody?: string;
}

/** Sends a request signed by `agent`; `body` is sent verbatim (strings) or as JSON. */
export async function signedFetch(agent: AgentKey, method: string, path: string, body?: unknown, options: SignedOptions = {}): Promise<Response> {
  const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const auth = await signRequest({
    privateKey: agent.privateKey,
    publicKey: agent.publicKey,
    method,
    path,
    body: options.signBody ?? text,
    timestamp: options.timestamp,
  });
  return SELF.fetch(BASE + path, {
    method,
    body: text,
    headers: { "content-type": "application/json", ...auth, ...options.headers },
  });
}

export function buyIntent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { side: "buy", resource: "gpu-h100-hr", quantity: 100, limitPrice: 1.8, region: "eu-west", ...overrides };
}

export function sellIntent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { side: "sell", resource: "gpu-h100-hr", quantity: 500, limitPrice: 1.4, region: "eu-west", ...overrides };
}

export async function submit(agent: AgentKey, market: string, intent: Record<string, unknown>, headers?: Record<string, string>) {
  return signedFetch(agent, "POST", `/v1/markets/${market}/intents`, intent, { headers });
}

/** Reads a JSON answer; typed loosely because tests assert on shapes. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function json(res: Response): Promise<any> {
  return res.json();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5000, stepMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error("condition not met in time");
    await sleep(stepMs);
  }
}

/** A fixed operator key (seed 0x09 × 32), listed in OPERATOR_AGENTS only inside `withOperator`. */
export const operator = await agentKeyFromSeed(new Uint8Array(32).fill(9));

/** Runs `run` with `operator` as the worker's only operator, then restores OPERATOR_AGENTS. */
export async function withOperator<T>(run: () => Promise<T>): Promise<T> {
  const vars = env as unknown as { OPERATOR_AGENTS?: string };
  const before = vars.OPERATOR_AGENTS;
  vars.OPERATOR_AGENTS = operator.publicKey;
  try {
    return await run();
  } finally {
    vars.OPERATOR_AGENTS = before;
  }
}

/** A batch market whose window stays open until `closeBatch` (no timing races on a loaded machine). */
export async function batchMarket(prefix = "p"): Promise<string> {
  const m = freshMarket(prefix);
  const r = await signedFetch(operator, "PUT", `/v1/markets/${m}/config`, { clearing: "batch", batchIntervalMs: 3_600_000 });
  expect(r.status).toBe(200);
  return m;
}

/** Closes the open batch now: its due time moved to the past, then the market's alarm. */
export async function closeBatch(m: string): Promise<void> {
  const stub = env.MARKET.getByName(m);
  await runInDurableObject(stub, async (_i, state) => {
    state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'batch_due_ms'", String(Date.now() - 1));
  });
  await runDurableObjectAlarm(stub);
}
