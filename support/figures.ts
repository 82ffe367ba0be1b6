// docs/figures.md is written by the benchmarks, not by hand: each benchmark owns one marked section, and a run
// that ends well replaces that section with what the run printed, stamped with the date, the command and the
// machine's load. Sections of other benchmarks are left as they are.
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, relative } from "node:path";
import { format } from "node:util";

const FILE = join(import.meta.dirname, "..", "docs", "figures.md");
const HEADER = `# Figures

Written by the benchmarks (\`support/figures.ts\`): each section is the latest run of the command it names, as it
printed it, with the date and the machine's load average then. Wall times on a shared machine move between runs;
compare rows within one section. Edit the benchmarks, not this file.
`;

const begin = (id: string) => `<!-- figures:${id} begin -->`;
const end = (id: string) => `<!-- figures:${id} end -->`;

/** `text` with section `id` replaced by `body` (appended when the section is not there yet). */
export function replaceSection(text: string, id: string, body: string): string {
  const block = `${begin(id)}\n${body.trim()}\n${end(id)}`;
  const from = text.indexOf(begin(id));
  const to = text.indexOf(end(id));
  if (from < 0 || to < from) return `${text.trimEnd()}\n\n${block}\n`;
  return text.slice(0, from) + block + text.slice(to + end(id).length);
}

/** The line under a section's title: when, by which command, on what machine and under what load. */
export function stamp(command: string, when = new Date()): string {
  const load = loadavg().map((x) => x.toFixed(2)).join(" ");
  const memory = `${Math.round(totalmem() / 2 ** 30)} GiB`;
  return `Run ${when.toISOString().slice(0, 16).replace("T", " ")} UTC: \`${command}\`; ${cpus().length} cores, ${memory}, Node ${process.versions.node}, load average ${load} at the end.`;
}

/** Writes section `id` of docs/figures.md: a title, the stamp and `body`. */
export function writeFigures(id: string, title: string, command: string, body: string): void {
  let text: string;
  try {
    text = readFileSync(FILE, "utf8");
  } catch {
    text = HEADER;
  }
  writeFileSync(FILE, replaceSection(text, id, `## ${title}\n\n${stamp(command)}\n\n${body.trim()}`));
}

/** How the benchmark was started: `npm run NAME -- ARGS`, or `node FILE ARGS` outside npm. */
function commandLine(): string {
  const args = process.argv.slice(2).join(" ");
  const event = process.env.npm_lifecycle_event;
  // `npx node FILE` runs under npm too, with the event `npx`: that is no script name.
  if (event && event !== "npx") return `npm run ${event}${args ? ` -- ${args}` : ""}`;
  return `node ${relative(join(import.meta.dirname, ".."), process.argv[1])}${args ? ` ${args}` : ""}`;
}

/**
 * From this call on, what the benchmark prints with console.log becomes section `id` of docs/figures.md when the
 * process ends by itself: with status 0, or with the benchmark's own verdict (status 1 after failing cases or
 * violations, which are figures too). A run that crashed, reported an error on console.error or was interrupted
 * leaves the last figures in place.
 */
export function recordFigures(id: string, title: string): void {
  if (process.argv.includes("--help") || process.argv.includes("-h")) return;
  const printed: string[] = [];
  let failed = false;
  const print = console.log;
  console.log = (...args: unknown[]) => {
    printed.push(format(...args));
    print(...args);
  };
  const printError = console.error;
  console.error = (...args: unknown[]) => {
    failed = true;
    printError(...args);
  };
  process.on("uncaughtExceptionMonitor", () => (failed = true));
  const command = commandLine();
  process.on("exit", (code) => {
    if (!failed && code <= 1 && printed.length > 0) writeFigures(id, title, command, printed.join("\n"));
  });
}
