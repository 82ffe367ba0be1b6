// The solver's arena (src/solver/arena.ts): large arrays are zeroed, disjoint views of one buffer; small ones are
// ordinary arrays of their own.
import { describe, expect, it } from "vitest";
import { Arena } from "../../src/solver/arena.ts";

describe("Arena", () => {
  it("carves zeroed, disjoint, aligned views of one buffer for arrays over 64 bytes", () => {
    const arena = new Arena(20 + 30, 40, 100);
    const a = arena.f64(20);
    const b = arena.f64(30);
    const c = arena.i32(40);
    const d = arena.u8(100);
    expect(new Set([a.buffer, b.buffer, c.buffer, d.buffer]).size).toBe(1);
    expect(a.buffer.byteLength).toBe(8 * 50 + 4 * 40 + 100);
    for (const x of [a, b, c, d]) expect([...x].every((v) => v === 0)).toBe(true);
    a.fill(1);
    b.fill(2);
    c.fill(3);
    d.fill(4);
    expect([a[19], b[0], b[29], c[0], c[39], d[0], d[99]]).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });

  it("gives arrays of up to 64 bytes their own storage, and allocates no buffer for them alone", () => {
    const arena = new Arena(8, 16, 64);
    const xs = [arena.f64(8), arena.i32(16), arena.i8(64), arena.u8(64)];
    for (const x of xs) expect(x.byteOffset).toBe(0);
    expect(new Set(xs.map((x) => x.buffer)).size).toBe(4);
  });
});
