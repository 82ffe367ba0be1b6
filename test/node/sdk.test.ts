// The TypeScript SDK's pure parts: keys (the service's test vectors), backoff, stream URLs, local validation
// and what happens when nobody answers. The end-to-end paths are in sdk-e2e.test.ts.
import { createHash, createPublicKey, verify } from "node:crypto";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { IntentInput, NashClient, NashError, backoffMs, deferral, generateKey, isoTime, keyFromSeed, keyToJson, later, parseKey, streamUrl, window } from "../../sdk/typescript/src/index.ts";
import { loadKey, saveKey } from "../../sdk/typescript/src/node.ts";

const SEED = Uint8Array.from({ length: 32 }, (_, i) => i);
const VECTOR = { publicKey: "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg", privateKey: "MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f" };

describe("keys", () => {
  test("the seed vector, and parse checks the pair", async () => {
    expect(await keyFromSeed(SEED)).toEqual(VECTOR);
    expect(await parseKey(JSON.stringify(VECTOR))).toEqual(VECTOR);
    const other = await generateKey();
    await expect(parseKey(JSON.stringify({ ...VECTOR, publicKey: other.publicKey }))).rejects.toThrow(/does not match/);
    await expect(parseKey("{")).rejects.toThrow(/not JSON/);
    await expect(parseKey(JSON.stringify({ publicKey: "x", privateKey: "!!" }))).rejects.toThrow(/PKCS#8/);
  });

  test("key files: written 0600, never overwritten, loaded from a path or the environment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nash-keys-"));
    const path = join(dir, "agent.json");
    const key = await generateKey();
    await saveKey(path, key);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await expect(saveKey(path, key)).rejects.toThrow(/EEXIST/);
    expect(await loadKey(path, {})).toEqual(key);
    expect(await loadKey(undefined, { NASH_AGENT_KEY_FILE: path })).toEqual(key);
    expect(await loadKey(undefined, { NASH_AGENT_KEY: keyToJson(key) })).toEqual(key);
    await expect(loadKey(undefined, {})).rejects.toThrow(/NASH_AGENT_KEY/);
  });
});

describe("backoff", () => {
  const policy = { retries: 4, baseMs: 100, capMs: 5000 };
  test("full jitter, doubling, capped", () => {
    expect(backoffMs(1, policy, null, () => 1)).toBe(200);
    expect(backoffMs(3, policy, null, () => 1)).toBe(800);
    expect(backoffMs(3, policy, null, () => 0.5)).toBe(400);
    expect(backoffMs(10, policy, null, () => 1)).toBe(5000);
  });
  test("Retry-After (seconds) wins, capped", () => {
    expect(backoffMs(1, policy, "1", () => 0)).toBe(1000);
    expect(backoffMs(1, policy, "60", () => 0)).toBe(5000);
    expect(backoffMs(1, policy, "soon", () => 1)).toBe(200);
  });
});

test("stream URLs follow the scheme", () => {
  expect(streamUrl("http://127.0.0.1:8787/", "demo")).toBe("ws://127.0.0.1:8787/v1/markets/demo/stream");
  expect(streamUrl("https://nash.example", "m-1")).toBe("wss://nash.example/v1/markets/m-1/stream");
  expect(streamUrl("http://h", "m", ["settlement.committed", "intent.expired"])).toBe("ws://h/v1/markets/m/stream?types=settlement.committed%2Cintent.expired");
});

describe("times", () => {
  test("window(start, hours): ISO strings in UTC to the millisecond, from a Date, ms or a time string", () => {
    expect(window("2026-06-01T08:00:00Z", 2)).toEqual({ start: "2026-06-01T08:00:00.000Z", end: "2026-06-01T10:00:00.000Z" });
    expect(window(new Date("2026-06-01T10:00:00+02:00"), 0.5)).toEqual({ start: "2026-06-01T08:00:00.000Z", end: "2026-06-01T08:30:00.000Z" });
    expect(window(Date.UTC(2026, 5, 1, 8, 0, 0, 123), 1).start).toBe("2026-06-01T08:00:00.123Z");
    for (const hours of [0, -1, Number.NaN, Infinity]) expect(() => window("2026-06-01T08:00:00Z", hours)).toThrow(RangeError);
    expect(() => isoTime("tomorrow")).toThrow(RangeError);
  });

  test("deferral: a swap of a resource for itself in the window `hours` later, which the contract accepts", () => {
    const held = window("2026-06-01T08:00:00Z", 2);
    expect(later(held, 4)).toEqual({ start: "2026-06-01T12:00:00.000Z", end: "2026-06-01T14:00:00.000Z" });
    const d = { ...deferral("gpu-h100-hr", held, 4, 0.3), agent: "storage", quantity: 200, region: "eu-central" };
    expect(d).toMatchObject({ side: "sell", kind: "swap", limitPrice: 0.3, window: held, swapFor: { resource: "gpu-h100-hr", window: later(held, 4) } });
    expect(IntentInput.safeParse(d).success).toBe(true);
    // Deferred by 0 hours it swaps a slot for itself: the contract refuses it, naming swapFor.resource.
    const same = IntentInput.safeParse({ ...d, ...deferral("gpu-h100-hr", held, 0, 0.3) });
    expect(same.success).toBe(false);
    expect(same.error!.issues.map((i) => i.path.join("."))).toContain("swapFor.resource");
  });
});

describe("client without a service", () => {
  // Port 9 on loopback: nothing listens (discard), so every attempt is refused at once.
  const dead = "http://127.0.0.1:9";

  test("an invalid intent is refused before anything is sent, naming each field", async () => {
    let attempts = 0;
    const client = new NashClient({ baseUrl: dead, key: await keyFromSeed(SEED), fetch: (i, init) => (attempts++, fetch(i, init)) });
    const error = await client.submit("m", { side: "buy", resource: "r", quantity: 0, limitPrice: -1, region: "eu" }).catch((e) => e);
    expect(error).toBeInstanceOf(NashError);
    expect(error.status).toBe(0);
    expect(error.errors.map((e: { field: string }) => e.field).sort()).toEqual(["limitPrice", "quantity"]);
    expect(attempts).toBe(0);
    await expect(client.submit("m", { agent: "someone-else", side: "buy", resource: "r", quantity: 1, limitPrice: 1, region: "eu" })).rejects.toMatchObject({ code: "forbidden" });
    // Time and priority fields are checked locally too: a rate without a window, an unknown priority.
    const plain = { side: "buy" as const, resource: "r", quantity: 1, limitPrice: 1, region: "eu" };
    const rate = await client.submit("m", { ...plain, maxRate: 5 }).catch((e) => e);
    expect(rate.errors.map((e: { field: string }) => e.field)).toEqual(["maxRate"]);
    const urgent = await client.submit("m", { ...plain, priority: "urgent" as "high" }).catch((e) => e);
    expect(urgent.errors.map((e: { field: string }) => e.field)).toEqual(["priority"]);
    expect(attempts).toBe(0);
  });

  test("no answer: retried with backoff, then the network error surfaces", async () => {
    let attempts = 0;
    const waits: number[] = [];
    const client = new NashClient({
      baseUrl: dead,
      fetch: (i, init) => (attempts++, fetch(i, init)),
      sleep: async (ms) => void waits.push(ms),
      random: () => 1,
      retry: { retries: 3 },
    });
    await expect(client.health()).rejects.toThrow(/fetch failed/);
    expect(attempts).toBe(4);
    expect(waits).toEqual([200, 400, 800]);
  });
});

test("cancel signs its empty body as the SHA-256 of zero bytes (CONTRACT v1.1)", async () => {
  const sent: Record<string, string>[] = [];
  const client = new NashClient({
    baseUrl: "http://127.0.0.1:9",
    key: await keyFromSeed(SEED),
    retry: { retries: 0 },
    fetch: async (_, init) => {
      sent.push(init!.headers as Record<string, string>);
      throw new TypeError("fetch failed");
    },
  });
  await expect(client.cancel("m", "i-1")).rejects.toThrow(/fetch failed/);
  const headers = sent[0];
  const zeroBytes = createHash("sha256").update(Buffer.alloc(0)).digest("hex");
  const message = `DELETE\n/v1/markets/m/intents/i-1\n${headers["x-nash-timestamp"]}\n${zeroBytes}`;
  const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: VECTOR.publicKey }, format: "jwk" });
  expect(verify(null, Buffer.from(message), publicKey, Buffer.from(headers["x-nash-signature"], "base64url"))).toBe(true);
});

describe("batch routes (learned validation) without a service", () => {
  const dead = "http://127.0.0.1:9";

  test("an invalid proposal or reveal is refused before anything is sent, naming each field", async () => {
    let attempts = 0;
    const client = new NashClient({ baseUrl: dead, key: await keyFromSeed(SEED), fetch: (i, init) => (attempts++, fetch(i, init)) });
    const proposal = await client.propose("m", { batch: "b-0", fills: [] }).catch((e) => e);
    expect(proposal).toBeInstanceOf(NashError);
    expect(proposal.code).toBe("invalid-proposal");
    expect(proposal.errors.map((e: { field: string }) => e.field).sort()).toEqual(["batch", "fills"]);
    const reveal = await client.reveal("m", { intentId: "i-1", salt: "NOT-HEX" }).catch((e) => e);
    expect(reveal.code).toBe("invalid-reveal");
    expect(reveal.errors.map((e: { field: string }) => e.field)).toEqual(["salt"]);
    expect(attempts).toBe(0);
    await expect(new NashClient({ baseUrl: dead }).reveal("m", { intentId: "i-1", salt: "ab".repeat(16) })).rejects.toMatchObject({ code: "no-key" });
  });

  test("reads name the batch in the query; training examples ask for the JSON form", async () => {
    const urls: string[] = [];
    const client = new NashClient({ baseUrl: dead, retry: { retries: 0 }, fetch: (i, init) => (urls.push(String(i)), fetch(i, init)) });
    await expect(client.commitments("m")).rejects.toThrow(/fetch failed/);
    await expect(client.proposals("m", { batch: "b-7" })).rejects.toThrow(/fetch failed/);
    await expect(client.trainingExamples("m", { batch: "b-7" })).rejects.toThrow(/fetch failed/);
    expect(urls).toEqual([
      `${dead}/v1/markets/m/commitments`,
      `${dead}/v1/markets/m/proposals?batch=b-7`,
      `${dead}/v1/markets/m/training-examples?format=json&batch=b-7`,
    ]);
  });
});
