// The public contract (shared/docs/CONTRACT.md) as zod schemas: the one definition that the HTTP routes,
// the market object's RPC, the solver, the CLI and the tests all import. Extend it; never break it.
import { z } from "zod";

/** A finite JSON number: NaN, ±Infinity and numbers outside ±1e15 are refused, so sums stay exact enough. */
const finite = z.number().refine((n) => Number.isFinite(n) && Math.abs(n) <= 1e15, {
  message: "must be a finite number between -1e15 and 1e15",
});

export const MARKET_NAME = /^[a-z0-9-]{1,64}$/;
export const MarketName = z.string().regex(MARKET_NAME, "market names are 1-64 characters of a-z, 0-9 and -");

/** Intent ids: client-chosen or server-assigned; safe in URLs and logs. `.` and `..` are refused: a URL path
 *  folds them (RFC 3986 dot segments), so GET and DELETE could never reach such an intent. */
export const IntentId = z
  .string()
  .regex(/^[A-Za-z0-9._:~-]{1,128}$/, "ids are 1-128 characters of A-Z a-z 0-9 . _ : ~ -")
  .refine((id) => id !== "." && id !== "..", { message: "must not be . or .. (a URL path folds them away)" });

/** A region or resource name. `__proto__` is refused: as an object key it is the prototype, not a name (a latency
 *  table keyed by it would silently lose the entry); every other name is an ordinary key (prototype-free lookups). */
export const Label = (what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9._:\/-]{1,64}$/, `${what} is 1-64 characters of A-Z a-z 0-9 . _ : / -`)
    .refine((label) => label !== "__proto__", { message: `${what} must not be __proto__` });

/** The largest quantity and price an intent may state (CONTRACT.md, "Numbers that cannot be bent"): every sum and
 *  product of them stays far inside a double's exact range, and the solver stays exact across the whole range. */
export const MAX_QUANTITY = 1e12;
export const MAX_PRICE = 1e9;
/** The largest latency (ms) an intent may cap or a table may list: a day, far past any network. */
export const MAX_LATENCY_MS = 86_400_000;

/** A bound as people write it: 1e12, not 1000000000000. */
const shown = (n: number) => (n >= 1e6 && Number.isInteger(Math.log10(n)) ? `1e${Math.log10(n)}` : String(n));

/** A finite number in [min, max], with a message naming the range. */
const bounded = (min: number, max: number, exclusiveMin = false) =>
  finite.refine((n) => (exclusiveMin ? n > min : n >= min) && n <= max, {
    message: exclusiveMin ? `must be greater than ${shown(min)} and at most ${shown(max)}` : `must be between ${shown(min)} and ${shown(max)}`,
  });

/** An instant (CONTRACT.md: ISO-8601, UTC or with an offset), between 2000 and 2100 so that every span in hours
 *  and every rate × span stays a small exact number. */
export const MIN_TIME_MS = Date.UTC(2000, 0, 1);
export const MAX_TIME_MS = Date.UTC(2100, 0, 1);
export const Time = z.iso.datetime({ offset: true }).refine(
  (t) => {
    const ms = Date.parse(t);
    return ms >= MIN_TIME_MS && ms <= MAX_TIME_MS;
  },
  { message: "must be a time between 2000-01-01 and 2100-01-01" },
);

/** CONTRACT.md section 2a: when capacity is offered (sell) or needed (buy), [start, end), start before end. */
export const Window = z
  .strictObject({ start: Time, end: Time })
  .refine((w) => Date.parse(w.start) < Date.parse(w.end), { message: "start must be before end", path: ["end"] });
export type Window = z.infer<typeof Window>;

export const Priority = z.enum(["low", "normal", "high"]);
export type Priority = z.infer<typeof Priority>;

export const Side = z.enum(["buy", "sell"]);
export type Side = z.infer<typeof Side>;

/** CONTRACT.md section 1. */
export const IntentInput = z
  .strictObject({
    id: IntentId.optional(),
    agent: z.string().min(1).max(128),
    side: Side,
    resource: Label("resource"),
    quantity: bounded(0, MAX_QUANTITY, true),
    minQuantity: bounded(0, MAX_QUANTITY).optional(),
    limitPrice: bounded(0, MAX_PRICE),
    region: Label("region"),
    maxLatencyMs: bounded(0, MAX_LATENCY_MS).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    /** Section 2a: when the intent's capacity is offered or needed; without it, any time. */
    window: Window.optional(),
    /** Section 2a: the most units per hour at any moment (only with `window`). */
    maxRate: bounded(0, MAX_QUANTITY, true).optional(),
    /** Section 3: when the intent clears (`high` on arrival, `low` at the next close or sweep), never its price. */
    priority: Priority.optional(),
    /** Soft latency (section 1): past `preferLatencyMs` the limit moves against the counterparty by
     *  `latencyDiscount` per unit per ms. Given together. */
    preferLatencyMs: bounded(0, MAX_LATENCY_MS).optional(),
    latencyDiscount: bounded(0, MAX_PRICE).optional(),
    /** Multi-party kinds (notes/solver.md). `swap` and `deferral` are sells that take `swapFor` in return. */
    kind: z.enum(["limit", "swap", "deferral"]).optional(),
    /**
     * The resource received in exchange, one unit per unit given, valued at `limitPrice` per unit (default 0).
     * The intent trades when (what it receives in money) − (what it pays) ≥ its limitPrice − swapFor.limitPrice
     * per unit; a deferral releases held capacity (`resource`) for the later slot (`swapFor.resource`) and a rebate
     * of at least `limitPrice`.
     */
    swapFor: z
      .strictObject({
        resource: Label("swapFor.resource"),
        limitPrice: bounded(0, MAX_PRICE).optional(),
        /** When the swap takes what it receives (section 2a); a deferral's later slot. */
        window: Window.optional(),
      })
      .optional(),
  })
  .superRefine((intent, ctx) => {
    if (intent.minQuantity !== undefined && intent.minQuantity > intent.quantity) {
      ctx.addIssue({ code: "custom", path: ["minQuantity"], message: "must not exceed quantity" });
    }
    if (intent.maxRate !== undefined && intent.window === undefined && intent.swapFor?.window === undefined) {
      ctx.addIssue({ code: "custom", path: ["maxRate"], message: "needs a window (a rate is per hour inside one)" });
    }
    if ((intent.preferLatencyMs === undefined) !== (intent.latencyDiscount === undefined)) {
      const missing = intent.preferLatencyMs === undefined ? "preferLatencyMs" : "latencyDiscount";
      ctx.addIssue({ code: "custom", path: [missing], message: "preferLatencyMs and latencyDiscount are given together" });
    }
    if (intent.swapFor !== undefined) {
      if (intent.side !== "sell") ctx.addIssue({ code: "custom", path: ["side"], message: "a swap or deferral is a sell of what it gives" });
      // A deferral swaps a resource for itself in another window; without windows that is no trade at all.
      const sameWindow = JSON.stringify(intent.window ?? null) === JSON.stringify(intent.swapFor.window ?? null);
      if (intent.swapFor.resource === intent.resource && sameWindow)
        ctx.addIssue({ code: "custom", path: ["swapFor", "resource"], message: "must differ from resource, or swapFor.window from window (a deferral)" });
    } else if (intent.kind === "swap" || intent.kind === "deferral") {
      ctx.addIssue({ code: "custom", path: ["swapFor"], message: `is required for kind ${intent.kind}` });
    }
  });
export type IntentInput = z.infer<typeof IntentInput>;

/** An intent as the solver sees it: the id is known and the quantities are what is still open. */
export type Intent = Omit<IntentInput, "id"> & { id: string };

export const IntentStatus = z.enum(["open", "partially_filled", "filled", "cancelled", "expired"]);
export type IntentStatus = z.infer<typeof IntentStatus>;

/**
 * `schema` (a record), refusing an own `__proto__` key of the raw input: zod's record skips that key without a
 * word (assigning it would set the prototype), so it is checked before. A preprocess that only adds an issue:
 * the JSON Schema of the input is still `schema`'s.
 */
function noProtoKey<T extends z.ZodType>(schema: T) {
  return z.preprocess((value, ctx) => {
    if (typeof value === "object" && value !== null && Object.hasOwn(value, "__proto__")) {
      ctx.issues.push({ code: "custom", message: "__proto__ is not a region name", input: value, path: ["__proto__"] });
    }
    return value;
  }, schema);
}

/** Latency in ms between regions (section 3): symmetric; a region to itself is 0 unless listed. */
export const LatencyTable = noProtoKey(z.record(Label("region"), noProtoKey(z.record(Label("region"), bounded(0, MAX_LATENCY_MS)))));
export type LatencyTable = z.infer<typeof LatencyTable>;

export const Fill = z.strictObject({
  buy: z.string(),
  sell: z.string(),
  resource: z.string(),
  quantity: z.number(),
  price: z.number(),
  /** Section 2a: when either intent has a window, delivery at a constant rate over [start, end). */
  start: z.string().optional(),
  end: z.string().optional(),
});
export type Fill = z.infer<typeof Fill>;

/** Why a solve stopped: `optimal`, or a budget ran out (then `gap` bounds the distance to the optimum). */
export const SolveStatus = z.enum(["optimal", "time_budget", "node_budget", "size_budget"]);
export type SolveStatus = z.infer<typeof SolveStatus>;

export const SettlementStats = z.looseObject({
  status: SolveStatus,
  solveMs: z.number(),
  /** Proven bound on (optimum − welfare), present when status is not `optimal`. */
  gap: z.number().optional(),
});

/**
 * LP dual prices: per intent id, u (buyers) or v (sellers), an intent not listed has 0; `bound` is the proven upper
 * bound on welfare. Markets with swaps add `potentials`: per swap id, the free dual π of "gives = receives" (its
 * entry in `duals` is then the dual of its quantity). Optional fields are additive (notes/solver.md).
 */
const Fixings = z.array(z.tuple([z.string(), z.union([z.literal(0), z.literal(1)])]));
const RateDuals = z.record(z.string(), z.record(z.string(), z.number()));

/**
 * With windows and minimums: a component's branch-and-bound tree (notes/solver.md, "Time: minimums (session 9)"):
 * its intents, and per leaf its fixings, duals, rate duals per leg and interval start, and swap potentials.
 */
export const TimeTree = z.strictObject({
  intents: z.array(z.string()),
  leaves: z.array(
    z.strictObject({ fixed: Fixings, duals: z.record(z.string(), z.number()), rates: RateDuals.optional(), takeRates: RateDuals.optional(), potentials: z.record(z.string(), z.number()).optional() }),
  ),
});
export type TimeTree = z.infer<typeof TimeTree>;

export const Certificate = z.looseObject({
  duals: z.record(z.string(), z.number()),
  bound: z.number(),
  potentials: z.record(z.string(), z.number()).optional(),
  /** With minQuantity: the branch-and-bound leaves, each with its fixings (id, 0 left out | 1 at least its minimum) and LP duals. */
  tree: z.array(z.strictObject({ fixed: Fixings, duals: z.record(z.string(), z.number()) })).optional(),
  /** With windows and minimums: per component with branch and bound, its tree (leaves as `tree`'s, plus rate duals and potentials). */
  trees: z.array(TimeTree).optional(),
  /** The certified gap: bound − welfare, stated when the certificate does not prove optimality. */
  gap: z.number().optional(),
});
export type Certificate = z.infer<typeof Certificate>;

/** CONTRACT.md section 2. */
export const Settlement = z.looseObject({
  id: z.string(),
  market: z.string(),
  fills: z.array(Fill),
  welfare: z.number(),
  stats: SettlementStats,
  certificate: Certificate.optional(),
  createdAt: z.string().optional(),
});
export type Settlement = z.infer<typeof Settlement>;

/** The CLI's input (section 4). */
export const SolveFile = z.strictObject({
  latency: LatencyTable.optional(),
  /** Section 2a: nothing is delivered before it; without it, no lower bound. */
  now: Time.optional(),
  intents: z.array(IntentInput).max(200_000),
});
export type SolveFile = z.infer<typeof SolveFile>;

/** Market configuration that its operator may set. */
export const MarketConfig = z.strictObject({
  clearing: z.enum(["continuous", "batch"]).optional(),
  batchIntervalMs: z.number().int().min(10).max(3_600_000).optional(),
  latency: LatencyTable.optional(),
});
export type MarketConfig = z.infer<typeof MarketConfig>;

/** One field-level error in a problem-details answer: `field` is a JSON path such as `intents.3.quantity`. */
export const FieldError = z.object({ field: z.string(), message: z.string() });
export type FieldError = z.infer<typeof FieldError>;

// ---- Response shapes (CONTRACT.md section 5, as the edge worker answers). Used by the OpenAPI document
// (src/api/openapi.ts) and the SDKs; loose objects, so the service may add fields without breaking clients.

/** A fill as one intent sees it: which settlement it came from. */
export const IntentFillView = Fill.extend({ settlement: z.string() });

/** An intent as the API answers it: the intent's fields (taken from IntentInput, so new kinds of intent show up
 *  here too) with its id, plus its status and quantities. */
export const IntentView = z.looseObject({
  ...IntentInput.shape,
  id: z.string(),
  agent: z.string(),
  status: IntentStatus,
  filledQuantity: z.number(),
  /** What can still trade: 0 once filled, cancelled or expired. */
  remainingQuantity: z.number(),
  createdAt: z.string(),
  /** Present on GET of one intent. */
  fills: z.array(IntentFillView).optional(),
});
export type IntentView = z.infer<typeof IntentView>;

/** POST /v1/markets/{market}/intents → 201. In continuous clearing the answer carries the settlement it caused. */
export const SubmitAnswer = z.looseObject({ intent: IntentView, settlement: Settlement.optional() });
export type SubmitAnswer = z.infer<typeof SubmitAnswer>;

/** DELETE /v1/markets/{market}/intents/{id} → 200. */
export const CancelAnswer = z.looseObject({ intent: IntentView });
export type CancelAnswer = z.infer<typeof CancelAnswer>;

/** The configuration in force: stored fields over the defaults. */
export const EffectiveConfig = z.looseObject({
  clearing: z.enum(["continuous", "batch"]),
  batchIntervalMs: z.number(),
  latency: LatencyTable,
});
export type EffectiveConfig = z.infer<typeof EffectiveConfig>;

/** PUT /v1/markets/{market}/config → 200. */
export const ConfigAnswer = z.looseObject({ config: EffectiveConfig });

export const MarketCounters = z.looseObject({
  intents: z.number(),
  openIntents: z.number(),
  settlements: z.number(),
  fills: z.number(),
  volume: z.number(),
  notional: z.number(),
  welfare: z.number(),
});

/** The Bittensor settlement relay as a market shows it (issue 5; src/bridge/market-hooks.ts): off, misconfigured,
 * or its outbox's bound (`capacity`, `full`), backlog (`pending`, `oldestPendingAt` in epoch ms) and counters
 * (`enqueued`, `delivered`, `duplicates`, `failed_attempts`, `refused_full`, `refused_too_large`). */
export const OutboxView = z.union([
  z.looseObject({ relay: z.literal("off") }),
  z.looseObject({ relay: z.literal("misconfigured"), errors: z.array(z.string()) }),
  z.looseObject({
    relay: z.literal("on"),
    target: z.string(),
    pending: z.number(),
    capacity: z.number(),
    full: z.boolean(),
    oldestPendingAt: z.number().nullable(),
    counters: z.record(z.string(), z.number()),
  }),
]);

/** GET /v1/markets/{market} → 200. */
export const MarketView = z.looseObject({
  market: z.string(),
  config: EffectiveConfig,
  counters: MarketCounters,
  openIntents: z.array(IntentView),
  openIntentsTruncated: z.boolean(),
  outbox: OutboxView.optional(),
});
export type MarketView = z.infer<typeof MarketView>;

/** GET /v1/health → 200. */
export const Health = z.looseObject({ ok: z.boolean(), service: z.string(), time: z.string() });

/** RFC 9457 problem details: every 4xx/5xx answer. `type` is `urn:nash:problem:<code>`. */
export const ProblemDetails = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  errors: z.array(FieldError).optional(),
});
export type ProblemDetails = z.infer<typeof ProblemDetails>;

/** One message on GET /v1/markets/{market}/stream (WebSocket, JSON text frames; text `ping` answers `pong`). */
export const MarketEvent = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("hello"), market: z.string(), at: z.string() }),
  z.looseObject({ type: z.literal("intent.accepted"), market: z.string(), at: z.string(), intent: IntentView }),
  z.looseObject({ type: z.literal("intent.cancelled"), market: z.string(), at: z.string(), intent: IntentView }),
  z.looseObject({ type: z.literal("intent.expired"), market: z.string(), at: z.string(), ids: z.array(z.string()) }),
  z.looseObject({ type: z.literal("settlement.committed"), market: z.string(), at: z.string(), settlement: Settlement }),
]);
export type MarketEvent = z.infer<typeof MarketEvent>;

/** The events a stream can be narrowed to (`hello` always comes first). */
export const STREAM_EVENT_TYPES = ["intent.accepted", "intent.cancelled", "intent.expired", "settlement.committed"] as const satisfies readonly Exclude<
  MarketEvent["type"],
  "hello"
>[];
export type StreamEventType = (typeof STREAM_EVENT_TYPES)[number];
// The other direction, checked by the compiler: every event type but `hello` is in the list.
const everyEventTypeListed: Exclude<MarketEvent["type"], "hello" | StreamEventType> extends never ? true : never = true;
void everyEventTypeListed;

/** `?types=` of GET …/stream: a comma-separated subset of STREAM_EVENT_TYPES, no repeats; absent means all. */
export const StreamTypes = z
  .string()
  .transform((s) => s.split(","))
  .pipe(
    z
      .array(z.enum(STREAM_EVENT_TYPES, { error: `each must be one of ${STREAM_EVENT_TYPES.join(", ")}` }))
      .min(1)
      .refine((t) => new Set(t).size === t.length, "must not repeat a type"),
  );

// ---- Learned validation (notes/model.md "Phase 2", CONTRACT.md section 6): request bodies of the batch routes,
// moved here from src/market/proposals.ts so the OpenAPI document and the SDK use the same definitions.

/** A salt as `commit` takes it; agents may send their own with an intent (never shown to others). */
export const SALT_PATTERN = /^[0-9a-f]{32,128}$/;
export const BatchId = z.string().regex(/^b-[1-9][0-9]{0,15}$/, "batch ids look like b-<n>");

/**
 * One fill of a proposal: an allocation, so `price` is optional and ignored (CONTRACT.md section 6, v1.1): the
 * market prices whatever settles by Nash bargaining. Accepted when sent, so v1.0 miners keep working.
 */
export const ProposalFill = Fill.extend({ price: z.number().optional() });
export type ProposalFill = z.infer<typeof ProposalFill>;

/** `POST /v1/markets/{m}/proposals`: fills for the open batch (`batch` pins it: a stale proposal is refused). */
export const ProposalBody = z.strictObject({
  batch: BatchId.optional(),
  fills: z.array(ProposalFill).min(1).max(10_000),
});
export type ProposalBody = z.infer<typeof ProposalBody>;

/** `POST /v1/markets/{m}/reveals`: the salt and, optionally, the full intent as the agent holds it. */
export const RevealBody = z.strictObject({
  intentId: IntentId,
  salt: z.string().regex(SALT_PATTERN, "must be 32-128 lower-case hex characters"),
  intent: z.looseObject({}).optional(),
});
export type RevealBody = z.infer<typeof RevealBody>;

/** `PUT /v1/markets/{m}/model` as JSON (the other form is the raw ONNX file as application/octet-stream). */
export const ModelBody = z.strictObject({ model: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be the ONNX file in base64") });

// Answers of those routes: loose (the market object may add fields), checked by the SDK.

/** One commitment: the intent id, the hash of its salted body, and coarse public features. */
export const CommitmentView = z.looseObject({ v: z.number(), id: z.string(), hash: z.string(), features: z.looseObject({}) });
/** GET /v1/markets/{m}/commitments → 200 (`batch` when the market clears in batches). */
export const CommitmentsAnswer = z.looseObject({ batch: z.string().optional(), commitments: z.array(CommitmentView) });
export type CommitmentsAnswer = z.infer<typeof CommitmentsAnswer>;
/** POST /v1/markets/{m}/proposals → 202: the proposal is scored when the batch closes. */
export const ProposalAnswer = z.looseObject({
  proposal: z.looseObject({ id: z.string(), batch: z.string(), receivedAt: z.string(), closesAt: z.string() }),
});
export type ProposalAnswer = z.infer<typeof ProposalAnswer>;
/**
 * One proposal of a batch: `pending` until the batch closes, then checked and scored. `settled`: it settled the
 * batch, as the feasible proposal of greatest welfare (ties: the earliest); `chosen` is its v1.0 name, kept for
 * existing clients. The score ranks proposals for miner rewards only.
 */
export const ProposalView = z.looseObject({
  id: z.string(),
  batch: z.string(),
  proposer: z.string(),
  pending: z.boolean().optional(),
  feasible: z.boolean().optional(),
  settled: z.boolean().optional(),
  chosen: z.boolean().optional(),
  welfare: z.number().optional(),
  elapsedMs: z.number().optional(),
  score: z.looseObject({}).optional(),
  errors: z.array(FieldError).optional(),
});
/** GET /v1/markets/{m}/proposals → 200. */
export const ProposalsAnswer = z.looseObject({ batch: z.string(), proposals: z.array(ProposalView) });
export type ProposalsAnswer = z.infer<typeof ProposalsAnswer>;
/** POST /v1/markets/{m}/reveals → 200: each batch the intent took part in, and how many of its intents are revealed. */
export const RevealAnswer = z.looseObject({
  intentId: z.string(),
  batches: z.array(z.looseObject({ id: z.string(), revealed: z.number(), intents: z.number() })),
});
export type RevealAnswer = z.infer<typeof RevealAnswer>;
/** One line of GET /v1/markets/{m}/training-examples (what `npm run train -- --reveals` reads). */
export const TrainingExampleView = z.looseObject({
  commitments: z.array(CommitmentView),
  latency: LatencyTable,
  /** The proposal's allocation (prices are not part of a proposal). */
  fills: z.array(ProposalFill),
  label: z.number(),
  batch: z.string(),
  proposal: z.string(),
  optimum: z.number(),
  model: z.string().optional(),
});
export type TrainingExampleView = z.infer<typeof TrainingExampleView>;
/** PUT /v1/markets/{m}/model → 200: the model now scoring the market's proposals. */
export const ModelAnswer = z.looseObject({
  model: z.looseObject({ version: z.string(), features: z.string(), loaded: z.boolean(), replaced: z.boolean() }),
});
export type ModelAnswer = z.infer<typeof ModelAnswer>;

// ---- What the market object builds (src/market, src/durable/market.ts), field for field: the answers above
// leave fields optional or open for clients; these say what the object always sets, and its types are inferred
// from them. ----

export type IntentFillView = z.infer<typeof IntentFillView>;
export type MarketCounters = z.infer<typeof MarketCounters>;
export type OutboxView = z.infer<typeof OutboxView>;
/** The scoring model in force; `loaded`: this object has loaded it (lazily, on first need). */
export const ModelView = ModelAnswer.shape.model;
export type ModelView = z.infer<typeof ModelView>;
/** GET /v1/markets/{market} as the object answers it: the relay's view always, the model's too. */
export const MarketAnswer = MarketView.extend({ outbox: OutboxView, model: ModelView.optional() });
export type MarketAnswer = z.infer<typeof MarketAnswer>;
const CommitmentWindow = z.object({ startHour: z.number(), lengthBand: z.number() });
/** An intent's published commitment (CONTRACT.md section 6) as the market computes it: the hash, and bands of
 *  the intent's fields that validators may see. */
export const CommitmentBody = z.object({
  v: z.number(),
  id: z.string(),
  hash: z.string(),
  features: z.object({
    side: Side,
    resource: z.string(),
    region: z.string(),
    quantityBand: z.number(),
    priceBand: z.number().nullable(),
    minimum: z.enum(["none", "some", "all"]),
    latencyBand: z.number().nullable(),
    window: CommitmentWindow.optional(),
    rateBand: z.number().optional(),
    swapFor: z.object({ resource: z.string(), priceBand: z.number().nullable(), window: CommitmentWindow.optional() }).optional(),
  }),
});
/** POST …/intents as the object answers it: the commitment always; the salt only when the market drew it. */
export const IntentAccepted = SubmitAnswer.extend({ commitment: CommitmentBody.optional(), salt: z.string().optional() });
export type IntentAccepted = z.infer<typeof IntentAccepted>;
/** A feasible proposal's score, for miner rewards: estimate × complexity reward × time weight. */
export const ProposalScore = z.object({
  score: z.number(), estimate: z.number(), reward: z.number(), weight: z.number(), model: z.string(),
  spread: z.number().optional(), discount: z.number().optional(),
});
/** A proposal of a closed batch: checked, and scored when the model was loaded. */
export const ClosedProposalView = ProposalView.extend({
  feasible: z.boolean(),
  settled: z.boolean(),
  chosen: z.boolean(),
  welfare: z.number(),
  elapsedMs: z.number(),
  score: ProposalScore.optional(),
});
export type ClosedProposalView = z.infer<typeof ClosedProposalView>;
/** A proposal of the open batch, and when it was received. */
export const PendingProposalView = ProposalView.extend({ pending: z.literal(true), receivedAt: z.string() });
export type PendingProposalView = z.infer<typeof PendingProposalView>;
/** A training example as the market records it: the batch's commitments as the market computed them. */
export const TrainingExample = TrainingExampleView.extend({ commitments: z.array(CommitmentBody) });
export type TrainingExample = z.infer<typeof TrainingExample>;
