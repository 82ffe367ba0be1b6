// Crash rounds: signed intents stream into a market from several concurrent clients, the whole service is
// SIGKILLed (process group) at a random moment, restarted on the same state, the requests whose answer was lost
// are resent with their Idempotency-Key, and the market is audited (test/node/support/client.ts). Shared by
// `npm run bench:crash` (many rounds) and test/node/crash.test.ts (a few).
import { generateAgentKey, type AgentKey } from "../../../src/contract/auth.ts";
import { auditMarket, signedFetch, type AuditReport, type ClientRecord } from "./client.ts";
import type { DevServer } from "./dev-server.ts";
import { seededRandom } from "../../../src/random.ts";

/** Re-exported: the crash and load tests replay their choices from a seed. */
export { seededRandom };

export interface CrashOptions {
  market: string;
  rounds: number;
  /** Concurrent submitting clients (each its own agent key). */
  clients?: number;
  /** The kill lands uniformly in [minLoadMs, maxLoadMs] after the load starts. */
  minLoadMs?: number;
  maxLoadMs?: number;
  /** Deterministic choices (seeded); the kill moment is still subject to the machine's timing. */
  seed?: number;
  log?: (line: string) => void;
  /** When the service relays settlements to a miner node: reads what the node recorded (its GET /received). */
  relay?: () => Promise<{ distinct: number; duplicates: number; received: { key: string }[] }>;
}

/** The relay's end state after all rounds: each settlement recorded by the node exactly once. */
export interface RelayReport {
  settlements: number;
  recorded: number;
  /** Resends the node recognised by idempotency key and did not record again (at-least-once on the wire). */
  duplicatesDropped: number;
  missing: string[];
  recordedTwice: string[];
  unexpected: string[];
}

export interface RoundResult {
  round: number;
  killAfterMs: number;
  sent: number;
  acked: number;
  /** Requests in flight at the kill: answer lost. */
  lost: number;
  /** Of those, how many had committed (found by the Idempotency-Key resend answering with the first answer). */
  lostButCommitted: number;
  restartMs: number;
  audit: AuditReport;
}

export interface CrashReport {
  rounds: RoundResult[];
  survived: number;
  violations: string[];
  relay?: RelayReport;
}

/** Waits for the market's outbox to drain, then compares the node's record with the settlements. */
async function checkRelay(base: string, market: string, read: NonNullable<CrashOptions["relay"]>, timeoutMs = 120_000): Promise<RelayReport> {
  const until = Date.now() + timeoutMs;
  let view: any;
  for (;;) {
    view = (await (await fetch(`${base}/v1/markets/${market}`)).json()) as any;
    if (view.outbox?.relay !== "on" || view.outbox.pending === 0 || Date.now() > until) break;
    await sleep(500);
  }
  const n: number = view.counters.settlements;
  const got = await read();
  const counts = new Map<string, number>();
  for (const r of got.received) counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
  const expected = Array.from({ length: n }, (_, k) => `nash:${market}:s-${k + 1}`);
  const mine = [...counts].filter(([k]) => k.startsWith(`nash:${market}:`));
  return {
    settlements: n,
    recorded: mine.length,
    duplicatesDropped: got.duplicates,
    missing: expected.filter((k) => !counts.has(k)),
    recordedTwice: mine.filter(([, c]) => c > 1).map(([k]) => k),
    unexpected: mine.map(([k]) => k).filter((k) => !expected.includes(k)),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An intent likely to cross some of the book: overlapping price bands, partial fills, some all-or-none. */
function crashIntent(rand: () => number, id: string): Record<string, unknown> {
  const buy = rand() < 0.5;
  const quantity = 1 + Math.floor(rand() * 20);
  const intent: Record<string, unknown> = {
    id,
    side: buy ? "buy" : "sell",
    resource: rand() < 0.7 ? "gpu-h100-hr" : "storage-tb-day",
    quantity,
    limitPrice: Number((buy ? 1.3 + 0.7 * rand() : 1.0 + 0.6 * rand()).toFixed(3)),
    region: ["eu-west", "eu-central", "us-east"][Math.floor(rand() * 3)],
  };
  if (rand() < 0.15) intent.minQuantity = Math.ceil(quantity / 2);
  return intent;
}

async function submitWithKey(base: string, key: AgentKey, market: string, intent: Record<string, unknown>) {
  const body = JSON.stringify(intent);
  return signedFetch(base, key, "POST", `/v1/markets/${market}/intents`, body, { "idempotency-key": String(intent.id) }, AbortSignal.timeout(20_000));
}

export async function runCrashRounds(server: DevServer, options: CrashOptions): Promise<CrashReport> {
  const rand = seededRandom(options.seed ?? 1);
  const clients = options.clients ?? 6;
  const minLoad = options.minLoadMs ?? 200;
  const maxLoad = options.maxLoadMs ?? 2500;
  const log = options.log ?? (() => {});
  const keys: AgentKey[] = [];
  for (let i = 0; i < clients; i++) keys.push(await generateAgentKey());
  const record: ClientRecord = { acked: new Map(), unknown: new Set() };
  const intents = new Map<string, { key: AgentKey; intent: Record<string, unknown> }>();
  const results: RoundResult[] = [];
  const violations: string[] = [];

  for (let round = 1; round <= options.rounds; round++) {
    let stop = false;
    let sent = 0;
    let acked = 0;
    const lostIds: string[] = [];
    const worker = async (c: number) => {
      for (let k = 0; !stop; k++) {
        const id = `r${round}-c${c}-${k}`;
        const intent = crashIntent(rand, id);
        intents.set(id, { key: keys[c], intent });
        sent++;
        try {
          const r = await submitWithKey(server.base, keys[c], options.market, intent);
          if (r.status === 201) {
            record.acked.set(id, r.body);
            acked++;
          } else if (r.status >= 500) {
            // The proxy may answer 5xx while its worker is being killed: the outcome is unknown.
            lostIds.push(id);
          } else {
            violations.push(`round ${round}: ${id} refused with ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
          }
        } catch {
          lostIds.push(id);
          return; // the connection broke: the server is gone
        }
      }
    };
    const killAfterMs = Math.round(minLoad + rand() * (maxLoad - minLoad));
    const workers = Array.from({ length: clients }, (_, c) => worker(c));
    await sleep(killAfterMs);
    await server.kill();
    stop = true;
    await Promise.all(workers);
    const t0 = performance.now();
    await server.restart();
    const restartMs = performance.now() - t0;

    // Resend each lost request with its Idempotency-Key: a committed one answers with its first answer, an
    // uncommitted one is accepted now. Either way the intent exists exactly once afterwards.
    let lostButCommitted = 0;
    for (const id of lostIds) {
      const { key, intent } = intents.get(id)!;
      const before = await fetch(`${server.base}/v1/markets/${options.market}/intents/${id}`);
      const existed = before.status === 200;
      await before.arrayBuffer();
      const r = await submitWithKey(server.base, key, options.market, intent);
      if (r.status !== 201) violations.push(`round ${round}: resend of ${id} answered ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      else {
        record.acked.set(id, r.body);
        if (existed) lostButCommitted++;
      }
    }
    const audit = await auditMarket(server.base, options.market, record);
    for (const v of audit.violations) violations.push(`round ${round}: ${v}`);
    results.push({ round, killAfterMs, sent, acked, lost: lostIds.length, lostButCommitted, restartMs, audit });
    log(
      `round ${round}: killed after ${killAfterMs} ms, ${sent} sent, ${acked} acknowledged, ${lostIds.length} lost (${lostButCommitted} had committed), ` +
        `restart ${(restartMs / 1000).toFixed(1)} s, audit: ${audit.settlements} settlements, ${audit.intentsChecked} intents, ${audit.violations.length} violations`,
    );
  }
  const survived = results.filter((r) => r.audit.violations.length === 0).length;
  let relay: RelayReport | undefined;
  if (options.relay) {
    relay = await checkRelay(server.base, options.market, options.relay);
    if (relay.missing.length > 0) violations.push(`relay: ${relay.missing.length} settlements never delivered (${relay.missing.slice(0, 5).join(", ")})`);
    if (relay.recordedTwice.length > 0) violations.push(`relay: recorded twice: ${relay.recordedTwice.slice(0, 5).join(", ")}`);
    if (relay.unexpected.length > 0) violations.push(`relay: delivered settlements that do not exist: ${relay.unexpected.slice(0, 5).join(", ")}`);
    log(`relay: ${relay.recorded}/${relay.settlements} settlements recorded by the node, ${relay.duplicatesDropped} resends dropped as duplicates`);
  }
  return { rounds: results, survived, violations, relay };
}
