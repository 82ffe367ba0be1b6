// `npm run bench:crash`: kills the edge service (SIGKILL to the wrangler/workerd process group) at random moments
// while signed intents stream in, restarts it on the same state, resends the requests whose answers were lost
// (same Idempotency-Key), and audits the market after every kill: every acknowledged intent present, every
// settlement whole, no intent filled beyond its quantity, both sides of every fill agree. Prints a table.
// With --relay 1 (default) the service relays settlements to a dev miner node (tools/miner-node, in this process,
// so it outlives every kill), and at the end each settlement must have been recorded by the node exactly once.
// Flags: --kills 20 --clients 6 --min-load-ms 200 --max-load-ms 2500 --seed 1 --relay 1
// Ports: the service 8866/8867, the miner node 8868.
import { mkdtempSync, rmSync } from "node:fs";
import { numberFlag, parseFlags, parseOrExit } from "../src/cli/args.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keypairFromUriOrThrow } from "../src/bridge/keys.ts";
import { startMinerNode } from "../tools/miner-node/main.ts";
import { runCrashRounds } from "../test/node/support/crash.ts";
import { startDevServer, type DevServer } from "../test/node/support/dev-server.ts";

const DEFAULTS: Record<string, number> = { kills: 20, clients: 6, "min-load-ms": 200, "max-load-ms": 2500, seed: 1, relay: 1 };

function flags(argv: string[]): Record<string, number> {
  const { values } = parseFlags({ args: argv, options: Object.fromEntries(Object.keys(DEFAULTS).map((name) => [name, { type: "string" as const }])) });
  return Object.fromEntries(Object.entries(DEFAULTS).map(([name, fallback]) => [name, numberFlag(values, name) ?? fallback]));
}

async function main(): Promise<void> {
  const f = parseOrExit("usage: npm run bench:crash [-- --kills N --clients N --min-load-ms MS --max-load-ms MS --seed N --relay 0|1]", () => flags(process.argv.slice(2)));
  let server: DevServer | undefined;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => void (server ? server.dispose() : Promise.resolve()).then(() => process.exit(130)));
  }
  const dir = mkdtempSync(join(tmpdir(), "nash-crash-node-"));
  const bob = keypairFromUriOrThrow("//Bob");
  const node = f.relay ? await startMinerNode({ port: 8868, hotkey: bob.ss58, keypair: bob, record: join(dir, "received.jsonl") }) : undefined;
  const bridge: Record<string, string> = node
    ? { MINER_NODE_URL: "http://127.0.0.1:8868", MINER_HOTKEY_URI: "//Alice", AXON_HOTKEY: bob.ss58, VALIDATOR_HOTKEYS: keypairFromUriOrThrow("//Charlie").ss58 }
    : {};
  try {
    server = await startDevServer({ ports: [8866, 8867], env: { RATE_LIMIT_BURST: "100000", RATE_LIMIT_PER_SECOND: "100000", ...bridge } });
    const { loadavg } = await import("node:os");
    console.log(`wrangler dev at ${server.base}, state ${server.stateDir}; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
    const market = `crash-${Date.now().toString(36)}`;
    const report = await runCrashRounds(server, {
      market, rounds: f.kills, clients: f.clients, minLoadMs: f["min-load-ms"], maxLoadMs: f["max-load-ms"], seed: f.seed,
      log: (line) => console.log(line),
      relay: node ? async () => (await (await fetch("http://127.0.0.1:8868/received")).json()) as never : undefined,
    });
    console.log(`\n### Crash safety: ${f.kills} SIGKILLs under load (market ${market}, ${f.clients} clients, seed ${f.seed})\n`);
    console.log("| round | kill after ms | sent | acknowledged | answer lost | lost but committed | restart s | settlements | intents audited | violations |");
    console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of report.rounds) {
      console.log(`| ${r.round} | ${r.killAfterMs} | ${r.sent} | ${r.acked} | ${r.lost} | ${r.lostButCommitted} | ${(r.restartMs / 1000).toFixed(1)} | ${r.audit.settlements} | ${r.audit.intentsChecked} | ${r.audit.violations.length} |`);
    }
    const last = report.rounds[report.rounds.length - 1];
    console.log(`\nkills survived: ${report.survived}/${report.rounds.length}; ${last?.audit.settlements ?? 0} settlements and ${last?.audit.fills ?? 0} fills audited at the end`);
    const relay = report.relay;
    console.log(
      relay
        ? `relay: ${relay.recorded}/${relay.settlements} settlements recorded by the miner node, ${relay.missing.length} missing, ${relay.recordedTwice.length} recorded twice, ${relay.duplicatesDropped} resends dropped by the node as duplicates`
        : "relay: off (--relay 0)",
    );
    if (report.violations.length > 0) {
      console.log("\nviolations:");
      for (const v of report.violations.slice(0, 50)) console.log(`- ${v}`);
      const errors = server.log(200_000).split("\n").filter((l) => /error|exception|uncaught/i.test(l));
      if (errors.length > 0) console.log(`\nserver log lines mentioning errors:\n${errors.slice(-30).join("\n")}`);
      process.exitCode = 1;
    }
  } finally {
    await server?.dispose();
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
