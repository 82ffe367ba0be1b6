// The parts of a windowed solve around its LP (notes/solver.md, "Time: the rest, again (session 11)"): the flow's walk
// into paths and cycles (decompose.ts, shared with multi.ts) and the union–find behind the components
// (components.ts). Both were rewritten on typed arrays; these judge them against plain definitions.
import { describe, expect, it } from "vitest";
import { walkFlow } from "../../src/solver/decompose.ts";
import { Joined, joinedComponents } from "../../src/solver/components.ts";
import { seededRandom } from "../../src/random.ts";

/** A random circulation on nodes 0 (source) .. V − 1, 1 the sink: source → sink paths and cycles of 2..6 nodes. */
function randomFlow(seed: number) {
  const r = seededRandom(seed);
  const V = 4 + Math.floor(r() * 12);
  const src: number[] = [];
  const dst: number[] = [];
  const flow: number[] = [];
  const arc = (u: number, v: number, f: number) => {
    // Reuse an existing arc now and then, so walks share arcs and meet themselves.
    for (let a = 0; a < src.length; a++)
      if (src[a] === u && dst[a] === v && r() < 0.7) {
        flow[a] += f;
        return;
      }
    src.push(u), dst.push(v), flow.push(f);
  };
  const inner = () => 2 + Math.floor(r() * (V - 2));
  for (let k = 0; k < 3 + Math.floor(r() * 8); k++) {
    const f = r() < 0.3 ? 1 + Math.floor(r() * 5) : r() * 10;
    if (r() < 0.7) {
      // A path source → inner nodes (maybe repeating one: a cycle inside the walk) → sink.
      const nodes = [0];
      for (let j = 0; j < 1 + Math.floor(r() * 5); j++) nodes.push(inner());
      nodes.push(1);
      for (let j = 0; j + 1 < nodes.length; j++) if (nodes[j] !== nodes[j + 1]) arc(nodes[j], nodes[j + 1], f);
    } else {
      const nodes: number[] = [];
      for (let j = 0; j < 2 + Math.floor(r() * 5); j++) nodes.push(inner());
      for (let j = 0; j < nodes.length; j++) if (nodes[j] !== nodes[(j + 1) % nodes.length]) arc(nodes[j], nodes[(j + 1) % nodes.length], f);
    }
  }
  return { V, src, dst, flow };
}

describe("walkFlow: a circulation's flow as source–sink paths and the cycles walks close", () => {
  it("takes every unit from the source exactly once, over paths that end at the sink and cycles that close", () => {
    // A walk that kept a mark of an earlier walk's nodes would report cycles that are not there (or drop flow):
    // removing the marks' reset after each walk fails this.
    for (let seed = 1; seed <= 300; seed++) {
      const { src, dst, flow } = randomFlow(seed);
      const left = Float64Array.from(flow);
      const taken = new Float64Array(flow.length);
      const outs = new Map<number, number[]>();
      src.forEach((u, a) => outs.set(u, [...(outs.get(u) ?? []), a]));
      const next = (u: number) => (outs.get(u) ?? []).find((a) => left[a] > 1e-12) ?? -1;
      const take = (arcs: number[]) => {
        let v = Infinity;
        for (const a of arcs) v = Math.min(v, left[a]);
        for (const a of arcs) {
          left[a] -= v;
          taken[a] += v;
        }
      };
      let paths = 0;
      walkFlow(
        0,
        1,
        dst,
        left,
        next,
        1000,
        (cycle) => {
          for (let j = 0; j < cycle.length; j++) expect(src[cycle[(j + 1) % cycle.length]], `seed ${seed}: a cycle closes`).toBe(dst[cycle[j]]);
          expect(new Set(cycle.map((a) => src[a])).size, `seed ${seed}: a cycle is simple`).toBe(cycle.length);
          take(cycle);
        },
        (path) => {
          expect(src[path[0]], `seed ${seed}: a path starts at the source`).toBe(0);
          expect(dst[path[path.length - 1]], `seed ${seed}: a path ends at the sink`).toBe(1);
          for (let j = 0; j + 1 < path.length; j++) expect(src[path[j + 1]]).toBe(dst[path[j]]);
          expect(new Set([0, ...path.map((a) => dst[a])]).size, `seed ${seed}: a path is simple`).toBe(path.length + 1);
          paths++;
          take(path);
        },
      );
      // Flow out of the source is all taken by paths; nothing is taken beyond an arc's flow.
      const fromSource = src.reduce((s, u, a) => s + (u === 0 ? flow[a] : 0), 0);
      const pathSum = src.reduce((s, u, a) => s + (u === 0 ? taken[a] : 0), 0);
      expect(Math.abs(pathSum - fromSource), `seed ${seed}`).toBeLessThanOrEqual(1e-9 * Math.max(1, fromSource));
      for (let a = 0; a < flow.length; a++) expect(taken[a]).toBeLessThanOrEqual(flow[a] * (1 + 1e-12));
      if (fromSource > 0) expect(paths).toBeGreaterThan(0);
    }
  });
});

describe("Joined and joinedComponents: the sets union–find makes, in first-index order", () => {
  it("equal the connected components of the joined pairs, members in input order, components by first member", () => {
    // Breakages that fail it: ordering components by root instead of first member, or a union that links x's root
    // under y without finding y's root.
    for (let seed = 1; seed <= 200; seed++) {
      const r = seededRandom(seed);
      const n = 1 + Math.floor(r() * 60);
      const pairs: [number, number][] = [];
      for (let k = 0; k < Math.floor(r() * n * 1.2); k++) pairs.push([Math.floor(r() * n), Math.floor(r() * n)]);
      const traded = new Uint8Array(n);
      const joined = new Joined(n);
      for (const [x, y] of pairs) {
        joined.join(x, y);
        traded[x] = traded[y] = 1;
      }
      // Plain definition: label by repeated relaxation until nothing changes.
      const label = Array.from({ length: n }, (_, i) => i);
      for (let changed = true; changed; ) {
        changed = false;
        for (const [x, y] of pairs) {
          const m = Math.min(label[x], label[y]);
          if (label[x] !== m || label[y] !== m) {
            label[x] = label[y] = m;
            changed = true;
          }
        }
      }
      const expected = new Map<number, number[]>();
      for (let i = 0; i < n; i++) if (traded[i]) expected.set(label[i], [...(expected.get(label[i]) ?? []), i]);
      expect(joinedComponents(traded, joined).map((c) => [...c]), `seed ${seed}`).toEqual([...expected.values()]);
    }
  });
});
