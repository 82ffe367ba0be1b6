// The OpenAPI document is generated from the zod contract (not a copy), covers CONTRACT.md section 5, and its
// reference page and the live market page are self-contained (nothing fetched from elsewhere).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import * as schema from "../../src/contract/schema.ts";
import { buildOpenApi, jsonSchemaOf } from "../../src/api/openapi.ts";
import { renderReference, escapeHtml } from "../../src/api/reference.ts";
import { marketPageHtml } from "../../src/api/market-page.ts";

const doc = buildOpenApi() as any;

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

describe("OpenAPI document", () => {
  test("is OpenAPI 3.1 and lists every route of CONTRACT.md section 5 plus config", () => {
    expect(doc.openapi).toBe("3.1.0");
    const ops = Object.entries<any>(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(ops.sort()).toEqual(
      [
        "POST /v1/markets/{market}/intents",
        "GET /v1/markets/{market}/intents/{id}",
        "DELETE /v1/markets/{market}/intents/{id}",
        "GET /v1/markets/{market}",
        "PUT /v1/markets/{market}/config",
        "GET /v1/markets/{market}/settlements/{id}",
        "GET /v1/markets/{market}/stream",
        "GET /v1/health",
        "GET /v1/markets/{market}/commitments",
        "POST /v1/markets/{market}/proposals",
        "GET /v1/markets/{market}/proposals",
        "POST /v1/markets/{market}/reveals",
        "GET /v1/markets/{market}/training-examples",
        "PUT /v1/markets/{market}/model",
      ].sort(),
    );
    const ids = Object.values<any>(doc.paths).flatMap((item) => Object.values<any>(item).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("every $ref resolves, and every component is exactly what zod generates from src/contract/schema.ts", () => {
    for (const ref of refsIn(doc)) expect(doc.components.schemas[ref.replace("#/components/schemas/", "")], ref).toBeDefined();
    for (const [name, component] of Object.entries<any>(doc.components.schemas)) {
      const source = (schema as Record<string, unknown>)[name];
      expect(source, `${name} is exported by src/contract/schema.ts`).toBeInstanceOf(z.ZodType);
      const io = ["IntentInput", "MarketConfig", "ProposalBody", "RevealBody", "ModelBody"].includes(name) ? "input" : "output";
      const { description: _d, ...generated } = component;
      expect(generated).toEqual(jsonSchemaOf(source as z.ZodType, io));
    }
  });

  test("the intent schema carries the contract's fields and constraints", () => {
    const intent = doc.components.schemas.IntentInput;
    expect([...intent.required].sort()).toEqual(["agent", "limitPrice", "quantity", "region", "resource", "side"]);
    expect(intent.properties.side.enum).toEqual(["buy", "sell"]);
    expect(intent.additionalProperties).toBe(false);
    expect(intent.properties.expiresAt.format).toBe("date-time");
    // Time (section 2a) and priority (section 3): windows of two times, a rate, the three priorities, soft latency.
    expect(intent.properties.window).toMatchObject({ type: "object", required: ["start", "end"] });
    expect(intent.properties.window.properties.start.format).toBe("date-time");
    expect(intent.properties.swapFor.properties.window).toMatchObject({ type: "object", required: ["start", "end"] });
    expect(intent.properties.priority.enum).toEqual(["low", "normal", "high"]);
    for (const k of ["maxRate", "preferLatencyMs", "latencyDiscount"]) expect(intent.properties[k].type).toBe("number");
    expect(Object.keys(doc.components.schemas.Settlement.properties.fills.items.properties)).toEqual(expect.arrayContaining(["start", "end"]));
    // Writes declare the signature headers; reads do not.
    expect(doc.paths["/v1/markets/{market}/intents"].post.security).toBeDefined();
    expect(doc.paths["/v1/markets/{market}/intents/{id}"].get.security).toBeUndefined();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["agentKey", "agentSignature", "agentTimestamp"]);
  });

  test("error answers are problem details", () => {
    for (const item of Object.values<any>(doc.paths)) {
      for (const op of Object.values<any>(item)) {
        for (const [status, r] of Object.entries<any>(op.responses)) {
          if (Number(status) >= 400) expect(r.content["application/problem+json"].schema.$ref).toBe("#/components/schemas/ProblemDetails");
        }
      }
    }
  });

  test("every route of the worker is documented, or listed here as not part of the JSON API", () => {
    // Document new routes in the table in src/api/openapi.ts (schemas in src/contract/schema.ts). Pages and the document
    // itself are not API operations. POST /NashChallenge is the Bittensor axon's wire route: validators' dendrites
    // call it with bt_header_* headers and an sr25519 signature (src/bridge/axon.ts, notes/bridge.md), not with the
    // agent signature this document describes, so it is not an operation of the JSON API.
    const notJsonApi = new Set(["POST /NashChallenge"]);
    const pages = new Set(["GET /openapi.json", "GET /docs", "GET /markets/{market}"]);
    const source = readFileSync(join(import.meta.dirname, "../../src/workers/index.ts"), "utf8");
    const routes = [...source.matchAll(/^app\.(get|post|put|delete|patch)\(\s*"([^"]+)"/gm)].map((m) => `${m[1].toUpperCase()} ${m[2].replace(/:(\w+)/g, "{$1}")}`);
    expect(routes.length).toBeGreaterThan(8);
    const documented = new Set(Object.entries<any>(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)));
    const missing = routes.filter((r) => !documented.has(r) && !notJsonApi.has(r) && !pages.has(r));
    expect(missing, "add these to the route table in src/api/openapi.ts").toEqual([]);
    for (const r of documented) expect(routes, `${r} is documented but not served`).toContain(r);
  });

  test("is deterministic (the worker caches it)", () => {
    expect(JSON.stringify(buildOpenApi())).toBe(JSON.stringify(doc));
  });
});

/** URLs a page would load from elsewhere: any absolute http(s) or protocol-relative src/href/url(). */
const EXTERNAL = /(src|href)\s*=\s*["']?(https?:)?\/\/|url\(\s*["']?(https?:)?\/\/|@import|\bimport\s*\(/i;

describe("reference page", () => {
  const html = renderReference(doc);
  test("shows every operation and every schema", () => {
    for (const item of Object.values<any>(doc.paths)) for (const op of Object.values<any>(item)) expect(html).toContain(`id="op-${op.operationId}"`);
    for (const name of Object.keys(doc.components.schemas)) expect(html).toContain(`id="schema-${name}"`);
    expect(html).toContain("<code>quantity</code>");
    expect(html).toContain('href="/openapi.json"');
  });
  test("is self-contained: no scripts, nothing from elsewhere", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(EXTERNAL);
  });
  test("escapes text", () => {
    expect(escapeHtml(`<a href="x">&'`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    const hostile = renderReference({ info: { title: "<script>alert(1)</script>" }, paths: {} });
    expect(hostile).not.toContain("<script>alert");
  });
});

describe("market page", () => {
  const html = marketPageHtml("demo-1");
  test("is self-contained and its script parses", () => {
    expect(html).not.toMatch(EXTERNAL);
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(1);
    expect(() => new Function(scripts[0])).not.toThrow();
    for (const id of ["book", "settlements-body", "histogram", "status", "counters"]) expect(html).toContain(`id="${id}"`);
  });
  test("the market name reaches the script as data, not code", () => {
    expect(html).toContain('<script type="application/json" id="market-name">"demo-1"</script>');
  });
});
