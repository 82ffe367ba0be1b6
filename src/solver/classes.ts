// Aggregation of intents into classes that see the same counterparties: compatibility depends only on
// (side, resource, region, the set of counterpart regions within the latency cap), so the allocation LP and the
// verifier work on classes and class pairs instead of intent pairs.
import type { Intent, LatencyTable } from "../schema.ts";
import { withinCap } from "./latency.ts";

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
  // (side, resource, region, cap) → class, through nested maps so that no key string is built per intent.
  const lookup = { buy: new Map<string, Map<string, Map<number, number>>>(), sell: new Map<string, Map<string, Map<number, number>>>() };
  const keyToClass = new Map<string, number>();
  const buy: { c: IntentClass; list: number[] }[] = [];
  const sell: { c: IntentClass; list: number[] }[] = [];
  const classOf = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const it = intents[i];
    if (!(it.quantity > 0)) continue;
    let byRegion = lookup[it.side].get(it.resource);
    if (!byRegion) lookup[it.side].set(it.resource, (byRegion = new Map()));
    let byCap = byRegion.get(it.region);
    if (!byCap) byRegion.set(it.region, (byCap = new Map()));
    const capKey = it.maxLatencyMs ?? -1;
    let c = byCap.get(capKey);
    const side = it.side === "buy" ? buy : sell;
    if (c === undefined) {
      let sig = "*";
      let reach: Set<string> | null = null;
      if (it.maxLatencyMs !== undefined) {
        const others = regions.get(it.resource)![it.side === "buy" ? "sell" : "buy"];
        reach = new Set<string>();
        for (const o of others) if (withinCap(latency, it.region, it.maxLatencyMs, o)) reach.add(o);
        sig = [...reach].sort().join("\u0001");
      }
      const key = `${it.side}\n${it.resource}\n${it.region}\n${sig}`;
      c = keyToClass.get(key);
      if (c === undefined) {
        c = side.length;
        keyToClass.set(key, c);
        side.push({ c: { resource: it.resource, region: it.region, reach, members: new Int32Array(0) }, list: [] });
      }
      byCap.set(capKey, c);
    }
    side[c].list.push(i);
    classOf[i] = c;
  }
  if (!sortMembers) {
    for (const x of [...buy, ...sell]) x.c.members = Int32Array.from(x.list);
  } else {
  for (const { c, list } of buy) {
    list.sort((a, b) => intents[b].limitPrice - intents[a].limitPrice || a - b);
    c.members = Int32Array.from(list);
  }
  for (const { c, list } of sell) {
    list.sort((a, b) => intents[a].limitPrice - intents[b].limitPrice || a - b);
    c.members = Int32Array.from(list);
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
    edgeBuy: Int32Array.from(eb),
    edgeSell: Int32Array.from(es),
    buyAdj: buyAdjL.map((l) => Int32Array.from(l)),
    sellAdj: sellAdjL.map((l) => Int32Array.from(l)),
  };
}
