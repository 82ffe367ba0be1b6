// `npm run dev`: the edge service under `wrangler dev` on 127.0.0.1:PORT with persistent local state.
// Settings (environment): PORT (default 8787), INSPECTOR_PORT (default PORT+1000), NASH_STATE_DIR (default
// .wrangler/state), and OPERATOR_AGENTS / RATE_LIMIT_BURST / RATE_LIMIT_PER_SECOND / RATE_LIMIT_MARKET_BURST /
// RATE_LIMIT_MARKET_PER_SECOND / MAX_OPEN_INTENTS_PER_AGENT / MAX_OPEN_INTENTS_PER_NEW_AGENT / MAX_OPEN_INTENTS_PER_MARKET
// passed to the worker as vars.
// X_LOCAL_OBSERVABILITY (default false here: wrangler's per-request local traces, see wranglerEnv),
// MINIFLARE_WORKERD_V8_FLAGS (default a 64 MiB young generation, see wranglerEnv) and WRANGLER_LOG
// (wrangler's log level; "warn" drops the line logged for every request) go to wrangler as they are.
// NASH_WRANGLER_CONFIG (a wrangler config relative to the repository, default wrangler.toml) serves another worker
// with the same settings: `npm run bench:load -- --only floor` uses it for a worker that does nothing.
// SIGINT/SIGTERM are forwarded to wrangler, and this process exits with it.
// Bittensor bridge: MINER_NODE_URL, MINER_HOTKEY_URI (secret), AXON_HOTKEY, VALIDATOR_HOTKEYS from the environment
// or `.dev.vars`, checked at start (one "bittensor bridge: …" line, exit 2 when half set): scripts/dev-bridge.ts.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseFlags, parseOrExit } from "../src/cli/args.ts";
import { planBridge } from "./dev-bridge.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface DevSettings {
  port: number;
  inspectorPort: number;
  stateDir: string;
  vars: Record<string, string>;
  /** `--config`: another wrangler config than wrangler.toml (NASH_WRANGLER_CONFIG). */
  config?: string;
  /** `--env-file` arguments (the bridge's variables from the environment; see scripts/dev-bridge.ts). */
  envFiles?: string[];
}

/** Reads the settings from an environment; invalid ports throw with a message naming the variable. */
export function devSettings(env: NodeJS.ProcessEnv): DevSettings {
  const port = portFrom(env.PORT, 8787, "PORT");
  const inspectorPort = portFrom(env.INSPECTOR_PORT, port + 1000 <= 65535 ? port + 1000 : port - 1000, "INSPECTOR_PORT");
  const vars: Record<string, string> = {};
  for (const name of [
    "OPERATOR_AGENTS", "RATE_LIMIT_BURST", "RATE_LIMIT_PER_SECOND",
    "RATE_LIMIT_MARKET_BURST", "RATE_LIMIT_MARKET_PER_SECOND", "MAX_OPEN_INTENTS_PER_AGENT", "MAX_OPEN_INTENTS_PER_NEW_AGENT", "MAX_OPEN_INTENTS_PER_MARKET",
  ]) {
    const value = env[name];
    if (value !== undefined && value !== "") vars[name] = value;
  }
  const settings: DevSettings = { port, inspectorPort, stateDir: resolve(root, env.NASH_STATE_DIR || ".wrangler/state"), vars };
  if (env.NASH_WRANGLER_CONFIG) settings.config = resolve(root, env.NASH_WRANGLER_CONFIG);
  return settings;
}

function portFrom(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number (1-65535), got ${JSON.stringify(text)}`);
  return n;
}

/** V8 flags for workerd under `npm run dev` (see wranglerEnv). */
export const YOUNG_GENERATION_FLAGS = "--max-semi-space-size=64";

/**
 * The environment wrangler runs with. Besides turning off the CF-properties fetch and metrics (no network), it
 * turns off wrangler's local observability unless the caller set `X_LOCAL_OBSERVABILITY`: wrangler 4 writes a
 * trace of every request and Durable Object call into a SQLite store of its own (an extra commit and fsync each),
 * which measured as the larger part of the worker process's CPU per request (notes/perf.md, session 3).
 * It also gives workerd's V8 a 64 MiB young generation (semi-space) unless `MINIFLARE_WORKERD_V8_FLAGS` is set (set
 * it empty for V8's default): with the default, objects of requests still in flight were promoted and old-space
 * collections every few seconds stalled the one thread that runs a market for 15-200 ms, the largest part of the
 * latency tail under load. This is the local runtime only; the deployed Workers runtime manages its own heap.
 */
export function wranglerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    X_LOCAL_OBSERVABILITY: env.X_LOCAL_OBSERVABILITY || "false",
    MINIFLARE_WORKERD_V8_FLAGS: env.MINIFLARE_WORKERD_V8_FLAGS ?? YOUNG_GENERATION_FLAGS,
  };
}

/** The wrangler command line for these settings. */
export function wranglerArgs(s: DevSettings): string[] {
  const args = [
    "dev",
    "--ip", "127.0.0.1",
    "--port", String(s.port),
    "--inspector-port", String(s.inspectorPort),
    "--persist-to", s.stateDir,
    "--show-interactive-dev-session=false",
  ];
  if (s.config) args.push("--config", s.config);
  for (const [k, v] of Object.entries(s.vars)) args.push("--var", `${k}:${v}`);
  for (const f of s.envFiles ?? []) args.push("--env-file", f);
  return args;
}

function main(): void {
  parseOrExit("usage: npm run dev (no flags; settings come from the environment, see the head of scripts/dev.ts)", () => parseFlags({ options: {} }));
  let settings: DevSettings;
  try {
    settings = devSettings(process.env);
  } catch (e) {
    console.error(String((e as Error).message));
    process.exit(2);
  }
  const bridge = planBridge(process.env, root);
  if (!bridge.ok) {
    console.error(`nash dev: bittensor bridge misconfigured:\n  ${bridge.errors.join("\n  ")}`);
    process.exit(2);
  }
  console.error(`nash dev: ${bridge.plan.summary}`);
  settings.envFiles = bridge.plan.envFiles;
  process.on("exit", bridge.plan.cleanup);
  // wrangler needs Node >= 22: run its entry point with this very Node (npm puts Node 22 first on PATH).
  const wrangler = resolve(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin/wrangler.js");
  const child = spawn(process.execPath, [wrangler, ...wranglerArgs(settings)], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: wranglerEnv(process.env),
  });
  console.error(`nash dev: http://127.0.0.1:${settings.port} (inspector ${settings.inspectorPort}, state ${settings.stateDir}, wrangler pid ${child.pid})`);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal);
    });
  }
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
  child.on("error", (err) => {
    console.error(`nash dev: cannot start wrangler: ${err.message}`);
    process.exit(1);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
