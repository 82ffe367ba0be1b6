// Starts the edge service (scripts/dev.ts → wrangler dev → workerd) in its own process group on a free port of
// a given range, with its own state directory, and stops or SIGKILLs exactly that group by its PID. Shared by the
// robustness tests (test/node/{fuzz,crash,load}*.test.ts) and the benchmarks (bench/load.ts, bench/crash.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");

export interface DevServerOptions {
  /** Candidate ports, tried in pairs (service port, inspector port): the first free pair is used. */
  ports: readonly number[];
  /** State directory (SQLite files); a fresh temp dir when omitted, removed by `dispose()`. */
  stateDir?: string;
  /** Extra environment for the worker, e.g. RATE_LIMIT_BURST, OPERATOR_AGENTS, MINER_NODE_URL. */
  env?: Record<string, string>;
  /** A copy of the repository to serve instead of this one (a frozen snapshot: wrangler dev reloads the worker
   * whenever a watched source file changes, which a shared work tree does constantly). */
  root?: string;
  /** How long to wait for /v1/health; default 120 s (a busy 2-core machine can take a while). */
  startTimeoutMs?: number;
}

export interface DevServer {
  readonly base: string;
  readonly port: number;
  readonly inspectorPort: number;
  readonly stateDir: string;
  /** PID of scripts/dev.ts, which leads the process group (wrangler and workerd are in it). */
  readonly pid: number | undefined;
  /** The last `chars` characters of the server's stdout+stderr. */
  log(chars?: number): string;
  /** SIGKILL to the whole process group (no shutdown work at all), then waits until the group and port are gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), SIGKILL to the group after `graceMs`; waits until the group and port are gone. */
  stop(graceMs?: number): Promise<void>;
  /** Starts the service again on the same ports and state directory. */
  restart(): Promise<void>;
  /** Stops it and removes the state directory when this helper created it. */
  dispose(): Promise<void>;
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const probe = createServer();
    probe.once("error", () => r(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => r(true)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True while any process of group `pgid` exists. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls GET /v1/health until 200; throws when the child exits or the time is up. */
async function waitHealthy(base: string, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the dev server exited (${child.exitCode ?? child.signalCode}) before it was healthy\n${log()}`);
    }
    try {
      const r = await fetch(`${base}/v1/health`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${base}/v1/health did not answer within ${timeoutMs} ms\n${log()}`);
    await sleep(200);
  }
}

/** Starts scripts/dev.ts on the first free port pair of `options.ports`. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  let port = 0;
  let inspectorPort = 0;
  for (let i = 0; i + 1 < options.ports.length; i += 2) {
    if ((await portFree(options.ports[i])) && (await portFree(options.ports[i + 1]))) {
      [port, inspectorPort] = [options.ports[i], options.ports[i + 1]];
      break;
    }
  }
  if (port === 0) throw new Error(`no free port pair among ${options.ports.join(", ")}`);
  const ownDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "nash-robust-"));
  const base = `http://127.0.0.1:${port}`;
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  let child: ChildProcess | undefined;
  let output = "";
  const log = (chars = 4000) => output.slice(-chars);

  async function launch(): Promise<void> {
    const dir = options.root ?? root;
    const c = spawn(process.execPath, [resolve(dir, "scripts/dev.ts")], {
      cwd: dir,
      detached: true, // its own process group: a kill reaches wrangler and workerd, and nothing else
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        ...options.env,
        PORT: String(port),
        INSPECTOR_PORT: String(inspectorPort),
        NASH_STATE_DIR: stateDir,
      },
    });
    c.stdout!.on("data", (d) => (output = (output + d).slice(-200_000)));
    c.stderr!.on("data", (d) => (output = (output + d).slice(-200_000)));
    child = c;
    // If this process dies first (Ctrl-C, a test runner's timeout), take the server group down with it.
    const onExit = () => {
      if (c.pid !== undefined && groupAlive(c.pid)) process.kill(-c.pid, "SIGKILL");
    };
    process.once("exit", onExit);
    c.once("exit", () => process.removeListener("exit", onExit));
    await waitHealthy(base, c, timeoutMs, () => log());
  }

  async function gone(c: ChildProcess): Promise<void> {
    const pgid = c.pid;
    if (pgid === undefined) return;
    for (let i = 0; i < 300 && groupAlive(pgid); i++) await sleep(50);
    if (groupAlive(pgid)) process.kill(-pgid, "SIGKILL");
    for (let i = 0; i < 200 && !(await portFree(port)); i++) await sleep(50);
  }

  async function kill(): Promise<void> {
    const c = child;
    child = undefined;
    if (!c || c.pid === undefined) return;
    try {
      process.kill(-c.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await gone(c);
  }

  async function stop(graceMs = 15_000): Promise<void> {
    const c = child;
    child = undefined;
    if (!c || c.pid === undefined) return;
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((r) => c.once("exit", () => r()));
      c.kill("SIGTERM");
      await Promise.race([exited, sleep(graceMs)]);
    }
    if (groupAlive(c.pid)) {
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    await gone(c);
  }

  await launch();
  return {
    base,
    port,
    inspectorPort,
    stateDir,
    get pid() {
      return child?.pid;
    },
    log,
    kill,
    stop,
    async restart() {
      if (child) await stop();
      await launch();
    },
    async dispose() {
      await stop();
      if (ownDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
