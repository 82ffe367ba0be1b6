// Outside proposals on books with windows and soft latency (issue 16): the market's own optimal allocation, sent
// back as a proposal with its schedule, must pass the market's feasibility check; a schedule bent before now or
// stripped must not.
import { expect, test } from "vitest";
import { allocationOf, fillsWelfare, proposalErrors } from "../../src/market/proposals.ts";
import type { IntentRecord } from "../../src/market/book.ts";
import { solve } from "../../src/solver/index.ts";
import { generateWindowedMarket } from "../../support/generate-time.ts";

const HOUR = 3_600_000;

test("a windowed book's optimal allocation is a feasible proposal; a schedule moved before now or dropped is refused", () => {
  let checked = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const { intents, latency, now } = generateWindowedMarket(seed, { size: 20, deferralShare: seed % 2 === 0 ? 0.2 : 0 });
    const own = solve(intents, latency, { now });
    if (own.fills.length === 0) continue;
    checked++;
    const records = new Map<string, IntentRecord>(intents.map((intent, seq) => [intent.id, { intent, status: "open", filled: 0, seq, createdAt: "" }]));
    const fills = allocationOf(own.fills);
    expect(proposalErrors(records, intents, latency, fills, now), `seed ${seed}`).toEqual([]);
    // Welfare as verify counts it (moved limits under soft latency).
    expect(fillsWelfare(intents, latency, fills)).toBeCloseTo(own.welfare, 6);
    const t = fills.findIndex((f) => f.start !== undefined);
    if (t < 0) continue;
    const early = fills.map((f, k) => (k === t ? { ...f, start: new Date(now - HOUR).toISOString() } : f));
    expect(proposalErrors(records, intents, latency, early, now).length, `seed ${seed}: delivery before now`).toBeGreaterThan(0);
    const stripped = fills.map(({ start: _s, end: _e, ...f }) => f);
    expect(proposalErrors(records, intents, latency, stripped, now).length, `seed ${seed}: no schedule`).toBeGreaterThan(0);
  }
  expect(checked).toBeGreaterThan(30);
});
