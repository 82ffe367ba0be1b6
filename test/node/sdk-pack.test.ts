// The SDK as a user installs it: `npm pack` in sdk/typescript, the tarball installed into an empty folder outside
// the repository, and a plain-JS script there that makes a key, signs a request, validates intents with the
// SDK's exports and settles a trade against a real `npm run dev`. Port SDK_PACK_PORT (default 8890, inspector +1).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { verifyRequest } from "../../src/contract/auth.ts";
import { root, startDevServer, type DevServer } from "./sdk-dev-server.ts";

const PORT = Number(process.env.SDK_PACK_PORT || 8890);
const work = mkdtempSync(join(tmpdir(), "nash-sdk-pack-"));
let server: DevServer | undefined;

/** The user's script: only `@nash/sdk` and Node's own modules, as an installed package resolves them. */
const SCRIPT = `
import { NashClient, IntentInput, fieldErrors, generateKey, signRequest } from "@nash/sdk";
import { keyToJson } from "@nash/sdk";
import { loadKey } from "@nash/sdk/node";
import { writeFileSync } from "node:fs";

const key = await generateKey();
writeFileSync("key.json", keyToJson(key));
const loaded = await loadKey("key.json");
const body = JSON.stringify({ side: "buy", resource: "gpu", quantity: 1, limitPrice: 2 });
const signed = { method: "POST", path: "/v1/markets/m/intents", body, timestamp: Date.now() };
const headers = await signRequest({ ...signed, privateKey: loaded.privateKey });
const buy = { side: "buy", resource: "gpu-h100-hr", quantity: 100, limitPrice: 1.8, region: "eu-west" };
const valid = IntentInput.safeParse({ ...buy, agent: key.publicKey }).success;
const bad = IntentInput.safeParse({ ...buy, agent: key.publicKey, quantity: -1, colour: "red" });
const out = { publicKey: key.publicKey, signed, headers, valid, errors: fieldErrors(bad.error) };
if (process.env.NASH_URL) {
  const market = "pack-" + Date.now().toString(36);
  const buyer = new NashClient({ baseUrl: process.env.NASH_URL, key });
  const seller = new NashClient({ baseUrl: process.env.NASH_URL, key: await generateKey() });
  await buyer.submit(market, { id: "b1", ...buy });
  const answer = await seller.submit(market, { id: "s1", ...buy, side: "sell", quantity: 500, limitPrice: 1.4 });
  out.settlement = answer.settlement;
}
console.log(JSON.stringify(out));
`;

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  server = await startDevServer(PORT);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

test("npm pack gives a tarball that installs and runs in an empty folder", { timeout: 300_000 }, async () => {
  const packs = join(work, "packs");
  const app = join(work, "app");
  for (const dir of [packs, app]) mkdirSync(dir);
  run("npm", ["pack", "--pack-destination", packs], join(root, "sdk/typescript"));
  const [tarball] = readdirSync(packs);
  expect(tarball).toMatch(/^nash-sdk-.*\.tgz$/);

  expect(relative(root, app).startsWith("..")).toBe(true); // nothing of the repository beside it
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(packs, tarball)], app);
  writeFileSync(join(app, "main.mjs"), SCRIPT);
  const out = JSON.parse(run(process.execPath, ["main.mjs"], app, { NASH_URL: server!.base }));

  // The signature verifies with the service's own check, over the request the script described.
  const verified = await verifyRequest({ ...out.signed, headers: out.headers, now: out.signed.timestamp });
  expect(verified).toMatchObject({ ok: true, agent: out.publicKey });
  expect(out.valid).toBe(true);
  expect(out.errors).toEqual([
    { field: "quantity", message: expect.any(String) },
    { field: "(body)", message: "unknown field(s): colour" },
  ]);
  expect(out.settlement.fills).toEqual([{ buy: "b1", sell: "s1", resource: "gpu-h100-hr", quantity: 100, price: expect.closeTo(1.6, 9) }]);
});

