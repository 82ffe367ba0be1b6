// The agent's side of the `nash` command line, on the TypeScript SDK: `nash keygen`, `nash submit`,
// `nash cancel`, `nash watch`. Answers go to standard output as JSON; failures to standard error with the
// fields the service named, exit 1; usage mistakes exit 2. The service is --url, else NASH_URL, else
// http://127.0.0.1:8787; the market --market, else NASH_MARKET, else `demo`; the key --key FILE, else
// NASH_AGENT_KEY (the JSON) or NASH_AGENT_KEY_FILE.
import { NashClient, NashError, generateKey, keyToJson, type IntentDraft, type MarketEvent } from "../../sdk/typescript/src/index.ts";
import { loadKey, saveKey } from "../../sdk/typescript/src/node.ts";
import { numberFlag, parseFlags, UsageError } from "./args.ts";
import { readJson } from "./input.ts";

export const AGENT_USAGE = `       nash keygen [--out FILE]
       nash submit FILE|- [--market M] [--url URL] [--key FILE] [--idempotency-key K]
           FILE holds one intent (prints one answer), or an array / { "intents": [...] } (prints an array);
           \`agent\` may be omitted: it is the key's public key
       nash cancel ID [--market M] [--url URL] [--key FILE]
       nash watch [--market M] [--url URL] [--count N] [--for-ms MS]
           prints each event as one JSON line; stops after N events or MS milliseconds (default: never)`;

export const AGENT_COMMANDS = new Set(["keygen", "submit", "cancel", "watch"]);

export interface AgentIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  env?: Record<string, string | undefined>;
}

class InputError extends Error {}

const OPTIONS: Record<string, readonly string[]> = {
  keygen: ["out"],
  submit: ["market", "url", "key", "idempotency-key"],
  cancel: ["market", "url", "key"],
  watch: ["market", "url", "count", "for-ms"],
};

/** The command's flags (each takes a value) and its positional arguments. */
function parse(command: string, args: readonly string[]): { positional: string[]; opts: Record<string, string | undefined> } {
  const options = Object.fromEntries(OPTIONS[command].map((name) => [name, { type: "string" as const }]));
  const { values, positionals } = parseFlags({ args: [...args], options, allowPositionals: true });
  return { positional: positionals, opts: values as Record<string, string | undefined> };
}

/** Runs one agent command; returns the exit code (0 ok, 1 refused or failed, 2 usage). */
export async function runAgentCommand(command: string, args: readonly string[], io: AgentIo): Promise<number> {
  const env = io.env ?? process.env;
  try {
    const { positional, opts } = parse(command, args);
    const baseUrl = opts.url ?? env.NASH_URL ?? "http://127.0.0.1:8787";
    const market = opts.market ?? env.NASH_MARKET ?? "demo";
    const json = (value: unknown) => io.stdout(JSON.stringify(value, null, 2) + "\n");

    if (command === "keygen") {
      if (positional.length > 0) throw new UsageError(`unexpected argument: ${positional[0]}`);
      const key = await generateKey();
      if (opts.out === undefined) {
        io.stdout(keyToJson(key));
      } else {
        await saveKey(opts.out, key).catch((e: Error) => {
          throw new InputError(`cannot write ${opts.out}: ${e.message}`);
        });
        json({ publicKey: key.publicKey, file: opts.out });
      }
      return 0;
    }

    if (command === "submit") {
      if (positional.length !== 1) throw new UsageError("submit needs one FILE (or - for standard input)");
      const { drafts, many } = await readIntents(positional[0], io);
      const client = new NashClient({ baseUrl, key: await keyOf(opts, env) });
      if (drafts.length > 1 && opts["idempotency-key"] !== undefined) throw new UsageError("--idempotency-key applies to a single intent");
      const answers = [];
      for (const draft of drafts) answers.push(await client.submit(market, draft, { idempotencyKey: opts["idempotency-key"] }));
      json(many ? answers : answers[0]);
      return 0;
    }

    if (command === "cancel") {
      if (positional.length !== 1) throw new UsageError("cancel needs one intent ID");
      const client = new NashClient({ baseUrl, key: await keyOf(opts, env) });
      json(await client.cancel(market, positional[0]));
      return 0;
    }

    // watch
    if (positional.length > 0) throw new UsageError(`unexpected argument: ${positional[0]}`);
    const count = numberFlag(opts, "count", { min: 0, exclusive: true });
    const forMs = numberFlag(opts, "for-ms", { min: 0, exclusive: true });
    const client = new NashClient({ baseUrl });
    await new Promise<void>((resolve) => {
      let seen = 0;
      const sub = client.watch(market, {
        onOpen: (n) => io.stderr(n === 0 ? `watching ${market} at ${baseUrl}\n` : `reconnected (${n})\n`),
        onEvent: (event: MarketEvent) => {
          io.stdout(JSON.stringify(event) + "\n");
          if (count !== undefined && ++seen >= count) stop();
        },
        onError: (e) => io.stderr(`nash watch: ${e.message}\n`),
      });
      const timer = forMs === undefined ? undefined : setTimeout(() => stop(), forMs);
      const onSignal = () => stop();
      process.once("SIGINT", onSignal);
      function stop() {
        clearTimeout(timer);
        process.off("SIGINT", onSignal);
        sub.close();
        resolve();
      }
    });
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`nash: ${error.message}\nusage:\n${AGENT_USAGE}\n`);
      return 2;
    }
    if (error instanceof NashError) {
      const lines = error.errors.map((e) => `\n  ${e.field}: ${e.message}`).join("");
      io.stderr(`nash ${command}: ${error.status === 0 ? "" : `${error.status} `}${error.problem.title}: ${error.problem.detail}${lines}\n`);
      return 1;
    }
    io.stderr(`nash ${command}: ${(error as Error).message}\n`);
    return 1;
  }
}

async function keyOf(opts: Record<string, string | undefined>, env: Record<string, string | undefined>) {
  try {
    return await loadKey(opts.key, env);
  } catch (error) {
    throw new InputError((error as Error).message);
  }
}

/** The intents in a file: one object, an array, or { intents: [...] }; `many` unless it was one object. */
async function readIntents(file: string, io: AgentIo): Promise<{ drafts: IntentDraft[]; many: boolean }> {
  const raw = await readJson(file, io);
  const single = !Array.isArray(raw) && !(raw !== null && typeof raw === "object" && Array.isArray((raw as { intents?: unknown }).intents));
  const list = Array.isArray(raw) ? raw : raw !== null && typeof raw === "object" && Array.isArray((raw as { intents?: unknown }).intents) ? (raw as { intents: unknown[] }).intents : [raw];
  // Each draft is validated field by field by the client before it is sent (NashError names the field).
  const drafts = list.map((item, index) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw new InputError(`${file}: intent ${index} must be a JSON object`);
    return item as IntentDraft;
  });
  return { drafts, many: !single };
}
