// When the market object's one alarm fires: it serves the next expiry (an intent's expiresAt or the end of its
// window), the pending batch or sweep and the relay's next attempt, whichever comes first.

/** Expiry alarms fall on this grid (ms): an `intent.expired` event comes at most this late. */
export const EXPIRY_ALARM_GRID_MS = 250;

/** What wants the alarm, each a time in ms or null for nothing pending. */
export interface AlarmWants {
  /** The next live intent's expiry (a time at or before the true next one only wakes the alarm early). */
  expiry: number | null;
  /** The open batch's close (batch clearing), or the next sweep (continuous clearing with low-priority arrivals). */
  batchDue: number | null;
  /** The relay's next delivery attempt. */
  relay: number | null;
}

/**
 * The alarm time for these wants, or null for none. Expiries share alarms on a grid: an intent past its expiry
 * never trades and reads as expired at once (every clearing and read expires what is due first), so the alarm
 * only marks and announces them, and a busy book of short-lived intents wakes the object a few times a second,
 * not once per intent.
 */
export function nextAlarm(wants: AlarmWants): number | null {
  const times: number[] = [];
  if (wants.expiry !== null) times.push(Math.ceil(wants.expiry / EXPIRY_ALARM_GRID_MS) * EXPIRY_ALARM_GRID_MS);
  if (wants.batchDue !== null) times.push(wants.batchDue);
  if (wants.relay !== null) times.push(wants.relay);
  return times.length > 0 ? Math.min(...times) : null;
}
