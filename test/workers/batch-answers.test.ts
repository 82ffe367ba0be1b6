// The batch routes' answers (learned validation) match the schemas the OpenAPI document and the TypeScript SDK
// take from src/contract/schema.ts: one batch through commitments, proposals, close, reveals and training examples.
import { SELF, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, test } from "vitest";
import { CommitmentsAnswer, ProposalAnswer, ProposalsAnswer, RevealAnswer, TrainingExampleView } from "../../src/contract/schema.ts";
import { BASE, buyIntent, freshMarket, json, newAgent, operator, sellIntent, signedFetch, submit, withOperator } from "./helpers.ts";

test("commitments, proposals, reveals and training examples answer as src/contract/schema.ts says", async () => {
  await withOperator(async () => {
    const m = freshMarket("ba");
    expect((await signedFetch(operator, "PUT", `/v1/markets/${m}/config`, { clearing: "batch", batchIntervalMs: 3_600_000 })).status).toBe(200);
    const buyer = await newAgent();
    const seller = await newAgent();
    const miner = await newAgent();
    const b = await json(await submit(buyer, m, buyIntent({ id: "pb" })));
    const s = await json(await submit(seller, m, sellIntent({ id: "ps" })));
    CommitmentsAnswer.parse(await json(await SELF.fetch(`${BASE}/v1/markets/${m}/commitments`)));
    const proposed = await signedFetch(miner, "POST", `/v1/markets/${m}/proposals`, { batch: "b-1", fills: [{ buy: "pb", sell: "ps", resource: "gpu-h100-hr", quantity: 100, price: 1.6 }] });
    expect(proposed.status).toBe(202);
    ProposalAnswer.parse(await json(proposed));
    const pending = ProposalsAnswer.parse(await json(await SELF.fetch(`${BASE}/v1/markets/${m}/proposals`)));
    expect(pending.proposals).toHaveLength(1);
    const stub = env.MARKET.getByName(m);
    await runInDurableObject(stub, async (_i, state) => {
      state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'batch_due_ms'", String(Date.now() - 1));
    });
    await runDurableObjectAlarm(stub);
    const scored = ProposalsAnswer.parse(await json(await SELF.fetch(`${BASE}/v1/markets/${m}/proposals?batch=b-1`)));
    expect(scored.proposals.some((p) => p.feasible !== undefined)).toBe(true);
    CommitmentsAnswer.parse(await json(await SELF.fetch(`${BASE}/v1/markets/${m}/commitments?batch=b-1`)));
    RevealAnswer.parse(await json(await signedFetch(buyer, "POST", `/v1/markets/${m}/reveals`, { intentId: "pb", salt: b.salt })));
    RevealAnswer.parse(await json(await signedFetch(seller, "POST", `/v1/markets/${m}/reveals`, { intentId: "ps", salt: s.salt })));
    const examples = TrainingExampleView.array().parse(await json(await SELF.fetch(`${BASE}/v1/markets/${m}/training-examples?format=json`)));
    expect(examples.length).toBeGreaterThan(0);
  });
});
