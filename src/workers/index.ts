// The NASH edge worker (CONTRACT.md section 5): one Hono app that validates, authenticates and routes each
// request to its market's Durable Object over native RPC. Stateless; every error leaves through `onError`.
import { Hono, type Context } from "hono";
import { IntentId, IntentInput, MarketConfig, MarketName } from "../contract/schema.ts";
import { fieldErrors } from "../contract/errors.ts";
import { base64ToBytes, bytesToUtf8 } from "../contract/codec.ts";
import { bodyHash, verifyRequest } from "../contract/auth.ts";
import { requestFingerprint } from "../market/guards.ts";
import type { Outcome } from "../market/outcome.ts";
import type { MarketObject, WriteAuth } from "../durable/market.ts";
import type { EdgeEnv } from "./env.ts";
import { HttpError, parseJsonObject, problemResponse, readCappedBody } from "./http.ts";
import { bridgeConfig } from "../bridge/market-hooks.ts";
import { axonObjectName, type AxonObject } from "../durable/axon-nonces.ts";
import { DIRECTORY_NAME } from "../durable/directory.ts";
import { buildOpenApi } from "../api/openapi.ts";
import { renderReference } from "../api/reference.ts";
import { marketPageHtml } from "../api/market-page.ts";
import { BatchId, ProposalBody, RevealBody, SALT_PATTERN, STREAM_EVENT_TYPES, StreamTypes } from "../contract/schema.ts";

export { MarketObject } from "../durable/market.ts";
export { AxonObject } from "../durable/axon-nonces.ts";
export { MarketDirectory } from "../durable/directory.ts";

type App = { Bindings: EdgeEnv };
type Ctx = Context<App>;

const app = new Hono<App>();

app.onError((err) => problemResponse(err));
app.notFound((c) => problemResponse(HttpError.of(404, "not-found", "Not found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));

function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new HttpError(outcome.problem);
  return outcome.value;
}

/** The market named in the URL, validated (section 3). */
function marketOf(c: Ctx): string {
  const parsed = MarketName.safeParse(c.req.param("market"));
  if (!parsed.success) {
    throw HttpError.of(400, "invalid-market", "Invalid market name", "market names are 1-64 characters of a-z, 0-9 and -", fieldErrors(parsed.error, "market"));
  }
  return parsed.data;
}

function idOf(c: Ctx, name: string): string {
  const parsed = IntentId.safeParse(c.req.param(name));
  if (!parsed.success) throw HttpError.of(400, "invalid-id", "Invalid id", parsed.error.issues[0]?.message ?? "invalid id", fieldErrors(parsed.error, name));
  return parsed.data;
}

/** The market object's RPC with its declared result types: workerd's Rpc types turn results holding `unknown`
 *  (settlements are loose objects) into `unknown`, although they cross the boundary intact. */
type MarketRpc = Pick<
  MarketObject,
  | "submit" | "cancel" | "setConfig" | "getIntent" | "getSettlement" | "getMarket" | "fetch"
  | "getCommitments" | "propose" | "getProposals" | "reveal" | "getTrainingExamples" | "setModel"
>;

function stubOf(c: Ctx, market: string): MarketRpc {
  return c.env.MARKET.getByName(market) as unknown as MarketRpc;
}

/** Market names the directory confirmed, per isolate (a market once written stays so); emptied when large. */
const knownMarkets = new Set<string>();

function remember(market: string): void {
  if (knownMarkets.size >= 100_000) knownMarkets.clear();
  knownMarkets.add(market);
}

const directory = (c: Ctx) => c.env.DIRECTORY.getByName(DIRECTORY_NAME);

/** The object of a market that accepted a write, else 404: a never-written market's object is not even started
 *  (starting one creates its storage), so reads of made-up names create nothing. */
async function existingMarket(c: Ctx, market: string): Promise<MarketRpc> {
  if (!knownMarkets.has(market)) {
    if (!(await directory(c).has(market))) {
      throw HttpError.of(404, "market-not-found", "Market not found", `market not found: ${market} has never accepted a write`);
    }
    remember(market);
  }
  return stubOf(c, market);
}

/** The object of a market about to take a write that may create it (intent, config, model): noted first. */
async function writableMarket(c: Ctx, market: string): Promise<MarketRpc> {
  if (!knownMarkets.has(market)) {
    await directory(c).note(market);
    remember(market);
  }
  return stubOf(c, market);
}

/** Verifies the Ed25519 signature and timestamp window (the market object refuses replays). */
async function authenticate(c: Ctx, body: Uint8Array): Promise<WriteAuth> {
  const result = await verifyRequest({
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    body,
    headers: c.req.raw.headers,
  });
  if (!result.ok) {
    const code = result.reason === "stale" ? "stale-timestamp" : result.reason === "bad_signature" ? "bad-signature" : "unauthenticated";
    const errors = result.header === undefined ? undefined : [{ field: result.header, message: result.message }];
    throw HttpError.of(401, code, "Authentication failed", result.message, errors);
  }
  return { agent: result.agent, signature: result.signature, timestamp: result.timestamp };
}

/** `Idempotency-Key`: 1-255 visible ASCII characters, when present. */
function idempotencyKeyOf(c: Ctx): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw HttpError.of(400, "invalid-idempotency-key", "Invalid Idempotency-Key", "Idempotency-Key must be 1-255 visible ASCII characters", [
      { field: "Idempotency-Key", message: "must be 1-255 visible ASCII characters" },
    ]);
  }
  return key;
}

function operatorsOf(env: EdgeEnv): string[] {
  return (env.OPERATOR_AGENTS ?? "")
    .split(",")
    .map((k) => k.trim().replace(/=+$/, ""))
    .filter((k) => k !== "");
}

app.get("/v1/health", (c) => c.json({ ok: true, service: "nash-edge", time: new Date().toISOString() }));

app.post("/v1/markets/:market/intents", async (c) => {
  const market = marketOf(c);
  const bytes = await readCappedBody(c.req.raw);
  const auth = await authenticate(c, bytes);
  const key = idempotencyKeyOf(c);
  const body = parseJsonObject(bytes);
  // Over HTTP the agent IS the signing key: a body may omit it, but may not name someone else.
  if (body.agent !== undefined && body.agent !== auth.agent) {
    throw HttpError.of(403, "forbidden", "Wrong agent", "the intent's agent must be the signing key (x-nash-agent)", [
      { field: "agent", message: "must equal the x-nash-agent header, or be omitted" },
    ]);
  }
  // `salt` (optional, for the intent's commitment) is not part of the intent: it is kept apart and never shown.
  const { salt, ...intentFields } = body;
  if (salt !== undefined && (typeof salt !== "string" || !SALT_PATTERN.test(salt))) {
    throw HttpError.of(422, "invalid-intent", "Invalid intent", "the intent has invalid fields", [{ field: "salt", message: "must be 32-128 lower-case hex characters" }]);
  }
  const parsed = IntentInput.safeParse({ ...intentFields, agent: auth.agent });
  if (!parsed.success) throw HttpError.of(422, "invalid-intent", "Invalid intent", "the intent has invalid fields", fieldErrors(parsed.error));
  const path = new URL(c.req.url).pathname;
  const idem = key === undefined ? undefined : { key, fingerprint: requestFingerprint("POST", path, await bodyHash(bytes)) };
  const t0 = performance.now(); // workerd's clock advances across the RPC call (I/O), so this measures it
  const answer = unwrap(await (await writableMarket(c, market)).submit(parsed.data, auth, idem, salt as string | undefined));
  return c.json(answer, 201, {
    location: `/v1/markets/${market}/intents/${encodeURIComponent(answer.intent.id)}`,
    "server-timing": `market;dur=${(performance.now() - t0).toFixed(1)}`,
  });
});

app.get("/v1/markets/:market/intents/:id", async (c) => {
  const market = marketOf(c);
  const id = idOf(c, "id");
  return c.json(unwrap(await (await existingMarket(c, market)).getIntent(id)));
});

app.delete("/v1/markets/:market/intents/:id", async (c) => {
  const market = marketOf(c);
  const id = idOf(c, "id");
  const bytes = await readCappedBody(c.req.raw);
  const auth = await authenticate(c, bytes);
  return c.json(unwrap(await (await existingMarket(c, market)).cancel(id, auth)));
});

app.get("/v1/markets/:market", async (c) => {
  const market = marketOf(c);
  return c.json(unwrap(await (await existingMarket(c, market)).getMarket()));
});

app.put("/v1/markets/:market/config", async (c) => {
  const market = marketOf(c);
  const bytes = await readCappedBody(c.req.raw);
  const auth = await authenticate(c, bytes);
  const operators = operatorsOf(c.env);
  if (operators.length === 0) {
    throw HttpError.of(403, "no-operators", "No operators configured", "market configuration is disabled: no operator keys are set (env OPERATOR_AGENTS, comma-separated public keys)");
  }
  if (!operators.includes(auth.agent)) {
    throw HttpError.of(403, "not-operator", "Not an operator", "this agent key is not listed in OPERATOR_AGENTS");
  }
  const parsed = MarketConfig.safeParse(parseJsonObject(bytes));
  if (!parsed.success) throw HttpError.of(422, "invalid-config", "Invalid market configuration", "the configuration has invalid fields", fieldErrors(parsed.error));
  return c.json(unwrap(await (await writableMarket(c, market)).setConfig(parsed.data, auth)));
});

app.get("/v1/markets/:market/settlements/:id", async (c) => {
  const market = marketOf(c);
  const id = idOf(c, "id");
  return c.json(unwrap(await (await existingMarket(c, market)).getSettlement(id)));
});

// ---- Learned validation (CONTRACT.md section 6; notes/model.md "Phase 2") ----

function batchQuery(c: Ctx): string | undefined {
  const batch = c.req.query("batch");
  if (batch === undefined) return undefined;
  const parsed = BatchId.safeParse(batch);
  if (!parsed.success) throw HttpError.of(400, "invalid-batch", "Invalid batch", "batch ids look like b-<n>", [{ field: "batch", message: "batch ids look like b-<n>" }]);
  return parsed.data;
}

function operatorCheck(c: Ctx, auth: WriteAuth): void {
  const operators = operatorsOf(c.env);
  if (operators.length === 0) {
    throw HttpError.of(403, "no-operators", "No operators configured", "operator routes are disabled: no operator keys are set (env OPERATOR_AGENTS, comma-separated public keys)");
  }
  if (!operators.includes(auth.agent)) throw HttpError.of(403, "not-operator", "Not an operator", "this agent key is not listed in OPERATOR_AGENTS");
}

app.get("/v1/markets/:market/commitments", async (c) => {
  const market = marketOf(c);
  return c.json(unwrap(await (await existingMarket(c, market)).getCommitments(batchQuery(c))));
});

app.post("/v1/markets/:market/proposals", async (c) => {
  const market = marketOf(c);
  const bytes = await readCappedBody(c.req.raw);
  const auth = await authenticate(c, bytes);
  const parsed = ProposalBody.safeParse(parseJsonObject(bytes));
  if (!parsed.success) throw HttpError.of(422, "invalid-proposal", "Invalid proposal", "the proposal has invalid fields", fieldErrors(parsed.error));
  return c.json(unwrap(await (await existingMarket(c, market)).propose(parsed.data, auth)), 202);
});

app.get("/v1/markets/:market/proposals", async (c) => {
  const market = marketOf(c);
  return c.json(unwrap(await (await existingMarket(c, market)).getProposals(batchQuery(c))));
});

app.post("/v1/markets/:market/reveals", async (c) => {
  const market = marketOf(c);
  const bytes = await readCappedBody(c.req.raw);
  const auth = await authenticate(c, bytes);
  const parsed = RevealBody.safeParse(parseJsonObject(bytes));
  if (!parsed.success) throw HttpError.of(422, "invalid-reveal", "Invalid reveal", "the reveal has invalid fields", fieldErrors(parsed.error));
  return c.json(unwrap(await (await existingMarket(c, market)).reveal(parsed.data, auth)));
});

/** JSON lines by default (what `npm run train -- --reveals FILE` reads); `?format=json` for one array. */
app.get("/v1/markets/:market/training-examples", async (c) => {
  const market = marketOf(c);
  const examples = unwrap(await (await existingMarket(c, market)).getTrainingExamples(batchQuery(c)));
  if (c.req.query("format") === "json") return c.json(examples);
  return new Response(examples.map((e) => JSON.stringify(e) + "\n").join(""), { headers: { "content-type": "application/x-ndjson; charset=utf-8" } });
});

/** A model may be up to 200 KB (issue 17's budget); in base64 JSON that is about 267 KB. */
const MAX_MODEL_BODY_BYTES = 512 * 1024;

/** Operator-signed: the body is the ONNX file (content-type application/octet-stream) or `{ "model": base64 }`. */
app.put("/v1/markets/:market/model", async (c) => {
  const market = marketOf(c);
  const bytes = await readCappedBody(c.req.raw, MAX_MODEL_BODY_BYTES);
  const auth = await authenticate(c, bytes);
  operatorCheck(c, auth);
  let model = bytes;
  if (!(c.req.header("content-type") ?? "").startsWith("application/octet-stream")) {
    const body = parseJsonObject(bytes);
    const decoded = typeof body.model === "string" && /^[A-Za-z0-9+/]+={0,2}$/.test(body.model) ? base64ToBytes(body.model) : undefined;
    if (decoded === undefined) {
      throw HttpError.of(422, "invalid-model", "Invalid model", "send the ONNX bytes as application/octet-stream, or JSON { \"model\": base64 }", [
        { field: "model", message: "must be the ONNX file in base64" },
      ]);
    }
    model = decoded;
  }
  return c.json(unwrap(await (await writableMarket(c, market)).setModel(model, auth)));
});

app.get("/v1/markets/:market/stream", async (c) => {
  const market = marketOf(c);
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw HttpError.of(426, "upgrade-required", "WebSocket upgrade required", "connect to this path with a WebSocket client");
  }
  const types = c.req.query("types");
  if (types !== undefined) {
    const parsed = StreamTypes.safeParse(types);
    if (!parsed.success) {
      throw HttpError.of(400, "invalid-stream-types", "Invalid stream filter", `types is a comma-separated list of ${STREAM_EVENT_TYPES.join(", ")}`, fieldErrors(parsed.error, "types"));
    }
  }
  return (await existingMarket(c, market)).fetch(c.req.raw);
});

// ---- For people: the OpenAPI document, its reference page and the live market page (src/api). Built once per
// isolate: the document depends only on the code.
let openApiText: string | undefined;
let referenceHtml: string | undefined;
const openApi = () => (openApiText ??= JSON.stringify(buildOpenApi()));
const htmlHeaders = { "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'" };

app.get("/openapi.json", () => new Response(openApi(), { headers: { "content-type": "application/json; charset=utf-8", "access-control-allow-origin": "*" } }));

app.get("/docs", () => new Response((referenceHtml ??= renderReference(JSON.parse(openApi()))), { headers: htmlHeaders }));

app.get("/markets/:market", (c) => new Response(marketPageHtml(marketOf(c)), { headers: htmlHeaders }));

/** A challenge carries up to 10 000 intents (src/bridge/axon.ts), far more than a signed write's 64 KiB. */
const MAX_CHALLENGE_BYTES = 4 * 1024 * 1024;

// Bittensor axon route (issue 5): validators' dendrite requests, forwarded by the miner's host. Verification,
// nonces and the answer run in the validator's AxonObject; this only routes and turns its answer into a Response.
app.post("/NashChallenge", async (c) => {
  const config = bridgeConfig(c.env);
  if (!config.ok || !config.config.axon) {
    throw HttpError.of(404, "not-found", "Not found", "the axon route is off: set AXON_HOTKEY and VALIDATOR_HOTKEYS");
  }
  const body = bytesToUtf8(await readCappedBody(c.req.raw, MAX_CHALLENGE_BYTES));
  const headers = Object.fromEntries(c.req.raw.headers);
  const name = axonObjectName(headers["bt_header_dendrite_hotkey"], config.config.axon.validators);
  const axon = c.env.AXON.getByName(name) as unknown as Pick<AxonObject, "challenge">;
  const r = await axon.challenge(new URL(c.req.url).pathname, headers, body);
  return new Response(r.body, { status: r.status, headers: r.headers });
});

export default app;
