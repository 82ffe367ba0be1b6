// `npm run bench:load`: sustained signed intent submission against `wrangler dev` from a second process on
// loopback, as an agent sees it. Each market is seeded with a resting book (default 1,000 intents: buyers at
// 1.0–1.5, sellers at 2.0–2.5, huge quantities, so it never runs dry), then intents arrive open-loop at a fixed
// rate: a share `--cross` of them cross the book (a small buy above 2.5 or sell below 1.0, filled at once), the
// rest rest inside the spread and expire after `--ttl-ms` (so the book stays near its seeded size).
// Latency = POST sent → `settlement.committed` naming the intent received on the market's WebSocket.
// Prints markdown tables: the target run, the knee search, the floor, and the 20-market run. The floor sends the same
// signed POSTs on the same schedule to a worker that does nothing (bench/floor-worker.ts, its own `wrangler dev`):
// what wrangler dev, the runtime and this machine give at that rate before NASH does any work.
//
// Flags (defaults = issue 6): --rate 200 --duration 60 --book 1000 --markets 20 (for the multi-market run)
//   --cross 0.5 --ttl-ms 5000 --agents 32 --warmup 3 --knee 50,100,200,300,400,600,800 --step-duration 20
//   --only target|knee|floor|multi (comma list; default all four) --base URL (else starts its own server on 8860–8863;
//   the floor always starts its own, on 8864–8867)
//   --max-inflight 256: requests due while this many are unanswered are not sent and are counted as shed by the
//   client. Without a cap a saturated server accumulates thousands of connections; local workerd then runs out
//   of file descriptors ("Too many open files") and crashes, which measures the machine's ulimit, not NASH.
//   --root DIR: serve a copy of the repository (e.g. a frozen snapshot, so edits elsewhere do not reload the worker)
//   --profile FILE: CPU-profile the worker isolate during the target run (DevTools protocol on the inspector port;
//   with --base also give --inspector-port) and print where the time went; FILE gets the raw .cpuprofile.
import http from "node:http";
import { numberFlag, parseFlags, parseOrExit } from "../src/cli/args.ts";
import { generateAgentKey, signRequest } from "../src/contract/auth.ts";
import { inspect, report } from "../test/node/support/cpu-profile.ts";
import { getJson, openStream, pool, type MarketStream } from "../test/node/support/client.ts";
import { startDevServer, type DevServer } from "../test/node/support/dev-server.ts";
import { YOUNG_GENERATION_FLAGS } from "../scripts/dev.ts";

interface Flags {
  rate: number;
  duration: number;
  book: number;
  markets: number;
  cross: number;
  ttlMs: number;
  agents: number;
  warmup: number;
  knee: number[];
  stepDuration: number;
  only: string[];
  base: string | undefined;
  profile: string | undefined;
  inspectorPort: number | undefined;
  root: string | undefined;
  maxInflight: number;
}

function flagsOf(argv: string[]): Flags {
  const text = { type: "string" } as const;
  const { values } = parseFlags({
    args: argv,
    options: {
      rate: text, duration: text, book: text, markets: text, cross: text, "ttl-ms": text, agents: text, warmup: text, knee: text,
      "step-duration": text, only: text, base: text, profile: text, "inspector-port": text, root: text, "max-inflight": text,
    },
  });
  const n = (name: string, fallback: number) => numberFlag(values, name, { min: 0 }) ?? fallback;
  return {
    rate: n("rate", 200), duration: n("duration", 60), book: n("book", 1000), markets: n("markets", 20), cross: n("cross", 0.5),
    ttlMs: n("ttl-ms", 5000), agents: n("agents", 32), warmup: n("warmup", 3),
    knee: values.knee?.split(",").map(Number).filter((r) => r > 0) ?? [50, 100, 200, 300, 400, 600, 800],
    stepDuration: n("step-duration", 20),
    only: values.only?.split(",") ?? ["target", "knee", "floor", "multi"],
    base: values.base?.replace(/\/$/, ""),
    profile: values.profile,
    inspectorPort: numberFlag(values, "inspector-port", { min: 1, integer: true }),
    root: values.root,
    maxInflight: n("max-inflight", 256),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Agent {
  publicKey: string;
  key: CryptoKey;
}

async function makeAgents(n: number): Promise<Agent[]> {
  const out: Agent[] = [];
  for (let i = 0; i < n; i++) {
    const k = await generateAgentKey();
    const der = Buffer.from(k.privateKey, "base64url");
    out.push({ publicKey: k.publicKey, key: await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]) });
  }
  return out;
}

/**
 * Keep-alive connections through node:http: the load generator shares the 2 cores with the server, and `fetch`
 * (undici) costs it about twice the CPU per request.
 */
const connections = new http.Agent({ keepAlive: true, maxSockets: 1024 });

function request(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", agent: connections, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { name: "TimeoutError" })));
    req.on("error", reject);
    req.end(body);
  });
}

async function post(base: string, agent: Agent, market: string, intent: object, timeoutMs = 30_000): Promise<{ status: number; body: any; t0: number }> {
  const path = `/v1/markets/${market}/intents`;
  const body = JSON.stringify(intent);
  const headers = await signRequest({ privateKey: agent.key, publicKey: agent.publicKey, method: "POST", path, body });
  const t0 = performance.now();
  const r = await request(base + path, body, { "content-type": "application/json", ...headers }, timeoutMs);
  const text = r.text;
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (a proxy's error page): keep the text
  }
  return { status: r.status, body: parsed, t0 };
}

const REGIONS = ["eu-west", "eu-central", "us-east"];
const RESOURCE = "gpu-h100-hr";

/** Seeds a market with `n` resting intents that never cross each other. */
async function seed(base: string, market: string, n: number, agents: Agent[]): Promise<void> {
  const items = Array.from({ length: n }, (_, i) => i);
  const failures: number[] = [];
  await pool(items, 24, async (i) => {
    const buy = i % 2 === 0;
    const intent = {
      id: `seed-${i}`, side: buy ? "buy" : "sell", resource: RESOURCE, quantity: 1e9, region: REGIONS[i % REGIONS.length],
      limitPrice: Number((buy ? 1 + 0.5 * Math.random() : 2 + 0.5 * Math.random()).toFixed(4)),
    };
    for (let attempt = 0; ; attempt++) {
      const r = await post(base, agents[i % agents.length], market, intent);
      if (r.status === 201) return;
      if ((r.status === 429 || r.status >= 500) && attempt < 5) {
        await sleep(200 * (attempt + 1));
        continue;
      }
      if (r.status === 409) return; // already seeded (re-run against the same server)
      failures.push(r.status);
      return;
    }
  });
  if (failures.length > 0) throw new Error(`seeding ${market}: ${failures.length} failures (${[...new Set(failures)].join(",")})`);
}

interface Pending {
  t0: number;
  ack?: number;
  settled?: number;
  crossing: boolean;
  measured: boolean;
}

interface PhaseResult {
  offered: number;
  markets: number;
  sent: number;
  acked: number;
  errors: Map<string, number>;
  crossingAcked: number;
  settledSeen: number;
  missingSettlement: number;
  ackMs: number[];
  settleMs: number[];
  seconds: number;
  throughput: number;
  settlementsPerSecond: number;
  /** This process's CPU (signing, HTTP, the WebSocket) per request sent: the load generator's share of the cores. */
  clientCpuMs: number;
}

/** One open-loop phase at `rate` intents/s (total over the markets) for `seconds`. */
async function phase(
  base: string,
  markets: string[],
  pendings: Map<string, Map<string, Pending>>,
  agents: Agent[],
  f: Flags,
  rate: number,
  seconds: number,
): Promise<PhaseResult> {
  const total = Math.round(rate * seconds);
  const errors = new Map<string, number>();
  const tag = `${Date.now().toString(36)}-${rate}`;
  let acked = 0;
  let sent = 0;
  let measuredAcked = 0;
  const inflight = new Set<Promise<void>>();
  const warmupCount = Math.round(rate * Math.min(f.warmup, seconds / 4));
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let i = 0;
  let measuredStart = start;
  let measuredEnd = start;
  const fire = (k: number) => {
    if (inflight.size >= f.maxInflight) {
      const key = `shed by the client (${f.maxInflight} in flight)`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
      return;
    }
    const market = markets[k % markets.length];
    const crossing = Math.random() < f.cross;
    const buy = Math.random() < 0.5;
    const id = `l-${tag}-${k}`;
    const intent: Record<string, unknown> = {
      id, side: buy ? "buy" : "sell", resource: RESOURCE, region: REGIONS[k % REGIONS.length],
      quantity: 1 + Math.floor(Math.random() * 5),
    };
    if (crossing) intent.limitPrice = buy ? 2.6 + 0.4 * Math.random() : 0.5 + 0.4 * Math.random();
    else {
      intent.limitPrice = buy ? 1 + 0.5 * Math.random() : 2 + 0.5 * Math.random();
      intent.expiresAt = new Date(Date.now() + f.ttlMs).toISOString();
    }
    intent.limitPrice = Number((intent.limitPrice as number).toFixed(4));
    const measured = k >= warmupCount;
    if (k === warmupCount) measuredStart = performance.now();
    const p: Pending = { t0: performance.now(), crossing, measured };
    pendings.get(market)!.set(id, p);
    sent++;
    const job = post(base, agents[k % agents.length], market, intent)
      .then((r) => {
        p.t0 = r.t0;
        if (r.status === 201) {
          p.ack = performance.now();
          acked++;
          if (measured) measuredAcked++;
        } else {
          const key = `${r.status} ${typeof r.body === "object" ? (r.body?.type ?? "") : String(r.body).slice(0, 60)}`;
          errors.set(key, (errors.get(key) ?? 0) + 1);
        }
      })
      .catch((e: Error) => {
        const key = `network ${e.name}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      })
      .finally(() => {
        measuredEnd = performance.now();
        inflight.delete(job);
      });
    inflight.add(job);
  };
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    while (i < due) fire(i++);
    await sleep(Math.max(1, Math.min(10, 1000 / rate)));
  }
  await Promise.all([...inflight]);
  const cpu = process.cpuUsage(cpu0);
  // Settlement events may trail the answers slightly.
  const ackMs: number[] = [];
  const settleMs: number[] = [];
  let crossingAcked = 0;
  let settledSeen = 0;
  let missing = 0;
  for (let wait = 0; wait < 50; wait++) {
    missing = 0;
    for (const m of markets) for (const p of pendings.get(m)!.values()) if (p.crossing && p.ack !== undefined && p.settled === undefined) missing++;
    if (missing === 0) break;
    await sleep(100);
  }
  for (const m of markets) {
    for (const p of pendings.get(m)!.values()) {
      if (!p.measured || p.ack === undefined) continue;
      ackMs.push(p.ack - p.t0);
      if (p.crossing) {
        crossingAcked++;
        if (p.settled !== undefined) {
          settledSeen++;
          settleMs.push(p.settled - p.t0);
        }
      }
    }
    pendings.get(m)!.clear();
  }
  const secs = Math.max(0.001, (measuredEnd - measuredStart) / 1000);
  return {
    offered: rate, markets: markets.length, sent, acked, errors, crossingAcked, settledSeen, missingSettlement: missing,
    ackMs, settleMs, seconds: secs, throughput: measuredAcked / secs, settlementsPerSecond: settledSeen / secs,
    clientCpuMs: (cpu.user + cpu.system) / 1000 / Math.max(1, sent),
  };
}

function q(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

const ms = (x: number) => (Number.isNaN(x) ? "–" : x.toFixed(1));

/** The errors column: each kind with its count, or 0. */
function errorsText(r: PhaseResult): string {
  return [...r.errors].map(([k, v]) => `${v}× ${k}`).join("; ") || "0";
}

function row(r: PhaseResult): string {
  const s = [...r.settleMs].sort((a, b) => a - b);
  const a = [...r.ackMs].sort((a, b) => a - b);
  return `| ${r.offered} | ${r.markets} | ${r.throughput.toFixed(1)} | ${r.settlementsPerSecond.toFixed(1)} | ${ms(q(s, 0.5))} | ${ms(q(s, 0.95))} | ${ms(q(s, 0.99))} | ${ms(q(s, 1))} | ${ms(q(a, 0.5))} | ${ms(q(a, 0.99))} | ${r.settledSeen}/${r.crossingAcked} | ${r.clientCpuMs.toFixed(2)} | ${errorsText(r)} |`;
}

const HEADER =
  "| offered /s | markets | accepted /s | settled /s | settle p50 ms | p95 | p99 | max | answer p50 ms | answer p99 | settlements seen | client CPU ms/req | errors |\n" +
  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|";

const FLOOR_HEADER =
  "| offered /s | accepted /s | answer p50 ms | p95 | p99 | max | client CPU ms/req | errors |\n" +
  "|---:|---:|---:|---:|---:|---:|---:|---|";

function floorRow(r: PhaseResult): string {
  const a = [...r.ackMs].sort((a, b) => a - b);
  return `| ${r.offered} | ${r.throughput.toFixed(1)} | ${ms(q(a, 0.5))} | ${ms(q(a, 0.95))} | ${ms(q(a, 0.99))} | ${ms(q(a, 1))} | ${r.clientCpuMs.toFixed(2)} | ${errorsText(r)} |`;
}

/** The same schedule and signed POSTs as the target run, into a worker that does nothing, on its own wrangler dev. */
async function floor(f: Flags, agents: Agent[]): Promise<PhaseResult> {
  const server = await startDevServer({
    ports: [8864, 8865, 8866, 8867],
    root: f.root,
    env: { NASH_WRANGLER_CONFIG: "bench/wrangler.floor.toml", WRANGLER_LOG: "warn" },
  });
  try {
    const pendings = new Map([["floor", new Map<string, Pending>()]]);
    return await phase(server.base, ["floor"], pendings, agents, { ...f, cross: 0 }, f.rate, f.duration);
  } finally {
    await server.dispose();
  }
}

function p99(r: PhaseResult): number {
  return q([...r.settleMs].sort((a, b) => a - b), 0.99);
}

/** Sets up markets (stream + book) and returns the per-market pending maps the stream fills in. */
async function prepareMarkets(base: string, names: string[], book: number, agents: Agent[]) {
  const pendings = new Map<string, Map<string, Pending>>();
  const streams: MarketStream[] = [];
  for (const m of names) pendings.set(m, new Map());
  const t0 = performance.now();
  for (const m of names) {
    await seed(base, m, book, agents);
    streams.push(
      await openStream(base, m, (e, at) => {
        if (e.type !== "settlement.committed") return;
        const pend = pendings.get(m)!;
        for (const fill of e.settlement.fills) {
          for (const id of [fill.buy, fill.sell]) {
            const p = pend.get(id);
            if (p && p.settled === undefined) p.settled = at;
          }
        }
      }, ["settlement.committed"]), // an agent waiting for its settlements subscribes to those only
    );
  }
  const seeded = (performance.now() - t0) / 1000;
  for (const m of names) {
    const v = await getJson(base, `/v1/markets/${m}`);
    if (v.body?.counters?.openIntents < book) throw new Error(`market ${m} has ${v.body?.counters?.openIntents} open intents, expected ≥ ${book}`);
  }
  console.log(`seeded ${names.length} market(s) × ${book} intents in ${seeded.toFixed(1)} s`);
  return { pendings, streams };
}

async function main(): Promise<void> {
  const f = parseOrExit("usage: npm run bench:load [-- --rate N --duration S --only target,knee,floor,multi ...] (flags: see the head of bench/load.ts)", () => flagsOf(process.argv.slice(2)));
  let server: DevServer | undefined;
  let base = f.base;
  const cleanup = async () => {
    if (server) await server.dispose();
    server = undefined;
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => void cleanup().then(() => process.exit(130)));
  try {
    if (!base) {
      // The limits under test here are latency and throughput, not the 429 guard: raise the rate limits.
      server = await startDevServer({
        ports: [8860, 8861, 8862, 8863],
        root: f.root,
        // WRANGLER_LOG=warn: wrangler dev otherwise logs every request, each line an extra request from workerd
        // to wrangler's Node process. Local observability is off by default (scripts/dev.ts wranglerEnv).
        env: {
          RATE_LIMIT_BURST: "1000000", RATE_LIMIT_PER_SECOND: "1000000",
          RATE_LIMIT_MARKET_BURST: "1000000", RATE_LIMIT_MARKET_PER_SECOND: "1000000",
          WRANGLER_LOG: "warn",
        },
      });
      base = server.base;
      console.log(`started wrangler dev at ${base} (pid ${server.pid}, state ${server.stateDir}; request log off, local observability ${process.env.X_LOCAL_OBSERVABILITY || "off"}, workerd V8 flags "${process.env.MINIFLARE_WORKERD_V8_FLAGS ?? YOUNG_GENERATION_FLAGS}")`);
    }
    const agents = await makeAgents(f.agents);
    const run = `${Date.now().toString(36)}`;
    const { loadavg, cpus } = await import("node:os");
    console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
    console.log(`flags: ${JSON.stringify(f)}\n`);

    if (f.only.includes("target") || f.only.includes("knee")) {
      const market = `load-${run}`;
      const { pendings, streams } = await prepareMarkets(base, [market], f.book, agents);
      if (f.only.includes("target")) {
        const inspectorPort = f.inspectorPort ?? server?.inspectorPort;
        const profiler = f.profile && inspectorPort ? await inspect(inspectorPort) : undefined;
        await profiler?.start();
        const r = await phase(base, [market], pendings, agents, f, f.rate, f.duration);
        console.log(`\n### One market, ${f.book}-intent book, ${f.rate} intents/s for ${f.duration} s (${Math.round(f.cross * 100)}% crossing)\n`);
        console.log(HEADER);
        console.log(row(r));
        if (profiler) {
          console.log(`\n### Where the worker's time went during the target run\n`);
          try {
            console.log(report(await profiler.stop(), f.profile));
          } catch (e) {
            console.log(`(no profile: ${(e as Error).message})`);
          }
          profiler.close();
        }
        console.log(`\ntarget p99 ≤ 50 ms at ${f.rate}/s: ${p99(r) <= 50 ? "met" : "NOT met"} (p99 ${ms(p99(r))} ms)`);
      }
      if (f.only.includes("knee")) {
        console.log(`\n### Knee search, one market, ${f.stepDuration} s per step\n`);
        console.log(HEADER);
        const rows: PhaseResult[] = [];
        for (const rate of f.knee) {
          const r = await phase(base, [market], pendings, agents, f, rate, f.stepDuration);
          rows.push(r);
          console.log(row(r));
          if (r.throughput < 0.8 * rate && p99(r) > 1000) break; // far past saturation: stop
        }
        const ok = rows.filter((r) => r.throughput >= 0.95 * r.offered && p99(r) <= 50);
        const knee = ok.length > 0 ? ok[ok.length - 1].offered : undefined;
        const firstBad = rows.find((r) => !(r.throughput >= 0.95 * r.offered && p99(r) <= 50));
        console.log(
          `\nknee: ${knee === undefined ? "below the lowest rate tried (no rate had accepted ≥ 95% of offered and p99 ≤ 50 ms)" : `${knee} intents/s, the highest rate with accepted ≥ 95% of offered and p99 ≤ 50 ms`}` +
            (firstBad ? `; first rate past it: ${firstBad.offered}/s (p99 ${ms(p99(firstBad))} ms, ${firstBad.throughput.toFixed(0)}/s accepted)` : ""),
        );
      }
      for (const s of streams) s.close();
    }

    if (f.only.includes("floor")) {
      const r = await floor(f, agents);
      console.log(`\n### Floor: the same ${f.rate} signed POSTs/s for ${f.duration} s into a worker that does nothing (bench/floor-worker.ts)\n`);
      console.log(FLOOR_HEADER);
      console.log(floorRow(r));
      console.log(`\nfloor p99 ${ms(q(r.ackMs.sort((a, b) => a - b), 0.99))} ms: what wrangler dev and this machine give before NASH does any work`);
    }
    if (f.only.includes("multi") && f.markets > 0) {
      const names = Array.from({ length: f.markets }, (_, k) => `load-${run}-m${k}`);
      const { pendings, streams } = await prepareMarkets(base, names, f.book, agents);
      const r = await phase(base, names, pendings, agents, f, f.rate, f.duration);
      console.log(`\n### ${f.markets} markets at once, ${f.book}-intent book each, ${f.rate} intents/s in total for ${f.duration} s\n`);
      console.log(HEADER);
      console.log(row(r));
      for (const s of streams) s.close();
    }
    if (server && /restarted|error|exception/i.test(server.log(20_000))) {
      console.log(`\n(wrangler output, last lines, for the errors above)\n${server.log(3000)}`);
    }
  } finally {
    await cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
