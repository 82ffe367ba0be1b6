// The public contract (shared/docs/CONTRACT.md) as zod schemas: the one definition that the HTTP routes,
// the market object's RPC, the solver, the CLI and the tests all import. Extend it; never break it.
import { z } from "zod";

/** A finite JSON number: NaN, ±Infinity and numbers outside ±1e15 are refused, so sums stay exact enough. */
const finite = z.number().refine((n) => Number.isFinite(n) && Math.abs(n) <= 1e15, {
  message: "must be a finite number between -1e15 and 1e15",
});

export const MARKET_NAME = /^[a-z0-9-]{1,64}$/;
export const MarketName = z.string().regex(MARKET_NAME, "market names are 1-64 characters of a-z, 0-9 and -");

/** Intent ids: client-chosen or server-assigned; safe in URLs and logs. */
export const IntentId = z
  .string()
  .regex(/^[A-Za-z0-9._:~-]{1,128}$/, "ids are 1-128 characters of A-Z a-z 0-9 . _ : ~ -");

const Label = (what: string) =>
  z.string().regex(/^[A-Za-z0-9._:\/-]{1,64}$/, `${what} is 1-64 characters of A-Z a-z 0-9 . _ : / -`);

export const Side = z.enum(["buy", "sell"]);
export type Side = z.infer<typeof Side>;

/** CONTRACT.md section 1. */
export const IntentInput = z
  .strictObject({
    id: IntentId.optional(),
    agent: z.string().min(1).max(128),
    side: Side,
    resource: Label("resource"),
    quantity: finite.refine((q) => q > 0, { message: "must be greater than 0" }),
    minQuantity: finite.refine((m) => m >= 0, { message: "must be at least 0" }).optional(),
    limitPrice: finite.refine((p) => p >= 0, { message: "must be at least 0" }),
    region: Label("region"),
    maxLatencyMs: finite.refine((l) => l >= 0, { message: "must be at least 0" }).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .superRefine((intent, ctx) => {
    if (intent.minQuantity !== undefined && intent.minQuantity > intent.quantity) {
      ctx.addIssue({ code: "custom", path: ["minQuantity"], message: "must not exceed quantity" });
    }
  });
export type IntentInput = z.infer<typeof IntentInput>;

/** An intent as the solver sees it: the id is known and the quantities are what is still open. */
export type Intent = Omit<IntentInput, "id"> & { id: string };

export const IntentStatus = z.enum(["open", "partially_filled", "filled", "cancelled", "expired"]);
export type IntentStatus = z.infer<typeof IntentStatus>;

/** Latency in ms between regions (section 3): symmetric; a region to itself is 0 unless listed. */
export const LatencyTable = z.record(
  Label("region"),
  z.record(Label("region"), finite.refine((ms) => ms >= 0, { message: "must be at least 0" })),
);
export type LatencyTable = z.infer<typeof LatencyTable>;

export const Fill = z.strictObject({
  buy: z.string(),
  sell: z.string(),
  resource: z.string(),
  quantity: z.number(),
  price: z.number(),
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

/** LP dual prices: per intent id, u (buyers) or v (sellers); `bound` is the proven upper bound on welfare. */
export const Certificate = z.looseObject({
  duals: z.record(z.string(), z.number()),
  bound: z.number(),
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
export interface FieldError {
  field: string;
  message: string;
}

/** Turns zod issues into field errors that name each offending field. */
export function fieldErrors(error: z.ZodError, prefix = ""): FieldError[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== "").join(".");
    let message = issue.message;
    if (issue.code === "unrecognized_keys") message = `unknown field(s): ${issue.keys.join(", ")}`;
    return { field: path === "" ? "(body)" : path, message };
  });
}
