// The OpenAPI 3.1 document of the edge worker, generated from the zod contract (src/contract/schema.ts) with
// z.toJSONSchema: the path list is a table here, every schema comes from the one schema module. Pure: no I/O.
import { z } from "zod";
import {
  CancelAnswer,
  CommitmentsAnswer,
  ConfigAnswer,
  Health,
  IntentInput,
  IntentView,
  MarketConfig,
  MarketEvent,
  MarketView,
  ModelAnswer,
  ModelBody,
  ProblemDetails,
  ProposalAnswer,
  ProposalBody,
  ProposalsAnswer,
  RevealAnswer,
  RevealBody,
  STREAM_EVENT_TYPES,
  Settlement,
  SubmitAnswer,
  TrainingExampleView,
} from "../contract/schema.ts";

export const API_VERSION = "1.0.0";

/** The component schemas and the zod schema each is generated from; `input` ones describe request bodies. */
const COMPONENTS: ReadonlyArray<{ name: string; schema: z.ZodType; io: "input" | "output"; description: string }> = [
  { name: "IntentInput", schema: IntentInput, io: "input", description: "An intent as submitted (CONTRACT.md section 1). Over HTTP `agent` may be omitted: it is the signing key." },
  { name: "IntentView", schema: IntentView, io: "output", description: "An intent with its id, status and quantities." },
  { name: "SubmitAnswer", schema: SubmitAnswer, io: "output", description: "The accepted intent, and the settlement it caused when clearing is continuous." },
  { name: "CancelAnswer", schema: CancelAnswer, io: "output", description: "The cancelled intent." },
  { name: "Settlement", schema: Settlement, io: "output", description: "The result of one solve (CONTRACT.md section 2)." },
  { name: "MarketView", schema: MarketView, io: "output", description: "A market: configuration, counters and open intents (at most 1000)." },
  { name: "MarketConfig", schema: MarketConfig, io: "input", description: "Market configuration an operator may set; omitted fields fall back to defaults." },
  { name: "ConfigAnswer", schema: ConfigAnswer, io: "output", description: "The configuration in force." },
  { name: "Health", schema: Health, io: "output", description: "Liveness." },
  { name: "ProblemDetails", schema: ProblemDetails, io: "output", description: "RFC 9457 problem details; `errors` names each offending field." },
  { name: "MarketEvent", schema: MarketEvent, io: "output", description: "One JSON message on the market's WebSocket stream." },
  { name: "CommitmentsAnswer", schema: CommitmentsAnswer, io: "output", description: "Commitments of the open batch's intents (hash and coarse features; salts stay private)." },
  { name: "ProposalBody", schema: ProposalBody, io: "input", description: "An allocation proposed for the open batch (a fill's `price` is ignored: whatever settles is priced by Nash bargaining); `batch` pins it so a stale proposal is refused." },
  { name: "ProposalAnswer", schema: ProposalAnswer, io: "output", description: "The accepted proposal; it is scored when the batch closes." },
  { name: "ProposalsAnswer", schema: ProposalsAnswer, io: "output", description: "A batch's proposals: pending while it is open, then feasible/settled/welfare/score (the feasible proposal of greatest welfare settles; scores rank miners only)." },
  { name: "RevealBody", schema: RevealBody, io: "input", description: "An intent's salt and, optionally, the intent as the agent holds it." },
  { name: "RevealAnswer", schema: RevealAnswer, io: "output", description: "The batches the intent took part in, with how many of their intents are revealed." },
  { name: "TrainingExampleView", schema: TrainingExampleView, io: "output", description: "One training example (`npm run train -- --reveals` reads these as JSON lines)." },
  { name: "ModelBody", schema: ModelBody, io: "input", description: "The scoring model (ONNX) in base64; or send the raw file as application/octet-stream." },
  { name: "ModelAnswer", schema: ModelAnswer, io: "output", description: "The model now scoring the market's proposals." },
];

/** One JSON Schema (2020-12, which OpenAPI 3.1 uses) from a zod schema; refinements zod cannot express are dropped. */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ "application/json": { schema: ref(name) } });
const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: ref("ProblemDetails") } } });
const marketParam = { name: "market", in: "path", required: true, schema: { type: "string", pattern: "^[a-z0-9-]{1,64}$" }, description: "Market name." };
const idParam = (name: string, what: string) => ({
  name,
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[A-Za-z0-9._:~-]{1,128}$" },
  description: what,
});
const signed = [{ agentKey: [], agentTimestamp: [], agentSignature: [] }];
const authProblems = {
  "401": problem("Unsigned, badly signed, stale (±30 s) or replayed request, or a small-order or non-canonical x-nash-agent key."),
  "429": problem("Too many requests; see the Retry-After header (seconds)."),
};

const batchParam = {
  name: "batch",
  in: "query",
  required: false,
  schema: { type: "string", pattern: "^b-[1-9][0-9]{0,15}$" },
  description: "A batch id (`b-<n>`); default: the open batch.",
};

/** The route table (CONTRACT.md section 5). Operation ids are the SDK's method names. */
function paths(): Record<string, unknown> {
  return {
    "/v1/health": {
      get: { operationId: "health", summary: "Liveness", tags: ["service"], responses: { "200": { description: "Alive.", content: json("Health") } } },
    },
    "/v1/markets/{market}/intents": {
      post: {
        operationId: "submit",
        summary: "Submit an intent",
        description:
          "Signed. With `Idempotency-Key`, a retry (re-signed, or byte-identical within the time window) returns the first answer instead of creating a second intent. In continuous clearing the answer carries the settlement the intent caused.",
        tags: ["intents"],
        security: signed,
        parameters: [
          marketParam,
          { name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,255}$" }, description: "Makes retries safe; kept 24 h per agent." },
        ],
        requestBody: { required: true, content: json("IntentInput") },
        responses: {
          "201": { description: "Accepted.", headers: { Location: { schema: { type: "string" }, description: "The intent's URL." } }, content: json("SubmitAnswer") },
          "400": problem("Malformed JSON, bad market name or bad Idempotency-Key."),
          ...authProblems,
          "403": problem("The body's `agent` is not the signing key."),
          "409": problem("The client-chosen id is already used in this market."),
          "413": problem("Body over 64 KiB."),
          "422": problem("Invalid intent (each offending field named), or Idempotency-Key reused for a different request."),
        },
      },
    },
    "/v1/markets/{market}/intents/{id}": {
      get: {
        operationId: "getIntent",
        summary: "One intent, its status and fills",
        tags: ["intents"],
        parameters: [marketParam, idParam("id", "Intent id.")],
        responses: { "200": { description: "The intent.", content: json("IntentView") }, "400": problem("Bad market name or id."), "404": problem("No such intent.") },
      },
      delete: {
        operationId: "cancel",
        summary: "Cancel an intent (its own agent only)",
        tags: ["intents"],
        security: signed,
        parameters: [marketParam, idParam("id", "Intent id.")],
        responses: {
          "200": { description: "Cancelled.", content: json("CancelAnswer") },
          "400": problem("Bad market name or id."),
          ...authProblems,
          "403": problem("The intent belongs to another agent."),
          "404": problem("No such intent."),
          "409": problem("Already filled, cancelled or expired."),
        },
      },
    },
    "/v1/markets/{market}": {
      get: {
        operationId: "getMarket",
        summary: "The market: configuration, counters, open intents",
        tags: ["markets"],
        parameters: [marketParam],
        responses: { "200": { description: "The market.", content: json("MarketView") }, "400": problem("Bad market name.") },
      },
    },
    "/v1/markets/{market}/config": {
      put: {
        operationId: "setConfig",
        summary: "Replace the market's configuration (operators only)",
        tags: ["markets"],
        security: signed,
        parameters: [marketParam],
        requestBody: { required: true, content: json("MarketConfig") },
        responses: {
          "200": { description: "The configuration in force.", content: json("ConfigAnswer") },
          "400": problem("Malformed JSON or bad market name."),
          ...authProblems,
          "403": problem("No operators configured, or this key is not an operator."),
          "422": problem("Invalid configuration."),
        },
      },
    },
    "/v1/markets/{market}/settlements/{id}": {
      get: {
        operationId: "getSettlement",
        summary: "One settlement with its certificate",
        tags: ["settlements"],
        parameters: [marketParam, idParam("id", "Settlement id (`s-<n>`).")],
        responses: { "200": { description: "The settlement.", content: json("Settlement") }, "400": problem("Bad market name or id."), "404": problem("No such settlement.") },
      },
    },
    "/v1/markets/{market}/stream": {
      get: {
        operationId: "stream",
        summary: "WebSocket of the market's events",
        description:
          "Upgrade to a WebSocket. Each text frame is one MarketEvent as JSON (`hello` first). Sending the text `ping` gets `pong`. Events are not replayed after a reconnect: read the market and the settlements to catch up.",
        tags: ["markets"],
        parameters: [
          marketParam,
          {
            name: "types",
            in: "query",
            required: false,
            description: `Only these events (after \`hello\`): a comma-separated subset of ${STREAM_EVENT_TYPES.map((t) => `\`${t}\``).join(", ")}. Absent: all of them.`,
            schema: { type: "string", example: "settlement.committed" },
          },
        ],
        responses: {
          "101": { description: "Switching protocols; then MarketEvent messages.", content: json("MarketEvent") },
          "400": problem("Bad market name, or `types` names an unknown event type."),
          "426": problem("Not a WebSocket upgrade."),
        },
      },
    },
    "/v1/markets/{market}/commitments": {
      get: {
        operationId: "commitments",
        summary: "Commitments of a batch's intents (learned validation)",
        tags: ["batches"],
        parameters: [marketParam, batchParam],
        responses: { "200": { description: "The commitments.", content: json("CommitmentsAnswer") }, "400": problem("Bad market name or batch id."), "404": problem("No such batch.") },
      },
    },
    "/v1/markets/{market}/proposals": {
      post: {
        operationId: "propose",
        summary: "Propose fills for the open batch",
        description: "Signed. Any agent may propose; proposals are checked against the book and scored by the market's model when the batch closes.",
        tags: ["batches"],
        security: signed,
        parameters: [marketParam],
        requestBody: { required: true, content: json("ProposalBody") },
        responses: {
          "202": { description: "Accepted; scored at the close.", content: json("ProposalAnswer") },
          "400": problem("Malformed JSON or bad market name."),
          ...authProblems,
          "409": problem("No batch open, or `batch` is not the open batch."),
          "413": problem("Body over the size cap."),
          "422": problem("Invalid proposal (each offending field named)."),
        },
      },
      get: {
        operationId: "proposals",
        summary: "A batch's proposals and their scores",
        tags: ["batches"],
        parameters: [marketParam, batchParam],
        responses: { "200": { description: "The proposals.", content: json("ProposalsAnswer") }, "400": problem("Bad market name or batch id.") },
      },
    },
    "/v1/markets/{market}/reveals": {
      post: {
        operationId: "reveal",
        summary: "Reveal an intent's salt after its batch settled",
        description: "Signed by the intent's own agent. Once every intent of a batch is revealed, its training examples become available.",
        tags: ["batches"],
        security: signed,
        parameters: [marketParam],
        requestBody: { required: true, content: json("RevealBody") },
        responses: {
          "200": { description: "Revealed.", content: json("RevealAnswer") },
          "400": problem("Malformed JSON or bad market name."),
          ...authProblems,
          "403": problem("The intent belongs to another agent."),
          "404": problem("No such intent or commitment."),
          "409": problem("Not revealable yet (its batch has not settled)."),
          "413": problem("Body over the size cap."),
          "422": problem("Invalid reveal: bad salt, salt or intent not matching the commitment."),
        },
      },
    },
    "/v1/markets/{market}/training-examples": {
      get: {
        operationId: "trainingExamples",
        summary: "Training examples of fully revealed batches",
        description: "JSON lines (one TrainingExampleView per line) by default, the format `npm run train -- --reveals FILE` reads; `?format=json` for one JSON array.",
        tags: ["batches"],
        parameters: [
          marketParam,
          batchParam,
          { name: "format", in: "query", required: false, schema: { type: "string", enum: ["json"] }, description: "`json`: one array instead of JSON lines." },
        ],
        responses: {
          "200": {
            description: "The examples.",
            content: {
              "application/x-ndjson": { schema: ref("TrainingExampleView") },
              "application/json": { schema: { type: "array", items: ref("TrainingExampleView") } },
            },
          },
          "400": problem("Bad market name or batch id."),
        },
      },
    },
    "/v1/markets/{market}/model": {
      put: {
        operationId: "setModel",
        summary: "Replace the market's scoring model (operators only)",
        description: "Signed by an operator. The body is the ONNX file as application/octet-stream, or JSON `{ \"model\": base64 }`.",
        tags: ["batches"],
        security: signed,
        parameters: [marketParam],
        requestBody: {
          required: true,
          content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } }, ...json("ModelBody") },
        },
        responses: {
          "200": { description: "The model in force.", content: json("ModelAnswer") },
          "400": problem("Malformed JSON or bad market name."),
          ...authProblems,
          "403": problem("No operators configured, or this key is not an operator."),
          "413": problem("Body over the size cap."),
          "422": problem("Not a base64 ONNX model, or a model the scorer cannot load."),
        },
      },
    },
  };
}

export interface OpenApiOptions {
  /** Base URL listed under `servers`; default: relative (`/`), i.e. wherever the document was fetched from. */
  serverUrl?: string;
}

/** The whole OpenAPI 3.1 document. Deterministic for the same options. */
export function buildOpenApi(options: OpenApiOptions = {}): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const c of COMPONENTS) schemas[c.name] = { description: c.description, ...jsonSchemaOf(c.schema, c.io) };
  const header = (name: string, description: string) => ({ type: "apiKey", in: "header", name, description });
  return {
    openapi: "3.1.0",
    info: {
      title: "NASH edge API",
      version: API_VERSION,
      summary: "The settlement layer for autonomous AI agents: signed intents in, welfare-optimal certified settlements out.",
      description:
        "Writes are signed with the agent's Ed25519 key: `x-nash-signature` is the base64url signature of the UTF-8 string `METHOD\\nPATH\\nTIMESTAMP\\nHEX_SHA256_OF_BODY` (PATH without the query; an empty body's hash is the SHA-256 of zero bytes, `e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`; the v1.0 form with an empty hash field is still accepted but deprecated). The three headers together authenticate one request; a signature is accepted once. A key that is not the canonical encoding of an Ed25519 point of large order (the identity, small-order, non-canonical or off-curve encodings) is refused with 401.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    servers: [{ url: options.serverUrl ?? "/" }],
    tags: [
      { name: "intents", description: "Submit, read and cancel intents." },
      { name: "settlements", description: "Certified settlements." },
      { name: "markets", description: "Market state, configuration and the live stream." },
      { name: "batches", description: "Learned validation of batch markets: commitments, proposals, reveals, training examples, the scoring model." },
      { name: "service", description: "Service health." },
    ],
    paths: paths(),
    components: {
      schemas,
      securitySchemes: {
        agentKey: header("x-nash-agent", "The agent's Ed25519 public key, raw 32 bytes, base64url: the canonical encoding of a point of large order."),
        agentTimestamp: header("x-nash-timestamp", "Milliseconds since the epoch, within ±30 s of the server clock."),
        agentSignature: header("x-nash-signature", "base64url Ed25519 signature of METHOD\\nPATH\\nTIMESTAMP\\nHEX_SHA256_OF_BODY."),
      },
    },
  };
}
