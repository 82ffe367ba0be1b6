// A seed file's times moved to the present (scripts/demo.ts, test/workers/time.test.ts): a seed states its windows
// against its own "now", so that `nash solve` reads it as written; a live market needs them from the current minute.
// Pure, no Node imports: it runs in workerd too.
const MINUTE = 60_000;

type Window = { start: string; end: string };

/** `intents` with every time (windows, expiries) moved by the same amount: `seedNow` becomes the minute of
 *  `nowMs`. Without a `seedNow` the intents are returned as they are. */
export function shiftedToNow(intents: Record<string, unknown>[], seedNow: string | undefined, nowMs: number): Record<string, unknown>[] {
  if (seedNow === undefined) return intents;
  const by = Math.floor(nowMs / MINUTE) * MINUTE - Date.parse(seedNow);
  const move = (t: string) => new Date(Date.parse(t) + by).toISOString();
  const moveWindow = (w: Window) => ({ start: move(w.start), end: move(w.end) });
  return intents.map((i) => {
    const out: Record<string, unknown> = { ...i };
    if (i.window !== undefined) out.window = moveWindow(i.window as Window);
    if (typeof i.expiresAt === "string") out.expiresAt = move(i.expiresAt);
    const swapFor = i.swapFor as { window?: Window } | undefined;
    if (swapFor?.window !== undefined) out.swapFor = { ...swapFor, window: moveWindow(swapFor.window) };
    return out;
  });
}

