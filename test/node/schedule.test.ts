// The alarm's schedule: one alarm for the next expiry (on its grid), the pending batch and the relay.
import { describe, expect, test } from "vitest";
import { EXPIRY_ALARM_GRID_MS, nextAlarm } from "../../src/market/schedule.ts";

const none = { expiry: null, batchDue: null, relay: null };

describe("nextAlarm", () => {
  test("nothing pending: no alarm", () => {
    expect(nextAlarm(none)).toBeNull();
  });

  test("an expiry rounds up to the grid, never earlier than the expiry", () => {
    expect(nextAlarm({ ...none, expiry: 1001 })).toBe(Math.ceil(1001 / EXPIRY_ALARM_GRID_MS) * EXPIRY_ALARM_GRID_MS);
    expect(nextAlarm({ ...none, expiry: 2 * EXPIRY_ALARM_GRID_MS })).toBe(2 * EXPIRY_ALARM_GRID_MS);
    for (let t = 1; t < 2000; t += 37) {
      const at = nextAlarm({ ...none, expiry: t })!;
      expect(at).toBeGreaterThanOrEqual(t);
      expect(at - t).toBeLessThan(EXPIRY_ALARM_GRID_MS);
    }
  });

  test("whichever comes first: batch close and relay attempt are exact", () => {
    expect(nextAlarm({ expiry: 10_000, batchDue: 5_001, relay: 7_000 })).toBe(5_001);
    expect(nextAlarm({ expiry: 10_000, batchDue: 9_000, relay: 7_003 })).toBe(7_003);
    expect(nextAlarm({ expiry: 4_900, batchDue: 5_001, relay: null })).toBe(5_000);
  });
});
