// A development miner node: an axon that receives the edge's NashSettlement relay (verified as bittensor's
// default_verify and verify_body_integrity would), deduplicates on the idempotency key and records what it got;
// and a validator mode that sends a signed NashChallenge and prints the answer.
//
//   npx node tools/miner-node/main.ts --port 8840 [--record received.jsonl] [--hotkey-uri //Bob | --hotkey SS58]
//                                     [--allow SS58,SS58] [--down 503|close]
//   npx node tools/miner-node/main.ts challenge --url http://127.0.0.1:8787 --hotkey-uri //Alice
//                                     --axon-hotkey SS58 (--challenge FILE | --challenge-json TEXT) [--timeout 12]
//
// Control (tests): GET /received, POST /__control {"down": "503" | "close" | null}.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { numberFlag, parseFlags, parseOrExit, UsageError } from "../../src/cli/args.ts";
import { keypairFromUri, type Sr25519Keypair } from "../../src/bridge/keys.ts";
import {
  NASH_CHALLENGE,
  NASH_SETTLEMENT,
  buildAxonError,
  buildAxonResponse,
  readAxonResponse,
  signDendriteRequest,
  verifyAxonRequest,
  type AxonResponse,
} from "../../src/bridge/synapse.ts";
import { SettlementMessage } from "../../src/bridge/outbox.ts";

interface Received {
  key: string;
  receivedAt: string;
  from: string;
  nonce: string;
  message: unknown;
}

type DownMode = "503" | "close" | null;

const nowNs = () => BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, r: AxonResponse): void {
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

export interface MinerNodeOptions {
  port: number;
  host?: string;
  record?: string;
  /** The node's own hotkey (SS58): the relay's signature names it. */
  hotkey: string;
  /** Signs answers when given. */
  keypair?: Sr25519Keypair;
  /** Dendrite hotkeys let in; undefined = everyone (an SDK axon without a blacklist). */
  allow?: ReadonlySet<string>;
  down?: DownMode;
}

/** Starts the node; resolves once it listens. */
export function startMinerNode(opts: MinerNodeOptions) {
  const received: Received[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  let rejected = 0;
  let down: DownMode = opts.down ?? null;
  const nonces = new Map<string, bigint>();
  const uuid = randomUUID();
  // A restarted node keeps deduplicating: the record file is its memory.
  if (opts.record && existsSync(opts.record)) {
    for (const line of readFileSync(opts.record, "utf8").split("\n")) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as Received;
      received.push(r);
      seen.add(r.key);
    }
  }
  const allowAll = { has: () => true };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "GET" && url.pathname === "/received") {
      return json(res, 200, { count: received.length, distinct: seen.size, duplicates, rejected, down, received });
    }
    if (req.method === "POST" && url.pathname === "/__control") {
      const body = JSON.parse((await readBody(req)) || "{}") as { down?: DownMode };
      down = body.down ?? null;
      return json(res, 200, { down });
    }
    if (down === "close") {
      req.socket.destroy();
      return;
    }
    if (down === "503") {
      await readBody(req);
      return json(res, 503, { message: "miner node is down (test)" });
    }
    const started = performance.now();
    const body = await readBody(req);
    const outcome = verifyAxonRequest(url.pathname, req.headers as Record<string, string>, body, {
      synapse: NASH_SETTLEMENT,
      axonHotkey: opts.hotkey,
      allowlist: opts.allow ?? allowAll,
      nonces,
      nowNs: nowNs(),
    });
    const elapsed = () => (performance.now() - started) / 1000;
    if (!outcome.ok) {
      rejected++;
      return send(res, buildAxonError(outcome, NASH_SETTLEMENT, elapsed()));
    }
    const text = outcome.request.body.settlement as string;
    let parsed: SettlementMessage;
    try {
      parsed = SettlementMessage.parse(JSON.parse(text));
    } catch (e) {
      rejected++;
      return json(res, 400, { message: `settlement is not a NASH settlement message: ${(e as Error).message.slice(0, 200)}` });
    }
    const duplicate = seen.has(parsed.key);
    if (duplicate) duplicates++;
    else {
      const r: Received = {
        key: parsed.key,
        receivedAt: new Date().toISOString(),
        from: outcome.request.dendrite.hotkey,
        nonce: outcome.request.dendrite.nonce.toString(),
        message: parsed,
      };
      // Record before acknowledging: an ack means the settlement is on disk.
      if (opts.record) appendFileSync(opts.record, JSON.stringify(r) + "\n");
      received.push(r);
      seen.add(parsed.key);
    }
    const receipt = JSON.stringify({ ok: true, key: parsed.key, duplicate });
    send(res, buildAxonResponse(outcome.request, { settlement: text, receipt }, { hotkey: opts.hotkey, keypair: opts.keypair, uuid, nowNs: nowNs() }, elapsed()));
  });
  return new Promise<{ close: () => Promise<void>; port: number }>((resolve) => {
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => {
      const addr = server.address();
      resolve({
        port: typeof addr === "object" && addr ? addr.port : opts.port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

/** Validator mode: one signed NashChallenge; returns the HTTP status and the dendrite's reading of the answer. */
export async function sendChallenge(args: {
  url: string;
  keypair: Sr25519Keypair;
  axonHotkey: string;
  challenge: string;
  timeoutSec: number;
}) {
  const req = signDendriteRequest({
    synapse: NASH_CHALLENGE,
    fields: { challenge: args.challenge },
    keypair: args.keypair,
    axonHotkey: args.axonHotkey,
    timeoutSec: args.timeoutSec,
    nonce: nowNs(),
    uuid: randomUUID(),
  });
  const started = performance.now();
  const res = await fetch(args.url.replace(/\/+$/, "") + req.path, {
    method: "POST",
    headers: { ...req.headers, "content-type": "application/json" },
    body: req.body,
    signal: AbortSignal.timeout(args.timeoutSec * 1000),
  });
  const text = await res.text();
  const read = readAxonResponse(res.status, res.headers, text);
  return { ...read, ms: performance.now() - started, headers: Object.fromEntries(res.headers) };
}

function keyFrom(uri: string, what: string): Sr25519Keypair {
  const k = keypairFromUri(uri);
  if (!k.ok) {
    console.error(`${what}: ${k.error}`);
    process.exit(2);
  }
  return k.keypair;
}

const USAGE = `usage: npx node tools/miner-node/main.ts --port 8840 [--record FILE] [--hotkey-uri URI | --hotkey SS58] [--allow SS58,SS58] [--down 503|close]
       npx node tools/miner-node/main.ts challenge --url URL --hotkey-uri URI --axon-hotkey SS58 (--challenge FILE | --challenge-json TEXT) [--timeout 12]`;

/** The flags, checked: an unknown flag, a stray argument or a bad value is a UsageError naming it. */
function flagsOf(argv: string[]) {
  const { values, positionals } = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      record: { type: "string" },
      hotkey: { type: "string" },
      "hotkey-uri": { type: "string" },
      allow: { type: "string" },
      down: { type: "string" },
      url: { type: "string" },
      "axon-hotkey": { type: "string" },
      challenge: { type: "string" },
      "challenge-json": { type: "string" },
      timeout: { type: "string" },
    },
  });
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== "challenge")) {
    throw new UsageError(`unexpected argument: ${positionals.find((p, i) => i > 0 || p !== "challenge")}`);
  }
  if (values.down !== undefined && values.down !== "503" && values.down !== "close") throw new UsageError(`--down is 503 or close, not ${JSON.stringify(values.down)}`);
  const port = numberFlag(values, "port", { min: 0, integer: true });
  const timeout = numberFlag(values, "timeout", { min: 0, exclusive: true });
  return { values, challenge: positionals[0] === "challenge", port, timeout };
}

async function main(argv: string[]): Promise<void> {
  const { values, challenge: challengeMode, port, timeout } = parseOrExit(USAGE, () => flagsOf(argv));
  if (challengeMode) {
    if (!values.url || !values["axon-hotkey"] || !(values.challenge || values["challenge-json"])) {
      console.error("challenge needs --url, --axon-hotkey and --challenge FILE or --challenge-json TEXT");
      process.exit(2);
    }
    const challenge = values["challenge-json"] ?? readFileSync(values.challenge === "-" ? 0 : values.challenge!, "utf8");
    const r = await sendChallenge({
      url: values.url,
      keypair: keyFrom(values["hotkey-uri"] ?? process.env.VALIDATOR_HOTKEY_URI ?? "//Alice", "--hotkey-uri"),
      axonHotkey: values["axon-hotkey"],
      challenge,
      timeoutSec: timeout ?? 12,
    });
    console.log(JSON.stringify({ status: r.status, message: r.message, ms: Math.round(r.ms * 10) / 10, synapse: r.fields }, null, 2));
    process.exit(r.status === 200 ? 0 : 1);
  }
  const keypair = values["hotkey-uri"] ? keyFrom(values["hotkey-uri"], "--hotkey-uri") : undefined;
  const hotkey = values.hotkey ?? keypair?.ss58;
  if (!hotkey) {
    console.error("give the node's hotkey: --hotkey SS58 or --hotkey-uri URI");
    process.exit(2);
  }
  const down = values.down === "503" || values.down === "close" ? values.down : null;
  const node = await startMinerNode({
    port: port ?? 8840,
    host: values.host,
    record: values.record,
    hotkey,
    keypair,
    allow: values.allow ? new Set(values.allow.split(",").map((s) => s.trim()).filter(Boolean)) : undefined,
    down,
  });
  console.log(`miner node: axon ${hotkey} listening on http://${values.host ?? "127.0.0.1"}:${node.port}${down ? ` (down: ${down})` : ""}`);
  const stop = () => node.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
