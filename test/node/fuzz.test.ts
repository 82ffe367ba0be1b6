// Hostile input against the real service (scripts/dev.ts under wrangler dev) and the CLI, property-based with
// fast-check: malformed, oversized, deeply nested, wrong-typed, unicode-edge and numeric-edge input on every
// route must get a 4xx problem-details answer, never a 5xx, and never change the market's state. Signature
// attacks (wrong key, tampered body or path, replay, stale and future timestamps, another agent's cancel) and the
// 429 + Retry-After guard are checked by example. A summary of cases tried and answers seen is printed.
// Runs: FUZZ_RUNS (default 60 per property; the CI form). Ports 8874–8877.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { generateAgentKey, signRequest, type AgentKey } from "../../src/contract/auth.ts";
import { run as runCli } from "../../src/cli/main.ts";
import { IntentInput, MarketConfig } from "../../src/contract/schema.ts";
import { getJson, signedFetch, type Answer } from "./support/client.ts";
import { startDevServer, type DevServer } from "./support/dev-server.ts";

const RUNS = Number(process.env.FUZZ_RUNS || 60);
const BURST = 40;
const MARKET_BURST = 100;
const AGENT_CAP = 10;
const MARKET_CAP = 25;

let server: DevServer;
let operator: AgentKey;
let owner: AgentKey;
const market = `fuzz-${Date.now().toString(36)}`;
const P = `/v1/markets/${market}`;
/** status → count, per route family: the printed summary. */
const seen = new Map<string, Map<number, number>>();
let tried = 0;

function note(family: string, status: number): void {
  tried++;
  const m = seen.get(family) ?? new Map<number, number>();
  m.set(status, (m.get(status) ?? 0) + 1);
  seen.set(family, m);
}

/** Every refusal is RFC 9457 problem details with a 4xx status that matches its body. */
function expectProblem(a: Answer, context: string): void {
  expect(a.status, `${context}: ${JSON.stringify(a.body).slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(a.status, context).toBeLessThan(500);
  expect(a.headers.get("content-type"), context).toBe("application/problem+json");
  expect(a.body, context).toMatchObject({ type: expect.stringMatching(/^urn:nash:problem:/), title: expect.any(String), status: a.status, detail: expect.any(String) });
}

/** The market's observable state: counters, config and open intents (times excluded: nothing else moves). */
async function snapshot(): Promise<string> {
  const m = await getJson(server.base, P);
  expect(m.status).toBe(200);
  return JSON.stringify({ counters: m.body.counters, config: m.body.config, open: m.body.openIntents });
}

/** Sends raw bytes (or text), signed over exactly those bytes by `key`. */
async function rawSigned(key: AgentKey, method: string, path: string, body: string | Uint8Array | undefined, headers: Record<string, string> = {}): Promise<Answer> {
  const auth = await signRequest({ privateKey: key.privateKey, publicKey: key.publicKey, method, path, body });
  const r = await fetch(server.base + path, { method, body, headers: { "content-type": "application/json", ...auth, ...headers } });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    // kept as text; expectProblem will fail on it
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

// ---- generators of hostile values ----

const nasty = {
  strings: fc.constantFrom(
    "", " ", "\u0000", "\ud800", "\udfff", "\ufeff", "\u202e", "\u200b", "a\u0301", "💥", "𝕏".repeat(40), "../../etc/passwd",
    "%00", "<script>", "' OR 1=1 --", "x".repeat(129), "x".repeat(5000), "é", "\n", "\\", "null", "NaN", "Infinity", "1e308",
  ),
  numbers: fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e308, -1e308, -0, 0, -1, 1e16, -1e16, Number.MAX_SAFE_INTEGER + 2, 5e-324, 1e15 + 1),
};

/** Any JSON-ish value, including deep nesting and numeric edges (serialised by `textOf`). */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  nasty.strings,
  nasty.numbers,
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 4 }),
  fc.integer({ min: 1, max: 2000 }).map((d) => JSON.parse("[".repeat(d) + "]".repeat(d))),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.array(fc.integer(), { maxLength: 5 }),
);

/** JSON text that keeps the non-JSON numbers visible to the server: NaN/±Infinity as `1e999`-style literals. */
function textOf(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (typeof v === "number" && !Number.isFinite(v)) return `__num_${Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "ninf"}__`;
    if (typeof v === "number" && Object.is(v, -0)) return "__num_negzero__";
    return v;
  })
    .replace(/"__num_inf__"/g, "1e999")
    .replace(/"__num_ninf__"/g, "-1e999")
    .replace(/"__num_nan__"/g, "null")
    .replace(/"__num_negzero__"/g, "-0");
}

const validIntent = fc.record({
  side: fc.constantFrom("buy", "sell"),
  resource: fc.constantFrom("gpu-h100-hr", "inference-mtok"),
  quantity: fc.integer({ min: 1, max: 1000 }),
  limitPrice: fc.double({ min: 0.01, max: 10, noNaN: true }),
  region: fc.constantFrom("eu-west", "us-east"),
});

const INTENT_FIELDS = ["id", "agent", "side", "resource", "quantity", "minQuantity", "limitPrice", "region", "maxLatencyMs", "expiresAt"];

/** A valid intent with one or more fields replaced by hostile values, or an unknown field added. */
const mutatedIntent = fc
  .tuple(validIntent, fc.array(fc.tuple(fc.oneof(fc.constantFrom(...INTENT_FIELDS), fc.string({ maxLength: 12 })), hostileValue), { minLength: 1, maxLength: 3 }))
  .map(([base, edits]) => {
    const o: Record<string, unknown> = { ...base };
    for (const [k, v] of edits) o[k] = v;
    return o;
  });

/** Bodies that are not even JSON objects: truncated, invalid UTF-8, arrays, scalars, deep nesting, oversized. */
const brokenBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }),
  fc.constantFrom(
    "", "{", "}", "[]", "null", "1e999", "-0", '"x"', "{\"side\":}", "\ufeff{}", "{\"a\":1,}", "{'side':'buy'}",
    "[".repeat(30_000) + "]".repeat(30_000),
    "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000),
  ),
  fc.constant(new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])), // {"\xc3(":1} invalid UTF-8
  fc.integer({ min: 64 * 1024 + 1, max: 200 * 1024 }).map((n) => `{"id":"${"x".repeat(n)}"}`),
);

beforeAll(async () => {
  operator = await generateAgentKey();
  owner = await generateAgentKey();
  server = await startDevServer({
    ports: [8874, 8875, 8876, 8877],
    env: {
      OPERATOR_AGENTS: operator.publicKey, RATE_LIMIT_BURST: String(BURST), RATE_LIMIT_PER_SECOND: "5",
      RATE_LIMIT_MARKET_BURST: String(MARKET_BURST), RATE_LIMIT_MARKET_PER_SECOND: "5",
      MAX_OPEN_INTENTS_PER_AGENT: String(AGENT_CAP), MAX_OPEN_INTENTS_PER_MARKET: String(MARKET_CAP),
    },
  });
  // A market with state to protect: one resting intent of `owner`.
  const r = await signedFetch(server.base, owner, "POST", `${P}/intents`, JSON.stringify({ id: "resting", side: "buy", resource: "gpu-h100-hr", quantity: 10, limitPrice: 1, region: "eu-west" }));
  expect(r.status).toBe(201);
}, 180_000);

afterAll(async () => {
  const lines = [...seen].map(([family, m]) => `| ${family} | ${[...m.values()].reduce((a, b) => a + b, 0)} | ${[...m].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(" ")} |`);
  console.log(`\nfuzz summary: ${tried} hostile requests, ${RUNS} runs per property\n\n| family | tried | answers |\n|---|---:|---|\n${lines.join("\n")}\n`);
  await server?.dispose();
}, 60_000);

describe("hostile input over HTTP: 4xx problem details, never 5xx, never a state change", () => {
  test("POST intents: mutated intents with hostile fields", { timeout: 300_000 }, async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(mutatedIntent, async (body) => {
        const key = await generateAgentKey(); // fresh agent per case: the 429 guard is tested on its own below
        const parsed = IntentInput.safeParse({ ...JSON.parse(textOf(body)), agent: key.publicKey });
        // Only inputs the contract refuses are hostile; the rare valid mutation is skipped (it would trade).
        fc.pre(!parsed.success || (body.agent !== undefined && body.agent !== key.publicKey));
        const a = await rawSigned(key, "POST", `${P}/intents`, textOf(body));
        note("POST intents (mutated)", a.status);
        expectProblem(a, `POST ${textOf(body).slice(0, 200)}`);
      }),
      { numRuns: RUNS },
    );
    expect(await snapshot()).toBe(before);
  });

  test("POST intents: broken, non-object, deeply nested and oversized bodies", { timeout: 300_000 }, async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(brokenBody, async (body) => {
        const key = await generateAgentKey();
        const a = await rawSigned(key, "POST", `${P}/intents`, body);
        note("POST intents (broken body)", a.status);
        expectProblem(a, `POST body of ${body.length} ${typeof body === "string" ? "chars" : "bytes"}`);
      }),
      { numRuns: RUNS },
    );
    expect(await snapshot()).toBe(before);
  });

  test("PUT config (as the operator): invalid configurations", { timeout: 300_000 }, async () => {
    const before = await snapshot();
    const config = fc.oneof(
      fc.dictionary(fc.constantFrom("clearing", "batchIntervalMs", "latency", "extra"), hostileValue, { minKeys: 1 }),
      fc.record({ latency: fc.dictionary(fc.oneof(nasty.strings, fc.string()), fc.dictionary(fc.oneof(nasty.strings, fc.string()), hostileValue)) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(config.map(textOf), brokenBody), async (body) => {
        let value: unknown;
        try {
          // The server decodes like this (a leading BOM is dropped), so the oracle does too.
          const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
          value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
        } catch {
          value = undefined;
        }
        fc.pre(!MarketConfig.safeParse(value).success);
        const a = await rawSigned(operator, "PUT", `${P}/config`, body);
        note("PUT config", a.status);
        expectProblem(a, `PUT config ${String(body).slice(0, 200)}`);
      }),
      { numRuns: RUNS },
    );
    expect(await snapshot()).toBe(before);
  });

  test("every route with hostile path segments, methods and headers", { timeout: 300_000 }, async () => {
    const before = await snapshot();
    const segment = fc.oneof(nasty.strings, fc.string({ maxLength: 300 }), fc.string({ unit: "binary", maxLength: 20 }), fc.constant("x".repeat(10_000)));
    const request = fc.record({
      template: fc.constantFrom(
        "GET /v1/markets/{s}", "GET /v1/markets/{s}/intents/x", `GET ${P}/intents/{s}`, `GET ${P}/settlements/{s}`,
        `DELETE ${P}/intents/{s}`, "POST /v1/markets/{s}/intents", "PUT /v1/markets/{s}/config", "GET /v1/markets/{s}/stream",
        "PATCH /v1/markets/{s}", "GET /{s}", "POST /v1/health/{s}", `GET ${P}/stream`,
      ),
      s: segment,
      idem: fc.option(fc.oneof(nasty.strings, fc.string({ maxLength: 300 })), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ template, s, idem }) => {
        const [method, pathTemplate] = template.split(" ");
        // encodeURIComponent throws on lone surrogates; those reach the server as U+FFFD instead.
        const path = pathTemplate.replace("{s}", encodeURIComponent(s.replace(/[\ud800-\udfff]/g, "\ufffd")));
        const key = await generateAgentKey();
        const headers: Record<string, string> = {};
        // Header values must be ByteStrings for fetch; keep the hostile ones that are.
        if (idem !== undefined && /^[\x00-\xff]*$/.test(idem) && !/[\r\n\0]/.test(idem)) headers["idempotency-key"] = idem;
        const body = method === "POST" || method === "PUT" ? "{}" : undefined;
        let a: Answer;
        try {
          a = await rawSigned(key, method, path, body, headers);
        } catch (e) {
          // fetch itself refused to send it (an invalid header value): nothing reached the server
          fc.pre(false);
          throw e;
        }
        note(`${method} (hostile path/headers)`, a.status);
        if (a.status === 200) {
          // Reads of the real market are fine, as long as they are reads.
          expect(method, path).toBe("GET");
          return;
        }
        expectProblem(a, `${method} ${path.slice(0, 200)}`);
      }),
      { numRuns: RUNS * 2 },
    );
    expect(await snapshot()).toBe(before);
  });
});

describe("signature attacks: 401/403, and nothing changes", () => {
  const intent = (id: string) => JSON.stringify({ id, side: "sell", resource: "gpu-h100-hr", quantity: 5, limitPrice: 9, region: "eu-west" });

  test("wrong key, tampered body, tampered path, stale and future timestamps, forged and garbled signatures", { timeout: 120_000 }, async () => {
    const before = await snapshot();
    const [a, b] = [await generateAgentKey(), await generateAgentKey()];
    const path = `${P}/intents`;
    const body = intent("attack-1");
    const good = await signRequest({ privateKey: a.privateKey, publicKey: a.publicKey, method: "POST", path, body });
    const send = async (name: string, p: string, headers: Record<string, string>, text: string | undefined = body, method = "POST") => {
      const r = await fetch(server.base + p, { method, body: text, headers: { "content-type": "application/json", ...headers } });
      const answer: Answer = { status: r.status, body: await r.json(), headers: r.headers };
      note(`signature attack`, answer.status);
      expectProblem(answer, name);
      return answer;
    };
    // Signed by a, claiming to be b.
    expect((await send("wrong key", path, { ...good, "x-nash-agent": b.publicKey })).body.type).toBe("urn:nash:problem:bad-signature");
    // One byte of the body changed after signing.
    expect((await send("tampered body", path, good, body.replace("9", "8"))).body.type).toBe("urn:nash:problem:bad-signature");
    // Signed for another market's path.
    expect((await send("tampered path", `/v1/markets/${market}-other/intents`, good)).status).toBe(401);
    // Signed for POST, sent as PUT to the config path.
    expect((await send("tampered method", `${P}/config`, good, body, "PUT")).status).toBe(401);
    for (const [name, skew] of [["stale", -31_000], ["future", 31_000], ["far past", -1e12], ["far future", 1e13]] as const) {
      const h = await signRequest({ privateKey: a.privateKey, publicKey: a.publicKey, method: "POST", path, body, timestamp: Date.now() + skew });
      expect((await send(name, path, h)).body.type).toBe("urn:nash:problem:stale-timestamp");
    }
    // Garbled headers: any of the three, property-based.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("x-nash-agent", "x-nash-timestamp", "x-nash-signature"),
        fc.oneof(fc.base64String({ maxLength: 120 }), fc.stringMatching(/^[A-Za-z0-9_-]{0,100}$/), fc.constantFrom("", "0", "-1", "1e308", "NaN", "Infinity", "99999999999999999999")),
        async (header, value) => {
          fc.pre(value !== good[header]);
          await send(`garbled ${header}`, path, { ...good, [header]: value });
        },
      ),
      { numRuns: RUNS },
    );
    // Unsigned.
    expect((await send("unsigned", path, {})).body.type).toBe("urn:nash:problem:unauthenticated");
    expect(await snapshot()).toBe(before);
  });

  test("replay: the same signed request twice is refused the second time (POST and DELETE)", { timeout: 60_000 }, async () => {
    const a = await generateAgentKey();
    const path = `${P}/intents`;
    const body = intent("replay-1");
    const h = await signRequest({ privateKey: a.privateKey, publicKey: a.publicKey, method: "POST", path, body });
    const first = await fetch(server.base + path, { method: "POST", body, headers: h });
    expect(first.status).toBe(201);
    await first.arrayBuffer();
    const mid = await snapshot();
    const again = await fetch(server.base + path, { method: "POST", body, headers: h });
    const problem = (await again.json()) as { type: string };
    note("signature attack", again.status);
    expect(again.status).toBe(401);
    expect(problem.type).toBe("urn:nash:problem:replayed-signature");
    // A replayed cancel is refused too, and the intent stays cancelled once, by its owner.
    const dpath = `${path}/replay-1`;
    const dh = await signRequest({ privateKey: a.privateKey, publicKey: a.publicKey, method: "DELETE", path: dpath });
    const d1 = await fetch(server.base + dpath, { method: "DELETE", headers: dh });
    expect(d1.status).toBe(200);
    await d1.arrayBuffer();
    const d2 = await fetch(server.base + dpath, { method: "DELETE", headers: dh });
    note("signature attack", d2.status);
    expect(d2.status).toBe(401);
    await d2.arrayBuffer();
    expect(mid).not.toBe(await snapshot()); // the legitimate cancel did change the book
  });

  test("another agent's cancel is 403 and leaves the intent open", { timeout: 60_000 }, async () => {
    const before = await snapshot();
    const thief = await generateAgentKey();
    const a = await signedFetch(server.base, thief, "DELETE", `${P}/intents/resting`);
    note("signature attack", a.status);
    expectProblem(a, "cancel by another agent");
    expect(a.status).toBe(403);
    // Naming someone else as the intent's agent is 403 too.
    const b = await signedFetch(server.base, thief, "POST", `${P}/intents`, JSON.stringify({ agent: owner.publicKey, side: "buy", resource: "gpu-h100-hr", quantity: 1, limitPrice: 1, region: "eu-west" }));
    note("signature attack", b.status);
    expect(b.status).toBe(403);
    expect((await getJson(server.base, `${P}/intents/resting`)).body).toMatchObject({ status: "open", agent: owner.publicKey });
    expect(await snapshot()).toBe(before);
  });
});

describe("rate limits", () => {
  test("an agent past its burst gets 429 with Retry-After, and other agents are unaffected", { timeout: 120_000 }, async () => {
    const greedy = await generateAgentKey();
    const m = `${market}-rl`;
    // All at once, so that the refill (5/s) cannot keep up even on a slow machine.
    const answers = await Promise.all(
      // Distinct ids: identical bodies signed in the same millisecond would be one signature, refused as replays.
      Array.from({ length: BURST * 2 }, (_, i) =>
        signedFetch(server.base, greedy, "POST", `/v1/markets/${m}/intents`, JSON.stringify({ id: `rl-${i}`, side: "buy", resource: "gpu-h100-hr", quantity: 1, limitPrice: 0.5, region: "eu-west" })),
      ),
    );
    for (const a of answers) note("rate limit", a.status);
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const a of limited) {
      expectProblem(a, "429");
      expect(Number(a.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    // 409 open-intents-limit once the agent's cap (10) is reached; the bucket is charged either way.
    expect(answers.filter((a) => a.status !== 201 && a.status !== 429 && a.status !== 409)).toEqual([]);
    expect(answers.filter((a) => a.status === 201).length).toBe(AGENT_CAP);
    const counters = (await getJson(server.base, `/v1/markets/${m}`)).body.counters;
    expect(counters.intents).toBe(answers.filter((a) => a.status === 201).length); // a 429 stored nothing
    const other = await signedFetch(server.base, await generateAgentKey(), "POST", `/v1/markets/${m}/intents`, JSON.stringify({ side: "buy", resource: "gpu-h100-hr", quantity: 1, limitPrice: 0.5, region: "eu-west" }));
    expect(other.status).toBe(201);
  });
});

describe("caps and the market-wide rate limit", () => {
  const rest = (i: number) => JSON.stringify({ id: `cap-${i}`, side: "buy", resource: "gpu-h100-hr", quantity: 1, limitPrice: 0.5, region: "eu-west" });

  test("open intents are capped per agent and per market (409 open-intents-limit), and room comes back", { timeout: 120_000 }, async () => {
    const m = `/v1/markets/${market}-cap`;
    const [a, b, c] = [await generateAgentKey(), await generateAgentKey(), await generateAgentKey()];
    const statuses: number[] = [];
    for (let i = 0; i < AGENT_CAP + 2; i++) {
      const r = await signedFetch(server.base, a, "POST", `${m}/intents`, rest(i));
      statuses.push(r.status);
      note("open-intent caps", r.status);
      if (r.status === 409) {
        expectProblem(r, "agent cap");
        expect(r.body.type).toBe("urn:nash:problem:open-intents-limit");
      }
    }
    expect(statuses).toEqual([...Array(AGENT_CAP).fill(201), 409, 409]);
    // The market cap (25) over several agents.
    let accepted = AGENT_CAP;
    for (const [k, key] of [b, c].entries()) {
      for (let i = 0; i < AGENT_CAP; i++) {
        const r = await signedFetch(server.base, key, "POST", `${m}/intents`, rest(100 * (k + 1) + i));
        note("open-intent caps", r.status);
        if (accepted < MARKET_CAP) {
          expect(r.status).toBe(201);
          accepted++;
        } else {
          expectProblem(r, "market cap");
          expect(r.body.detail).toMatch(/market/);
        }
      }
    }
    expect((await getJson(server.base, m)).body.counters.openIntents).toBe(MARKET_CAP);
    // A cancel frees room for its agent.
    expect((await signedFetch(server.base, a, "DELETE", `${m}/intents/cap-0`)).status).toBe(200);
    expect((await signedFetch(server.base, a, "POST", `${m}/intents`, rest(99))).status).toBe(201);
  });

  test("many fresh agents flooding one market get 429 from the market's own bucket", { timeout: 120_000 }, async () => {
    const m = `/v1/markets/${market}-flood`;
    const keys = await Promise.all(Array.from({ length: MARKET_BURST + 30 }, () => generateAgentKey()));
    // The market must exist: a cancel in a market that never took a write is a 404 before it reaches the object.
    expect((await signedFetch(server.base, await generateAgentKey(), "POST", `${m}/intents`, rest(0))).status).toBe(201);
    // Each agent is well within its own budget; together they exceed the market's burst.
    const answers = await Promise.all(keys.map((k, i) => signedFetch(server.base, k, "DELETE", `${m}/intents/none-${i}`)));
    for (const a of answers) note("market rate limit", a.status);
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const a of limited) {
      expectProblem(a, "market 429");
      expect(a.body.detail).toMatch(/market/);
      expect(Number(a.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    // The others reached the object and were told the intent does not exist.
    expect(answers.filter((a) => a.status !== 429).every((a) => a.status === 404)).toBe(true);
  });
});

describe("the CLI with hostile input", () => {
  test("nash solve: bad input exits 1 or 2 naming the problem, prints nothing on stdout, never throws", { timeout: 120_000 }, async () => {
    const outcomes = new Map<number, number>();
    const file = fc.oneof(
      brokenBody.map((b) => (typeof b === "string" ? b : new TextDecoder().decode(b))),
      fc.record({ intents: fc.array(mutatedIntent.map((i) => ({ agent: "a", ...i })), { minLength: 1, maxLength: 4 }) }).map(textOf),
      fc.record({ latency: hostileValue, intents: fc.constant([]) }).map(textOf),
      hostileValue.map(textOf),
    );
    // Mostly a plain `solve -` so the file's content is what gets fuzzed; sometimes hostile extra arguments.
    const extras = fc.oneof(
      { weight: 3, arbitrary: fc.constant<string[]>([]) },
      { weight: 1, arbitrary: fc.array(fc.oneof(fc.constantFrom("--time-budget-ms", "--node-budget", "--nope", "-", "NaN", "-1", "1e308"), fc.string({ maxLength: 10 })), { maxLength: 3 }) },
    );
    await fc.assert(
      fc.asyncProperty(file, extras, async (text, extra) => {
        let out = "";
        let err = "";
        const code = await runCli(["solve", "-", ...extra], { stdout: (t) => (out += t), stderr: (t) => (err += t), readStdin: async () => text, now: () => new Date(0) });
        outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
        if (code === 0) {
          // Accepted input must have produced a settlement document.
          expect(JSON.parse(out)).toMatchObject({ fills: expect.any(Array), welfare: expect.any(Number) });
          return;
        }
        expect([1, 2]).toContain(code);
        expect(out).toBe("");
        expect(err).toMatch(/^nash: /);
      }),
      { numRuns: RUNS * 3 },
    );
    console.log(`CLI fuzz: ${RUNS * 3} cases, exit codes ${[...outcomes].map(([c, n]) => `${c}×${n}`).join(" ")}`);
    expect((outcomes.get(1) ?? 0) + (outcomes.get(2) ?? 0)).toBeGreaterThan(0);
  });
});
