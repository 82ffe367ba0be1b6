// The parts of a windowed solve around its LP (notes/solver.md, "Time: the rest, again (session 11)"): the flow's walk
// into paths and cycles (decompose.ts, shared with multi.ts) and the union–find behind the components
// (components.ts). Both were rewritten on typed arrays; these judge them against plain definitions.
import { describe, expect, it } from "vitest";
import { walkFlow } from "../../src/solver/decompose.ts";
import { Joined, joinedComponents, legPlaces, legReach, timeComponents } from "../../src/solver/components.ts";
import { capAdmits, latencyMatrix, penaltyAt } from "../../src/solver/latency.ts";
import { memberLegs, timeLegs } from "../../src/solver/time-slots.ts";
import { solve } from "../../src/solver/index.ts";
import { seededRandom } from "../../src/random.ts";
import { generateWindowedMarket, type WindowedMarketOptions } from "../../support/generate-time.ts";

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
        (arcs, length) => {
          const cycle = Array.from(arcs.subarray(0, length));
          for (let j = 0; j < cycle.length; j++) expect(src[cycle[(j + 1) % cycle.length]], `seed ${seed}: a cycle closes`).toBe(dst[cycle[j]]);
          expect(new Set(cycle.map((a) => src[a])).size, `seed ${seed}: a cycle is simple`).toBe(cycle.length);
          take(cycle);
        },
        (arcs, length) => {
          const path = Array.from(arcs.subarray(0, length));
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
    // Breakages that fail it: ordering components by root instead of first member, a union that links x's root
    // under y without finding y's root, or joinRoot returning x where it linked x under y.
    for (let seed = 1; seed <= 200; seed++) {
      const r = seededRandom(seed);
      const n = 1 + Math.floor(r() * 60);
      const pairs: [number, number][] = [];
      for (let k = 0; k < Math.floor(r() * n * 1.2); k++) pairs.push([Math.floor(r() * n), Math.floor(r() * n)]);
      const traded = new Uint8Array(n);
      const joined = new Joined(n);
      // Half the pairs through joinRoot with x's root kept across a run of joins (as timeComponents does).
      let kept = -1;
      let keptFor = -1;
      for (const [x, y] of pairs) {
        if (r() < 0.5) joined.join(x, y);
        else {
          if (keptFor !== x) (kept = joined.find(x)), (keptFor = x);
          kept = joined.joinRoot(kept, y);
          if (r() < 0.3) keptFor = -1; // a plain join may follow: the kept root is stale then
        }
        if (keptFor >= 0 && r() < 0.2) {
          joined.join(y, x);
          keptFor = -1;
        }
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

/** Windowed books of every kind the time path takes. */
const kinds: WindowedMarketOptions[] = [
  {},
  { resources: 2, swapShare: 0.3, deferralShare: 0.2, agents: 12 },
  { softLatencyShare: 0.6, latencyCapShare: 0.5, windowlessShare: 0.5, integerQuantities: false },
  { pastShare: 0.7, maxRateShare: 0.8, regions: 2 },
  { windowlessShare: 0.95, minQuantityShare: 0.3 },
];

describe("memberLegs: a component's legs copied from the book's", () => {
  it("equal timeLegs of the component's intents: legs renumbered, the component's own intervals", () => {
    // Breakages that fail it: keeping the book's intent index, the book's slots, or leaving now out of the bounds.
    let checked = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const m = generateWindowedMarket(seed, { ...kinds[seed % kinds.length], size: 20 + ((seed * 37) % 300) });
      const book = timeLegs(m.intents, m.now);
      const r = seededRandom(seed);
      // The components, and random subsets of the intents with something to trade (any ascending members).
      const subsets = timeComponents(m.intents, m.latency, m.now, book);
      for (let k = 0; k < 3; k++) {
        const some: number[] = [];
        m.intents.forEach((it, i) => it.quantity > 0 && r() < 0.4 && some.push(i));
        subsets.push(Int32Array.from(some));
      }
      for (const c of subsets) {
        const sub = Array.from(c, (i) => m.intents[i]);
        expect(memberLegs(book.legs, c, m.now), `seed ${seed}`).toEqual(timeLegs(sub, m.now));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(200);
  });
});

describe("legReach: per leg the regions it reaches and its worth there", () => {
  it("equals its definition (cap admits the pair, soft penalty finite) for legs with and without latency terms", () => {
    // Breakage that fails it: taking the every-region path for a leg with a cap (or with soft latency).
    for (let seed = 1; seed <= 40; seed++) {
      const m = generateWindowedMarket(seed, { ...kinds[seed % kinds.length], size: 150, latencyCapShare: 0.4, softLatencyShare: 0.4 });
      const { legs } = timeLegs(m.intents, m.now);
      const { legRegion, names } = legPlaces(m.intents, legs);
      const { reachStart, reachRegion, reachWorth } = legReach(m.intents, m.latency, legs, names, legRegion);
      const between = latencyMatrix(m.latency, names);
      legs.forEach((l, k) => {
        const it = m.intents[l.intent];
        const want: [number, number][] = [];
        for (let other = 0; other < names.length; other++) {
          const ms = between[legRegion[k] * names.length + other];
          const penalty = penaltyAt(it, ms);
          if (!capAdmits(it.maxLatencyMs, ms) || penalty === Infinity) continue;
          want.push([other, it.swapFor ? (l.buy ? Infinity : -Infinity) : l.buy ? l.value - penalty : l.value + penalty]);
        }
        const got: [number, number][] = [];
        for (let j = reachStart[k]; j < reachStart[k + 1]; j++) got.push([reachRegion[j], reachWorth[j]]);
        expect(got, `seed ${seed} leg ${k}`).toEqual(want);
      });
    }
  });
});

describe("windowed fills: one fill per buy–sell pair and run", () => {
  it("a pair's fills never overlap in time and two that touch differ in rate (else they were one run)", () => {
    // Breakage that fails it: pairCells not finding a pair it numbered already (a new pair per trade through it).
    for (let seed = 1; seed <= 25; seed++) {
      const m = generateWindowedMarket(seed, { ...kinds[seed % kinds.length], size: 40 + 6 * seed });
      const { fills } = solve(m.intents, m.latency, { now: m.now });
      const byPair = new Map<string, typeof fills>();
      for (const f of fills) byPair.set(`${f.buy}|${f.sell}`, [...(byPair.get(`${f.buy}|${f.sell}`) ?? []), f]);
      for (const [pair, list] of byPair) {
        expect(list.filter((f) => f.start === undefined).length, `seed ${seed} ${pair}: one untimed fill at most`).toBeLessThanOrEqual(1);
        const timed = list.filter((f) => f.start !== undefined).sort((a, b) => Date.parse(a.start!) - Date.parse(b.start!));
        for (let j = 1; j < timed.length; j++) {
          const [a, b] = [timed[j - 1], timed[j]];
          expect(Date.parse(b.start!), `seed ${seed} ${pair}: no overlap`).toBeGreaterThanOrEqual(Date.parse(a.end!));
          if (a.end !== b.start) continue;
          const rate = (f: (typeof fills)[number]) => f.quantity / (Date.parse(f.end!) - Date.parse(f.start!));
          expect(Math.abs(rate(a) - rate(b)), `seed ${seed} ${pair}: touching runs differ in rate`).toBeGreaterThan(1e-9 * Math.max(rate(a), rate(b)));
        }
      }
    }
  });
});
