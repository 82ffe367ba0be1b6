// A market's event stream (GET /v1/markets/{market}/stream) over the runtime's WebSocket, reconnecting with
// backoff when the line drops. Events are checked against the contract's MarketEvent schema. The service does
// not replay missed events: `onOpen` tells the caller each (re)connection so it can catch up with a read.
import { MarketEvent, type Settlement, type StreamEventType } from "../../../src/contract/index.ts";

export interface SubscribeOptions {
  baseUrl: string;
  market: string;
  /** Only these events (`?types=`; default all). E.g. `["settlement.committed"]` with `onSettlement`. */
  types?: readonly StreamEventType[];
  /** Every event except `hello`. */
  onEvent?: (event: MarketEvent) => void;
  /** Shorthand: `settlement.committed` events only. */
  onSettlement?: (settlement: Settlement) => void;
  /** Called on every (re)connection, with 0 for the first and n for the n-th reconnect. */
  onOpen?: (reconnects: number) => void;
  /** Messages that are not valid events, and connection errors; the subscription carries on. */
  onError?: (error: Error) => void;
  /** Reconnect after a drop (default true). */
  reconnect?: boolean;
  /** Backoff cap between reconnects (default 5000 ms); starts at 200 ms and doubles. */
  maxBackoffMs?: number;
  /** Keep-alive `ping` interval (default 20 000 ms). */
  pingMs?: number;
  /** Default: globalThis.WebSocket (Node ≥ 22, browsers, workerd). */
  WebSocket?: typeof WebSocket;
}

export interface Subscription {
  /** Resolves when the first connection is open (the `hello` has arrived); rejects if it closes first and reconnect is off. */
  readonly ready: Promise<void>;
  /** Stops for good: no more events, no reconnects. */
  close(): void;
}

/** The stream URL for a service base URL: http→ws, https→wss. */
export function streamUrl(baseUrl: string, market: string, types?: readonly StreamEventType[]): string {
  const url = new URL(baseUrl.replace(/\/+$/, "") + `/v1/markets/${encodeURIComponent(market)}/stream`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (types !== undefined) url.searchParams.set("types", types.join(","));
  return url.toString();
}

export function subscribe(options: SubscribeOptions): Subscription {
  const Ws = options.WebSocket ?? globalThis.WebSocket;
  const url = streamUrl(options.baseUrl, options.market, options.types);
  const reconnect = options.reconnect ?? true;
  const maxBackoff = options.maxBackoffMs ?? 5000;
  let closed = false;
  let socket: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ping: ReturnType<typeof setInterval> | undefined;
  let failures = 0;
  let opens = 0;
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => ((resolveReady = res), (rejectReady = rej)));
  ready.catch(() => {}); // a caller that never awaits `ready` must not see an unhandled rejection

  const open = () => {
    const ws = new Ws(url);
    socket = ws;
    ws.addEventListener("message", (m) => {
      if (m.data === "pong") return;
      let event: MarketEvent;
      try {
        const parsed = MarketEvent.safeParse(JSON.parse(String(m.data)));
        if (!parsed.success) throw new Error(`not a market event: ${parsed.error.issues[0]?.message}`);
        event = parsed.data;
      } catch (error) {
        options.onError?.(error as Error);
        return;
      }
      if (event.type === "hello") {
        failures = 0;
        options.onOpen?.(opens++);
        resolveReady();
        return;
      }
      options.onEvent?.(event);
      if (event.type === "settlement.committed") options.onSettlement?.(event.settlement);
    });
    ws.addEventListener("open", () => {
      clearInterval(ping);
      ping = setInterval(() => ws.readyState === 1 && ws.send("ping"), options.pingMs ?? 20_000);
    });
    ws.addEventListener("error", () => options.onError?.(new Error(`stream ${url}: connection error`)));
    ws.addEventListener("close", () => {
      clearInterval(ping);
      if (closed) return;
      if (!reconnect) {
        rejectReady(new Error(`stream ${url}: closed`));
        return;
      }
      failures++;
      timer = setTimeout(open, Math.min(maxBackoff, 200 * 2 ** (failures - 1)));
    });
  };
  open();
  return {
    ready,
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(ping);
      rejectReady(new Error("subscription closed"));
      socket?.close();
    },
  };
}
