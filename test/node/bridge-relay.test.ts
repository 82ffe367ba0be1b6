// The relay end to end against the development miner node: exactly-once recording per settlement across a
// node outage of hours (simulated clock), a lost acknowledgement, a restart of the service and of the node;
// the bridge configuration; the node as a program; and its validator mode against an axon route.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { keypairFromUri } from "../../src/bridge/keys.ts";
import { DEFAULT_POLICY, SqlOutbox, buildSettlementMessage, seededRandom } from "../../src/bridge/outbox.ts";
import { drainOutbox, readBridgeConfig, relayUuid, type RelayDeps } from "../../src/bridge/relay.ts";
import { handleNashChallenge } from "../../src/bridge/axon.ts";
import { sendChallenge, startMinerNode } from "../../tools/miner-node/main.ts";
import { settlement, sqliteExec } from "./bridge-fixtures.ts";

const EDGE_URI = "//Alice"; // the miner's hotkey as the edge holds it (MINER_HOTKEY_URI)
const NODE_URI = "//Bob"; // the node's axon hotkey (AXON_HOTKEY)
const edge = keypairFromUri(EDGE_URI);
const nodeKey = keypairFromUri(NODE_URI);
if (!edge.ok || !nodeKey.ok) throw new Error("dev keys");

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function received(port: number) {
  return (await (await fetch(`http://127.0.0.1:${port}/received`)).json()) as {
    count: number;
    distinct: number;
    duplicates: number;
    rejected: number;
    received: { key: string }[];
  };
}

async function control(port: number, down: "503" | "close" | null) {
  await fetch(`http://127.0.0.1:${port}/__control`, { method: "POST", body: JSON.stringify({ down }) });
}

describe("readBridgeConfig", () => {
  it("is off, and says so, with nothing set", () => {
    const r = readBridgeConfig({});
    expect(r.ok && r.config).toEqual({});
    expect(r.ok && r.summary).toMatch(/bridge: off/);
  });

  it("reads a full configuration", () => {
    const r = readBridgeConfig({
      MINER_NODE_URL: "http://127.0.0.1:8842/",
      MINER_HOTKEY_URI: EDGE_URI,
      AXON_HOTKEY: edge.ok ? edge.keypair.ss58 : "",
      VALIDATOR_HOTKEYS: " 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty , 5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y",
    });
    if (!r.ok) throw new Error(r.errors.join("; "));
    expect(r.config.relay?.url).toBe("http://127.0.0.1:8842");
    expect(r.config.relay?.keypair.ss58).toBe("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    expect([...r.config.axon!.validators]).toHaveLength(2);
    // The edge holds the axon's own key here, so it signs its answers.
    expect(r.config.axon?.keypair?.ss58).toBe(r.config.axon?.hotkey);
  });

  it("names every missing or malformed variable instead of starting half a bridge", () => {
    const r = readBridgeConfig({ MINER_NODE_URL: "ftp://x", VALIDATOR_HOTKEYS: "nope", MINER_HOTKEY_URI: "//Alice///" + "\u0000" });
    expect(r.ok).toBe(false);
    const errors = r.ok ? [] : r.errors.join("\n");
    expect(errors).toMatch(/AXON_HOTKEY is required/);
    expect(errors).toMatch(/MINER_NODE_URL must be an http/);
    expect(errors).toMatch(/VALIDATOR_HOTKEYS: nope/);
    const r2 = readBridgeConfig({ MINER_NODE_URL: "http://x", AXON_HOTKEY: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQX" });
    expect(!r2.ok && r2.errors.join("\n")).toMatch(/AXON_HOTKEY is not a valid SS58[\s\S]*MINER_HOTKEY_URI is required/);
  });
});

describe("relay → miner node", () => {
  it("records every settlement exactly once across hours of outage, a lost ack and restarts of both sides", async () => {
    if (!edge.ok || !nodeKey.ok) return;
    const dir = mkdtempSync(join(tmpdir(), "nash-bridge-"));
    const dbPath = join(dir, "market.sqlite");
    const record = join(dir, "received.jsonl");
    const port = 8842;
    const nodeOpts = { port, record, hotkey: nodeKey.keypair.ss58, allow: new Set([edge.keypair.ss58]) };
    let node = await startMinerNode(nodeOpts);
    cleanups.push(() => node.close());

    // Simulated wall clock for scheduling; nonces use the real clock (the node checks their freshness).
    let now = Date.parse("2026-11-26T14:00:00Z");
    let dropNextAck = false;
    const deps: RelayDeps = {
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        if (dropNextAck) {
          dropNextAck = false;
          throw new TypeError("connection reset after the node processed the request");
        }
        return res;
      },
      relay: { url: `http://127.0.0.1:${port}`, keypair: edge.keypair, axonHotkey: nodeKey.keypair.ss58 },
      uuid: relayUuid("m1"),
      timeoutSec: 5,
      nowMs: () => now,
      nowNs: () => BigInt(Date.now()) * 1_000_000n,
      random: seededRandom(42),
    };
    let db = new DatabaseSync(dbPath);
    let outbox = new SqlOutbox(sqliteExec(db));
    const enqueue = (id: string) =>
      outbox.enqueue(buildSettlementMessage({ market: "m1", settlement: settlement(id), scores: { estimate: 0.9 }, committedAt: new Date(now).toISOString() }), now);

    // 1. Node down (503) for three simulated hours while settlements keep committing.
    await control(port, "503");
    const attemptTimes: number[] = [];
    for (let i = 0; i < 4; i++) enqueue(`s${i}`);
    const outageEnd = now + 3 * 3600_000;
    while (now < outageEnd) {
      const r = await drainOutbox(outbox, deps);
      attemptTimes.push(now);
      expect(r.delivered).toBe(0);
      expect(r.failed).toBe(1); // one probe per alarm, not the whole batch
      expect(r.nextAlarmAt).not.toBeNull();
      expect(r.nextAlarmAt! - now).toBeLessThanOrEqual(DEFAULT_POLICY.maxDelayMs);
      now = r.nextAlarmAt!;
      if (attemptTimes.length === 5) {
        enqueue("s4");
        await control(port, "close"); // and now the port refuses connections outright
      }
    }
    // Backoff bounded the work: about 3 h / 5 min plus the ramp, not thousands of attempts.
    console.log(`outage: ${attemptTimes.length} probes over 3 simulated hours`);
    expect(attemptTimes.length).toBeGreaterThan(30);
    expect(attemptTimes.length).toBeLessThan(80);
    expect((await received(port)).count).toBe(0);

    // 2. The service restarts: the outbox is whatever was committed to disk.
    db.close();
    db = new DatabaseSync(dbPath);
    outbox = new SqlOutbox(sqliteExec(db));
    cleanups.push(() => db.close());
    expect(outbox.metrics().pending).toBe(5);
    enqueue("s5");

    // 3. The node comes back; the first acknowledgement is lost on the way back.
    await control(port, null);
    dropNextAck = true;
    for (let alarms = 0; outbox.metrics().pending > 0 && alarms < 10; alarms++) {
      const r = await drainOutbox(outbox, deps);
      now = r.nextAlarmAt ?? now;
    }
    expect(outbox.metrics().pending).toBe(0);

    // 4. The node restarts from its record file and is sent an old settlement again: still recorded once.
    await node.close();
    node = await startMinerNode(nodeOpts);
    outbox.enqueue(buildSettlementMessage({ market: "m1", settlement: settlement("s0"), scores: { estimate: 0.9 }, committedAt: "again" }), now);
    // (The first attempt may hit a pooled connection of the old process: it is just retried.)
    for (let alarms = 0; outbox.metrics().pending > 0 && alarms < 5; alarms++) {
      const r = await drainOutbox(outbox, deps);
      now = r.nextAlarmAt ?? now;
    }
    expect(outbox.metrics().pending).toBe(0);

    const got = await received(port);
    const keys = got.received.map((r) => r.key).sort();
    expect(keys).toEqual(["s0", "s1", "s2", "s3", "s4", "s5"].map((s) => `nash:m1:${s}`));
    expect(got.duplicates).toBe(1); // the s0 resend; the lost-ack duplicate was counted by the previous process
    expect(got.rejected).toBe(0);
    const lines = readFileSync(record, "utf8").trim().split("\n");
    expect(lines).toHaveLength(6);
    const m = outbox.metrics();
    expect(m.counters.delivered).toBe(7);
    expect(m.counters.duplicates).toBe(2); // lost ack + the resend
    // The outage's probes, the lost ack, and at most one stale pooled connection per node restart.
    expect(m.counters.failed_attempts).toBeGreaterThanOrEqual(attemptTimes.length + 1);
    expect(m.counters.failed_attempts).toBeLessThanOrEqual(attemptTimes.length + 3);
  });

  it("is refused by a node that does not allow the edge's hotkey, and keeps the row", async () => {
    if (!edge.ok || !nodeKey.ok) return;
    const port = 8843;
    const node = await startMinerNode({ port, hotkey: nodeKey.keypair.ss58, allow: new Set(["5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y"]) });
    cleanups.push(() => node.close());
    const outbox = new SqlOutbox(sqliteExec(new DatabaseSync(":memory:")));
    outbox.enqueue(buildSettlementMessage({ market: "m1", settlement: settlement("x"), committedAt: "t" }), 0);
    const r = await drainOutbox(outbox, {
      fetch,
      relay: { url: `http://127.0.0.1:${port}`, keypair: edge.keypair, axonHotkey: nodeKey.keypair.ss58 },
      uuid: relayUuid("m1"),
      nowMs: () => 0,
      nowNs: () => BigInt(Date.now()) * 1_000_000n,
      random: () => 0.5,
    });
    expect(r).toMatchObject({ delivered: 0, failed: 1 });
    expect(outbox.due(10_000_000)[0]).toMatchObject({ lastStatus: 403, attempts: 1 });
    expect((await received(port)).rejected).toBe(1);
  });

  it("measures the relay's added latency per settlement (real clock)", async () => {
    if (!edge.ok || !nodeKey.ok) return;
    const port = 8844;
    const node = await startMinerNode({ port, hotkey: nodeKey.keypair.ss58 });
    cleanups.push(() => node.close());
    const outbox = new SqlOutbox(sqliteExec(new DatabaseSync(":memory:")));
    const n = 30;
    for (let i = 0; i < n; i++) outbox.enqueue(buildSettlementMessage({ market: "m1", settlement: settlement(`l${i}`), committedAt: "t" }), Date.now());
    const started = Date.now();
    const r = await drainOutbox(outbox, {
      fetch,
      relay: { url: `http://127.0.0.1:${port}`, keypair: edge.keypair, axonHotkey: nodeKey.keypair.ss58 },
      uuid: relayUuid("m1"),
      nowMs: Date.now,
      random: Math.random,
    });
    const perMessage = (Date.now() - started) / n;
    console.log(`relay: ${n} settlements in ${Date.now() - started} ms, ${perMessage.toFixed(1)} ms each (sign + POST + node verify + record)`);
    expect(r.delivered).toBe(n);
    expect((await received(port)).distinct).toBe(n);
  });
});

describe("miner node program and validator mode", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.pid) child.kill("SIGTERM");
    child = undefined;
  });

  it("runs as a program (`npx node tools/miner-node/main.ts`) and accepts the relay", async () => {
    if (!edge.ok || !nodeKey.ok) return;
    const port = 8845;
    // process.execPath is the Node 22 that `npx node` resolves to; spawning it directly keeps the pid ours to stop.
    child = spawn(process.execPath, ["tools/miner-node/main.ts", "--port", String(port), "--hotkey-uri", NODE_URI, "--allow", edge.keypair.ss58], {
      cwd: process.cwd(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("miner node did not start")), 30_000);
      child!.stdout!.on("data", (d: Buffer) => {
        if (d.toString().includes("listening")) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    const outbox = new SqlOutbox(sqliteExec(new DatabaseSync(":memory:")));
    outbox.enqueue(buildSettlementMessage({ market: "m9", settlement: settlement("p1", "m9"), committedAt: "t" }), 0);
    const r = await drainOutbox(outbox, {
      fetch,
      relay: { url: `http://127.0.0.1:${port}`, keypair: edge.keypair, axonHotkey: nodeKey.keypair.ss58 },
      uuid: relayUuid("m9"),
      nowMs: () => 0,
      nowNs: () => BigInt(Date.now()) * 1_000_000n,
      random: () => 0.5,
    });
    expect(r.delivered).toBe(1);
    expect((await received(port)).received[0].key).toBe("nash:m9:p1");
  });

  it("sends a signed NashChallenge and reads the axon's answer; a stranger gets 403", async () => {
    if (!edge.ok || !nodeKey.ok) return;
    const port = 8846;
    const validatorKey = keypairFromUri("//Charlie");
    if (!validatorKey.ok) return;
    // The edge route's logic (the worker only adapts Request/Response around it).
    const nonces = new Map<string, bigint>();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", async () => {
        const answer = await handleNashChallenge(req.url ?? "/", req.headers as Record<string, string>, Buffer.concat(chunks).toString("utf8"), {
          axon: { hotkey: edge.keypair.ss58, validators: new Set([validatorKey.keypair.ss58]), keypair: edge.keypair },
          nonces,
          uuid: "edge",
          nowNs: () => BigInt(Date.now()) * 1_000_000n,
          nowMs: Date.now,
          answer: async (c) => ({ ok: true, settlement: { ...settlement("c1", c.market), intents: c.intents?.length } }),
        });
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      });
    });
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const challenge = JSON.stringify({ market: "m1", intents: [] });
    const ok = await sendChallenge({ url: `http://127.0.0.1:${port}`, keypair: validatorKey.keypair, axonHotkey: edge.keypair.ss58, challenge, timeoutSec: 5 });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.fields?.settlement as string).id).toBe("c1");
    expect(ok.headers.bt_header_axon_status_code).toBe("200");
    const refused = await sendChallenge({ url: `http://127.0.0.1:${port}`, keypair: nodeKey.keypair, axonHotkey: edge.keypair.ss58, challenge, timeoutSec: 5 });
    expect(refused.status).toBe(403);
    expect(refused.message).toMatch(/blacklisted/);
  });
});
