// End to end under real `wrangler dev` (scripts/dev.ts): signed intents over HTTP settle, the WebSocket streams
// events, and the market's state survives a server restart. Ports: E2E_PORT (default 8803) and
// E2E_INSPECTOR_PORT (default E2E_PORT + 10); the server is always stopped by its PID.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, expect, test } from "vitest";
import { generateAgentKey, type AgentKey } from "../../src/contract/auth.ts";
import { signedRequest, waitForHealth } from "../../scripts/demo.ts";
import { devSettings, wranglerArgs, wranglerEnv } from "../../scripts/dev.ts";

const PORT = Number(process.env.E2E_PORT || 8803);
const INSPECTOR_PORT = Number(process.env.E2E_INSPECTOR_PORT || PORT + 10);
const BASE = `http://127.0.0.1:${PORT}`;
const root = resolve(import.meta.dirname, "../..");
const stateDir = mkdtempSync(join(tmpdir(), "nash-e2e-"));

let server: ChildProcess | undefined;

/** GET as loosely typed JSON: the test asserts on shapes. */
async function getJson(path: string): Promise<any> {
  return (await fetch(BASE + path)).json();
}
let log = "";

function portFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const probe = createServer();
    probe.once("error", () => r(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => r(true)));
  });
}

async function start(operator: AgentKey): Promise<void> {
  for (const p of [PORT, INSPECTOR_PORT]) {
    if (!(await portFree(p))) throw new Error(`port ${p} is busy; set E2E_PORT / E2E_INSPECTOR_PORT`);
  }
  const child = spawn(process.execPath, [resolve(root, "scripts/dev.ts")], {
    cwd: root,
    detached: true, // its own process group, so a last-resort kill reaches wrangler and workerd too
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: String(PORT),
      INSPECTOR_PORT: String(INSPECTOR_PORT),
      NASH_STATE_DIR: stateDir,
      OPERATOR_AGENTS: operator.publicKey,
    },
  });
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  server = child;
  try {
    await waitForHealth(BASE, 90_000, child);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- server log ---\n${log.slice(-4000)}`);
  }
}

/** SIGTERM to the dev script (it forwards to wrangler); SIGKILL to the whole group if it lingers. */
async function stop(): Promise<void> {
  const child = server;
  server = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 15_000));
  if ((await Promise.race([exited, timer])) === "timeout" && child.pid !== undefined) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await exited;
  }
  // Wait until the port is released so the next start can bind it.
  for (let i = 0; i < 50 && !(await portFree(PORT)); i++) await new Promise((r) => setTimeout(r, 200));
}

afterAll(async () => {
  await stop();
  rmSync(stateDir, { recursive: true, force: true });
}, 30_000);

test("signed intents settle under wrangler dev, and the state survives a restart", { timeout: 240_000 }, async () => {
  const operator = await generateAgentKey();
  const [buyer, seller] = [await generateAgentKey(), await generateAgentKey()];
  const market = `e2e-${Date.now().toString(36)}`;
  const path = `/v1/markets/${market}`;
  await start(operator);

  // The operator's configuration creates the market (a stream, like every read, is 404 before its first write).
  const config = await signedRequest(BASE, operator, "PUT", `${path}/config`, { clearing: "continuous", batchIntervalMs: 500 });
  expect(config.status).toBe(200);
  // The stream sees what happens.
  const events: { type: string }[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${PORT}${path}/stream`);
  ws.addEventListener("message", (e) => {
    events.push(JSON.parse(String(e.data)));
  });
  await new Promise<void>((ok, fail) => {
    ws.addEventListener("open", () => ok());
    ws.addEventListener("error", () => fail(new Error("WebSocket did not open")));
  });

  const buy = await signedRequest(BASE, buyer, "POST", `${path}/intents`, {
    id: "b1", side: "buy", resource: "gpu-h100-hr", quantity: 100, limitPrice: 1.8, region: "eu-west",
  });
  expect(buy.status).toBe(201);
  const sell = await signedRequest(BASE, seller, "POST", `${path}/intents`, {
    id: "s1", side: "sell", resource: "gpu-h100-hr", quantity: 500, limitPrice: 1.4, region: "eu-west",
  }, { "idempotency-key": "sell-1" });
  expect(sell.status).toBe(201);
  const settlement = sell.body.settlement;
  expect(settlement.fills).toEqual([{ buy: "b1", sell: "s1", resource: "gpu-h100-hr", quantity: 100, price: expect.closeTo(1.6, 9) }]);
  // Errors are problems, not stack traces.
  const bad = await signedRequest(BASE, buyer, "POST", `${path}/intents`, { side: "buy", quantity: -1 });
  expect(bad.status).toBe(422);
  expect(bad.headers.get("content-type")).toBe("application/problem+json");
  const unsigned = await fetch(`${BASE}${path}/intents`, { method: "POST", body: "{}" });
  expect(unsigned.status).toBe(401);

  for (let i = 0; i < 40 && !events.some((e) => e.type === "settlement.committed"); i++) await new Promise((r) => setTimeout(r, 100));
  expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["hello", "intent.accepted", "settlement.committed"]));
  ws.close();

  const before = await getJson(path);
  expect(before.counters).toMatchObject({ intents: 2, settlements: 1, fills: 1, volume: 100 });

  await stop();
  await start(operator);

  const after = await getJson(path);
  expect(after.counters).toEqual(before.counters);
  expect(after.config).toMatchObject({ clearing: "continuous", batchIntervalMs: 500 });
  const s = await fetch(`${BASE}${path}/settlements/${settlement.id}`);
  expect(s.status).toBe(200);
  expect(await s.json()).toEqual(settlement);
  const b1 = await getJson(`${path}/intents/b1`);
  expect(b1).toMatchObject({ status: "filled", filledQuantity: 100 });
  // The idempotency record survived too: the retry gets the first answer.
  const retry = await signedRequest(BASE, seller, "POST", `${path}/intents`, {
    id: "s1", side: "sell", resource: "gpu-h100-hr", quantity: 500, limitPrice: 1.4, region: "eu-west",
  }, { "idempotency-key": "sell-1" });
  expect(retry.status).toBe(201);
  expect(retry.body).toEqual(sell.body);
  // And the book keeps trading where it left off.
  const more = await signedRequest(BASE, buyer, "POST", `${path}/intents`, {
    side: "buy", resource: "gpu-h100-hr", quantity: 50, limitPrice: 2, region: "eu-west",
  });
  expect(more.body.settlement.fills[0]).toMatchObject({ sell: "s1", quantity: 50 });
  expect((await getJson(`${path}/intents/s1`)).filledQuantity).toBe(150);

  await stop();
});

test("npm start --once: serves, runs the demo (bilateral example settles 100 at 1.6) and exits 0", { timeout: 180_000 }, async () => {
  const port = Number(process.env.E2E_START_PORT || PORT + 2);
  const inspector = Number(process.env.E2E_START_INSPECTOR_PORT || port + 10);
  for (const p of [port, inspector]) {
    if (!(await portFree(p))) throw new Error(`port ${p} is busy; set E2E_START_PORT / E2E_START_INSPECTOR_PORT`);
  }
  const dir = mkdtempSync(join(tmpdir(), "nash-start-"));
  const child = spawn(process.execPath, [resolve(root, "scripts/demo.ts"), "--serve", "--once"], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PORT: String(port), INSPECTOR_PORT: String(inspector), NASH_STATE_DIR: dir },
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const code = await new Promise<number | null>((r) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
    }, 150_000);
    child.on("exit", (c) => {
      clearTimeout(timer);
      r(c);
    });
  });
  rmSync(dir, { recursive: true, force: true });
  expect(code, out.slice(-3000)).toBe(0);
  expect(out).toMatch(/100 gpu-h100-hr: \S+ \(\S+\) buys from \S+ \(\S+\) at 1\.6\b/);
  // The seed's three-party scenario with windows: inference (priority high) clears the chain on arrival in the
  // batch market, and the demo says why (windows, the bridging swap, surplus, soft latency, priority).
  expect(out).toMatch(/inference-agent's intent has priority high: it cleared on arrival/);
  expect(out).toMatch(/200 gpu-h100-hr: inference-agent \(inference-now\) buys from storage-agent \(storage-defer\) at 1\.8333 delivered \d\d:\d\d–\d\d:\d\d UTC/);
  expect(out).toMatch(/200 gpu-h100-hr: storage-agent \(storage-defer\) buys from compute-agent \(compute-idle\) at 1\.3667 delivered/);
  expect(out).toMatch(/surplus: inference-agent 33\.33, storage-agent 33\.33, compute-agent 33\.33 \(sum 100\.00 = welfare 100\)/);
  expect(out).toMatch(/windows: inference-agent needs gpu-h100-hr .* no time in common/);
  expect(out).toMatch(/soft latency: inference-agent prefers ≤ 30 ms .*compute-agent \(us-east\) is 76 ms away: its limit against compute-agent moves by 0\.092 to 1\.908/);
  expect(out).not.toMatch(/in-4h/);
});

test("dev settings: defaults, overrides, vars and refused ports", () => {
  const d = devSettings({});
  expect(d).toMatchObject({ port: 8787, inspectorPort: 9787, vars: {} });
  expect(d.stateDir.endsWith(join(".wrangler", "state"))).toBe(true);
  const s = devSettings({ PORT: "8801", INSPECTOR_PORT: "8811", NASH_STATE_DIR: "/tmp/x", OPERATOR_AGENTS: "k1,k2", RATE_LIMIT_BURST: "" });
  expect(s).toEqual({ port: 8801, inspectorPort: 8811, stateDir: "/tmp/x", vars: { OPERATOR_AGENTS: "k1,k2" } });
  expect(wranglerArgs(s)).toEqual([
    "dev", "--ip", "127.0.0.1", "--port", "8801", "--inspector-port", "8811", "--persist-to", "/tmp/x",
    "--show-interactive-dev-session=false", "--var", "OPERATOR_AGENTS:k1,k2",
  ]);
  const floor = devSettings({ NASH_WRANGLER_CONFIG: "bench/wrangler.floor.toml" });
  expect(floor.config).toBe(join(root, "bench/wrangler.floor.toml"));
  expect(wranglerArgs(floor).slice(-2)).toEqual(["--config", floor.config]);
  expect(devSettings({ PORT: "65000" }).inspectorPort).toBe(64000);
  expect(() => devSettings({ PORT: "http" })).toThrow(/PORT/);
  expect(() => devSettings({ INSPECTOR_PORT: "70000" })).toThrow(/INSPECTOR_PORT/);
  // wrangler's per-request local traces are off unless asked for; the rest of the environment passes through.
  expect(wranglerEnv({ PATH: "/bin" })).toMatchObject({ PATH: "/bin", X_LOCAL_OBSERVABILITY: "false", WRANGLER_SEND_METRICS: "false" });
  expect(wranglerEnv({ X_LOCAL_OBSERVABILITY: "true" }).X_LOCAL_OBSERVABILITY).toBe("true");
  // workerd's young generation: 64 MiB unless the caller chose (empty: V8's default).
  expect(wranglerEnv({}).MINIFLARE_WORKERD_V8_FLAGS).toBe("--max-semi-space-size=64");
  expect(wranglerEnv({ MINIFLARE_WORKERD_V8_FLAGS: "" }).MINIFLARE_WORKERD_V8_FLAGS).toBe("");
});
