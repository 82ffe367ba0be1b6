// The complexity reward's windows term (docs/contract.md section 6): delivery windows of the batch's exact-welfare
// allocation, counted from its fills' start/end, raise the reward; a batch without windows keeps its old reward.
import { describe, expect, test } from "vitest";
import { batchComplexity, complexityReward, windowCount } from "../../src/model/reward.ts";

const at = (h: number) => new Date(Date.UTC(2030, 0, 1, h)).toISOString();
const fill = (start?: number, end?: number) => ({
  buy: "b", sell: "s", resource: "gpu", quantity: 1, ...(start !== undefined ? { start: at(start), end: at(end!) } : {}),
});

describe("windows in the complexity reward", () => {
  test("distinct intervals count once each; windowless fills count nothing", () => {
    expect(windowCount([])).toBe(0);
    expect(windowCount([fill(), fill()])).toBe(0);
    expect(windowCount([fill(0, 2), fill(0, 2), fill()])).toBe(1);
    expect(windowCount([fill(0, 2), fill(2, 4), fill(0, 4)])).toBe(3);
  });

  test("each window adds an eighth, up to four; no windows leaves the worked example's 1.6731", () => {
    const features = (minimum: "none" | "all") => ({ features: { minimum, latencyBand: null } }) as never;
    const book = [features("all"), features("none"), features("none"), features("none"), features("none")];
    expect(complexityReward(batchComplexity(book, 1))).toBeCloseTo(1.6731, 4);
    expect(complexityReward(batchComplexity(book, 1, 0))).toBeCloseTo(1.6731, 4);
    expect(complexityReward(batchComplexity(book, 1, 2)) - complexityReward(batchComplexity(book, 1))).toBeCloseTo(0.25, 9);
    // A proposer cannot farm the term: it is capped, and the market counts it on its own allocation.
    expect(complexityReward(batchComplexity(book, 1, 40))).toBeCloseTo(complexityReward(batchComplexity(book, 1, 4)), 9);
  });
});
