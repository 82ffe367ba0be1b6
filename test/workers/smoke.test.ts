// Liveness and the not-found answer: the cheapest signs that the worker and its object are wired up.
import { env, SELF } from "cloudflare:test";
import { expect, test } from "vitest";

test("GET /v1/health answers ok", async () => {
  const r = await SELF.fetch("http://x/v1/health");
  expect(r.status).toBe(200);
  expect(await r.json()).toMatchObject({ ok: true });
});

test("unknown routes are 404 problems", async () => {
  for (const [method, path] of [["GET", "/nope"], ["GET", "/v1/markets/a/unknown"], ["PATCH", "/v1/markets/a"], ["POST", "/v1/health"]]) {
    const r = await SELF.fetch(`http://x${path}`, { method });
    expect(r.status).toBe(404);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
    expect(await r.json()).toMatchObject({ status: 404, title: "Not found", type: "urn:nash:problem:not-found" });
  }
});

test("the market object answers RPC directly: a market never written is not found", async () => {
  const answer = await env.MARKET.getByName("smoke").getMarket();
  expect(answer.ok).toBe(false);
  if (!answer.ok) expect(answer.problem).toMatchObject({ status: 404, code: "market-not-found" });
});

test("an unexpected error is a 500 problem that reveals nothing", async () => {
  const { problemResponse } = await import("../../src/workers/http.ts");
  const r = problemResponse(new Error("secret internals at /src/x.ts:12"));
  expect(r.status).toBe(500);
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  const text = await r.text();
  expect(text).not.toMatch(/secret|\.ts:|stack/);
  expect(JSON.parse(text)).toMatchObject({ status: 500, type: "urn:nash:problem:internal" });
});
