// A client generated from the live /openapi.json by standard tools (openapi-typescript for the types,
// openapi-fetch for the calls) with a standard signing middleware submits, reads and cancels (issue 14, item 10).
// The middleware knows nothing of NASH's code: it hashes whatever body bytes the request carries (SHA-256, so an
// empty DELETE hashes zero bytes), signs `METHOD\nPATH\nTIMESTAMP\nHASH` with Ed25519 and sets the three headers.
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Middleware } from "openapi-fetch";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startDevServer, type DevServer } from "../../support/dev-server.ts";

const root = resolve(import.meta.dirname, "../..");
let server: DevServer;
const dir = mkdtempSync(join(tmpdir(), "nash-openapi-client-"));

beforeAll(async () => {
  server = await startDevServer({ ports: [8936, 8937, 8938, 8939, 8940, 8941] });
}, 180_000);

afterAll(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** The generated client's three calls, written against the generated `paths` type only. */
const CLIENT_SOURCE = `
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./api.ts";

type IntentInput = paths["/v1/markets/{market}/intents"]["post"]["requestBody"]["content"]["application/json"];

export function nashClient(baseUrl: string, signing: Middleware) {
  const client = createClient<paths>({ baseUrl });
  client.use(signing);
  return {
    submit: (market: string, intent: IntentInput) =>
      client.POST("/v1/markets/{market}/intents", { params: { path: { market } }, body: intent }),
    read: (market: string, id: string) => client.GET("/v1/markets/{market}/intents/{id}", { params: { path: { market, id } } }),
    cancel: (market: string, id: string) => client.DELETE("/v1/markets/{market}/intents/{id}", { params: { path: { market, id } } }),
  };
}

/** A windowed intent written against the generated types: window, maxRate, priority and soft latency type-check. */
export function windowed(id: string, agent: string, start: Date, hours: number): IntentInput {
  const end = new Date(start.getTime() + hours * 3_600_000);
  return {
    id, agent, side: "sell", resource: "gpu-h100-hr", quantity: 40, limitPrice: 1.2, region: "eu-west",
    window: { start: start.toISOString(), end: end.toISOString() }, maxRate: 20, priority: "high",
    preferLatencyMs: 30, latencyDiscount: 0.002,
  };
}
`;

/** What the test reads of client.ts's answers (compiled above against the generated types). */
type Answer = { response: Response; data?: unknown; error?: unknown };
interface GeneratedClient {
  submit(market: string, intent: Record<string, unknown>): Promise<Answer>;
  read(market: string, id: string): Promise<Answer>;
  cancel(market: string, id: string): Promise<Answer>;
}

/** Type errors of the generated types plus the client written against them (empty when it compiles). */
function typeErrors(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
    types: [],
    skipLibCheck: true,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

/** A standard Ed25519 signing middleware: SHA-256 of the body bytes as sent (zero bytes when there are none). */
function signing(privateKey: KeyObject, publicKey: string): Middleware {
  return {
    async onRequest({ request }) {
      const body = Buffer.from(await request.clone().arrayBuffer());
      const timestamp = String(Date.now());
      const hash = createHash("sha256").update(body).digest("hex");
      const message = `${request.method}\n${new URL(request.url).pathname}\n${timestamp}\n${hash}`;
      request.headers.set("x-nash-agent", publicKey);
      request.headers.set("x-nash-timestamp", timestamp);
      request.headers.set("x-nash-signature", sign(null, Buffer.from(message), privateKey).toString("base64url"));
      return request;
    },
  };
}

test("a client generated from /openapi.json with a signing middleware submits, reads and cancels", { timeout: 120_000 }, async () => {
  const types = astToString(await openapiTS(new URL(`${server.base}/openapi.json`)));
  expect(types).toContain('"/v1/markets/{market}/intents/{id}"');
  writeFileSync(join(dir, "api.ts"), types);
  writeFileSync(join(dir, "client.ts"), CLIENT_SOURCE);
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules")); // openapi-fetch, for the compiler and the import
  expect(typeErrors([join(dir, "client.ts")]).join("\n")).toBe("");

  const { nashClient, windowed } = (await import(join(dir, "client.ts"))) as {
    nashClient: (baseUrl: string, signing: Middleware) => GeneratedClient;
    windowed: (id: string, agent: string, start: Date, hours: number) => Record<string, unknown>;
  };
  const keys = generateKeyPairSync("ed25519");
  const publicKey = keys.publicKey.export({ format: "jwk" }).x!;
  const client = nashClient(server.base, signing(keys.privateKey, publicKey));
  const market = `openapi-${Date.now().toString(36)}`;

  const submitted = await client.submit(market, { id: "g-1", side: "buy", resource: "gpu-h100-hr", quantity: 10, limitPrice: 1.5, region: "eu-west" });
  expect(submitted.response.status).toBe(201);
  expect(submitted.data).toMatchObject({ intent: { id: "g-1", agent: publicKey, status: "open" } });

  const read = await client.read(market, "g-1");
  expect(read.response.status).toBe(200);
  expect(read.data).toMatchObject({ id: "g-1", status: "open" });

  const cancelled = await client.cancel(market, "g-1");
  expect(cancelled.error).toBeUndefined();
  expect(cancelled.response.status).toBe(200);
  expect(cancelled.data).toMatchObject({ intent: { id: "g-1", status: "cancelled" } });

  expect((await client.read(market, "g-1")).data).toMatchObject({ id: "g-1", status: "cancelled" });

  // A windowed intent (CONTRACT.md section 2a) through the generated client: its window, rate cap, priority and
  // soft latency round-trip, and a buyer's fill comes back with its delivery times inside the window.
  const start = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
  const ask = await client.submit(market, windowed("w-1", publicKey, start, 2));
  expect(ask.response.status).toBe(201);
  expect(ask.data).toMatchObject({ intent: { id: "w-1", status: "open", window: { start: start.toISOString() }, maxRate: 20, priority: "high", preferLatencyMs: 30 } });
  const other = generateKeyPairSync("ed25519"); // a second agent: no self-trade
  const buyer = nashClient(server.base, signing(other.privateKey, other.publicKey.export({ format: "jwk" }).x!));
  const bid = await buyer.submit(market, { id: "g-2", side: "buy", resource: "gpu-h100-hr", quantity: 40, limitPrice: 1.5, region: "eu-west" });
  expect(bid.response.status).toBe(201);
  const fill = (bid.data as any).settlement.fills[0];
  expect(fill).toMatchObject({ buy: "g-2", sell: "w-1", quantity: 40, start: start.toISOString(), end: new Date(start.getTime() + 2 * 3_600_000).toISOString() });
  expect(((await client.read(market, "g-2")).data as any).fills[0]).toMatchObject({ start: fill.start, end: fill.end });
});
