// Every command-line tool refuses an unknown flag or a bad value with a message naming it and exit code 2
// (src/cli/args.ts on node:util parseArgs), before it starts any work.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { numberFlag, parseFlags, soleNumberArg, UsageError } from "../../src/cli/args.ts";

const root = resolve(import.meta.dirname, "../..");

describe("parseFlags and numberFlag", () => {
  test("an unknown flag, a missing value and a stray argument are usage errors naming them", () => {
    const options = { port: { type: "string" } } as const;
    expect(() => parseFlags({ args: ["--bogus"], options })).toThrow(new UsageError("Unknown option '--bogus'"));
    expect(() => parseFlags({ args: ["--port"], options })).toThrow(/'--port <value>' argument missing/);
    expect(() => parseFlags({ args: ["x"], options })).toThrow(UsageError);
    expect(parseFlags({ args: ["--port", "8"], options }).values).toEqual({ port: "8" });
  });

  test("numbers: absent is undefined; a value outside the rule names the flag and the value", () => {
    expect(numberFlag({}, "n")).toBeUndefined();
    expect(numberFlag({ n: "2.5" }, "n")).toBe(2.5);
    expect(() => numberFlag({ n: "2.5" }, "n", { integer: true })).toThrow('--n needs a whole number, not "2.5"');
    expect(() => numberFlag({ n: "0" }, "n", { min: 0, exclusive: true })).toThrow('--n needs a number above 0, not "0"');
    expect(() => numberFlag({ n: "" }, "n")).toThrow(UsageError);
    expect(() => numberFlag({ n: "1e999" }, "n")).toThrow(UsageError);
    expect(soleNumberArg("N", 300, {}, [])).toBe(300);
    expect(() => soleNumberArg("N", 300, {}, ["1", "2"])).toThrow("unexpected argument: 2");
  });
});

const tools: [string, string[], RegExp][] = [
  ["scripts/adversarial.ts", ["--cases", "many"], /--cases needs a whole number/],
  ["scripts/train.ts", ["--epochs", "3"], /Unknown option '--epochs'/],
  ["scripts/latency.ts", ["0"], /N needs a whole number of at least 1/],
  ["scripts/dev.ts", ["--port", "1"], /Unknown option '--port'/],
  ["bench/crash.ts", ["--kills", "x"], /--kills needs a number/],
  ["bench/load.ts", ["--rates", "1"], /Unknown option '--rates'/],
  ["bench/model.ts", ["--rounds", "0"], /--rounds needs a whole number of at least 1/],
  ["tools/miner-node/main.ts", ["--down", "404"], /--down is 503 or close/],
];

test.each(tools)("%s %j: a message naming the flag, the usage, exit 2", (script, args, message) => {
  const r = spawnSync(process.execPath, [script, ...args], { cwd: root, encoding: "utf8", timeout: 60_000 });
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/usage/);
  expect(r.stdout).toBe("");
  expect(r.status).toBe(2);
});
