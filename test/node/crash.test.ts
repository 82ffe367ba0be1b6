// Crash safety, bounded for CI: two SIGKILLs of the whole service under concurrent signed load, each followed by a
// restart on the same state, an Idempotency-Key resend of the requests whose answers were lost, and a full audit
// (acknowledged intents present, settlements whole, no overfill, both sides of every fill agree), and the relay
// outbox delivers every settlement to a dev miner node exactly once. No timing is asserted. `npm run bench:crash`
// runs many more rounds. Ports: the service 8870/8871, the miner node 8872.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { keypairFromUriOrThrow } from "../../src/bridge/keys.ts";
import { startMinerNode } from "../../tools/miner-node/main.ts";
import { runCrashRounds } from "../../support/crash.ts";
import { startDevServer, type DevServer } from "../../support/dev-server.ts";

let server: DevServer | undefined;
let node: { close: () => Promise<void> } | undefined;
const dir = mkdtempSync(join(tmpdir(), "nash-crash-ci-"));

afterAll(async () => {
  await server?.dispose();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

test("SIGKILL under load loses no acknowledged intent and leaves no half-applied settlement", { timeout: 300_000 }, async () => {
  const bob = keypairFromUriOrThrow("//Bob");
  node = await startMinerNode({ port: 8872, hotkey: bob.ss58, keypair: bob, record: join(dir, "received.jsonl") });
  server = await startDevServer({
    ports: [8870, 8871],
    env: {
      RATE_LIMIT_BURST: "100000", RATE_LIMIT_PER_SECOND: "100000",
      MINER_NODE_URL: "http://127.0.0.1:8872", MINER_HOTKEY_URI: "//Alice", AXON_HOTKEY: bob.ss58,
      VALIDATOR_HOTKEYS: keypairFromUriOrThrow("//Charlie").ss58,
    },
  });
  const report = await runCrashRounds(server, {
    market: `crash-ci-${Date.now().toString(36)}`, rounds: 2, clients: 4, minLoadMs: 300, maxLoadMs: 1500, seed: 7,
    relay: async () => (await (await fetch("http://127.0.0.1:8872/received")).json()) as never,
  });
  expect(report.violations).toEqual([]);
  // Every settlement reached the node, and none was recorded twice.
  expect(report.relay).toMatchObject({ missing: [], recordedTwice: [], unexpected: [] });
  expect(report.relay!.recorded).toBe(report.relay!.settlements);
  expect(report.survived).toBe(2);
  // The rounds did real work: intents were acknowledged and settled before each kill.
  const last = report.rounds[report.rounds.length - 1];
  expect(last.audit.ackedPresent).toBeGreaterThan(0);
  expect(last.audit.settlements).toBeGreaterThan(0);
});
