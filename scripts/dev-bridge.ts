// `npm run dev`'s Bittensor bridge settings: the four variables from the process environment or `.dev.vars`,
// checked before wrangler starts (one "bittensor bridge: …" line, or a clear error), and handed to the worker
// through a private env file, never as `--var` (a `--var` would show MINER_HOTKEY_URI in the process list).
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { readBridgeConfig, type BridgeEnv } from "../src/bridge/relay.ts";

export const BRIDGE_VARS = ["MINER_NODE_URL", "MINER_HOTKEY_URI", "AXON_HOTKEY", "VALIDATOR_HOTKEYS"] as const;

export interface BridgeDevPlan {
  /** The line to print at start-up (never contains the secret). */
  summary: string;
  /** Extra `--env-file` arguments for wrangler, in order (later files win). */
  envFiles: string[];
  /** Removes the private env file, if one was written. */
  cleanup: () => void;
}

/** The bridge values in force: the process environment over `.dev.vars` (empty values count as unset). */
export function mergedBridgeEnv(env: NodeJS.ProcessEnv, devVarsText: string | undefined): { merged: BridgeEnv; fromProcess: Record<string, string> } {
  const file = devVarsText === undefined ? {} : parseEnv(devVarsText);
  const merged: Record<string, string> = {};
  const fromProcess: Record<string, string> = {};
  for (const name of BRIDGE_VARS) {
    const p = env[name];
    if (p !== undefined && p.trim() !== "") {
      merged[name] = p;
      fromProcess[name] = p;
    } else if (file[name] !== undefined && file[name]!.trim() !== "") merged[name] = file[name]!;
  }
  return { merged, fromProcess };
}

/** Dotenv lines for `vars`, single-quoted (literal); a value holding a quote or a line break is refused. */
export function envFileText(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => {
      if (/['\r\n]/.test(v)) throw new Error(`${k} must not contain a single quote or a line break`);
      return `${k}='${v}'\n`;
    })
    .join("");
}

/**
 * Checks the bridge settings and prepares what wrangler needs. With none of the four set, the bridge is off.
 * Variables from the process environment go into a private (0600) temporary env file passed after `.dev.vars`,
 * because wrangler reads `.dev.vars` OR the environment, not both, and only with CLOUDFLARE_INCLUDE_PROCESS_ENV
 * (which would hand the worker every variable of the shell). Returns the errors when the bridge is half set.
 */
export function planBridge(env: NodeJS.ProcessEnv, root: string): { ok: true; plan: BridgeDevPlan } | { ok: false; errors: string[] } {
  const devVarsPath = join(root, ".dev.vars");
  const devVarsText = existsSync(devVarsPath) ? readFileSync(devVarsPath, "utf8") : undefined;
  const { merged, fromProcess } = mergedBridgeEnv(env, devVarsText);
  const config = readBridgeConfig(merged);
  if (!config.ok) return { ok: false, errors: config.errors };
  if (Object.keys(fromProcess).length === 0) return { ok: true, plan: { summary: config.summary, envFiles: [], cleanup: () => {} } };
  let text: string;
  try {
    text = envFileText(fromProcess);
  } catch (e) {
    return { ok: false, errors: [(e as Error).message] };
  }
  const dir = mkdtempSync(join(tmpdir(), "nash-dev-bridge-"));
  chmodSync(dir, 0o700);
  const file = join(dir, "bridge.env");
  writeFileSync(file, text, { mode: 0o600 });
  return {
    ok: true,
    plan: {
      summary: config.summary,
      // Passing any --env-file stops wrangler from loading .dev.vars by itself: name it first, ours last.
      envFiles: devVarsText === undefined ? [file] : [devVarsPath, file],
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    },
  };
}
