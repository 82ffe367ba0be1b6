// A small signed client for the robustness harnesses: signed requests, a market's WebSocket stream, and the
// consistency audit a crash must never break (acknowledged intents present, settlements whole, no overfill,
// both sides of every fill agree). Used by bench/{load,crash}.ts and test/node/{crash,load,fuzz}*.test.ts.
import { signRequest, type AgentKey } from "../../../src/contract/auth.ts";

export interface Answer {
  status: number;
  /** Parsed JSON, or the raw text when it is not JSON, or undefined when empty. */
  body: any;
  headers: Headers;
}

async function answerOf(r: Response): Promise<Answer> {
  const raw = await r.text();
  let body: unknown = undefined;
  if (raw !== "") {
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
  }
  return { status: r.status, body, headers: r.headers };
}

/** Sends `bodyText` exactly as given, signed by `key` (unsigned when `key` is undefined). */
export async function signedFetch(
  base: string,
  key: AgentKey | undefined,
  method: string,
  path: string,
  bodyText?: string,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Answer> {
  const auth = key ? await signRequest({ privateKey: key.privateKey, publicKey: key.publicKey, method, path, body: bodyText }) : {};
  const r = await fetch(base + path, { method, body: bodyText, headers: { "content-type": "application/json", ...auth, ...headers }, signal });
  return answerOf(r);
}

export async function getJson(base: string, path: string): Promise<Answer> {
  return answerOf(await fetch(base + path));
}

export interface StreamEvent {
  type: string;
  [k: string]: any;
}

/** A market's event stream; `onEvent` sees each event as it arrives (with its arrival time). */
export interface MarketStream {
  events: StreamEvent[];
  close(): void;
}

export async function openStream(
  base: string,
  market: string,
  onEvent?: (e: StreamEvent, atMs: number) => void,
  types?: readonly string[],
): Promise<MarketStream> {
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/v1/markets/${market}/stream${types ? `?types=${types.join(",")}` : ""}`);
  const events: StreamEvent[] = [];
  ws.addEventListener("message", (m) => {
    const at = performance.now();
    if (typeof m.data !== "string" || m.data === "pong") return;
    const e = JSON.parse(m.data) as StreamEvent;
    events.push(e);
    onEvent?.(e, at);
  });
  await new Promise<void>((ok, fail) => {
    ws.addEventListener("open", () => ok(), { once: true });
    ws.addEventListener("error", () => fail(new Error(`stream of ${market} did not open`)), { once: true });
  });
  return { events, close: () => ws.close() };
}

/** What a client knows after a run: answers it got (acknowledged) and requests whose answer it never saw. */
export interface ClientRecord {
  /** id → the 201 answer body `{ intent, settlement? }`. */
  acked: Map<string, any>;
  /** ids sent without an answer (connection broken by the kill): each may or may not exist. */
  unknown: Set<string>;
}

export interface AuditReport {
  settlements: number;
  fills: number;
  intentsChecked: number;
  ackedPresent: number;
  unknownPresent: number;
  /** Every broken invariant, in words; empty when the market is consistent. */
  violations: string[];
}

const EPS = 1e-9;
const close = (a: number, b: number) => Math.abs(a - b) <= EPS * Math.max(1, Math.abs(a), Math.abs(b));

/** Runs `f` over `items` with at most `width` in flight. */
export async function pool<T, R>(items: readonly T[], width: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]);
      }
    }),
  );
  return out;
}

/**
 * Audits one market against what the client saw: every acknowledged intent is present with its answer's
 * settlement intact; settlements are numbered without gaps and each is readable; every intent's filled
 * quantity equals the sum of its fills over all settlements (no half-applied settlement) and never exceeds its
 * quantity; each fill appears on both the buy and the sell intent; the counters agree with all of that.
 */
export async function auditMarket(base: string, market: string, record: ClientRecord): Promise<AuditReport> {
  const violations: string[] = [];
  const m = await getJson(base, `/v1/markets/${market}`);
  if (m.status !== 200) {
    const detail = JSON.stringify(m.body).slice(0, 300);
    return { settlements: 0, fills: 0, intentsChecked: 0, ackedPresent: 0, unknownPresent: 0, violations: [`GET market: ${m.status} ${detail}`] };
  }
  const counters = m.body.counters;
  const n: number = counters.settlements;
  const ids = Array.from({ length: n }, (_, k) => `s-${k + 1}`);
  const settlements = await pool(ids, 8, async (id) => {
    const s = await getJson(base, `/v1/markets/${market}/settlements/${id}`);
    if (s.status !== 200) violations.push(`settlement ${id} counted but not readable (${s.status})`);
    return s.status === 200 ? s.body : undefined;
  });
  const after = await getJson(base, `/v1/markets/${market}/settlements/s-${n + 1}`);
  if (after.status !== 404) violations.push(`settlement s-${n + 1} exists beyond the counter (${after.status})`);

  // Fills per intent, from the settlements (the ground truth of what traded).
  const fillSum = new Map<string, number>();
  const fillKeys = new Map<string, string[]>();
  let fills = 0;
  let volume = 0;
  for (const s of settlements) {
    if (!s) continue;
    for (const f of s.fills) {
      fills++;
      volume += f.quantity;
      const key = `${s.id}|${f.buy}|${f.sell}|${f.quantity}|${f.price}`;
      for (const id of [f.buy, f.sell]) {
        fillSum.set(id, (fillSum.get(id) ?? 0) + f.quantity);
        fillKeys.set(id, [...(fillKeys.get(id) ?? []), key]);
      }
    }
  }
  if (counters.fills !== fills) violations.push(`counter fills ${counters.fills} ≠ ${fills} fills in settlements`);
  if (!close(counters.volume, volume)) violations.push(`counter volume ${counters.volume} ≠ ${volume} summed over settlements`);

  // Every acknowledged intent, every unknown one, and every intent some fill names.
  const toCheck = new Set<string>([...record.acked.keys(), ...record.unknown, ...fillSum.keys()]);
  let ackedPresent = 0;
  let unknownPresent = 0;
  await pool([...toCheck], 8, async (id) => {
    const r = await getJson(base, `/v1/markets/${market}/intents/${encodeURIComponent(id)}`);
    const acked = record.acked.get(id);
    if (r.status === 404) {
      if (acked) violations.push(`acknowledged intent ${id} is missing`);
      else if (fillSum.has(id)) violations.push(`intent ${id} is named by a fill but missing`);
      return;
    }
    if (r.status !== 200) {
      violations.push(`GET intent ${id}: ${r.status}`);
      return;
    }
    if (acked) ackedPresent++;
    else if (record.unknown.has(id)) unknownPresent++;
    const v = r.body;
    const sum = fillSum.get(id) ?? 0;
    if (!close(v.filledQuantity, sum)) violations.push(`intent ${id}: filledQuantity ${v.filledQuantity} ≠ ${sum} summed over settlements (half-applied)`);
    if (v.filledQuantity > v.quantity * (1 + EPS)) violations.push(`intent ${id}: filled ${v.filledQuantity} beyond its quantity ${v.quantity}`);
    const own = (v.fills ?? []).map((f: any) => `${f.settlement}|${f.buy}|${f.sell}|${f.quantity}|${f.price}`).sort();
    const expected = [...(fillKeys.get(id) ?? [])].sort();
    if (JSON.stringify(own) !== JSON.stringify(expected)) violations.push(`intent ${id}: its fills disagree with the settlements' (${own.length} vs ${expected.length})`);
    if (v.status === "filled" && !close(v.filledQuantity, v.quantity) && v.filledQuantity < v.quantity * (1 - EPS)) violations.push(`intent ${id}: filled but only ${v.filledQuantity}/${v.quantity}`);
    if ((v.status === "open") && v.filledQuantity > 0) violations.push(`intent ${id}: open with fills`);
    if (acked?.settlement) {
      const s = settlements[Number(String(acked.settlement.id).slice(2)) - 1];
      if (!s) violations.push(`intent ${id}: its answer's settlement ${acked.settlement.id} is missing`);
      else if (JSON.stringify(s.fills) !== JSON.stringify(acked.settlement.fills)) violations.push(`settlement ${acked.settlement.id} differs from the answer that acknowledged it`);
    }
  });
  if (counters.intents < ackedPresent) violations.push(`counter intents ${counters.intents} < ${ackedPresent} acknowledged`);
  return { settlements: n, fills, intentsChecked: toCheck.size, ackedPresent, unknownPresent, violations };
}
