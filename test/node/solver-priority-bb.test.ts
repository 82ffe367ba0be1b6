// Priority among allocations of equal welfare when minimums branch (CONTRACT.md section 3; notes/solver.md,
// "Priority among leaves (session 10)"): on small books with tied limits, all-or-none intents and minimums, the
// solver's allocation has the oracle's optimum welfare and, among the allocations of that welfare, the best priority
// objective the LP paths use, −(high units) + (low units). The oracle (test/oracle/time-flow.ts, rankedOptimum)
// enumerates who meets its minimum and solves each fixing by cycle cancelling, timeless and over schedules alike.
import { describe, expect, test } from "vitest";
import { priorityFault, tieBook } from "../oracle/priority-books.ts";

function sweep(windowed: boolean, seeds: number): string[] {
  const failures: string[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const book = tieBook(seed, windowed);
    const fault = priorityFault(book, windowed);
    if (fault) failures.push(`seed ${seed}: ${fault}: ${JSON.stringify(book)}`);
  }
  return failures;
}

describe("priority among allocations of equal welfare, minimums branching (against a brute-force oracle)", () => {
  test("2,000 timeless books: optimum welfare, then the best −high + low", () => {
    const failures = sweep(false, 20000);
    console.log("TIMELESS", failures.length, failures.map((f) => f.split(":").slice(0, 2).join(":")).join(" | "));
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
  }, 600_000);

  test("2,000 windowed books: optimum welfare, then the best −high + low", () => {
    const failures = sweep(true, 20000);
    console.log("WINDOWED", failures.length, failures.map((f) => f.split(":").slice(0, 2).join(":")).join(" | "));
    expect(failures, failures.slice(0, 3).join("\n")).toEqual([]);
  }, 600_000);
});
