// The users' paths end to end against a real `npm run dev` (wrangler, port 8880): the TypeScript SDK (typed
// answers, signing, retries on real 429s and on a lost answer, the stream with reconnect), the `nash` CLI
// (keygen, submit, cancel, watch), the Python SDK's test suite, and the served OpenAPI document and reference.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, request as httpRequest, type Server } from "node:http";
import { createConnection, createServer as createTcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { NashClient, NashError, deferral, generateKey, keyToJson, later, window, type MarketEvent, type Settlement } from "../../sdk/typescript/src/index.ts";
import { buildOpenApi } from "../../src/api/openapi.ts";
import { root, startDevServer, type DevServer } from "./sdk-dev-server.ts";
import { agentKeyFromSeed } from "../../src/contract/auth.ts";

const PORT = Number(process.env.USERS_E2E_PORT || 8880); // inspector PORT+1; proxies PORT+2, PORT+3
let server: DevServer;
const tmp = mkdtempSync(join(tmpdir(), "nash-sdk-"));
const market = () => `sdk-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
const buy = { side: "buy", resource: "gpu-h100-hr", quantity: 100, limitPrice: 1.8, region: "eu-west" } as const;
const sell = { side: "sell", resource: "gpu-h100-hr", quantity: 500, limitPrice: 1.4, region: "eu-west" } as const;

async function until<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  // A small per-agent burst so the retry test meets real 429s from the service.
  // The Python batch test configures its market as the operator whose key is the seed 7,7,…,7.
  const operator = await agentKeyFromSeed(new Uint8Array(32).fill(7));
  server = await startDevServer(PORT, { RATE_LIMIT_BURST: "3", RATE_LIMIT_PER_SECOND: "5", OPERATOR_AGENTS: operator.publicKey });
}, 180_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

describe("TypeScript SDK", () => {
  test("submit, settle at the midpoint, read back, watch, cancel", { timeout: 60_000 }, async () => {
    const m = market();
    const buyer = new NashClient({ baseUrl: server.base, key: await generateKey() });
    const seller = new NashClient({ baseUrl: server.base, key: await generateKey() });
    expect((await buyer.health()).ok).toBe(true);

    // A market exists from its first write (before it, its stream answers 404): the buyer opens it.
    const b = await buyer.submit(m, { id: "b1", ...buy });
    expect(b.intent).toMatchObject({ id: "b1", agent: buyer.key!.publicKey, status: "open", remainingQuantity: 100 });
    const settled: Settlement[] = [];
    const events: MarketEvent[] = [];
    const sub = buyer.watch(m, { onEvent: (e) => events.push(e), onSettlement: (s) => settled.push(s) });
    await sub.ready;

    const s = await seller.submit(m, { id: "s1", ...sell });
    expect(s.settlement!.fills).toEqual([{ buy: "b1", sell: "s1", resource: "gpu-h100-hr", quantity: 100, price: expect.closeTo(1.6, 9) }]);
    expect(s.settlement!.welfare).toBeCloseTo(40, 9);

    expect(await buyer.getIntent(m, "b1")).toMatchObject({ status: "filled", filledQuantity: 100, remainingQuantity: 0 });
    expect(await buyer.getSettlement(m, s.settlement!.id)).toEqual(s.settlement);
    expect((await buyer.getMarket(m)).counters).toMatchObject({ intents: 2, settlements: 1, volume: 100 });

    const seen = await until("settlement on the stream", () => settled[0]);
    expect(seen.id).toBe(s.settlement!.id);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["intent.accepted", "settlement.committed"]));

    const cancelled = await seller.cancel(m, "s1");
    expect(cancelled.intent).toMatchObject({ status: "cancelled", filledQuantity: 100, remainingQuantity: 0 });
    await until("cancel on the stream", () => events.find((e) => e.type === "intent.cancelled"));
    sub.close();

    // The service's refusals arrive as NashError with the problem's code and fields.
    const again = await seller.cancel(m, "s1").catch((e) => e);
    expect(again).toBeInstanceOf(NashError);
    expect(again).toMatchObject({ status: 409, code: "not-cancellable" });
    const other = await buyer.submit(m, { id: "b2", ...buy, limitPrice: 1 });
    expect(await seller.cancel(m, "b2").catch((e) => e)).toMatchObject({ status: 403, code: "forbidden" });
    expect(await buyer.submit(m, { id: "b2", ...buy }).catch((e) => e)).toMatchObject({ status: 409, code: "id-taken" });
    expect(other.intent.status).toBe("open");
    // Bad input is refused before anything is sent, naming the field.
    const local = await buyer.submit(m, { ...buy, quantity: -1 }).catch((e) => e);
    expect(local).toMatchObject({ status: 0, code: "invalid-intent" });
    expect(local.errors).toEqual([{ field: "quantity", message: "must be greater than 0 and at most 1e12" }]);
    // Writes need a key.
    await expect(new NashClient({ baseUrl: server.base }).submit(m, buy)).rejects.toThrow(/create the client with a key/);
  });

  test("windows with window(start, hours) and a deferral: the chain settles with delivery times; the view shows them", { timeout: 60_000 }, async () => {
    const m = market();
    const [compute, storage, inference] = await Promise.all([0, 1, 2].map(async () => new NashClient({ baseUrl: server.base, key: await generateKey() })));
    const hour = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
    const held = window(hour, 2);
    await compute.submit(m, { id: "compute", side: "sell", resource: "gpu-h100-hr", quantity: 300, limitPrice: 1.2, region: "us-east", window: window(later(held, 4).start, 6) });
    await storage.submit(m, { id: "storage", ...deferral("gpu-h100-hr", held, 4, 0.3), quantity: 200, region: "eu-central" });
    const a = await inference.submit(m, { id: "inference", ...buy, quantity: 200, limitPrice: 2, window: held, priority: "high", preferLatencyMs: 30, latencyDiscount: 0.002 });
    expect(a.intent).toMatchObject({ status: "filled", window: held, priority: "high" });
    const fills = Object.fromEntries(a.settlement!.fills.map((f) => [`${f.buy}<${f.sell}`, f]));
    expect(fills["inference<storage"]).toMatchObject({ quantity: 200, start: held.start, end: held.end });
    expect(Date.parse(fills["storage<compute"].start!)).toBeGreaterThanOrEqual(Date.parse(later(held, 4).start));
    expect((await storage.getIntent(m, "storage")).fills).toEqual(expect.arrayContaining([expect.objectContaining({ start: held.start, end: held.end })]));
  });

  test("a burst past the rate limit gets 429s and the SDK's retries land every intent exactly once", { timeout: 60_000 }, async () => {
    const m = market();
    const statuses: number[] = [];
    // The real fetch, observed: the test counts the 429s the service actually sent.
    const observed: typeof fetch = async (input, init) => {
      const r = await fetch(input, init);
      statuses.push(r.status);
      return r;
    };
    const client = new NashClient({ baseUrl: server.base, key: await generateKey(), fetch: observed, retry: { retries: 8 } });
    const answers = await Promise.all(Array.from({ length: 8 }, (_, k) => client.submit(m, { id: `r${k}`, ...buy, limitPrice: 1 })));
    expect(answers.map((a) => a.intent.id).sort()).toEqual(Array.from({ length: 8 }, (_, k) => `r${k}`).sort());
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 201)).toHaveLength(8);
    expect((await client.getMarket(m)).counters.intents).toBe(8);
  });

  test("an answer lost on the way back is retried with the same Idempotency-Key: one intent, the first answer", { timeout: 60_000 }, async () => {
    const m = market();
    // A real HTTP hop in front of the service that lets the first POST reach it, then drops the connection.
    let dropped = 0;
    const proxy: Server = createHttpServer((req, res) => {
      const upstream = httpRequest({ host: "127.0.0.1", port: PORT, path: req.url, method: req.method, headers: req.headers }, (up) => {
        if (req.method === "POST" && dropped === 0) {
          dropped++;
          up.resume();
          up.on("end", () => res.socket?.destroy());
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(PORT + 2, "127.0.0.1", () => r()));
    try {
      const key = await generateKey();
      const client = new NashClient({ baseUrl: `http://127.0.0.1:${PORT + 2}`, key, retry: { baseMs: 50 } });
      const answer = await client.submit(m, buy); // no client id: a second intent would get a second server id
      expect(dropped).toBe(1);
      const view = await client.getMarket(m);
      expect(view.counters.intents).toBe(1);
      expect(view.openIntents.map((i) => i.id)).toEqual([answer.intent.id]);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });

  test("the stream reconnects after the line drops, and events flow again", { timeout: 60_000 }, async () => {
    const m = market();
    // A TCP hop the test can cut.
    const sockets = new Set<Socket>();
    const hop = createTcpServer((client) => {
      const upstream = createConnection({ host: "127.0.0.1", port: PORT });
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on("error", () => {});
        s.on("close", () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((r) => hop.listen(PORT + 3, "127.0.0.1", () => r()));
    try {
      const a = new NashClient({ baseUrl: server.base, key: await generateKey() });
      const b = new NashClient({ baseUrl: server.base, key: await generateKey() });
      await a.submit(m, buy); // the market exists from its first write
      const opens: number[] = [];
      const settled: Settlement[] = [];
      const watcher = new NashClient({ baseUrl: `http://127.0.0.1:${PORT + 3}` });
      const sub = watcher.watch(m, { onOpen: (n) => opens.push(n), onSettlement: (s) => settled.push(s), maxBackoffMs: 300 });
      await sub.ready;
      for (const s of sockets) s.destroy();
      await until("reconnect", () => (opens.includes(1) ? true : undefined));
      const s = await b.submit(m, sell);
      expect((await until("settlement after reconnect", () => settled[0])).id).toBe(s.settlement!.id);
      sub.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hop.close(r));
    }
  });
});

describe("nash CLI on the SDK", () => {
  const bin = join(root, "bin", "nash.mjs");
  const nash = (args: string[], env: Record<string, string> = {}, input?: string) => {
    const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: "utf8", timeout: 60_000, env: { ...process.env, NASH_URL: server.base, ...env } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  test("keygen, submit from a file and the environment, watch, cancel", { timeout: 240_000 }, async () => {
    const m = market();
    const keyFile = join(tmp, "buyer.json");
    const made = nash(["keygen", "--out", keyFile]);
    expect(made.code).toBe(0);
    const buyerPublic = JSON.parse(made.stdout).publicKey;
    expect(nash(["keygen", "--out", keyFile]).code).toBe(1); // never overwrites a key

    // The market exists from its first write (another resource: it trades with nothing here).
    await new NashClient({ baseUrl: server.base, key: await generateKey() }).submit(m, { ...sell, resource: "storage-tb-day" });
    // watch runs in the background until it has seen two events.
    const watch = spawn(process.execPath, [bin, "watch", "--market", m, "--count", "2", "--for-ms", "60000"], { env: { ...process.env, NASH_URL: server.base } });
    let watched = "";
    let watchErr = "";
    watch.stdout.on("data", (d) => (watched += d));
    watch.stderr.on("data", (d) => (watchErr += d));
    const watchDone = new Promise<number>((r) => watch.on("exit", (code) => r(code ?? -1)));
    await until("watch connected", () => (watchErr.includes("watching") ? true : undefined), 30_000);

    writeFileSync(join(tmp, "buy.json"), JSON.stringify({ id: "cli-b1", ...buy }));
    const submitted = nash(["submit", join(tmp, "buy.json"), "--market", m, "--key", keyFile]);
    expect(submitted.stderr).toBe("");
    expect(submitted.code).toBe(0);
    expect(JSON.parse(submitted.stdout).intent).toMatchObject({ id: "cli-b1", agent: buyerPublic, status: "open" });

    const sellerKey = keyToJson(await generateKey());
    const fromEnv = nash(["submit", "-", "--market", m], { NASH_AGENT_KEY: sellerKey }, JSON.stringify([{ ...sell, quantity: 40, limitPrice: 1.7 }]));
    expect(fromEnv.code).toBe(0);
    expect(JSON.parse(fromEnv.stdout)[0].settlement.fills[0]).toMatchObject({ buy: "cli-b1", quantity: 40 });

    expect(await watchDone).toBe(0);
    expect(watched.trim().split("\n").map((l) => JSON.parse(l).type)).toEqual(["intent.accepted", "intent.accepted"]);

    const cancelled = nash(["cancel", "cli-b1", "--market", m], { NASH_AGENT_KEY_FILE: keyFile });
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.stdout).intent).toMatchObject({ status: "cancelled", filledQuantity: 40 });

    const refused = nash(["cancel", "cli-b1", "--market", m, "--key", keyFile]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/409 .*already cancelled/);
    const invalid = nash(["submit", "-", "--market", m, "--key", keyFile], {}, JSON.stringify({ ...buy, limitPrice: -2 }));
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/limitPrice: must be between 0 and 1e9/);
    expect(nash(["submit", "-", "--market", m], { NASH_AGENT_KEY: "", NASH_AGENT_KEY_FILE: "" }, "{}").stderr).toMatch(/no agent key/);
    expect(nash(["watch", "--bogus", "1"]).code).toBe(2);
  });
});

describe("Python SDK", () => {
  test("its test suite passes against the running service", { timeout: 120_000 }, () => {
    const r = spawnSync("/usr/bin/python3", ["-m", "unittest", "discover", "-s", join(root, "test", "python"), "-v"], {
      cwd: root,
      encoding: "utf8",
      timeout: 110_000,
      env: { ...process.env, NASH_BASE_URL: server.base, PYTHONPATH: join(root, "sdk", "python"), PYTHONDONTWRITEBYTECODE: "1" },
    });
    if (r.status !== 0) console.error(r.stdout, r.stderr);
    expect(r.stderr).toMatch(/\nOK/);
    expect(r.stderr).not.toMatch(/skipped/);
    expect(r.status).toBe(0);
  });
});

describe("examples/sdk run as the README says", () => {
  const expectRun = (r: ReturnType<typeof spawnSync>) => {
    if (r.status !== 0) console.error(r.stdout, r.stderr);
    expect(r.status).toBe(0);
    expect(String(r.stdout)).toMatch(/s-1: 100 gpu-h100-hr, inference buys from compute at 1\.6/);
    expect(String(r.stdout)).toMatch(/welfare 40 \(optimal/);
    expect(String(r.stdout)).toMatch(/cancelled after 100 filled/);
  };
  test("TypeScript: examples/sdk/bilateral.ts", { timeout: 60_000 }, () => {
    expectRun(spawnSync(process.execPath, [join(root, "examples", "sdk", "bilateral.ts")], { cwd: root, encoding: "utf8", timeout: 55_000, env: { ...process.env, BASE_URL: server.base } }));
  });
  test("Python: examples/sdk/bilateral.py", { timeout: 60_000 }, () => {
    expectRun(spawnSync("/usr/bin/python3", [join(root, "examples", "sdk", "bilateral.py")], {
      cwd: root,
      encoding: "utf8",
      timeout: 55_000,
      env: { ...process.env, BASE_URL: server.base, PYTHONPATH: join(root, "sdk", "python"), PYTHONDONTWRITEBYTECODE: "1" },
    }));
  });
});

describe("served API description", () => {
  test("/openapi.json is the generated document; /docs renders it; /markets/{m} is the page", { timeout: 30_000 }, async () => {
    const doc = await fetch(`${server.base}/openapi.json`);
    expect(doc.status).toBe(200);
    expect(doc.headers.get("content-type")).toMatch(/application\/json/);
    expect(await doc.json()).toEqual(buildOpenApi());
    const docs = await fetch(`${server.base}/docs`);
    expect(docs.headers.get("content-type")).toMatch(/text\/html/);
    const html = await docs.text();
    expect(html).toContain('id="op-submit"');
    expect(html).toContain('id="schema-Settlement"');
    const page = await fetch(`${server.base}/markets/demo`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('id="histogram"');
    const bad = await fetch(`${server.base}/markets/NOT_A_MARKET`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toBe("application/problem+json");
  });
});
