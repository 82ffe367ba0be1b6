// Learned validation through the market object under `wrangler dev` (notes/model.md "Phase 2"): the model's first
// load (PUT /model on a fresh server, then on a fresh object), and a batch's close → settled time with outside
// proposals scored, against a batch settled unscored (model never loaded in that object). Ports PORT (default
// 8940) and PORT+1 (inspector); throw-away state. Usage: npx node bench/proposals.ts [rounds, default 5]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { parseOrExit, soleNumberArg } from "../src/cli/args.ts";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateAgentKey, signRequest, type AgentKey } from "../src/contract/auth.ts";
import { waitForHealth } from "../scripts/demo.ts";
import { recordFigures } from "../support/figures.ts";

recordFigures("proposals", "Proposals in batch markets");

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const rounds = parseOrExit("usage: npx node bench/proposals.ts [ROUNDS, default 5]", () => soleNumberArg("ROUNDS", 5, { min: 1, integer: true }));
const port = Number(process.env.PORT || 8940);
const base = `http://127.0.0.1:${port}`;
const operator = await generateAgentKey();
const stateDir = mkdtempSync(join(tmpdir(), "nash-proposals-"));
const child = spawn(process.execPath, [resolve(root, "scripts/dev.ts")], {
  cwd: root,
  stdio: ["ignore", "ignore", "inherit"],
  env: { ...process.env, PORT: String(port), INSPECTOR_PORT: String(port + 1), NASH_STATE_DIR: stateDir, OPERATOR_AGENTS: operator.publicKey },
});
const stop = () => {
  if (child.exitCode === null) child.kill("SIGTERM");
  rmSync(stateDir, { recursive: true, force: true });
};
process.on("exit", stop);

async function call(agent: AgentKey, method: string, path: string, body?: unknown, type = "application/json") {
  const bytes = body === undefined ? undefined : body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body));
  const headers = await signRequest({ privateKey: agent.privateKey, publicKey: agent.publicKey, method, path, body: bytes });
  const r = await fetch(base + path, { method, body: bytes, headers: { ...headers, "content-type": type } });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

const INTERVAL = 4000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: [string, string][] = [];
const note = (text: string) => process.stderr.write(`bench: ${text}\n`);

try {
  await waitForHealth(base, 120_000);
  const model = new Uint8Array(readFileSync(join(root, "models", "nash-scorer-v7.onnx")));
  const timePut = async (m: string) => {
    const t0 = performance.now();
    await call(operator, "PUT", `/v1/markets/${m}/model`, model, "application/octet-stream");
    return performance.now() - t0;
  };
  note("server up; PUT /model");
  rows.push(["PUT /model, fresh server (ort start-up + 2 sessions)", `${(await timePut("bench-m0")).toFixed(1)} ms`]);
  rows.push(["PUT /model, fresh object, warm isolate (2 sessions)", `${(await timePut("bench-m1")).toFixed(1)} ms`]);

  const agents = await Promise.all(Array.from({ length: 4 }, () => generateAgentKey()));
  /** One batch of 2n intents and k outside proposals; close → first fill seen, polled every 5 ms. */
  async function batch(m: string, n: number, k: number): Promise<number> {
    const ids: string[] = [];
    const limits: number[] = [];
    const before = ((await (await fetch(`${base}/v1/markets/${m}`)).json()) as { counters: { settlements: number } }).counters.settlements;
    const opened = Date.now(); // the batch opens at the first accepted intent: its close is INTERVAL later
    for (let i = 0; i < 2 * n; i++) {
      const side = i % 2 ? "sell" : "buy";
      const id = `${m}-${Date.now().toString(36)}-${i}`;
      ids.push(id);
      const limitPrice = side === "buy" ? 1.5 + ((i * 13) % 40) / 100 : 1.3 + ((i * 7) % 40) / 100;
      limits.push(limitPrice);
      await call(agents[i % 4], "POST", `/v1/markets/${m}/intents`, {
        id, side, resource: "gpu-h100-hr", region: i % 3 ? "eu-west" : "us-east", quantity: 10 + ((i * 37) % 90), limitPrice,
      });
    }
    let closesAt = opened + INTERVAL;
    let accepted = 0;
    for (let j = 0; j < k; j++) {
      // Pairs buy 2i with sell 2i+1 at a fraction of the smaller quantity: feasible, of varied quality.
      const fills = [];
      for (let i = 0; i + 1 < 2 * n; i += 2) {
        if (limits[i] >= limits[i + 1]) fills.push({ buy: ids[i], sell: ids[i + 1], resource: "gpu-h100-hr", quantity: 1 + j, price: (limits[i] + limits[i + 1]) / 2 });
      }
      try {
        closesAt = Date.parse((await call(agents[0], "POST", `/v1/markets/${m}/proposals`, { fills })).proposal.closesAt);
        accepted++;
      } catch {
        // an infeasible pairing (latency, prices): fine, it is refused and not scored
      }
    }
    if (k > 0) note(`${m}: ${accepted} of ${k} proposals accepted, ${closesAt - Date.now()} ms before the close`);
    for (let polls = 0; ; polls++) {
      if (polls > 4000) throw new Error(`batch in ${m} did not settle`);
      const v = await (await fetch(`${base}/v1/markets/${m}`)).json() as { counters: { openIntents: number; settlements: number } };
      if (v.counters.settlements > before) return Date.now() - closesAt;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  for (const [m, k, label] of [["bench-scored", 8, "with 8 outside proposals (scored)"], ["bench-plain", 0, "built-in only"]] as const) {
    await call(operator, "PUT", `/v1/markets/${m}/config`, { clearing: "batch", batchIntervalMs: INTERVAL });
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      times.push(await batch(m, 10, k));
      note(`${m} round ${r}: ${times.at(-1)} ms`);
    }
    const view = await (await fetch(`${base}/v1/markets/${m}`)).json() as { model: { loaded: boolean } };
    rows.push([`batch close → settled, 20 intents, ${label}, model loaded: ${view.model.loaded}`, `first ${times[0]} ms, median of the rest ${median(times.slice(1))} ms (${times.join(", ")})`]);
  }
  console.log("| figure | value |\n|---|---|");
  for (const [a, b] of rows) console.log(`| ${a} | ${b} |`);
} finally {
  stop();
}
