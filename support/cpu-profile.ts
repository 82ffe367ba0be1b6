// A CPU profile of the worker's isolate under `wrangler dev`, over the Chrome DevTools protocol on its
// inspector port: start, run something, stop, and summarise where the time went (self and inclusive time per
// function). Used by `npm run bench:load -- --profile FILE` to find what dominates submit-to-settlement time.
import { writeFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  parent?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  fn: string;
  selfMs: number;
  totalMs: number;
}

/** A DevTools session on the first target of `inspectorPort`. */
export async function inspect(inspectorPort: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  if (targets.length === 0) throw new Error(`no inspector target on port ${inspectorPort}`);
  // wrangler's inspector proxy wants a local Origin; Node's WebSocket (undici) takes extra headers this way.
  const init = { headers: { origin: "http://localhost" } } as unknown as string[];
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, init);
  await new Promise<void>((ok, fail) => {
    ws.addEventListener("open", () => ok(), { once: true });
    ws.addEventListener("error", () => fail(new Error("inspector WebSocket did not open")), { once: true });
  });
  let next = 1;
  const waiting = new Map<number, (m: { result?: unknown; error?: { message: string } }) => void>();
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (m.id !== undefined) waiting.get(m.id)?.(m);
  });
  const send = (method: string, params: object = {}): Promise<any> =>
    new Promise((ok, fail) => {
      const id = next++;
      waiting.set(id, (m) => (m.error ? fail(new Error(`${method}: ${m.error.message}`)) : ok(m.result)));
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    async start(intervalUs = 200): Promise<void> {
      await send("Profiler.enable");
      await send("Profiler.setSamplingInterval", { interval: intervalUs });
      await send("Profiler.start");
    },
    /** Stops and returns the profile; a busy isolate answers only between tasks, hence the time limit. */
    async stop(timeoutMs = 120_000): Promise<CpuProfile> {
      const timer = new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`Profiler.stop took over ${timeoutMs} ms`)), timeoutMs).unref());
      const { profile } = await Promise.race([send("Profiler.stop"), timer]);
      return profile as CpuProfile;
    },
    close: () => ws.close(),
  };
}

function nameOf(f: CallFrame): string {
  const file = f.url.split("/").slice(-2).join("/") || "(native)";
  return `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
}

/** Self and inclusive time per function (recursion counted once per sample), largest first. */
export function summarise(profile: CpuProfile): { rows: ProfileRow[]; totalMs: number; idleMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n] as const));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    all += dt;
    const node = byId.get(id);
    if (!node) return;
    const leaf = nameOf(node.callFrame);
    if (node.callFrame.functionName === "(idle)" || node.callFrame.functionName === "(program)") idle += dt;
    self.set(leaf, (self.get(leaf) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = nameOf(byId.get(cur)!.callFrame);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + dt);
    }
  });
  const rows = [...total].map(([fn, totalMs]) => ({ fn, selfMs: self.get(fn) ?? 0, totalMs }));
  return { rows, totalMs: all, idleMs: idle };
}

/** Markdown tables of the top functions by self and by inclusive time; writes the raw profile to `file`. */
export function report(profile: CpuProfile, file: string | undefined, top = 15): string {
  if (file) writeFileSync(file, JSON.stringify(profile));
  const { rows, totalMs, idleMs } = summarise(profile);
  const busy = Math.max(1e-9, totalMs - idleMs);
  const pct = (x: number) => `${((100 * x) / busy).toFixed(1)}%`;
  const bySelf = [...rows].sort((a, b) => b.selfMs - a.selfMs).filter((r) => !/^\((idle|program|root)\)/.test(r.fn)).slice(0, top);
  const byTotal = [...rows].sort((a, b) => b.totalMs - a.totalMs).filter((r) => !/^\((idle|program|root|garbage collector)\)/.test(r.fn)).slice(0, top);
  const lines = [
    `profile: ${totalMs.toFixed(0)} ms sampled, ${(totalMs - idleMs).toFixed(0)} ms busy in the worker isolate${file ? ` (raw: ${file}, open in Chrome DevTools)` : ""}`,
    "",
    "| by self time | self ms | share of busy |",
    "|---|---:|---:|",
    ...bySelf.map((r) => `| \`${r.fn}\` | ${r.selfMs.toFixed(0)} | ${pct(r.selfMs)} |`),
    "",
    "| by inclusive time | total ms | share of busy |",
    "|---|---:|---:|",
    ...byTotal.map((r) => `| \`${r.fn}\` | ${r.totalMs.toFixed(0)} | ${pct(r.totalMs)} |`),
  ];
  return lines.join("\n");
}
