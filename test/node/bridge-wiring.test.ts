// The bridge's wiring pieces in plain Node: the market object's relay hooks (outbox + shared-alarm want + hold
// after a failure) against the real dev miner node, the challenge answer, the persistent nonce store, and the
// dev script's handling of the four variables. Port: 8906 (miner node), 8907 (nothing listens: refused).
import { DatabaseSync } from "node:sqlite";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DISPATCH_DELAY_MS, MarketRelay, bridgeConfig, outboxView } from "../../src/bridge/market-hooks.ts";
import { SqlNonceStore, settleChallenge } from "../../src/bridge/challenge.ts";
import { ChallengeInput } from "../../src/bridge/axon.ts";
import { keypairFromUriOrThrow } from "../../src/bridge/keys.ts";
import { DEFAULT_POLICY } from "../../src/bridge/outbox.ts";
import { DEFAULT_LATENCY } from "../../src/solver/index.ts";
import { envFileText, mergedBridgeEnv, planBridge } from "../../scripts/dev-bridge.ts";
import { startMinerNode } from "../../tools/miner-node/main.ts";
import { settlement, sqliteExec } from "./bridge-fixtures.ts";

const ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const BOB = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
const CHARLIE = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const relayEnv = (port: number) => ({ MINER_NODE_URL: `http://127.0.0.1:${port}`, MINER_HOTKEY_URI: "//Alice", AXON_HOTKEY: BOB });

describe("market relay hooks", () => {
  it("is absent when the bridge is off: no outbox table is created", () => {
    const db = new DatabaseSync(":memory:");
    expect(MarketRelay.open({}, sqliteExec(db))).toBeUndefined();
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'bridge_%'").all()).toEqual([]);
    expect(outboxView({}, undefined)).toEqual({ relay: "off" });
    expect(outboxView({ MINER_NODE_URL: "http://127.0.0.1:1" }, undefined)).toMatchObject({ relay: "misconfigured" });
  });

  it("never puts the secret in what it logs or shows", () => {
    const lines: string[] = [];
    const log = { log: (s: string) => lines.push(s), error: (s: string) => lines.push(s) };
    const env = { ...relayEnv(8907), MINER_HOTKEY_URI: "//Alice//secret-junction", VALIDATOR_HOTKEYS: CHARLIE };
    const config = bridgeConfig(env, log);
    expect(config.ok).toBe(true);
    bridgeConfig(env, log); // cached: logged once
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("secret-junction");
    const relay = MarketRelay.open(env, sqliteExec(new DatabaseSync(":memory:")))!;
    expect(JSON.stringify(relay.view())).not.toContain("secret-junction");
  });

  it("enqueues, wants the alarm, holds after a failure, then delivers once to the real node", async () => {
    const db = new DatabaseSync(":memory:");
    const relay = MarketRelay.open(relayEnv(8906), sqliteExec(db), { ...DEFAULT_POLICY, baseDelayMs: 200 })!;
    expect(relay.wantsAlarmAt()).toBeNull();
    const scored = { ...settlement("s-1", "m1"), scores: [{ proposal: "builtin", estimate: 0.97 }] };
    expect(relay.enqueue("m1", scored, 1000)).toEqual({ action: "insert" });
    expect(relay.enqueue("m1", scored, 1001)).toEqual({ action: "exists" });
    expect(relay.wantsAlarmAt()).toBe(1000 + DISPATCH_DELAY_MS); // the agent's answer leaves first
    // Nothing listens yet: refused connection, the row is the probe and the relay holds until its retry.
    const t = Date.now();
    const failed = await relay.drain("m1", t, fetch);
    expect(failed).toMatchObject({ attempted: 1, failed: 1 });
    relay.enqueue("m1", settlement("s-2", "m1"), Date.now()); // due now, but held behind the probe
    const held = relay.wantsAlarmAt()!;
    expect(held).toBe(failed!.nextAlarmAt);
    expect(held).toBeGreaterThan(Date.now() - 5);
    expect(await relay.drain("m1", Date.now(), fetch)).toBeUndefined(); // not before the hold
    const node = await startMinerNode({ port: 8906, hotkey: BOB, allow: new Set([ALICE]) });
    cleanups.push(() => node.close());
    while (Date.now() < held) await new Promise((r) => setTimeout(r, 20));
    const ok = await relay.drain("m1", Date.now(), fetch);
    expect(ok).toMatchObject({ attempted: 2, delivered: 2, failed: 0, nextAlarmAt: null });
    expect(relay.wantsAlarmAt()).toBeNull();
    const got = (await (await fetch("http://127.0.0.1:8906/received")).json()) as { distinct: number; received: { key: string; message: { scores?: unknown } }[] };
    expect(got.received.map((r) => r.key)).toEqual(["nash:m1:s-1", "nash:m1:s-2"]);
    expect(got.received[0].message.scores).toEqual([{ proposal: "builtin", estimate: 0.97 }]);
    expect(relay.view()).toMatchObject({ relay: "on", pending: 0, counters: { enqueued: 2, delivered: 2, failed_attempts: 1 } });
  });
});

describe("challenge answer", () => {
  const intents = [
    { agent: "a", side: "buy", resource: "gpu-h100-hr", quantity: 100, limitPrice: 1.8, region: "eu-west" },
    { agent: "b", side: "sell", resource: "gpu-h100-hr", quantity: 500, limitPrice: 1.4, region: "eu-west" },
  ];
  const now = Date.parse("2026-11-26T15:00:00Z");

  it("settles a batch of intents with the solver (the bilateral example: 100 at 1.60)", () => {
    const c = ChallengeInput.parse({ market: "demo", intents });
    const a = settleChallenge(c, DEFAULT_LATENCY, { nowMs: now, deadlineMs: now + 1000 });
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    const s = a.settlement as { id: string; market: string; fills: { buy: string; sell: string; quantity: number; price: number }[]; welfare: number };
    expect(s.id).toMatch(/^challenge-[0-9a-f]{16}$/);
    expect(s.market).toBe("demo");
    expect(s.fills).toHaveLength(1);
    expect(s.fills[0]).toMatchObject({ buy: "c1", sell: "c2", quantity: 100 });
    expect(s.fills[0].price).toBeCloseTo(1.6, 9);
    expect(s.welfare).toBeCloseTo(40, 9);
    // Same challenge, same id: answers are comparable across miners.
    const again = settleChallenge(c, DEFAULT_LATENCY, { nowMs: now + 5, deadlineMs: now + 1000 });
    expect(again.ok && (again.settlement as { id: string }).id).toBe(s.id);
  });

  it("scores the answer on its time to answer: a challenge answered 500 ms after it arrived weighs less than one answered at once", () => {
    const c = ChallengeInput.parse({ market: "demo", intents });
    type Scored = { score: { score: number; estimate: number; reward: number; weight: number; model: string; elapsedMs: number } };
    const prompt = settleChallenge(c, DEFAULT_LATENCY, { nowMs: now, deadlineMs: now + 1000, receivedMs: now });
    const slow = settleChallenge(c, DEFAULT_LATENCY, { nowMs: now, deadlineMs: now + 1000, receivedMs: now - 500 });
    if (!prompt.ok || !slow.ok) throw new Error("not answered");
    const [p, s] = [(prompt.settlement as Scored).score, (slow.settlement as Scored).score];
    expect(s.elapsedMs).toBeGreaterThanOrEqual(500);
    expect(s.weight).toBeLessThan(p.weight);
    // An optimal answer proves its whole share; 2 parties, none constrained, no ring.
    expect(p).toMatchObject({ estimate: 1, model: "certificate" });
    expect(p.reward).toBeCloseTo(1 + Math.log2(3) / 8, 12);
    expect(p.score).toBeCloseTo(p.estimate * p.reward * p.weight, 12);
  });

  it("uses the challenge's latency table over the market's (an unreachable pair does not trade)", () => {
    const c = ChallengeInput.parse({
      market: "demo",
      intents: [{ ...intents[0], region: "us-east", maxLatencyMs: 10 }, intents[1]],
      latency: { "us-east": { "eu-west": 80 } },
    });
    const a = settleChallenge(c, DEFAULT_LATENCY, { nowMs: now, deadlineMs: now + 1000 });
    expect(a.ok && (a.settlement as { fills: unknown[] }).fills).toEqual([]);
  });

  it("refuses commitments (422) and repeated ids (400)", () => {
    const commit = ChallengeInput.parse({ market: "demo", commitments: [{ hash: "00" }] });
    expect(settleChallenge(commit, DEFAULT_LATENCY, { nowMs: now, deadlineMs: now + 1000 })).toMatchObject({ ok: false, status: 422 });
    const twice = ChallengeInput.parse({ market: "demo", intents: [{ ...intents[0], id: "x" }, { ...intents[1], id: "x" }] });
    expect(settleChallenge(twice, DEFAULT_LATENCY, { nowMs: now, deadlineMs: now + 1000 })).toMatchObject({ ok: false, status: 400 });
  });
});

describe("persistent nonce store", () => {
  it("keeps nonces past 2^53 exactly across a reopen of the database, and prunes idle endpoints", () => {
    const dir = mkdtempSync(join(tmpdir(), "nash-nonces-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "axon.sqlite");
    let t = 1_000_000;
    let db = new DatabaseSync(file);
    let store = new SqlNonceStore(sqliteExec(db), () => t);
    const big = 1_795_704_191_947_965_201n; // 2^53 ≈ 9.0e15: this one is not a double
    store.set(`${CHARLIE}:u1`, big);
    store.set(`${CHARLIE}:u1`, big + 1n);
    db.close();
    db = new DatabaseSync(file);
    t += 10;
    store = new SqlNonceStore(sqliteExec(db), () => t);
    expect(store.get(`${CHARLIE}:u1`)).toBe(big + 1n);
    expect(store.get(`${CHARLIE}:u2`)).toBeUndefined();
    store.set(`${CHARLIE}:u2`, big);
    t += 1000;
    expect(store.prune(500)).toBe(2);
    expect(store.get(`${CHARLIE}:u1`)).toBeUndefined();
    db.close();
  });
});

describe("npm run dev: bridge variables", () => {
  it("takes the process environment over .dev.vars, and treats empty as unset", () => {
    const text = `MINER_NODE_URL=http://a:1\nAXON_HOTKEY=${BOB}\nVALIDATOR_HOTKEYS=${CHARLIE}\nOTHER=x\n`;
    const { merged, fromProcess } = mergedBridgeEnv({ MINER_NODE_URL: "http://b:2", AXON_HOTKEY: "", MINER_HOTKEY_URI: "//Alice" }, text);
    expect(merged).toEqual({ MINER_NODE_URL: "http://b:2", MINER_HOTKEY_URI: "//Alice", AXON_HOTKEY: BOB, VALIDATOR_HOTKEYS: CHARLIE });
    expect(fromProcess).toEqual({ MINER_NODE_URL: "http://b:2", MINER_HOTKEY_URI: "//Alice" });
  });

  it("writes a private env file that wrangler's dotenv reads back literally", async () => {
    const phrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk//hard/soft///pass#word";
    const text = envFileText({ MINER_HOTKEY_URI: phrase });
    const { parseEnv } = await import("node:util");
    expect(parseEnv(text)).toEqual({ MINER_HOTKEY_URI: phrase });
    expect(() => envFileText({ MINER_HOTKEY_URI: "it's" })).toThrow(/single quote/);
  });

  it("plans: off says so, half set is an error naming what is missing, on writes a 0600 file", () => {
    const root = mkdtempSync(join(tmpdir(), "nash-devroot-"));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const off = planBridge({}, root);
    expect(off.ok && off.plan.summary).toMatch(/^bittensor bridge: off/);
    expect(off.ok && off.plan.envFiles).toEqual([]);
    const half = planBridge({ MINER_NODE_URL: "http://127.0.0.1:1" }, root);
    expect(half.ok).toBe(false);
    expect(!half.ok && half.errors.join("\n")).toMatch(/MINER_HOTKEY_URI is required/);
    expect(!half.ok && half.errors.join("\n")).toMatch(/AXON_HOTKEY is required/);
    writeFileSync(join(root, ".dev.vars"), `VALIDATOR_HOTKEYS=${CHARLIE}\n`);
    const on = planBridge({ ...relayEnv(8907) }, root);
    expect(on.ok).toBe(true);
    if (!on.ok) return;
    expect(on.plan.summary).toContain("relay on");
    expect(on.plan.summary).toContain("/NashChallenge on for 1 validator(s)");
    expect(on.plan.summary).not.toContain("//Alice");
    expect(on.plan.envFiles[0]).toBe(join(root, ".dev.vars"));
    const file = on.plan.envFiles[1];
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toContain("MINER_HOTKEY_URI='//Alice'");
    on.plan.cleanup();
    expect(() => statSync(file)).toThrow();
    expect(keypairFromUriOrThrow("//Alice").ss58).toBe(ALICE);
  });
});
