// Unsigned reads of markets that never accepted a write answer 404 and leave no storage behind (issue 14, item 5):
// under real `wrangler dev`, 50 GETs of new market names must not add a file or a byte to the state directory.
// Ports: READS_PORT (default 18931) and the next three; the server is stopped by its PID.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startDevServer, type DevServer } from "../../support/dev-server.ts";

const port = Number(process.env.READS_PORT || 18931);
let server: DevServer;

/** Files and bytes under `dir`, recursively. */
function footprint(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files += 1;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}

beforeAll(async () => {
  server = await startDevServer({ ports: [port, port + 1, port + 2, port + 3] });
}, 150_000);

afterAll(async () => {
  await server?.dispose();
});

test("50 GETs of new market names answer 404 and leave the state directory as it was", async () => {
  // One read first, so that whatever the runtime creates once (not per market) exists before the count.
  await fetch(`${server.base}/v1/markets/warm-up-${Date.now()}`);
  await new Promise((r) => setTimeout(r, 500));
  const before = footprint(server.stateDir);
  const reads = ["", "/intents/i-1", "/settlements/s-1", "/commitments", "/proposals", "/training-examples"];
  const statuses = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const r = await fetch(`${server.base}/v1/markets/never-written-${i}${reads[i % reads.length]}`);
    statuses.add(r.status);
    if (r.status === 404) expect(((await r.json()) as { detail: string }).detail).toMatch(/market/);
    else await r.body?.cancel();
  }
  await new Promise((r) => setTimeout(r, 1000)); // let the runtime flush whatever it would write
  const after = footprint(server.stateDir);
  console.log(`state directory: ${before.files} files, ${before.bytes} bytes before; ${after.files} files, ${after.bytes} bytes after`);
  expect([...statuses]).toEqual([404]);
  expect(after).toEqual(before);
}, 120_000);
