// Measures the latency of one signed intent submit through `wrangler dev`, sequentially (one request in flight),
// and prints p50/p90/p99 per scenario, plus the time the worker spent waiting on the market object (its
// Server-Timing header). Uses BASE_URL when set; otherwise starts scripts/dev.ts on PORT
// (default 8804, inspector INSPECTOR_PORT or PORT+10) with a throw-away state dir, and stops it afterwards.
// Usage: npx node scripts/latency.ts [requests per scenario, default 300]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { parseOrExit, soleNumberArg } from "../src/cli/args.ts";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateAgentKey, signRequest, type AgentKey } from "../src/contract/auth.ts";
import { waitForHealth } from "./demo.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface Scenario {
  name: string;
  /** The k-th intent of the run. */
  intent: (k: number) => Record<string, unknown>;
}

const SCENARIOS: Scenario[] = [
  {
    // Buyers below sellers: nothing crosses, so this is validate + verify + store + a solve that finds nothing.
    name: "submit, no trade (book grows)",
    intent: (k) => ({ side: k % 2 ? "sell" : "buy", resource: "gpu-h100-hr", quantity: 10, limitPrice: k % 2 ? 3 : 1, region: "eu-west" }),
  },
  {
    // Alternating crossing buy/sell: every second submit settles one fill in its answer.
    name: "submit, every 2nd settles",
    intent: (k) => ({ side: k % 2 ? "sell" : "buy", resource: "gpu-h100-hr", quantity: 10, limitPrice: k % 2 ? 1.4 : 1.8, region: "eu-west" }),
  },
];

async function measure(base: string, agents: AgentKey[], scenario: Scenario, n: number) {
  const market = `lat-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const path = `/v1/markets/${market}/intents`;
  const times: number[] = [];
  const objectTimes: number[] = [];
  let signMs = 0;
  let settled = 0;
  for (let k = 0; k < n + 10; k++) {
    const agent = agents[k % agents.length];
    const body = JSON.stringify(scenario.intent(k));
    const s0 = performance.now();
    const headers = await signRequest({ privateKey: agent.privateKey, publicKey: agent.publicKey, method: "POST", path, body });
    const t0 = performance.now();
    const r = await fetch(base + path, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
    const answer = (await r.json()) as { settlement?: unknown };
    const t1 = performance.now();
    const market = /market;dur=([\d.]+)/.exec(r.headers.get("server-timing") ?? "");
    if (r.status !== 201) throw new Error(`submit ${k} failed: ${r.status} ${JSON.stringify(answer)}`);
    if (k >= 10) {
      // the first 10 warm the isolate and the object
      times.push(t1 - t0);
      if (market) objectTimes.push(Number(market[1]));
      signMs += t0 - s0;
      if (answer.settlement) settled++;
    }
  }
  times.sort((a, b) => a - b);
  objectTimes.sort((a, b) => a - b);
  return {
    objectP50: objectTimes.length ? quantile(objectTimes, 0.5) : NaN,
    objectP99: objectTimes.length ? quantile(objectTimes, 0.99) : NaN,
    scenario: scenario.name,
    n,
    settled,
    p50: quantile(times, 0.5),
    p90: quantile(times, 0.9),
    p99: quantile(times, 0.99),
    max: times[times.length - 1],
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    signMean: signMs / n,
  };
}

/** GET /v1/health: what wrangler dev's proxy and the worker cost without the object, signing or a body. */
async function baseline(base: string, n: number) {
  const times: number[] = [];
  for (let k = 0; k < n + 10; k++) {
    const t0 = performance.now();
    const r = await fetch(`${base}/v1/health`);
    await r.text();
    if (k >= 10) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { scenario: "GET /v1/health (baseline)", n, settled: 0, p50: quantile(times, 0.5), p90: quantile(times, 0.9), p99: quantile(times, 0.99), max: times[times.length - 1], mean, signMean: 0, objectP50: NaN, objectP99: NaN };
}

async function main(): Promise<void> {
  const n = parseOrExit("usage: npx node scripts/latency.ts [N, requests per scenario, default 300]", () => soleNumberArg("N", 300, { min: 1, integer: true }));
  let base = process.env.BASE_URL;
  let stop = async () => {};
  if (!base) {
    const port = Number(process.env.PORT || 8804);
    const stateDir = mkdtempSync(join(tmpdir(), "nash-latency-"));
    const child = spawn(process.execPath, [resolve(root, "scripts/dev.ts")], {
      cwd: root,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, PORT: String(port), INSPECTOR_PORT: process.env.INSPECTOR_PORT || String(port + 10), NASH_STATE_DIR: stateDir },
    });
    const exited = new Promise<void>((r) => child.on("exit", () => r()));
    stop = async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(stateDir, { recursive: true, force: true });
    };
    process.on("SIGINT", () => void stop().then(() => process.exit(130)));
    base = `http://127.0.0.1:${port}`;
    await waitForHealth(base, 90_000, child);
  }
  try {
    // Several agents so the per-agent rate limit (default 200 burst, 100/s) never shapes the figures.
    const agents = await Promise.all(Array.from({ length: 8 }, () => generateAgentKey()));
    const rows = [await baseline(base, n)];
    for (const s of SCENARIOS) rows.push(await measure(base, agents, s, n));
    const f = (x: number) => x.toFixed(2).padStart(8);
    console.log(`\nsigned POST /v1/markets/{m}/intents through wrangler dev (${base}), sequential, ms per request`);
    console.log(`${"scenario".padEnd(32)} ${"n".padStart(5)} ${"p50".padStart(8)} ${"p90".padStart(8)} ${"p99".padStart(8)} ${"max".padStart(8)} ${"mean".padStart(8)}  settled  sign(ms)  object p50/p99`);
    for (const r of rows) {
      console.log(`${r.scenario.padEnd(32)} ${String(r.n).padStart(5)} ${f(r.p50)} ${f(r.p90)} ${f(r.p99)} ${f(r.max)} ${f(r.mean)}  ${String(r.settled).padStart(7)}  ${r.signMean.toFixed(3).padStart(8)}  ${Number.isNaN(r.objectP50) ? "-" : `${r.objectP50.toFixed(1)}/${r.objectP99.toFixed(1)}`}`);
    }
  } finally {
    await stop();
  }
}

main().catch((e) => {
  console.error(`latency failed: ${(e as Error).message}`);
  process.exit(1);
});
