// The typed NASH client (CONTRACT.md section 5): every request and answer is checked against the zod contract
// (src/contract/schema.ts); writes are signed with the agent's Ed25519 key; retries are safe because each POST carries an
// Idempotency-Key and every attempt is signed anew. Runtime-neutral: fetch and WebCrypto only.
import {
  CancelAnswer,
  CommitmentsAnswer,
  ConfigAnswer,
  Health,
  IntentInput,
  IntentView,
  MarketView,
  ModelAnswer,
  ProblemDetails,
  ProposalAnswer,
  ProposalBody,
  ProposalsAnswer,
  RevealAnswer,
  RevealBody,
  Settlement,
  SubmitAnswer,
  TrainingExampleView,
  bytesToBase64,
  fieldErrors,
  signRequest,
  type AgentKey,
  type FieldError,
  type MarketConfig,
} from "../../../src/contract/index.ts";
import type { z } from "zod";
import { subscribe, type Subscription, type SubscribeOptions } from "./stream.ts";

/** An intent as a client writes it: `agent` is the signing key, so it may be left out. */
export type IntentDraft = Omit<IntentInput, "agent"> & { agent?: string };

/**
 * A refused request: the service's problem details (RFC 9457), or a local one before anything was sent
 * (`status` 0: invalid input, no key, or an answer that does not match the contract).
 */
export class NashError extends Error {
  readonly status: number;
  /** The problem code: the part after `urn:nash:problem:` (e.g. `invalid-intent`, `rate-limited`). */
  readonly code: string;
  readonly problem: ProblemDetails;
  readonly errors: FieldError[];

  constructor(status: number, problem: ProblemDetails) {
    const fields = (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`).join("; ");
    super(`${status || "local"} ${problem.title}: ${problem.detail}${fields ? ` (${fields})` : ""}`);
    this.name = "NashError";
    this.status = status;
    this.code = problem.type.replace(/^urn:nash:problem:/, "");
    this.problem = problem;
    this.errors = problem.errors ?? [];
  }

  static local(code: string, title: string, detail: string, errors?: FieldError[]): NashError {
    return new NashError(0, { type: `urn:nash:problem:${code}`, title, status: 0, detail, ...(errors ? { errors } : {}) });
  }
}

export interface RetryPolicy {
  /** Attempts after the first (default 4). */
  retries: number;
  /** First backoff (default 100 ms); doubles per attempt with full jitter. */
  baseMs: number;
  /** Largest backoff and largest honoured Retry-After (default 5000 ms). */
  capMs: number;
}

export interface ClientOptions {
  /** The service, e.g. `http://127.0.0.1:8787` (no trailing path needed). */
  baseUrl: string;
  /** Needed for writes (submit, cancel, setConfig, propose, reveal, setModel). */
  key?: AgentKey;
  retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout (default 10 000 ms). */
  timeoutMs?: number;
  /** Injected for tests and other runtimes; default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Default: setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Default: Math.random (backoff jitter). */
  random?: () => number;
}

/** Statuses worth another attempt: rate limited, or the edge/proxy failed in passing. */
const RETRYABLE = new Set([429, 502, 503, 504]);

/** Backoff before retry `attempt` (1-based): Retry-After when the server sent one, else full-jitter exponential. */
export function backoffMs(attempt: number, policy: RetryPolicy, retryAfter: string | null, random: () => number = Math.random): number {
  if (retryAfter !== null && retryAfter.trim() !== "" && Number.isFinite(Number(retryAfter))) {
    return Math.min(policy.capMs, Math.max(0, Number(retryAfter) * 1000));
  }
  return random() * Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
}

interface Call<T> {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  body?: unknown;
  signed: boolean;
  idempotencyKey?: string;
  answer: z.ZodType<T>;
}

export class NashClient {
  readonly baseUrl: string;
  readonly key: AgentKey | undefined;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.key = options.key;
    this.retry = { retries: 4, baseMs: 100, capMs: 5000, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
  }

  health(): Promise<z.infer<typeof Health>> {
    return this.call({ method: "GET", path: "/v1/health", signed: false, answer: Health });
  }

  /**
   * Submits an intent (validated locally first: a bad field rejects with NashError, status 0, naming it).
   * `idempotencyKey` defaults to a fresh UUID, so the client's own retries never create a second intent; pass
   * your own to make retries across process restarts safe too.
   */
  async submit(market: string, intent: IntentDraft, options: { idempotencyKey?: string } = {}): Promise<SubmitAnswer> {
    const key = this.requireKey("submit");
    if (intent.agent !== undefined && intent.agent !== key.publicKey) {
      throw NashError.local("forbidden", "Wrong agent", "the intent's agent must be the signing key, or be omitted", [{ field: "agent", message: "must equal the key's publicKey" }]);
    }
    const { agent: _agent, ...body } = intent;
    const parsed = IntentInput.safeParse({ ...body, agent: key.publicKey });
    if (!parsed.success) throw NashError.local("invalid-intent", "Invalid intent", "the intent has invalid fields", fieldErrors(parsed.error));
    return this.call({
      method: "POST",
      path: `/v1/markets/${seg(market)}/intents`,
      body,
      signed: true,
      idempotencyKey: options.idempotencyKey ?? crypto.randomUUID(),
      answer: SubmitAnswer,
    });
  }

  getIntent(market: string, id: string): Promise<IntentView> {
    return this.call({ method: "GET", path: `/v1/markets/${seg(market)}/intents/${seg(id)}`, signed: false, answer: IntentView });
  }

  /**
   * Cancels one of this agent's intents. If an earlier attempt's answer was lost and the retry finds the intent
   * already cancelled (409), the cancelled intent is returned: cancelling is idempotent from the caller's side.
   */
  async cancel(market: string, id: string): Promise<CancelAnswer> {
    this.requireKey("cancel");
    let retried = false;
    try {
      return await this.call({ method: "DELETE", path: `/v1/markets/${seg(market)}/intents/${seg(id)}`, signed: true, answer: CancelAnswer, onRetry: () => (retried = true) });
    } catch (error) {
      if (retried && error instanceof NashError && error.code === "not-cancellable") {
        const intent = await this.getIntent(market, id);
        if (intent.status === "cancelled") return { intent };
      }
      throw error;
    }
  }

  getMarket(market: string): Promise<MarketView> {
    return this.call({ method: "GET", path: `/v1/markets/${seg(market)}`, signed: false, answer: MarketView });
  }

  getSettlement(market: string, id: string): Promise<Settlement> {
    return this.call({ method: "GET", path: `/v1/markets/${seg(market)}/settlements/${seg(id)}`, signed: false, answer: Settlement });
  }

  /** Operators only (the key must be listed in the service's OPERATOR_AGENTS). */
  async setConfig(market: string, config: MarketConfig): Promise<z.infer<typeof ConfigAnswer>> {
    this.requireKey("setConfig");
    return this.call({ method: "PUT", path: `/v1/markets/${seg(market)}/config`, body: config, signed: true, answer: ConfigAnswer });
  }

  // ---- Learned validation of batch markets (notes/model.md "Phase 2"): commitments, proposals, reveals ----

  /** The commitments of a batch's intents (default: the open batch). */
  commitments(market: string, options: { batch?: string } = {}): Promise<CommitmentsAnswer> {
    return this.call({ method: "GET", path: `/v1/markets/${seg(market)}/commitments${batchQuery(options.batch)}`, signed: false, answer: CommitmentsAnswer });
  }

  /** Proposes fills for the open batch (validated locally first); `batch` pins it, so a stale proposal is refused. */
  async propose(market: string, proposal: ProposalBody): Promise<ProposalAnswer> {
    this.requireKey("propose");
    const parsed = ProposalBody.safeParse(proposal);
    if (!parsed.success) throw NashError.local("invalid-proposal", "Invalid proposal", "the proposal has invalid fields", fieldErrors(parsed.error));
    return this.call({ method: "POST", path: `/v1/markets/${seg(market)}/proposals`, body: parsed.data, signed: true, answer: ProposalAnswer });
  }

  /** A batch's proposals (default: the open batch): pending while it is open, scored after the close. */
  proposals(market: string, options: { batch?: string } = {}): Promise<ProposalsAnswer> {
    return this.call({ method: "GET", path: `/v1/markets/${seg(market)}/proposals${batchQuery(options.batch)}`, signed: false, answer: ProposalsAnswer });
  }

  /** Reveals one of this agent's intents (its salt, optionally the intent) after a batch it took part in settled. */
  async reveal(market: string, reveal: RevealBody): Promise<RevealAnswer> {
    this.requireKey("reveal");
    const parsed = RevealBody.safeParse(reveal);
    if (!parsed.success) throw NashError.local("invalid-reveal", "Invalid reveal", "the reveal has invalid fields", fieldErrors(parsed.error));
    return this.call({ method: "POST", path: `/v1/markets/${seg(market)}/reveals`, body: parsed.data, signed: true, answer: RevealAnswer });
  }

  /** Training examples of fully revealed batches (the JSON form of what `npm run train -- --reveals` reads). */
  async trainingExamples(market: string, options: { batch?: string } = {}): Promise<TrainingExampleView[]> {
    const query = options.batch === undefined ? "?format=json" : `?format=json&batch=${encodeURIComponent(options.batch)}`;
    return this.call({ method: "GET", path: `/v1/markets/${seg(market)}/training-examples${query}`, signed: false, answer: TrainingExampleView.array() });
  }

  /** Operators only: replaces the market's scoring model with these ONNX bytes (sent as JSON base64; 64 KiB body cap). */
  async setModel(market: string, onnx: Uint8Array): Promise<ModelAnswer> {
    this.requireKey("setModel");
    return this.call({ method: "PUT", path: `/v1/markets/${seg(market)}/model`, body: { model: bytesToBase64(onnx) }, signed: true, answer: ModelAnswer });
  }

  /** Subscribes to the market's events over WebSocket, reconnecting when the line drops (see `subscribe`). */
  watch(market: string, options: Omit<SubscribeOptions, "baseUrl" | "market">): Subscription {
    return subscribe({ ...options, baseUrl: this.baseUrl, market });
  }

  private requireKey(what: string): AgentKey {
    if (this.key === undefined) throw NashError.local("no-key", "No agent key", `${what} is a signed write: create the client with a key`);
    return this.key;
  }

  /** One logical request: attempts, backoff, problem details → NashError, answer checked against `answer`. */
  private async call<T>(call: Call<T> & { onRetry?: () => void }): Promise<T> {
    const text = call.body === undefined ? "" : JSON.stringify(call.body);
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: "application/json" };
      if (text !== "") headers["content-type"] = "application/json";
      if (call.idempotencyKey !== undefined) headers["idempotency-key"] = call.idempotencyKey;
      // Signed anew on every attempt: a fresh timestamp, and never the same signature twice (replays are refused).
      if (call.signed) Object.assign(headers, await signRequest({ privateKey: this.key!.privateKey, publicKey: this.key!.publicKey, method: call.method, path: call.path, body: text }));
      const retriesLeft = attempt < this.retry.retries;
      let response: Response;
      try {
        response = await this.fetchImpl(this.baseUrl + call.path, {
          method: call.method,
          headers,
          body: text === "" ? undefined : text,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        // No answer: safe to resend (GETs are reads, POSTs carry the idempotency key, PUT replaces, DELETE is
        // handled in cancel).
        if (!retriesLeft) throw error;
        call.onRetry?.();
        await this.sleep(backoffMs(attempt + 1, this.retry, null, this.random));
        continue;
      }
      if (response.ok) {
        const parsed = call.answer.safeParse(await response.json());
        if (!parsed.success) throw NashError.local("unexpected-answer", "Unexpected answer", `${call.method} ${call.path}: the answer does not match the contract`, fieldErrors(parsed.error));
        return parsed.data;
      }
      if (RETRYABLE.has(response.status) && retriesLeft) {
        await response.body?.cancel();
        call.onRetry?.();
        await this.sleep(backoffMs(attempt + 1, this.retry, response.headers.get("retry-after"), this.random));
        continue;
      }
      throw new NashError(response.status, await problemOf(response));
    }
  }
}

async function problemOf(response: Response): Promise<ProblemDetails> {
  const text = await response.text();
  try {
    const parsed = ProblemDetails.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // not JSON: described below
  }
  return { type: `urn:nash:problem:http-${response.status}`, title: response.statusText || `HTTP ${response.status}`, status: response.status, detail: text.slice(0, 500) };
}

/** `?batch=…` when a batch is named, else nothing (the service then uses the open batch). */
function batchQuery(batch: string | undefined): string {
  return batch === undefined ? "" : `?batch=${encodeURIComponent(batch)}`;
}

/** A path segment, percent-encoded. */
function seg(value: string): string {
  return encodeURIComponent(value);
}
