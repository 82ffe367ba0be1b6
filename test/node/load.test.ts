// Load, bounded for CI: a seeded market takes a burst of concurrent signed intents (crossing and resting mixed),
// and afterwards every answer is accounted for: each accepted crossing intent's settlement arrived on the
// WebSocket exactly once and matches the POST answer, and the audit finds the market consistent. Figures
// (throughput, latency percentiles, the knee) are printed by `npm run bench:load`, never asserted. Ports 8878–8879.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { generateAgentKey, type AgentKey } from "../../src/contract/auth.ts";
import { auditMarket, openStream, pool, signedFetch, type ClientRecord } from "./support/client.ts";
import { startDevServer, type DevServer } from "./support/dev-server.ts";
import { seededRandom } from "./support/crash.ts";

let server: DevServer | undefined;

afterAll(async () => {
  await server?.dispose();
}, 60_000);

test("a concurrent burst into a seeded book: every settlement streamed once, the market consistent", { timeout: 300_000 }, async () => {
  server = await startDevServer({ ports: [8878, 8879], env: { RATE_LIMIT_BURST: "100000", RATE_LIMIT_PER_SECOND: "100000" } });
  const market = `load-ci-${Date.now().toString(36)}`;
  const path = `/v1/markets/${market}/intents`;
  const agents: AgentKey[] = await Promise.all(Array.from({ length: 8 }, () => generateAgentKey()));
  const rand = seededRandom(11);
  const record: ClientRecord = { acked: new Map(), unknown: new Set() };

  // A resting book that does not cross itself: bids 1.0–1.5, asks 2.0–2.5.
  const seeds = Array.from({ length: 60 }, (_, i) => ({
    id: `seed-${i}`, side: i % 2 ? "sell" : "buy", resource: "gpu-h100-hr", quantity: 1000,
    limitPrice: Number(((i % 2 ? 2 : 1) + 0.5 * rand()).toFixed(3)), region: "eu-west",
  }));
  for (const r of await pool(seeds, 8, (s) => signedFetch(server!.base, agents[0], "POST", path, JSON.stringify(s)))) expect(r.status).toBe(201);

  const committed = new Map<string, number>();
  const stream = await openStream(server.base, market, (e) => {
    if (e.type === "settlement.committed") committed.set(e.settlement.id, (committed.get(e.settlement.id) ?? 0) + 1);
  });
  const burst = Array.from({ length: 200 }, (_, k) => {
    const crossing = rand() < 0.5;
    const buy = rand() < 0.5;
    return {
      id: `b-${k}`, side: buy ? "buy" : "sell", resource: "gpu-h100-hr", quantity: 1 + Math.floor(rand() * 5), region: "eu-west",
      limitPrice: Number((crossing ? (buy ? 2.6 : 0.8) : buy ? 1 + 0.5 * rand() : 2 + 0.5 * rand()).toFixed(3)),
      crossing,
    };
  });
  const answers = await pool(burst, 32, async ({ crossing: _, ...intent }) => {
    const r = await signedFetch(server!.base, agents[1 + (Number(intent.id.slice(2)) % 7)], "POST", path, JSON.stringify(intent));
    if (r.status === 201) record.acked.set(intent.id, r.body);
    return r;
  });
  expect(answers.map((a) => a.status).filter((s) => s !== 201)).toEqual([]);
  // Every crossing intent traded at once (the resting book is deep), and its answer says so.
  for (const b of burst) if (b.crossing) expect(record.acked.get(b.id)?.settlement?.fills?.length, b.id).toBeGreaterThan(0);

  const expected = new Set([...record.acked.values()].filter((a) => a.settlement).map((a) => a.settlement.id as string));
  for (let i = 0; i < 100 && [...expected].some((id) => !committed.has(id)); i++) await new Promise((r) => setTimeout(r, 100));
  stream.close();
  for (const id of expected) expect(committed.get(id), `settlement ${id} on the stream`).toBe(1);

  const audit = await auditMarket(server.base, market, record);
  expect(audit.violations).toEqual([]);
  // wrangler's local observability stays off (scripts/dev.ts wranglerEnv): no trace store of every request.
  expect(existsSync(join(server.stateDir, "v3", "observability")), "wrangler's per-request trace store").toBe(false);
  expect(audit.settlements).toBe(expected.size);
});

test("the load bench's floor: scripts/dev.ts serves the do-nothing worker of bench/wrangler.floor.toml", { timeout: 180_000 }, async () => {
  const floor = await startDevServer({ ports: [8882, 8883], env: { NASH_WRANGLER_CONFIG: "bench/wrangler.floor.toml" } });
  try {
    const agent = await generateAgentKey();
    const r = await signedFetch(floor.base, agent, "POST", "/v1/markets/floor/intents", JSON.stringify({ id: "x" }));
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ ok: true }); // not NASH: the same path there would refuse this intent with a 422
  } finally {
    await floor.dispose();
  }
});
