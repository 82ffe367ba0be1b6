// The `nash` command line (CONTRACT.md section 4): `nash solve FILE` prints one settlement; bad input names
// the offending field on standard error, prints nothing on standard output and exits non-zero.
import { createHash } from "node:crypto";
import type { Settlement } from "../contract/schema.ts";
import { solve } from "../solver/index.ts";
import { AGENT_COMMANDS, AGENT_USAGE, runAgentCommand } from "./agent.ts";
import { numberFlag, parseFlags, UsageError } from "./args.ts";
import { CliError, EXIT, onlyFile, readSolveFile, type Io } from "./input.ts";

export { EXIT, type Io } from "./input.ts";

const USAGE = `usage: nash solve FILE [--time-budget-ms N] [--node-budget N]
FILE is a JSON file, or - for standard input: { "latency": {...}, "now"?: "<time>", "intents": [...] }
       nash score FILE [--model MODEL.onnx]
FILE as for solve, plus "proposal": { "fills": [...] } or "proposals": [ { "fills": [...] }, ... ]
${AGENT_USAGE}`;

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
  now: () => new Date(),
};

/** Runs the CLI with `argv` (without `node` and the script) and returns the exit code. */
export async function run(argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === "solve") {
      io.stdout(JSON.stringify(await solveCommand(rest, io), null, 2) + "\n");
      return EXIT.ok;
    }
    if (command === "score") {
      const { scoreCommand } = await import("./score.ts"); // onnxruntime loads only for this command
      io.stdout(JSON.stringify(await scoreCommand(rest, io), null, 2) + "\n");
      return EXIT.ok;
    }
    // keygen, submit, cancel, watch: the agent's commands on the TypeScript SDK (src/cli/agent.ts).
    if (command !== undefined && AGENT_COMMANDS.has(command)) return await runAgentCommand(command, rest, io);
    if (command === "--help" || command === "-h" || command === "help") {
      io.stdout(USAGE + "\n");
      return EXIT.ok;
    }
    throw new UsageError(command === undefined ? "missing command" : `unknown command: ${command}`);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`nash: ${error.message}\n${USAGE}\n`);
      return EXIT.usage;
    }
    if (error instanceof CliError) {
      io.stderr(`nash: ${error.message}\n`);
      return error.code;
    }
    throw error;
  }
}

async function solveCommand(args: readonly string[], io: Io): Promise<Settlement> {
  const { values, positionals } = parseFlags({
    args: [...args],
    options: { "time-budget-ms": { type: "string" }, "node-budget": { type: "string" } },
    allowPositionals: true,
  });
  const file = onlyFile(positionals);
  const positive = { min: 0, exclusive: true };
  const timeBudgetMs = numberFlag(values, "time-budget-ms", positive);
  const nodeBudget = numberFlag(values, "node-budget", positive);
  const input = await readSolveFile(file, io);
  const { intents, latency } = input;
  // The file's "now" is the settlement's time (CONTRACT.md section 2a): nothing is delivered before it, windows
  // ended by then trade nothing, and expiries count from it. Without it, expiries count from the clock and
  // delivery has no lower bound.
  const now = input.now ?? io.now().getTime();
  // An intent past its expiresAt no longer trades (CONTRACT.md section 1).
  const live = intents.filter((i) => i.expiresAt === undefined || Date.parse(i.expiresAt) > now);
  const result = solve(live, latency, { timeBudgetMs, nodeBudget, ...(input.now === undefined ? {} : { now: input.now }) });
  const digest = createHash("sha256").update(JSON.stringify({ intents: live, latency, now: input.now })).digest("hex");
  return {
    id: `cli-${digest.slice(0, 16)}`,
    market: "local",
    fills: result.fills,
    welfare: result.welfare,
    stats: {
      status: result.status,
      solveMs: result.solveMs,
      ...(result.gap === undefined ? {} : { gap: result.gap }),
      intents: live.length,
      ...(live.length < intents.length ? { expired: intents.length - live.length } : {}),
    },
    certificate: result.certificate,
  };
}

