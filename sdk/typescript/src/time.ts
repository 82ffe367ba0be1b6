// Helpers for the contract's times (CONTRACT.md section 2a): a window from a start and a length in hours, and a
// deferral (a swap of a resource for the same resource in a later window). Times are ISO-8601 strings in UTC.

/** A delivery window, [start, end). */
export interface Window {
  start: string;
  end: string;
}

const HOUR_MS = 3_600_000;

/** The instant `at` as the contract writes it: an ISO string in UTC (a Date, ms since the epoch, or a time string). */
export function isoTime(at: Date | number | string): string {
  const ms = typeof at === "string" ? Date.parse(at) : typeof at === "number" ? at : at.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${String(at)}`);
  return new Date(ms).toISOString();
}

/** The window of `hours` hours from `start` (`hours` > 0). `window(new Date(), 2)`: the next two hours. */
export function window(start: Date | number | string, hours: number): Window {
  if (!(hours > 0) || !Number.isFinite(hours)) throw new RangeError(`hours must be a positive number, got ${hours}`);
  const from = Date.parse(isoTime(start));
  return { start: isoTime(from), end: isoTime(from + hours * HOUR_MS) };
}

/** `window` moved later by `hours` (a deferral's later slot: `later(held, 4)`). */
export function later(w: Window, hours: number): Window {
  const by = hours * HOUR_MS;
  return { start: isoTime(Date.parse(w.start) + by), end: isoTime(Date.parse(w.end) + by) };
}

/**
 * The fields of a deferral of `held` by `hours` (CONTRACT.md section 1): a swap that gives `resource` over `held`
 * and takes the same resource over the window `hours` later, for at least `minRebate` per unit. Spread it into an
 * intent with its quantity and region: `{ ...deferral("gpu-h100-hr", held, 4, 0.3), quantity: 200, region }`.
 */
export function deferral(resource: string, held: Window, hours: number, minRebate: number) {
  return { side: "sell" as const, kind: "swap" as const, resource, limitPrice: minRebate, window: held, swapFor: { resource, window: later(held, hours) } };
}
