// The `nash` command line (CONTRACT.md section 4): `nash solve FILE` prints one settlement; bad input names
// the offending field on standard error, prints nothing on standard output and exits non-zero.
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { SolveFile, type FieldError, type Intent, type Settlement } from "../contract/schema.ts";
import { fieldErrors } from "../contract/errors.ts";
import { DEFAULT_LATENCY, solve } from "../solver/index.ts";
import { AGENT_COMMANDS, AGENT_USAGE, runAgentCommand } from "./agent.ts";

const USAGE = `usage: nash solve FILE [--time-budget-ms N] [--node-budget N]
FILE is a JSON file, or - for standard input: { "latency": {...}, "intents": [...] }
       nash score FILE [--model MODEL.onnx]
FILE as for solve, plus "proposal": { "fills": [...] } or "proposals": [ { "fills": [...] }, ... ]
${AGENT_USAGE}`;

/** Exit codes: 0 done, 1 bad input (a message names the field), 2 bad usage. */
export const EXIT = { ok: 0, badInput: 1, usage: 2 } as const;

class CliError extends Error {
  readonly code: number;
  constructor(message: string, code: number) {
    super(message);
    this.code = code;
  }
}

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  now: () => Date;
}

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
    throw new CliError(command === undefined ? "missing command" : `unknown command: ${command}`, EXIT.usage);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`nash: ${error.message}\n`);
      if (error.code === EXIT.usage) io.stderr(USAGE + "\n");
      return error.code;
    }
    throw error;
  }
}

interface Flags {
  file: string;
  numbers: Record<string, number>;
}

/** Splits `FILE --flag N ...`; only the flags in `allowed` are accepted. */
function parseArgs(args: readonly string[], allowed: readonly string[]): Flags {
  let file: string | undefined;
  const numbers: Record<string, number> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith("--")) {
      const name = arg.slice(2);
      if (!allowed.includes(name)) throw new CliError(`unknown option: ${arg}`, EXIT.usage);
      const value = Number(args[++i]);
      if (!Number.isFinite(value) || value <= 0) throw new CliError(`${arg} needs a positive number`, EXIT.usage);
      numbers[name] = value;
    } else if (file === undefined) {
      file = arg;
    } else {
      throw new CliError(`unexpected argument: ${arg}`, EXIT.usage);
    }
  }
  if (file === undefined) throw new CliError("missing FILE (use - for standard input)", EXIT.usage);
  return { file, numbers };
}

async function readInput(file: string, io: Io): Promise<unknown> {
  let text: string;
  try {
    text = file === "-" ? await io.readStdin() : await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.badInput);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file}: not valid JSON: ${(error as Error).message}`, EXIT.badInput);
  }
}

function badInput(file: string, errors: FieldError[]): CliError {
  const lines = errors.map((e) => `  ${e.field}: ${e.message}`).join("\n");
  return new CliError(`${file}: invalid input\n${lines}`, EXIT.badInput);
}

/** Reads and validates a solve file; gives every intent an id (`intent-N`, N from 1, when absent). */
export async function readSolveFile(file: string, io: Io, extra: (raw: unknown) => FieldError[] = () => []) {
  const raw = await readInput(file, io);
  const shapeOf = raw !== null && typeof raw === "object" && !Array.isArray(raw) ? raw : undefined;
  if (shapeOf === undefined) throw badInput(file, [{ field: "(body)", message: "must be a JSON object" }]);
  // The score command adds `proposal`/`proposals` beside the intents; check those apart from the solve file.
  const { proposal: _p, proposals: _ps, ...solvePart } = shapeOf as Record<string, unknown>;
  const parsed = SolveFile.safeParse(solvePart);
  const errors = parsed.success ? [] : fieldErrors(parsed.error);
  errors.push(...extra(raw));
  if (!parsed.success || errors.length > 0) throw badInput(file, errors);

  const seen = new Map<string, number>();
  const intents: Intent[] = parsed.data.intents.map((input, index) => {
    const id = input.id ?? `intent-${index + 1}`;
    if (seen.has(id)) errors.push({ field: `intents.${index}.id`, message: `duplicate id "${id}" (also intents.${seen.get(id)})` });
    seen.set(id, index);
    return { ...input, id };
  });
  if (errors.length > 0) throw badInput(file, errors);
  return { raw, intents, latency: parsed.data.latency ?? DEFAULT_LATENCY };
}

async function solveCommand(args: readonly string[], io: Io): Promise<Settlement> {
  const { file, numbers } = parseArgs(args, ["time-budget-ms", "node-budget"]);
  const { intents, latency } = await readSolveFile(file, io);
  const now = io.now().getTime();
  // An intent past its expiresAt no longer trades (CONTRACT.md section 1).
  const live = intents.filter((i) => i.expiresAt === undefined || Date.parse(i.expiresAt) > now);
  const result = solve(live, latency, {
    timeBudgetMs: numbers["time-budget-ms"],
    nodeBudget: numbers["node-budget"],
  });
  const digest = createHash("sha256").update(JSON.stringify({ intents: live, latency })).digest("hex");
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

export { CliError };
