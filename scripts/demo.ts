// `npm run demo`: submits the seed examples as signed intents into fresh markets of a running NASH edge service
// (BASE_URL, default http://127.0.0.1:$PORT) and prints each settlement. `npm start` (= this with --serve) first
// starts `scripts/dev.ts`, waits for /v1/health, runs the demo and keeps serving until Ctrl-C; with --once or
// CI=true it stops the server and exits after the demo. Also exports the small signed client used by
// scripts/latency.ts and the end-to-end test.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { parseFlags, parseOrExit } from "../src/cli/args.ts";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateAgentKey, signRequest, type AgentKey } from "../src/contract/auth.ts";
import type { Intent, LatencyTable } from "../src/contract/schema.ts";
import { DEFAULT_LATENCY } from "../src/solver/index.ts";
import { latencyBetween, softPenalty } from "../src/solver/latency.ts";
import { shiftedToNow } from "./seed-time.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Polls GET /v1/health until it answers 200 or `timeoutMs` passes (then throws). */
export async function waitForHealth(base: string, timeoutMs = 60_000, child?: ChildProcess): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`the dev server exited with code ${child.exitCode}`);
    try {
      const r = await fetch(`${base}/v1/health`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${base}/v1/health did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One signed request; `body` is sent as JSON when given. Returns status and parsed JSON (or undefined). */
export async function signedRequest(
  base: string,
  key: AgentKey,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const auth = await signRequest({ privateKey: key.privateKey, publicKey: key.publicKey || undefined, method, path, body: text });
  const r = await fetch(base + path, { method, body: text, headers: { "content-type": "application/json", ...auth, ...headers } });
  const raw = await r.text();
  return { status: r.status, body: raw === "" ? undefined : JSON.parse(raw), headers: r.headers };
}

interface Seed {
  name: string;
  latency?: unknown;
  intents: Record<string, unknown>[];
}

/** The bilateral example of the brief, used when examples/seed-bilateral.json is absent. */
const BUILTIN_BILATERAL: Seed = {
  name: "bilateral",
  intents: [
    { id: "b1", agent: "buyer", side: "buy", resource: "gpu-h100-hr", quantity: 100, limitPrice: 1.8, region: "eu-west" },
    { id: "s1", agent: "seller", side: "sell", resource: "gpu-h100-hr", quantity: 500, limitPrice: 1.4, region: "eu-west" },
  ],
};

function loadSeeds(): Seed[] {
  const seeds: Seed[] = [];
  for (const name of ["bilateral", "three-party"]) {
    const file = resolve(process.env.NASH_EXAMPLES_DIR || resolve(root, "examples"), `seed-${name}.json`);
    if (!existsSync(file)) {
      if (name === "bilateral") seeds.push(BUILTIN_BILATERAL);
      continue;
    }
    const data = JSON.parse(readFileSync(file, "utf8")) as { latency?: unknown; now?: string; intents?: unknown };
    if (!Array.isArray(data.intents)) throw new Error(`${file}: expected an "intents" array`);
    seeds.push({ name, latency: data.latency, intents: shiftedToNow(data.intents as Record<string, unknown>[], data.now, Date.now()) });
  }
  return seeds;
}

const fmt = (n: number, digits = 4) => (Number.isInteger(n) ? String(n) : n.toFixed(digits).replace(/0+$/, "").replace(/\.$/, ""));

type Window = { start: string; end: string };

/** "08:00–10:00 UTC (in 2 h)" style: a window against the current time, to the minute. */
function when(w: Window | undefined): string {
  if (!w) return "any time";
  const at = (t: string) => t.slice(11, 16);
  const hours = (t: string) => (Date.parse(t) - Date.now()) / 3_600_000;
  const from = hours(w.start) <= 0 ? "from now" : `from in ${fmt(hours(w.start), 1)} h`;
  return `${at(w.start)}–${at(w.end)} UTC (${from} to in ${fmt(hours(w.end), 1)} h)`;
}

function describeIntent(i: Record<string, unknown>): string {
  const limit = i.side === "buy" ? "at most" : "at least";
  const min = i.minQuantity !== undefined ? ` (min ${i.minQuantity})` : "";
  const cap = i.maxLatencyMs !== undefined ? `, within ${i.maxLatencyMs} ms` : "";
  const soft = i.preferLatencyMs !== undefined ? `, prefers ≤ ${i.preferLatencyMs} ms (limit −${i.latencyDiscount}/ms beyond)` : "";
  const swapFor = i.swapFor as { resource: string; window?: Window } | undefined;
  const window = i.window !== undefined ? ` over ${when(i.window as Window)}` : "";
  const swap = swapFor ? ` (${i.kind ?? "swap"}: takes ${swapFor.resource}${swapFor.window ? ` over ${when(swapFor.window)}` : ""} in return)` : "";
  const priority = i.priority !== undefined && i.priority !== "normal" ? `, priority ${i.priority}` : "";
  const what = swapFor ? "gives" : i.side;
  return `${what} ${i.quantity}${min} ${i.resource}${window}${swap} ${limit} ${i.limitPrice} in ${i.region}${cap}${soft}${priority}`;
}

/** " delivered 08:00–10:00 UTC" for a fill with a schedule. */
const deliveredOver = (f: { start?: string; end?: string }) => (f.start && f.end ? ` delivered ${f.start.slice(11, 16)}–${f.end.slice(11, 16)} UTC` : "");

function printSettlement(s: any, labels: Map<string, string>): void {
  const gap = s.stats.gap !== undefined ? `, gap ≤ ${fmt(s.stats.gap)}` : "";
  console.log(`  settlement ${s.id}: welfare ${fmt(s.welfare)} (${s.stats.status}${gap}, solved in ${fmt(s.stats.solveMs, 2)} ms)`);
  for (const f of s.fills) {
    console.log(`    ${fmt(f.quantity)} ${f.resource}: ${labels.get(f.buy) ?? f.buy} buys from ${labels.get(f.sell) ?? f.sell} at ${fmt(f.price)}${deliveredOver(f)}`);
  }
}

/** One submitted intent as the demo knows it: the agent's name and the intent as accepted. */
interface Submitted {
  who: string;
  intent: Record<string, any>;
}

/** "hr" for hourly resources (gpu-h100-hr), else "unit". */
const unitOf = (resource: string) => (/-hr$/.test(resource) ? "hr" : "unit");

/**
 * Explains a settlement that includes swaps or deferrals in words: who takes what from whom, what each swap
 * nets per unit and in total, and every party's surplus (limits against prices; they add up to the welfare).
 */
function explainMultiParty(s: any, submitted: Map<string, Submitted>): void {
  const swaps = [...submitted.values()].filter((x) => x.intent.swapFor !== undefined && s.fills.some((f: any) => f.sell === x.intent.id));
  if (swaps.length === 0) return;
  const name = (id: string) => submitted.get(id)?.who ?? id;
  const money = (n: number) => n.toFixed(2);
  console.log(`  how it works (${swaps.length === 1 ? "a chain through one " + (swaps[0].intent.kind ?? "swap") : `${swaps.length} swaps`}):`);
  for (const { who, intent } of swaps) {
    const unit = unitOf(intent.resource);
    const gave = s.fills.filter((f: any) => f.sell === intent.id);
    const got = s.fills.filter((f: any) => f.buy === intent.id);
    // A deferral: a swap of a resource for the same resource in a later window.
    const defers = intent.resource === intent.swapFor.resource && intent.swapFor.window !== undefined;
    for (const f of gave) {
      const held = defers ? `${who}'s held ${f.resource} capacity` : `${f.resource} from ${who}`;
      console.log(`    ${name(f.buy)} buys ${held}: ${fmt(f.quantity)} at ${fmt(f.price)}/${unit} (${money(f.quantity * f.price)})${deliveredOver(f)}`);
    }
    for (const f of got) {
      const what = defers ? `${who}'s job moves to ${name(f.sell)}'s later capacity` : `${who} takes ${f.resource} from ${name(f.sell)} in return`;
      console.log(`    ${what}: ${fmt(f.quantity)} at ${fmt(f.price)}/${unitOf(f.resource)} (${money(f.quantity * f.price)})${deliveredOver(f)}`);
    }
    const quantity = gave.reduce((t: number, f: any) => t + f.quantity, 0);
    const net = gave.reduce((t: number, f: any) => t + f.quantity * f.price, 0) - got.reduce((t: number, f: any) => t + f.quantity * f.price, 0);
    const label = defers ? "net rebate" : "net received";
    console.log(`    ${who}'s ${label}: ${fmt(net / quantity)}/${unit}, ${money(net)} in total over ${fmt(quantity)} ${unit === "hr" ? "hours" : "units"} (it asked for at least ${fmt(intent.limitPrice - (intent.swapFor.limitPrice ?? 0))}/${unit})`);
  }
  // Surplus: a buyer's limit minus the price, a seller's price minus its limit; a swap is both.
  const surplus = new Map<string, number>();
  const add = (id: string, v: number) => surplus.set(name(id), (surplus.get(name(id)) ?? 0) + v);
  for (const f of s.fills) {
    const b = submitted.get(f.buy)?.intent;
    const a = submitted.get(f.sell)?.intent;
    if (b) add(f.buy, ((b.swapFor ? b.swapFor.limitPrice ?? 0 : b.limitPrice) - f.price) * f.quantity);
    if (a) add(f.sell, (f.price - a.limitPrice) * f.quantity);
  }
  const parts = [...surplus].map(([who, v]) => `${who} ${money(v)}`).join(", ");
  console.log(`    surplus: ${parts} (sum ${money([...surplus.values()].reduce((t, v) => t + v, 0))} = welfare ${fmt(s.welfare)})`);
}

const overlap = (a: Window | undefined, b: Window | undefined) => !a || !b || (Date.parse(a.start) < Date.parse(b.end) && Date.parse(b.start) < Date.parse(a.end));

/**
 * Why the settlement is what it is, in words: which windows keep parties apart and which swap bridges them, what
 * soft latency does to each preferring intent's limit against each counterparty, and what priority did.
 */
function explainWhy(all: Submitted[], latency: LatencyTable, clearedOnArrival: Set<string>): void {
  const lines: string[] = [];
  const plain = all.filter((x) => x.intent.swapFor === undefined);
  for (const b of plain.filter((x) => x.intent.side === "buy")) {
    for (const s of plain.filter((x) => x.intent.side === "sell" && x.intent.resource === b.intent.resource)) {
      if (!overlap(b.intent.window, s.intent.window)) {
        lines.push(`windows: ${b.who} needs ${b.intent.resource} ${when(b.intent.window)}; ${s.who} offers it ${when(s.intent.window)}: no time in common, so no direct trade`);
      }
    }
  }
  for (const x of all.filter((y) => y.intent.swapFor !== undefined)) {
    const i = x.intent;
    lines.push(`${x.who} holds ${i.resource} ${when(i.window)} and takes ${i.swapFor.resource} ${when(i.swapFor.window)} instead, for at least ${fmt(i.limitPrice - (i.swapFor.limitPrice ?? 0))}/unit net: it bridges the two windows`);
  }
  for (const x of all.filter((y) => y.intent.preferLatencyMs !== undefined)) {
    const i = x.intent as Intent;
    const others = all.filter((y) => y !== x && (y.intent.side !== i.side || y.intent.swapFor !== undefined));
    const parts = others.map((y) => {
      const ms = latencyBetween(latency, i.region, y.intent.region);
      const moved = softPenalty(latency, i, y.intent.region);
      const effect = moved > 0 ? `its limit against ${y.who} moves by ${fmt(moved)} to ${fmt(i.side === "buy" ? i.limitPrice - moved : i.limitPrice + moved)}` : "no discount";
      return `${y.who} (${y.intent.region}) is ${ms ?? "?"} ms away: ${effect}`;
    });
    lines.push(`soft latency: ${x.who} prefers ≤ ${i.preferLatencyMs} ms (${i.latencyDiscount}/unit per ms beyond); ${parts.join("; ")}`);
  }
  for (const x of all.filter((y) => y.intent.priority === "high")) {
    lines.push(clearedOnArrival.has(x.intent.id)
      ? `priority high: ${x.who}'s intent cleared on arrival against the resting book, without waiting for the batch's close (priority never moves a price)`
      : `priority high: ${x.who}'s intent clears on arrival; nothing could trade with it then`);
  }
  if (lines.length === 0) return;
  console.log("  why:");
  for (const line of lines) console.log(`    ${line}`);
}

/** Runs the demo against `base`; `operator` (a key listed in OPERATOR_AGENTS) lets it set seed latency tables. */
export async function runDemo(base: string, operator?: AgentKey): Promise<{ market: string; settlements: any[] }[]> {
  const results: { market: string; settlements: any[] }[] = [];
  const stamp = Date.now().toString(36);
  for (const seed of loadSeeds()) {
    const market = `demo-${seed.name}-${stamp}`;
    console.log(`\nmarket ${market} (${base}/v1/markets/${market})`);
    // A seed of more than two intents is one batch (as `nash solve` sees it): with an operator key the market is
    // switched to batch clearing so that all intents settle together; otherwise each one clears on arrival.
    const batch = operator !== undefined && seed.intents.length > 2;
    if (operator && (seed.latency !== undefined || batch)) {
      const config: Record<string, unknown> = {};
      if (seed.latency !== undefined) config.latency = seed.latency;
      if (batch) Object.assign(config, { clearing: "batch", batchIntervalMs: 500 });
      const r = await signedRequest(base, operator, "PUT", `/v1/markets/${market}/config`, config);
      if (r.status !== 200) throw new Error(`configuring the market failed: ${r.status} ${JSON.stringify(r.body)}`);
      console.log(`  market configured: ${batch ? "batch clearing every 500 ms" : "continuous clearing"}${seed.latency ? ", latency table from the seed" : ""}`);
    } else if (seed.latency !== undefined) {
      console.log("  (no operator key: the seed's latency table is not set; the market uses the built-in one)");
    }
    // The market's event stream shows settlements as they commit (batch ones arrive only here).
    const committed: any[] = [];
    const ws = new WebSocket(`${base.replace(/^http/, "ws")}/v1/markets/${market}/stream`);
    ws.addEventListener("message", (e) => {
      const event = JSON.parse(String(e.data));
      if (event.type === "settlement.committed") committed.push(event.settlement);
    });
    await new Promise<void>((ok, fail) => {
      ws.addEventListener("open", () => ok());
      ws.addEventListener("error", () => fail(new Error("the market stream did not open")));
    });
    const agents = new Map<string, AgentKey>();
    const labels = new Map<string, string>();
    const submitted = new Map<string, Submitted>();
    const settlements: any[] = [];
    const clearedOnArrival = new Set<string>();
    for (const raw of seed.intents) {
      const { agent: name, ...intent } = raw;
      const who = typeof name === "string" ? name : "agent";
      if (!agents.has(who)) agents.set(who, await generateAgentKey());
      const r = await signedRequest(base, agents.get(who)!, "POST", `/v1/markets/${market}/intents`, intent);
      if (r.status !== 201) throw new Error(`submitting ${JSON.stringify(raw)} failed: ${r.status} ${JSON.stringify(r.body)}`);
      labels.set(r.body.intent.id, `${who} (${r.body.intent.id})`);
      submitted.set(r.body.intent.id, { who, intent: r.body.intent });
      console.log(`  ${who} submits ${describeIntent(intent)} → ${r.body.intent.id}: ${r.body.intent.status}`);
      if (r.body.settlement) {
        if (batch) {
          clearedOnArrival.add(r.body.intent.id);
          console.log(`  ${who}'s intent has priority ${intent.priority ?? "normal"}: it cleared on arrival (the rest of a batch market waits for the close)`);
        }
        settlements.push(r.body.settlement);
        printSettlement(r.body.settlement, labels);
        explainMultiParty(r.body.settlement, submitted);
      }
    }
    if (batch && settlements.length === 0) {
      for (let i = 0; i < 100 && committed.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      if (committed.length === 0) console.log("  the batch cleared without a settlement (nothing could trade)");
      for (const s of committed.filter((c) => !settlements.some((x) => x.id === c.id))) {
        settlements.push(s);
        console.log("  batch cleared (from the market stream):");
        printSettlement(s, labels);
        explainMultiParty(s, submitted);
      }
    }
    if (settlements.length > 0) explainWhy([...submitted.values()], (seed.latency as LatencyTable | undefined) ?? DEFAULT_LATENCY, clearedOnArrival);
    ws.close();
    const view = (await (await fetch(`${base}/v1/markets/${market}`)).json()) as any;
    const c = view.counters;
    console.log(`  market: ${c.intents} intents, ${c.openIntents} open, ${c.settlements} settlements, volume ${fmt(c.volume)}, welfare ${fmt(c.welfare)}`);
    results.push({ market, settlements });
  }
  return results;
}

async function main(): Promise<void> {
  const { values } = parseOrExit("usage: npm run demo (against PORT or BASE_URL) | npm start [-- --once] (serves, runs the demo)", () =>
    parseFlags({ options: { serve: { type: "boolean" }, once: { type: "boolean" } } }),
  );
  const serve = values.serve === true;
  const once = values.once === true || process.env.CI === "true" || process.env.CI === "1";
  const port = process.env.PORT || "8787";
  if (!serve) {
    // NASH_OPERATOR_KEY (a PKCS#8 base64url private key listed in the server's OPERATOR_AGENTS) lets the demo
    // set the seeds' latency tables; without it the markets keep the built-in table.
    const operatorKey = process.env.NASH_OPERATOR_KEY;
    await runDemo(process.env.BASE_URL || `http://127.0.0.1:${port}`, operatorKey ? { privateKey: operatorKey, publicKey: "" } : undefined);
    return;
  }
  const operator = await generateAgentKey();
  const operators = [process.env.OPERATOR_AGENTS, operator.publicKey].filter((k) => k && k !== "").join(",");
  const child = spawn(process.execPath, [resolve(root, "scripts/dev.ts")], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, PORT: port, OPERATOR_AGENTS: operators },
  });
  const stop = (signal: NodeJS.Signals) => {
    if (child.exitCode === null) child.kill(signal);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  const exited = new Promise<number>((r) => child.on("exit", (code) => r(code ?? 0)));
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(base, 90_000, child);
    await runDemo(base, operator);
  } catch (e) {
    console.error(`demo failed: ${(e as Error).message}`);
    stop("SIGTERM");
    await exited;
    process.exit(1);
  }
  if (once) {
    stop("SIGTERM");
    await exited;
    process.exit(0);
  }
  console.log(`\nserving on ${base}; Ctrl-C to stop`);
  process.exit(await exited);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`demo failed: ${(e as Error).message}`);
    process.exit(1);
  });
}
