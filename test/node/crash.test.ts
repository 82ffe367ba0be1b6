// Crash safety, bounded for CI: two SIGKILLs of the whole service under concurrent signed load, each followed by a
// restart on the same state, an Idempotency-Key resend of the requests whose answers were lost, and a full audit
// (acknowledged intents present, settlements whole, no overfill, both sides of every fill agree). No timing is
// asserted. `npm run bench:crash` runs many more rounds. Ports 8870–8873.
import { afterAll, expect, test } from "vitest";
import { runCrashRounds } from "./support/crash.ts";
import { startDevServer, type DevServer } from "./support/dev-server.ts";

let server: DevServer | undefined;

afterAll(async () => {
  await server?.dispose();
}, 60_000);

test("SIGKILL under load loses no acknowledged intent and leaves no half-applied settlement", { timeout: 300_000 }, async () => {
  server = await startDevServer({ ports: [8870, 8871, 8872, 8873], env: { RATE_LIMIT_BURST: "100000", RATE_LIMIT_PER_SECOND: "100000" } });
  const report = await runCrashRounds(server, { market: `crash-ci-${Date.now().toString(36)}`, rounds: 2, clients: 4, minLoadMs: 300, maxLoadMs: 1500, seed: 7 });
  expect(report.violations).toEqual([]);
  expect(report.survived).toBe(2);
  // The rounds did real work: intents were acknowledged and settled before each kill.
  const last = report.rounds[report.rounds.length - 1];
  expect(last.audit.ackedPresent).toBeGreaterThan(0);
  expect(last.audit.settlements).toBeGreaterThan(0);
});
