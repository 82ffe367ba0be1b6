// Command-line flags for every NASH tool (the CLI, scripts, benchmarks, the miner node), on node:util parseArgs:
// an unknown flag, a missing value or a bad number is a UsageError whose message names the flag.
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A mistake in how a tool was called: the entry point prints the message (and its usage) and exits 2. */
export class UsageError extends Error {}

/** `parseArgs` (strict unless `config` says otherwise); its errors become UsageErrors. */
export function parseFlags<const T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    // Node's message names the flag in its first sentence; the rest is advice about positionals.
    throw new UsageError((error as Error).message.split(". To specify")[0]);
  }
}

export interface NumberRule {
  /** The least value allowed; default: any. */
  min?: number;
  /** Refuse values ≤ min (e.g. `{ min: 0, exclusive: true }` for "positive"). */
  exclusive?: boolean;
  /** Whole numbers only. */
  integer?: boolean;
}

/** The number `--name` holds, undefined when it is absent; a UsageError naming the flag when it breaks `rule`. */
export function numberFlag(values: Readonly<Record<string, unknown>>, name: string, rule: NumberRule = {}): number | undefined {
  return numberArg(values[name], `--${name}`, rule);
}

/** The number in `text` (a flag's value or a positional argument called `label`), undefined when absent. */
export function numberArg(text: unknown, label: string, rule: NumberRule = {}): number | undefined {
  if (text === undefined) return undefined;
  const n = typeof text === "string" && text.trim() !== "" ? Number(text) : NaN;
  const { min = -Infinity, exclusive = false, integer = false } = rule;
  const ok = Number.isFinite(n) && (exclusive ? n > min : n >= min) && (!integer || Number.isInteger(n));
  if (ok) return n;
  const kind = `${integer ? "a whole number" : "a number"}${min === -Infinity ? "" : exclusive ? ` above ${min}` : ` of at least ${min}`}`;
  throw new UsageError(`${label} needs ${kind}, not ${JSON.stringify(text)}`);
}

/** The one optional positional number a script takes (and no flags); `fallback` when it is absent. */
export function soleNumberArg(label: string, fallback: number, rule: NumberRule = {}, args = process.argv.slice(2)): number {
  const { positionals } = parseFlags({ args, options: {}, allowPositionals: true });
  if (positionals.length > 1) throw new UsageError(`unexpected argument: ${positionals[1]}`);
  return numberArg(positionals[0], label, rule) ?? fallback;
}

/** For scripts: `parse()`'s answer; on a UsageError, its message and `usage` on standard error, and exit code 2. */
export function parseOrExit<T>(usage: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${usage}\n`);
    process.exit(2);
  }
}
