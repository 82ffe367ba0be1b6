// Aggregation of intents into classes that see the same counterparties: compatibility depends only on
// (side, resource, region, the set of counterpart regions within the latency cap), so the allocation LP and the
// verifier work on classes and class pairs instead of intent pairs.
import type { Intent, LatencyTable } from "../schema.ts";
import { latencyBetween } from "./latency.ts";

export interface IntentClass {
  resource: string;
  region: string;
  /** Counterpart regions this class admits; null when it has no latency cap (then it admits every region). */
  reach: Set<string> | null;
  /** Intent indices, best price first (buyers by limit descending, sellers ascending; ties by input order). */
  members: Int32Array;
}

export interface ClassIndex {
  buy: IntentClass[];
  sell: IntentClass[];
  /** Per intent index: its class within its side, or −1 when it cannot trade (no open quantity). */
  classOf: Int32Array;
  /** Compatible class pairs. */
  edgeBuy: Int32Array;
  edgeSell: Int32Array;
  buyAdj: Int32Array[];
  sellAdj: Int32Array[];
}

/** Builds the classes and their compatible pairs in O(intents × regions + class pairs). */
/** `sortMembers` false leaves members in input order (the verifier needs no price order). */
export function buildClasses(intents: readonly Intent[], latency: LatencyTable, sortMembers = true): ClassIndex {
  const n = intents.length;
  // Counterpart regions per (resource, side).
  const regions = new Map<string, { buy: Set<string>; sell: Set<string> }>();
  for (const it of intents) {
    let r = regions.get(it.resource);
    if (!r) regions.set(it.resource, (r = { buy: new Set(), sell: new Set() }));
    r[it.side].add(it.region);
  }
  // (side, resource, region) → its counterpart regions by latency; a cap then admits a prefix of them, so the class
  // is (side, resource, region, prefix length) and no set or key string is built per intent.
  interface Origin { regs: string[]; ms: Float64Array; byPrefix: Map<number, number> }
  const lookup = { buy: new Map<string, Map<string, Origin>>(), sell: new Map<string, Map<string, Origin>>() };
  const buy: { c: IntentClass; list: number[] }[] = [];
  const sell: { c: IntentClass; list: number[] }[] = [];
  const classOf = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const it = intents[i];
    if (!(it.quantity > 0)) continue;
    let byRegion = lookup[it.side].get(it.resource);
    if (!byRegion) lookup[it.side].set(it.resource, (byRegion = new Map()));
    let origin = byRegion.get(it.region);
    if (!origin) {
      const others = regions.get(it.resource)![it.side === "buy" ? "sell" : "buy"];
      const pairs: [string, number][] = [];
      for (const o of others) {
        const ms = latencyBetween(latency, it.region, o);
        if (ms !== undefined) pairs.push([o, ms]);
      }
      pairs.sort((a, b) => a[1] - b[1]);
      origin = { regs: pairs.map((p) => p[0]), ms: Float64Array.from(pairs, (p) => p[1]), byPrefix: new Map() };
      byRegion.set(it.region, origin);
    }
    let prefix = -1; // no cap: every region, listed or not
    if (it.maxLatencyMs !== undefined) {
      prefix = 0;
      while (prefix < origin.ms.length && origin.ms[prefix] <= it.maxLatencyMs) prefix++;
    }
    let c = origin.byPrefix.get(prefix);
    const side = it.side === "buy" ? buy : sell;
    if (c === undefined) {
      c = side.length;
      const reach = prefix < 0 ? null : new Set(origin.regs.slice(0, prefix));
      side.push({ c: { resource: it.resource, region: it.region, reach, members: new Int32Array(0) }, list: [] });
      origin.byPrefix.set(prefix, c);
    }
    side[c].list.push(i);
    classOf[i] = c;
  }
  if (!sortMembers) {
    for (const x of [...buy, ...sell]) x.c.members = new Int32Array(x.list);
  } else {
    const price = new Float64Array(n); // a plain loop: TypedArray.from with a map function is slow in V8
    for (let i = 0; i < n; i++) price[i] = intents[i].limitPrice;
    for (const { c, list } of buy) {
      list.sort((a, b) => price[b] - price[a] || a - b);
      c.members = new Int32Array(list);
    }
    for (const { c, list } of sell) {
      list.sort((a, b) => price[a] - price[b] || a - b);
      c.members = new Int32Array(list);
    }
  }
  const eb: number[] = [];
  const es: number[] = [];
  const sellByResource = new Map<string, number[]>();
  sell.forEach(({ c }, x) => {
    let l = sellByResource.get(c.resource);
    if (!l) sellByResource.set(c.resource, (l = []));
    l.push(x);
  });
  const buyAdjL: number[][] = buy.map(() => []);
  const sellAdjL: number[][] = sell.map(() => []);
  buy.forEach(({ c: A }, a) => {
    for (const x of sellByResource.get(A.resource) ?? []) {
      const X = sell[x].c;
      if ((A.reach === null || A.reach.has(X.region)) && (X.reach === null || X.reach.has(A.region))) {
        buyAdjL[a].push(eb.length);
        sellAdjL[x].push(eb.length);
        eb.push(a);
        es.push(x);
      }
    }
  });
  return {
    buy: buy.map((b) => b.c),
    sell: sell.map((s) => s.c),
    classOf,
    edgeBuy: new Int32Array(eb),
    edgeSell: new Int32Array(es),
    buyAdj: buyAdjL.map((l) => new Int32Array(l)),
    sellAdj: sellAdjL.map((l) => new Int32Array(l)),
  };
}
