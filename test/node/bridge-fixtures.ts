// Shared fixtures of the bridge tests: a node:sqlite adapter for SqlOutbox and a settlement.
import type { DatabaseSync } from "node:sqlite";
import type { SqlExec } from "../../src/bridge/outbox.ts";
import type { Settlement } from "../../src/contract/schema.ts";

/** The same `exec` shape a Durable Object gives (`(q, ...p) => ctx.storage.sql.exec(q, ...p).toArray()`). */
export function sqliteExec(db: DatabaseSync): SqlExec {
  return (q, ...p) => db.prepare(q).all(...p) as Record<string, unknown>[];
}

export function settlement(id: string, market = "m1"): Settlement {
  return {
    id,
    market,
    fills: [{ buy: "b1", sell: "s1", resource: "gpu-h100-hr", quantity: 100, price: 1.6 }],
    welfare: 40,
    stats: { status: "optimal", solveMs: 0.4 },
    certificate: { duals: { b1: 0.2, s1: 0.2 }, bound: 40 },
    createdAt: "2026-11-26T14:00:00.000Z",
  };
}
