// The bridge's pure modules inside workerd: keys, SS58, sr25519 and the axon checks run there unchanged.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { keypairFromUri } from "../../src/bridge/keys.ts";
import { bytesToHex } from "../../src/contract/codec.ts";
import { NASH_SETTLEMENT, sha3BodyHash, signDendriteRequest, verifyAxonRequest } from "../../src/bridge/synapse.ts";
import { SqlOutbox, buildSettlementMessage } from "../../src/bridge/outbox.ts";

describe("bridge in workerd", () => {
  it("derives //Alice and verifies a relay request from fetch Headers", () => {
    const alice = keypairFromUri("//Alice");
    const bob = keypairFromUri("//Bob");
    if (!alice.ok || !bob.ok) throw new Error("keys");
    expect(bytesToHex(alice.keypair.publicKey)).toBe("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
    expect(alice.keypair.ss58).toBe("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    expect(sha3BodyHash({}, [])).toBe("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");

    const msg = buildSettlementMessage({
      market: "m1",
      settlement: { id: "s1", market: "m1", fills: [], welfare: 0, stats: { status: "optimal", solveMs: 0 } },
      committedAt: "2026-11-26T14:00:00Z",
    });
    const nonce = BigInt(Date.now()) * 1_000_000n;
    const req = signDendriteRequest({ synapse: NASH_SETTLEMENT, fields: { settlement: msg.text }, keypair: alice.keypair, axonHotkey: bob.keypair.ss58, nonce, uuid: "u" });
    const request = new Request(`http://edge${req.path}`, { method: "POST", headers: req.headers, body: req.body });
    const nonces = new Map<string, bigint>();
    const t0 = performance.now();
    const out = verifyAxonRequest(new URL(request.url).pathname, request.headers, req.body, {
      synapse: NASH_SETTLEMENT,
      axonHotkey: bob.keypair.ss58,
      allowlist: new Set([alice.keypair.ss58]),
      nonces,
      nowNs: nonce + 1_000_000n,
    });
    const ms = performance.now() - t0;
    expect(out.ok).toBe(true);
    expect(nonces.get(`${alice.keypair.ss58}:u`)).toBe(nonce);
    console.log(`verifyAxonRequest in workerd: ${ms.toFixed(1)} ms (timer resolution is coarse in workerd)`);
  });

  it("runs the outbox SQL on a market object's own SQLite, inside a transaction with other writes", async () => {
    await runInDurableObject(env.MARKET.getByName("bridge-outbox-test"), async (_instance, state) => {
      const sql = state.storage.sql;
      const outbox = new SqlOutbox((q, ...p) => sql.exec(q, ...p).toArray() as Record<string, unknown>[], {
        capacity: 2,
        maxMessageBytes: 1_500_000,
        baseDelayMs: 1000,
        maxDelayMs: 300_000,
        batchSize: 50,
      });
      const msg = (id: string) =>
        buildSettlementMessage({ market: "m1", settlement: { id, market: "m1", fills: [], welfare: 0, stats: { status: "optimal", solveMs: 0 } }, committedAt: "t" });
      sql.exec("CREATE TABLE IF NOT EXISTS t_settlements (id TEXT PRIMARY KEY)");
      // Commit and enqueue together; a failure after both rolls both back.
      state.storage.transactionSync(() => {
        sql.exec("INSERT INTO t_settlements (id) VALUES ('a')");
        outbox.enqueue(msg("a"), 1000);
      });
      expect(() =>
        state.storage.transactionSync(() => {
          sql.exec("INSERT INTO t_settlements (id) VALUES ('b')");
          outbox.enqueue(msg("b"), 1001);
          throw new Error("commit failed");
        }),
      ).toThrow("commit failed");
      expect(outbox.metrics().pending).toBe(1);
      expect(sql.exec("SELECT COUNT(*) AS n FROM t_settlements").one().n).toBe(1);
      outbox.enqueue(msg("c"), 1002);
      expect(outbox.enqueue(msg("d"), 1003)).toEqual({ action: "refuse", reason: "full" });
      const due = outbox.due(5000);
      expect(due.map((r) => r.settlementId)).toEqual(["a", "c"]);
      expect(outbox.record(due[0], { kind: "failed", status: 503, error: "down" }, 5000, () => 0)).toBe(5500);
      outbox.record(due[1], { kind: "delivered", status: 200, duplicate: false }, 5000, () => 0);
      outbox.setLastNonce(1_764_115_200_123_456_789n);
      expect(outbox.lastNonce()).toBe(1_764_115_200_123_456_789n);
      expect(outbox.nextAttemptAt()).toBe(5500);
      expect(outbox.metrics()).toMatchObject({ pending: 1, full: false, counters: { enqueued: 2, delivered: 1, refused_full: 1, failed_attempts: 1 } });
    });
  });
});
