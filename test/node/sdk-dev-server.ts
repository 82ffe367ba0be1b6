// A real `npm run dev` (scripts/dev.ts under wrangler) for the users' end-to-end tests (SDKs, CLI, page):
// own process group, temp state dir, ports from the users' range (8880-8899); always stopped by its PID.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { waitForHealth } from "../../scripts/demo.ts";

export const root = resolve(import.meta.dirname, "../..");

export interface DevServer {
  base: string;
  port: number;
  log: () => string;
  stop: () => Promise<void>;
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const probe = createServer();
    probe.once("error", () => r(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => r(true)));
  });
}

/** Starts the dev server on `port` (inspector on port + 1) with extra environment; waits for /v1/health. */
export async function startDevServer(port: number, env: Record<string, string> = {}): Promise<DevServer> {
  const inspector = port + 1;
  for (const p of [port, inspector]) if (!(await portFree(p))) throw new Error(`port ${p} is busy`);
  const stateDir = mkdtempSync(join(tmpdir(), "nash-users-"));
  let log = "";
  const child: ChildProcess = spawn(process.execPath, [resolve(root, "scripts/dev.ts")], {
    cwd: root,
    detached: true, // own process group: a last-resort kill reaches wrangler and workerd too
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PORT: String(port), INSPECTOR_PORT: String(inspector), NASH_STATE_DIR: stateDir, ...env },
  });
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 15_000))]);
      if (late && child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
        await exited;
      }
    }
    for (let i = 0; i < 50 && !(await portFree(port)); i++) await new Promise((r) => setTimeout(r, 200));
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(base, 120_000, child);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n--- server log ---\n${log.slice(-4000)}`);
  }
  return { base, port, log: () => log, stop };
}
