// Every caller mistake gets a 4xx problem-details answer (RFC 9457) that names the bad field, and changes nothing.
import { SELF } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { signRequest } from "../../src/contract/auth.ts";
import { BASE, buyIntent, freshMarket, json, newAgent, signedFetch, submit } from "./helpers.ts";

/** Intents stored in market `m`: 0 while the market was never written (its GET is then 404). */
async function intentCount(m: string): Promise<number> {
  const r = await SELF.fetch(`${BASE}/v1/markets/${m}`);
  return r.status === 404 ? 0 : (await json(r)).counters.intents;
}

async function expectProblem(r: Response, status: number, field?: string) {
  expect(r.status).toBe(status);
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  const body = await json(r);
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^urn:nash:problem:/), title: expect.any(String), detail: expect.any(String) });
  expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
  if (field !== undefined) expect(body.errors.map((e: { field: string }) => e.field)).toContain(field);
  return body;
}

describe("bodies", () => {
  test("malformed JSON is 400", async () => {
    const m = freshMarket();
    const a = await newAgent();
    for (const text of ["{", "not json", "", "[1,2]", "null", "42"]) {
      await expectProblem(await signedFetch(a, "POST", `/v1/markets/${m}/intents`, text), 400, "(body)");
    }
    // Invalid UTF-8, correctly signed over its bytes.
    const bytes = new Uint8Array([0x7b, 0xff, 0x7d]);
    const path = `/v1/markets/${m}/intents`;
    const headers = await signRequest({ privateKey: a.privateKey, method: "POST", path, body: bytes });
    await expectProblem(await SELF.fetch(BASE + path, { method: "POST", body: bytes, headers }), 400, "(body)");
    expect(await intentCount(m)).toBe(0);
  });

  test("each missing required field is named", async () => {
    const m = freshMarket();
    const a = await newAgent();
    for (const field of ["side", "resource", "quantity", "limitPrice", "region"]) {
      const intent = buyIntent();
      delete intent[field];
      await expectProblem(await submit(a, m, intent), 422, field);
    }
    expect(await intentCount(m)).toBe(0);
  });

  test("wrong types, bad values and unknown fields are 422 naming the field", async () => {
    const m = freshMarket();
    const a = await newAgent();
    const cases: [Record<string, unknown>, string][] = [
      [{ quantity: "100" }, "quantity"],
      [{ quantity: -5 }, "quantity"],
      [{ quantity: 0 }, "quantity"],
      [{ limitPrice: -1 }, "limitPrice"],
      [{ limitPrice: null }, "limitPrice"],
      [{ side: "hold" }, "side"],
      [{ minQuantity: 101 }, "minQuantity"],
      [{ minQuantity: -1 }, "minQuantity"],
      [{ maxLatencyMs: -3 }, "maxLatencyMs"],
      [{ expiresAt: "tomorrow" }, "expiresAt"],
      [{ region: "eu west" }, "region"],
      [{ resource: "" }, "resource"],
      [{ id: "has space" }, "id"],
      [{ colour: "blue" }, "(body)"],
    ];
    for (const [patch, field] of cases) await expectProblem(await submit(a, m, buyIntent(patch)), 422, field);
    expect(await intentCount(m)).toBe(0);
  });

  test("an expiry already in the past is 422", async () => {
    const m = freshMarket();
    await expectProblem(await submit(await newAgent(), m, buyIntent({ expiresAt: new Date(Date.now() - 1000).toISOString() })), 422, "expiresAt");
    expect(await intentCount(m)).toBe(0);
  });

  test("an agent field naming someone else is 403; naming yourself is fine", async () => {
    const m = freshMarket();
    const [a, b] = [await newAgent(), await newAgent()];
    await expectProblem(await submit(a, m, buyIntent({ agent: b.publicKey })), 403, "agent");
    expect((await submit(a, m, buyIntent({ agent: a.publicKey }))).status).toBe(201);
    expect(await intentCount(m)).toBe(1);
  });

  test("oversized bodies are 413, by Content-Length and by actual bytes", async () => {
    const m = freshMarket();
    const a = await newAgent();
    const big = JSON.stringify(buyIntent({ id: "x".repeat(70 * 1024) }));
    await expectProblem(await signedFetch(a, "POST", `/v1/markets/${m}/intents`, big), 413);
    // A streamed body has no Content-Length: the byte count catches it.
    const path = `/v1/markets/${m}/intents`;
    const auth = await signRequest({ privateKey: a.privateKey, method: "POST", path, body: big });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(big);
        for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
        controller.close();
      },
    });
    const r = await SELF.fetch(BASE + path, { method: "POST", body: stream, headers: auth });
    await expectProblem(r, 413);
    expect(await intentCount(m)).toBe(0);
  });

  test("bad market names are 400 naming the market", async () => {
    const a = await newAgent();
    for (const m of ["UPPER", "under_score", "x".repeat(65), "dot.ted"]) {
      await expectProblem(await submit(a, m, buyIntent()), 400, "market");
      await expectProblem(await SELF.fetch(`${BASE}/v1/markets/${m}`), 400, "market");
    }
  });
});

describe("authentication", () => {
  test("unsigned write is 401", async () => {
    const m = freshMarket();
    const r = await SELF.fetch(`${BASE}/v1/markets/${m}/intents`, { method: "POST", body: JSON.stringify(buyIntent()) });
    await expectProblem(r, 401);
    expect(await intentCount(m)).toBe(0);
  });

  test("a signature over different bytes is 401", async () => {
    const m = freshMarket();
    const r = await signedFetch(await newAgent(), "POST", `/v1/markets/${m}/intents`, buyIntent(), { signBody: JSON.stringify(buyIntent({ quantity: 1 })) });
    const body = await expectProblem(r, 401);
    expect(body.type).toBe("urn:nash:problem:bad-signature");
    expect(await intentCount(m)).toBe(0);
  });

  test("a signature by another key than x-nash-agent is 401", async () => {
    const m = freshMarket();
    const [a, b] = [await newAgent(), await newAgent()];
    const r = await signedFetch(a, "POST", `/v1/markets/${m}/intents`, buyIntent(), { headers: { "x-nash-agent": b.publicKey } });
    await expectProblem(r, 401);
  });

  test("stale and future timestamps are 401", async () => {
    const m = freshMarket();
    const a = await newAgent();
    for (const offset of [-31_000, 31_000]) {
      const r = await signedFetch(a, "POST", `/v1/markets/${m}/intents`, buyIntent(), { timestamp: Date.now() + offset });
      const body = await expectProblem(r, 401);
      expect(body.type).toBe("urn:nash:problem:stale-timestamp");
    }
    expect(await intentCount(m)).toBe(0);
  });

  test("a replayed signature is 401 and creates nothing", async () => {
    const m = freshMarket();
    const a = await newAgent();
    const path = `/v1/markets/${m}/intents`;
    const body = JSON.stringify(buyIntent());
    const headers = await signRequest({ privateKey: a.privateKey, method: "POST", path, body });
    expect((await SELF.fetch(BASE + path, { method: "POST", body, headers })).status).toBe(201);
    const replay = await SELF.fetch(BASE + path, { method: "POST", body, headers });
    const problem = await expectProblem(replay, 401);
    expect(problem.type).toBe("urn:nash:problem:replayed-signature");
    expect(await intentCount(m)).toBe(1);
  });

  test("a replayed cancel is 401", async () => {
    const m = freshMarket();
    const a = await newAgent();
    await submit(a, m, buyIntent({ id: "r1" }));
    const path = `/v1/markets/${m}/intents/r1`;
    const headers = await signRequest({ privateKey: a.privateKey, method: "DELETE", path });
    expect((await SELF.fetch(BASE + path, { method: "DELETE", headers })).status).toBe(200);
    await expectProblem(await SELF.fetch(BASE + path, { method: "DELETE", headers }), 401);
  });
});

describe("rate limit", () => {
  test("past the burst an agent gets 429 with Retry-After; other agents are unaffected", async () => {
    const { env, runInDurableObject } = await import("cloudflare:test");
    const m = freshMarket();
    const stub = env.MARKET.getByName(m);
    await runInDurableObject(stub, (instance) => {
      instance.rateLimits = { burst: 2, perSecond: 0.5 };
    });
    const [a, b] = [await newAgent(), await newAgent()];
    expect((await submit(a, m, buyIntent())).status).toBe(201);
    expect((await submit(a, m, buyIntent())).status).toBe(201);
    const r = await submit(a, m, buyIntent());
    await expectProblem(r, 429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await submit(b, m, buyIntent())).status).toBe(201);
    expect(await intentCount(m)).toBe(3);
  });
});
