// Progress lines for long commands (training, benchmarks): count, percent, rate and time left. On a terminal
// one line is rewritten in place; otherwise (CI logs) a line is printed at most every `everyMs`.

export interface ProgressOptions {
  /** Default: process.stderr (standard output stays clean for results). */
  write?: (text: string) => void;
  /** Rewrite one line in place; default: whether stderr is a terminal. */
  tty?: boolean;
  /** Least time between lines when not a terminal (default 2000 ms); terminal redraws at most every 100 ms. */
  everyMs?: number;
  /** Default: performance.now (tests pass a clock). */
  now?: () => number;
}

export interface Progress {
  /** Adds `n` (default 1) done units. */
  tick(n?: number): void;
  /** Sets the done count. */
  set(done: number): void;
  /** Prints the final line (with the total time). */
  finish(): void;
}

/** `12.3 s`, `4 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** The text of one progress line. */
export function progressLine(label: string, done: number, total: number, elapsedMs: number): string {
  const pct = total > 0 ? (100 * done) / total : 0;
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const left = rate > 0 && total > done ? ((total - done) / rate) * 1000 : done >= total ? 0 : Number.NaN;
  const width = 20;
  const filled = Math.max(0, Math.min(width, Math.round((width * done) / Math.max(1, total))));
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  return `${label} [${bar}] ${done}/${total} ${pct.toFixed(1)}% ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(2)}/s elapsed ${formatDuration(elapsedMs)} left ${formatDuration(left)}`;
}

export function progress(label: string, total: number, options: ProgressOptions = {}): Progress {
  const write = options.write ?? ((t: string) => void process.stderr.write(t));
  const tty = options.tty ?? Boolean(process.stderr.isTTY);
  const now = options.now ?? (() => performance.now());
  const every = tty ? 100 : (options.everyMs ?? 2000);
  const start = now();
  let done = 0;
  let last = -Infinity;
  const draw = (force: boolean) => {
    const t = now();
    if (!force && t - last < every) return;
    last = t;
    const line = progressLine(label, done, total, t - start);
    write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  };
  return {
    tick(n = 1) {
      done += n;
      draw(false);
    },
    set(value) {
      done = value;
      draw(false);
    },
    finish() {
      draw(true);
      if (tty) write("\n");
    },
  };
}
