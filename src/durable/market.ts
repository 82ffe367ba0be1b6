// The market Durable Object: the only writer of one market's state, in its SQLite. Each RPC method is one call
// into the market (src/market/market.ts) over its store (src/market/store.ts); this class adds what only the
// runtime has: the object's name, start-up, transactions, the WebSocket stream, the alarm and the scoring model.
// The edge worker maps the outcomes to HTTP.
import { DurableObject } from "cloudflare:workers";
import { StreamTypes, type CancelAnswer, type EffectiveConfig, type IntentInput, type MarketAnswer, type MarketConfig, type MarketEvent, type ModelView, type ProposalAnswer, type RevealAnswer, type Settlement } from "../contract/schema.ts";
import type { SqlExec } from "../bridge/outbox.ts";
import { MarketRelay, outboxView } from "../bridge/market-hooks.ts";
import type { BridgeEnv } from "../bridge/relay.ts";
import type { Commitment } from "../model/commitment.ts";
import type { IntentView } from "../market/book.ts";
import { WriteBudget, marketRateLimitsFrom, openIntentCapsFrom, rateLimitsFrom, type GuardVars, type OpenIntentCaps, type RateLimits } from "../market/guards.ts";
import { Market, effectiveConfig, type Idempotency, type MarketLimits, type ProposalListing, type SubmitAnswer, type WriteAuth } from "../market/market.ts";
import { failure, problemDetailsResponse, success, type Outcome, type Problem } from "../market/outcome.ts";
import type { ProposalBody, RevealBody, TrainingExample } from "../market/proposals.ts";
import { MarketStore, migrate, schemaExists } from "../market/store.ts";
import { ModelSlot } from "./model.ts";

export type { Idempotency, SubmitAnswer, WriteAuth } from "../market/market.ts";
/** GET /v1/markets/{m} as the object answers it (src/contract/schema.ts). */
export type MarketView = MarketAnswer;

/** What the market object reads of the worker's environment. */
export type MarketEnv = Env & BridgeEnv & GuardVars;

/** A read of a market that never accepted a write: 404, and nothing is created. */
function notFound(name: string): Problem {
  return { status: 404, code: "market-not-found", title: "Market not found", detail: `market not found: ${name} has never accepted a write` };
}

export class MarketObject extends DurableObject<MarketEnv> {
  /** The market; undefined until its first write, so that a read of any name creates no storage. */
  private market: Market | undefined;
  private relay: MarketRelay | undefined;
  private alarmAt: number | null = null;
  private readonly limits: MarketLimits;
  private readonly model: ModelSlot;

  constructor(ctx: DurableObjectState, env: MarketEnv) {
    super(ctx, env);
    this.limits = { budget: new WriteBudget(rateLimitsFrom(env), marketRateLimitsFrom(env)), openIntentCaps: openIntentCapsFrom(env) };
    this.model = new ModelSlot(() => this.market?.store, (p) => ctx.waitUntil(p));
    // Load once before any request runs; if loading throws, the object is reset and the next request retries.
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
      if (schemaExists(this.exec)) this.open();
    });
  }

  /** The market's name: the object is addressed by it (`idFromName`/`getByName`), so its id carries it. */
  get name(): string {
    return this.ctx.id.name ?? "";
  }

  /** Per-agent token bucket settings (replaceable in tests). */
  get rateLimits(): RateLimits {
    return this.limits.budget.rateLimits;
  }
  set rateLimits(limits: RateLimits) {
    this.limits.budget.rateLimits = limits;
  }

  /** The open-intent caps (replaceable in tests). */
  get openIntentCaps(): OpenIntentCaps {
    return this.limits.openIntentCaps;
  }
  set openIntentCaps(caps: OpenIntentCaps) {
    this.limits.openIntentCaps = caps;
  }

  private readonly exec: SqlExec = (query, ...bindings) => this.ctx.storage.sql.exec(query, ...bindings).toArray();

  /** Migrates and loads the stored state: at start when the market exists, else on its first write. */
  private open(): Market {
    migrate(this.exec);
    const store = new MarketStore(this.exec, (fn) => this.ctx.storage.transactionSync(fn));
    this.relay = MarketRelay.open(this.env, this.exec);
    const hooks = {
      broadcast: (event: MarketEvent) => this.broadcast(event),
      // Storage writes are ordered and the output gate holds the reply until they are durable: no await needed.
      setAlarm: (at: number | null) => void (at === null ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(at)),
      relay: this.relay,
    };
    this.market = new Market(this.name, store, hooks, this.limits, this.alarmAt);
    return this.market;
  }

  /** The market for a write: it exists from here on. */
  private get written(): Market {
    return this.market ?? this.open();
  }

  /** A read: 404 for a market that never accepted a write. */
  private read<T>(fn: (market: Market) => Outcome<T>): Outcome<T> {
    return this.market ? fn(this.market) : { ok: false, problem: notFound(this.name) };
  }

  // ---- RPC: writes (the worker has verified the signature and validated the body) ----

  async submit(input: IntentInput, auth: WriteAuth, idem?: Idempotency, salt?: string): Promise<Outcome<SubmitAnswer>> {
    return this.written.submit(input, auth, idem, salt);
  }

  /** No intent of a market that never accepted a write can be cancelled: 404, and nothing is created. */
  async cancel(id: string, auth: WriteAuth): Promise<Outcome<CancelAnswer>> {
    return this.market ? this.market.cancel(id, auth) : failure(404, "not-found", "Intent not found", `no intent ${id} in this market`);
  }

  async setConfig(config: MarketConfig, auth: WriteAuth): Promise<Outcome<{ config: EffectiveConfig }>> {
    return this.written.setConfig(config, auth);
  }

  /** Loads a new scoring model (the worker has checked the operator key); refused unless ort can run it. */
  async setModel(bytes: Uint8Array, auth: WriteAuth): Promise<Outcome<{ model: ModelView }>> {
    const guard = this.written.guardWrite(auth, Date.now());
    return guard.ok ? this.model.replace(bytes) : guard;
  }

  /** An outside solver's proposal for the open batch (a market never written has no open batch). */
  async propose(body: ProposalBody, auth: WriteAuth): Promise<Outcome<ProposalAnswer>> {
    if (!this.market) return failure(409, "no-open-batch", "No batch open", "proposals are taken while a batch is open: batch clearing, with intents waiting for the close");
    return this.market.propose(body, auth, () => this.model.warm());
  }

  /** Opens an intent's commitment (nothing to reveal in a market without intents). */
  async reveal(body: RevealBody, auth: WriteAuth): Promise<Outcome<RevealAnswer>> {
    if (!this.market) return failure(404, "not-found", "Intent not found", `no committed intent ${body.intentId} in this market`);
    return this.market.reveal(body, auth);
  }

  // ---- RPC: reads ----

  async getIntent(id: string): Promise<Outcome<IntentView>> {
    return this.read((m) => m.intent(id));
  }

  async getSettlement(id: string): Promise<Outcome<Settlement>> {
    return this.read((m) => m.settlement(id));
  }

  async getMarket(): Promise<Outcome<MarketView>> {
    return this.read((m) => success({ ...m.overview(), outbox: outboxView(this.env, this.relay), model: this.model.view() }));
  }

  /** The configuration in force (a market never written has the defaults, and stays unwritten). */
  async getConfig(): Promise<EffectiveConfig> {
    return this.market?.effective ?? effectiveConfig({});
  }

  async getCommitments(batch?: string): Promise<Outcome<{ batch?: string; commitments: Commitment[] }>> {
    return this.read((m) => m.commitments(batch));
  }

  async getProposals(batch?: string): Promise<Outcome<{ batch: string; proposals: ProposalListing[] }>> {
    return this.read((m) => m.proposals(batch));
  }

  async getTrainingExamples(batch?: string): Promise<Outcome<TrainingExample[]>> {
    return this.read((m) => m.trainingExamples(batch));
  }

  // ---- WebSocket stream (hibernation API: the object may sleep while sockets stay open) ----

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    if (!this.market) return problemDetailsResponse(notFound(this.name));
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    // A `types` filter (checked by the worker) becomes the socket's hibernation tags; no tags means every event.
    const types = StreamTypes.safeParse(new URL(request.url).searchParams.get("types") ?? undefined);
    this.ctx.acceptWebSocket(server, types.success ? types.data : []);
    server.send(JSON.stringify({ type: "hello", market: this.name, at: new Date().toISOString() } satisfies MarketEvent));
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

  // ---- alarm: expiry, the batch's close, the continuous market's sweep and the settlement relay ----

  override async alarm(): Promise<void> {
    const market = this.market;
    if (!market) return; // alarms are set by writes; a leftover one has nothing to do
    const now = Date.now();
    market.alarmFired();
    market.expireDue(now);
    if (market.takeDueBatch(now)) await this.closeBatch(market, now);
    if (market.takeDueSweep(now)) market.sweep(now);
    // After the book's work, so that a batch settled just now goes out in this same pass. Never throws.
    if (this.relay) await this.relay.drain(this.name, Date.now(), (url, init) => fetch(url, init));
    market.schedule(Date.now());
  }

  /** Closes the due batch under the input gate: no request interleaves while its proposals are scored. */
  private async closeBatch(market: Market, now: number): Promise<void> {
    // The model loads outside the gate (it touches no state, and a slow first load must not hold the gate for
    // blockConcurrencyWhile's 30 s limit); the proposals that want it have been waiting for the close anyway.
    if (market.wantsScorer() && !this.model.loaded) {
      await this.model.load().catch((err: unknown) => console.error(`market ${this.name}: the model did not load; this batch settles unscored`, err));
    }
    await this.ctx.blockConcurrencyWhile(async () => {
      try {
        await market.closeBatch(now, this.model.loaded ? await this.model.load() : undefined);
      } catch (err) {
        console.error(`market ${this.name}: batch clearing failed and was rolled back`, err);
      }
    });
  }
}
