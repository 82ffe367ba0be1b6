// What every `nash` command shares: exit codes, the error that carries one, the injected I/O, and reading a
// JSON input file (or standard input) into validated intents.
import { readFile } from "node:fs/promises";
import { SolveFile, type FieldError, type Intent } from "../contract/schema.ts";
import { fieldErrors } from "../contract/errors.ts";
import { DEFAULT_LATENCY } from "../solver/index.ts";
import { UsageError } from "./args.ts";

/** Exit codes: 0 done, 1 bad input (a message names the field), 2 bad usage. */
export const EXIT = { ok: 0, badInput: 1, usage: 2 } as const;

/** A refusal with its exit code; the message goes to standard error. */
export class CliError extends Error {
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

/** The JSON in `file` (`-`: standard input); CliError (bad input) when it cannot be read or parsed. */
export async function readJson(file: string, io: Pick<Io, "readStdin">): Promise<unknown> {
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
  const raw = await readJson(file, io);
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
  const now = parsed.data.now === undefined ? undefined : Date.parse(parsed.data.now);
  return { raw, intents, latency: parsed.data.latency ?? DEFAULT_LATENCY, ...(now === undefined ? {} : { now }) };
}

/** The one FILE a command reads (`-`: standard input). */
export function onlyFile(positionals: readonly string[]): string {
  if (positionals.length === 0) throw new UsageError("missing FILE (use - for standard input)");
  if (positionals.length > 1) throw new UsageError(`unexpected argument: ${positionals[1]}`);
  return positionals[0];
}
