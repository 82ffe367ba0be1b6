// Signing inside workerd (issue 14, items 6 and 10): a small-order key is no identity, and an empty body signed
// over the SHA-256 of zero bytes (what any generic client computes) cancels. Signatures here are made with
// WebCrypto over strings written out in full, apart from src/contract/auth.ts's signing string.
import { SELF } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import type { AgentKey } from "../../src/contract/auth.ts";
import { base64urlToBytes, bytesToBase64url } from "../../src/contract/codec.ts";
import { BASE, buyIntent, freshMarket, json, newAgent, submit } from "./helpers.ts";

const ZERO_BYTES_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

async function signedOver(agent: AgentKey, message: string, timestamp: number): Promise<Record<string, string>> {
  const key = await crypto.subtle.importKey("pkcs8", base64urlToBytes(agent.privateKey)!, { name: "Ed25519" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, new TextEncoder().encode(message)));
  return { "x-nash-agent": agent.publicKey, "x-nash-timestamp": String(timestamp), "x-nash-signature": bytesToBase64url(signature) };
}

async function restingIntent(): Promise<{ owner: AgentKey; market: string; path: string }> {
  const owner = await newAgent();
  const market = freshMarket("keys");
  expect((await submit(owner, market, buyIntent({ id: "i-1" }))).status).toBe(201); // a real key still works
  return { owner, market, path: `/v1/markets/${market}/intents/i-1` };
}

describe("empty body", () => {
  test("a DELETE signed over the SHA-256 of zero bytes cancels (200)", async () => {
    const { owner, path } = await restingIntent();
    const now = Date.now();
    const headers = await signedOver(owner, `DELETE\n${path}\n${now}\n${ZERO_BYTES_SHA256}`, now);
    const r = await SELF.fetch(BASE + path, { method: "DELETE", headers });
    expect(r.status).toBe(200);
    expect((await json(r)).intent.status).toBe("cancelled");
  });

  test("the deprecated v1.0 form (empty hash field) still cancels", async () => {
    const { owner, path } = await restingIntent();
    const now = Date.now();
    const r = await SELF.fetch(BASE + path, { method: "DELETE", headers: await signedOver(owner, `DELETE\n${path}\n${now}\n`, now) });
    expect(r.status).toBe(200);
  });
});

describe("keys", () => {
  const identity = bytesToBase64url(Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0)));
  const forged = bytesToBase64url(Uint8Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 0))); // R = identity, S = 0

  test("the identity key with signature 01 00…00 cannot submit or cancel: 401 naming x-nash-agent", async () => {
    const { market, path } = await restingIntent();
    const headers = { "x-nash-agent": identity, "x-nash-timestamp": String(Date.now()), "x-nash-signature": forged };
    const post = await SELF.fetch(`${BASE}/v1/markets/${market}/intents`, { method: "POST", body: JSON.stringify(buyIntent()), headers });
    const del = await SELF.fetch(BASE + path, { method: "DELETE", headers });
    for (const r of [post, del]) {
      expect(r.status).toBe(401);
      expect(r.headers.get("content-type")).toBe("application/problem+json");
      const problem = await json(r);
      expect(problem.detail).toContain("x-nash-agent");
      expect(problem.errors.map((e: { field: string }) => e.field)).toEqual(["x-nash-agent"]);
    }
    expect((await json(await SELF.fetch(BASE + path))).status).toBe("open");
  });
});
