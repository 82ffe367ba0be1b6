// POST /NashChallenge's logic: a verified challenge is answered inside its timeout, or refused with the
// status a Python dendrite understands.
import { describe, expect, it } from "vitest";
import { keypairFromUri } from "../../src/bridge/keys.ts";
import { handleNashChallenge, type ChallengeDeps } from "../../src/bridge/axon.ts";
import { NASH_CHALLENGE, readAxonResponse, signDendriteRequest } from "../../src/bridge/synapse.ts";

const k = (uri: string) => {
  const r = keypairFromUri(uri);
  if (!r.ok) throw new Error(r.error);
  return r.keypair;
};
const validator = k("//Alice");
const miner = k("//Bob");

const intent = { agent: "a1", side: "buy", resource: "gpu-h100-hr", quantity: 100, limitPrice: 1.8, region: "eu-west" };

function challenge(text: string, timeoutSec = 12, signer = validator) {
  return signDendriteRequest({
    synapse: NASH_CHALLENGE,
    fields: { challenge: text },
    keypair: signer,
    axonHotkey: miner.ss58,
    timeoutSec,
    nonce: BigInt(Date.now()) * 1_000_000n,
    uuid: crypto.randomUUID(),
  });
}

function deps(answer: ChallengeDeps["answer"]): ChallengeDeps {
  return {
    axon: { hotkey: miner.ss58, validators: new Set([validator.ss58]) },
    nonces: new Map(),
    uuid: "edge-1",
    nowNs: () => BigInt(Date.now()) * 1_000_000n,
    nowMs: Date.now,
    answer,
  };
}

describe("handleNashChallenge", () => {
  it("answers with the market's settlement as the synapse's settlement field", async () => {
    const req = challenge(JSON.stringify({ market: "m1", intents: [intent] }));
    let seenDeadline = 0;
    const started = Date.now();
    const res = await handleNashChallenge(req.path, req.headers, req.body, deps(async (c, deadline) => {
      seenDeadline = deadline;
      return { ok: true, settlement: { id: "s1", market: c.market, intents: c.intents?.length } };
    }));
    expect(res.status).toBe(200);
    expect(seenDeadline).toBeGreaterThanOrEqual(started + 12_000 - 250);
    expect(seenDeadline).toBeLessThanOrEqual(Date.now() + 12_000 - 250);
    const read = readAxonResponse(res.status, res.headers, res.body);
    expect(JSON.parse(read.fields?.settlement as string)).toEqual({ id: "s1", market: "m1", intents: 1 });
    expect(read.fields?.challenge).toBe(JSON.stringify({ market: "m1", intents: [intent] }));
    expect(res.headers.bt_header_axon_status_code).toBe("200");
    expect(res.headers.bt_header_axon_signature).toBeUndefined(); // the edge does not hold the axon's key here
  });

  it("408 when the answer would arrive after the validator's timeout", async () => {
    const req = challenge(JSON.stringify({ market: "m1", intents: [] }), 0.4);
    const t0 = Date.now();
    const res = await handleNashChallenge(req.path, req.headers, req.body, deps(() => new Promise((r) => setTimeout(() => r({ ok: true, settlement: {} }), 2000))));
    expect(res.status).toBe(408);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(JSON.parse(res.body).message).toMatch(/timeout/i);
  });

  it("400 for a challenge that is not JSON or not a batch", async () => {
    const never: ChallengeDeps["answer"] = async () => {
      throw new Error("must not be called");
    };
    for (const text of ["nope", JSON.stringify({ market: "M!", intents: [] }), JSON.stringify({ market: "m1" }), JSON.stringify({ market: "m1", intents: [{ ...intent, quantity: -1 }] })]) {
      const req = challenge(text);
      const res = await handleNashChallenge(req.path, req.headers, req.body, deps(never));
      expect(res.status).toBe(400);
      expect(res.headers.bt_header_axon_status_code).toBe("400");
    }
  });

  it("passes the market's refusal or failure through, and the axon's rejections", async () => {
    const req = challenge(JSON.stringify({ market: "m1", intents: [] }));
    expect((await handleNashChallenge(req.path, req.headers, req.body, deps(async () => ({ ok: false, status: 503, message: "market busy" })))).status).toBe(503);
    const req2 = challenge(JSON.stringify({ market: "m1", intents: [] }));
    const boom = await handleNashChallenge(req2.path, req2.headers, req2.body, deps(async () => {
      throw new Error("boom");
    }));
    expect(boom.status).toBe(500);
    const stranger = challenge(JSON.stringify({ market: "m1", intents: [] }), 12, k("//Eve"));
    expect((await handleNashChallenge(stranger.path, stranger.headers, stranger.body, deps(async () => ({ ok: true, settlement: {} })))).status).toBe(403);
  });
});
