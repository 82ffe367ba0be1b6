// Aggregation of intents into classes that see the same counterparties: compatibility depends only on
// (side, resource, region, the set of counterpart regions within the latency cap), so the allocation LP and the
// verifier work on classes and class pairs instead of intent pairs. A catalog of classes can be carried from one
// solve to the next (continuous clearing): `updateClasses` reuses it for a book that changed a little.
import type { Intent, LatencyTable } from "../contract/schema.ts";
import { Arena } from "./arena.ts";
import { latencyBetween } from "./latency.ts";
import { priorityWeight } from "./simplex.ts";

export interface IntentClass {
  resource: string;
  region: string;
  /** Counterpart regions this class admits; null when it has no latency cap (then it admits every region). */
  reach: Set<string> | null;
  /**
   * Set for the intents of an agent with intents on both sides of this resource: they get classes of their own,
   * and a class never meets one of the same agent (no self-trade, CONTRACT section 2).
   */
  agent?: string;
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

type Side = "buy" | "sell";
/** (side, resource, region) → its counterpart regions by latency; a cap admits a prefix of them. */
interface Origin {
  regs: string[];
  ms: Float64Array;
  /** Prefix length (−1: no cap) → class index on this side. */
  byPrefix: Map<number, number>;
  /** The same for two-sided agents' intents: `prefix agent` → class index (their classes are their own). */
  byAgent: Map<string, number>;
}
type Lookup = Record<Side, Map<string, Map<string, Origin>>>;
type Regions = Map<string, Record<Side, Set<string>>>;

/**
 * Classes with what it takes to place more intents into them later. Valid for any book whose (resource, side,
 * region) triples are among `regions` (counterpart lists computed on a superset of the regions present stay
 * correct) under the same latency table. Never mutated once built.
 */
export interface ClassCatalog {
  latency: LatencyTable;
  intents: readonly Intent[];
  idx: ClassIndex;
  regions: Regions;
  lookup: Lookup;
  /** Agents with intents on both sides of a resource: agent → those resources. */
  twoSided: TwoSided;
}

/** Agent → the resources it has intents on both sides of (the classes keep such an agent's intents apart). */
export type TwoSided = Map<string, Set<string>>;

const FINGERPRINTS = 1 << 16;
/** A cheap hash of an agent: its length and last four characters (keys and numbered names differ there). */
function fingerprint(agent: string, mask: number): number {
  let h = agent.length;
  for (let k = Math.max(0, agent.length - 4); k < agent.length; k++) h = (Math.imul(h, 31) + agent.charCodeAt(k)) | 0;
  return (h ^ (h >>> 16)) & mask;
}

/**
 * `among`: only these agents can be two-sided here (a part of a book whose own scan found them), so a part of a
 * book without such agents costs nothing.
 */
export function twoSidedAgents(intents: readonly Intent[], among?: TwoSided): TwoSided {
  const out: TwoSided = new Map();
  if (among?.size === 0) return out;
  // Candidates: agents that buy and sell. A Set of every agent costs ~100 ns an intent (most agents are new), so
  // fingerprints first: sellers whose fingerprint some buyer has, then buyers whose fingerprint such a seller has;
  // only those go into Sets. The candidates are then looked at per resource.
  // Tables of about 8 flags an intent (up to 2^16): two 64 KB tables zeroed per call were 5% of a 100-intent solve.
  let size = 64;
  while (size < FINGERPRINTS && size < 8 * intents.length) size *= 2;
  const mask = size - 1;
  const n = intents.length;
  const fp = new Int32Array(n); // per intent its fingerprint, −1 if it cannot be two-sided here; ≥ 0 buyers, < −1 sellers
  const buyPrints = new Uint8Array(size);
  let sellersOpen = false;
  for (let i = 0; i < n; i++) {
    const it = intents[i];
    if (!(it.quantity > 0) || (among && !among.has(it.agent))) {
      fp[i] = -1;
      continue;
    }
    const f = fingerprint(it.agent, mask);
    if (it.side === "buy") {
      fp[i] = f;
      buyPrints[f] = 1;
    } else {
      fp[i] = -2 - f;
      sellersOpen = true;
    }
  }
  const sellers = new Set<string>();
  const sellPrints = new Uint8Array(size);
  if (sellersOpen)
    for (let i = 0; i < n; i++) {
      const f = -2 - fp[i];
      if (f >= 0 && buyPrints[f]) {
        sellers.add(intents[i].agent);
        sellPrints[f] = 1;
      }
    }
  let again: Set<string> | undefined;
  if (sellers.size > 0)
    for (let i = 0; i < n; i++) if (fp[i] >= 0 && sellPrints[fp[i]] && sellers.has(intents[i].agent)) (again ??= new Set()).add(intents[i].agent);
  if (!again) return out;
  const sides = new Map<string, Map<string, number>>();
  for (const it of intents) {
    if (!(it.quantity > 0) || !again.has(it.agent)) continue;
    let m = sides.get(it.agent);
    if (!m) sides.set(it.agent, (m = new Map()));
    m.set(it.resource, (m.get(it.resource) ?? 0) | (it.side === "buy" ? 1 : 2));
  }
  for (const [agent, m] of sides) for (const [res, mask] of m) if (mask === 3) out.set(agent, (out.get(agent) ?? new Set()).add(res));
  return out;
}

/** The agent an intent's class is kept apart by, if its agent trades both sides of its resource. */
const ownerOf = (it: Intent, twoSided: TwoSided) => (twoSided.size > 0 && twoSided.get(it.agent)?.has(it.resource) ? it.agent : undefined);

/** Builds the classes and their compatible pairs in O(intents × regions + class pairs). */
/** `sortMembers` false leaves members in input order (the verifier needs no price order). */
export function buildClasses(intents: readonly Intent[], latency: LatencyTable, sortMembers = true): ClassIndex {
  return catalogClasses(intents, latency, sortMembers).idx;
}

/**
 * `widen`: every region of the latency table counts as present on both sides of every resource, so that later
 * arrivals there can be placed by `updateClasses` (caps that differ only on absent regions then split a class).
 * `twoSidedAmong`: the two-sided agents of a book these intents are part of (see `twoSidedAgents`).
 */
export function catalogClasses(intents: readonly Intent[], latency: LatencyTable, sortMembers = true, widen = false, twoSidedAmong?: TwoSided): ClassCatalog {
  const n = intents.length;
  const regions: Regions = new Map();
  for (const it of intents) {
    let r = regions.get(it.resource);
    if (!r) regions.set(it.resource, (r = { buy: new Set(), sell: new Set() }));
    r[it.side].add(it.region);
  }
  if (widen) {
    const all = new Set<string>();
    for (const [a, row] of Object.entries(latency)) {
      all.add(a);
      for (const b of Object.keys(row)) all.add(b);
    }
    for (const r of regions.values()) {
      for (const g of all) {
        r.buy.add(g);
        r.sell.add(g);
      }
    }
  }
  const lookup: Lookup = { buy: new Map(), sell: new Map() };
  const twoSided = twoSidedAgents(intents, twoSidedAmong);
  const buy: { c: IntentClass; list: number[] }[] = [];
  const sell: { c: IntentClass; list: number[] }[] = [];
  const classOf = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const it = intents[i];
    if (!(it.quantity > 0)) continue;
    const side = it.side === "buy" ? buy : sell;
    const c = classFor(it, latency, regions, lookup, twoSided, (origin, prefix, agent) => {
      side.push({ c: newClass(it, origin, prefix, agent), list: [] });
      return side.length - 1;
    });
    side[c].list.push(i);
    classOf[i] = c;
  }
  if (!sortMembers) {
    for (const x of [...buy, ...sell]) x.c.members = new Int32Array(x.list);
  } else {
    const price = new Float64Array(n); // a plain loop: TypedArray.from with a map function is slow in V8
    for (let i = 0; i < n; i++) price[i] = intents[i].limitPrice;
    const after = (a: number, b: number) => tieOrder(intents, a, b);
    for (const { c, list } of buy) {
      list.sort((a, b) => price[b] - price[a] || after(a, b));
      c.members = new Int32Array(list);
    }
    for (const { c, list } of sell) {
      list.sort((a, b) => price[a] - price[b] || after(a, b));
      c.members = new Int32Array(list);
    }
  }
  const idx = pairClasses(
    buy.map((b) => b.c),
    sell.map((s) => s.c),
    classOf,
  );
  return { latency, intents, idx, regions, lookup, twoSided };
}

/** The index of these classes: their compatible pairs, buyer classes in order, each with sellers in order. */
function pairClasses(buyClasses: IntentClass[], sellClasses: IntentClass[], classOf: Int32Array): ClassIndex {
  const eb: number[] = [];
  const es: number[] = [];
  const sellByResource = new Map<string, number[]>();
  sellClasses.forEach((c, x) => {
    let l = sellByResource.get(c.resource);
    if (!l) sellByResource.set(c.resource, (l = []));
    l.push(x);
  });
  buyClasses.forEach((A, a) => {
    for (const x of sellByResource.get(A.resource) ?? []) {
      if (!meets(A, sellClasses[x])) continue;
      eb.push(a);
      es.push(x);
    }
  });
  return indexOf(buyClasses, sellClasses, classOf, eb, es);
}

/** A class index from its pairs (`eb`, `es`: listed by buyer class, then seller class). */
function indexOf(buyClasses: IntentClass[], sellClasses: IntentClass[], classOf: Int32Array, eb: number[], es: number[]): ClassIndex {
  // Adjacency lists as views of two arrays (one allocation each instead of one per class), all in one arena.
  const edges = eb.length;
  const arena = new Arena(0, 4 * edges + 2 * sellClasses.length + 1);
  const edgeBuy = arena.i32(edges);
  const edgeSell = arena.i32(edges);
  const ids = arena.i32(edges);
  for (let e = 0; e < edges; e++) {
    edgeBuy[e] = eb[e];
    edgeSell[e] = es[e];
    ids[e] = e;
  }
  const bySell = arena.i32(edges);
  const sellStart = arena.i32(sellClasses.length + 1);
  for (let e = 0; e < edges; e++) sellStart[es[e] + 1]++;
  for (let x = 0; x < sellClasses.length; x++) sellStart[x + 1] += sellStart[x];
  const next = arena.i32(sellClasses.length);
  next.set(sellStart.subarray(0, sellClasses.length));
  for (let e = 0; e < edges; e++) bySell[next[es[e]]++] = e;
  const buyAdj: Int32Array[] = [];
  let e = 0;
  for (let a = 0; a < buyClasses.length; a++) {
    const start = e;
    while (e < edges && eb[e] === a) e++;
    buyAdj.push(ids.subarray(start, e));
  }
  return {
    buy: buyClasses,
    sell: sellClasses,
    classOf,
    edgeBuy,
    edgeSell,
    buyAdj,
    sellAdj: sellClasses.map((_, x) => bySell.subarray(sellStart[x], sellStart[x + 1])),
  };
}

/**
 * The classes `catalogClasses(part, latency)` would build for `part` (the intents `at` of a cold, sorted catalog's
 * book, in book order, each with a positive quantity), taken from the catalog instead of built: its classes restricted
 * to the part, empty ones dropped, numbered by first member as a build numbers them. Null when that would not be the
 * same (then build): when the part lacks a (resource, side, region) the book has on its resources (a cap could then
 * admit a different set of present regions), when an agent is two-sided in the book but not in the part, or when the
 * classes it touches are mostly other intents (filtering them would cost more than a build).
 */
export function restrictClasses(catalog: ClassCatalog, part: readonly Intent[], at: Int32Array): ClassIndex | null {
  const whole = catalog.idx;
  const twoSided = twoSidedAgents(part, catalog.twoSided);
  const local = new Int32Array(catalog.intents.length).fill(-1);
  at.forEach((i, k) => (local[i] = k));
  const classOf = new Int32Array(part.length);
  const pickedBuy: number[] = new Array(whole.buy.length).fill(-1); // book class → part class
  const pickedSell: number[] = new Array(whole.sell.length).fill(-1);
  const order: Record<Side, number[]> = { buy: [], sell: [] }; // part class → book class
  const checkOwners = twoSided.size + catalog.twoSided.size > 0;
  let size = 0;
  for (let k = 0; k < part.length; k++) {
    const it = part[k];
    if (checkOwners && ownerOf(it, catalog.twoSided) !== ownerOf(it, twoSided)) return null;
    const c = whole.classOf[at[k]];
    const buy = it.side === "buy";
    const picked = buy ? pickedBuy : pickedSell;
    if (picked[c] < 0) {
      const classes = buy ? order.buy : order.sell;
      picked[c] = classes.length;
      classes.push(c);
      size += (buy ? whole.buy : whole.sell)[c].members.length;
      if (size > 2 * part.length + 64) return null;
    }
    classOf[k] = picked[c];
  }
  if (!sameRegions(catalog.regions, order.buy.map((c) => whole.buy[c]), order.sell.map((c) => whole.sell[c]))) return null;
  const restrict = (c: IntentClass): IntentClass => {
    const all = c.members;
    let count = 0;
    for (let k = 0; k < all.length; k++) if (local[all[k]] >= 0) count++;
    const members = new Int32Array(count);
    count = 0;
    for (let k = 0; k < all.length; k++) if (local[all[k]] >= 0) members[count++] = local[all[k]];
    return withMembers(c, members);
  };
  // The book's pairs among these classes (compatibility is a property of two classes), in this numbering's order.
  const eb: number[] = [];
  const es: number[] = [];
  const sellers: number[] = [];
  const ascending = order.sell.every((c, x) => x === 0 || c > order.sell[x - 1]); // the book's pair order is this one's
  order.buy.forEach((c, a) => {
    sellers.length = 0;
    const adj = whole.buyAdj[c];
    for (let k = 0; k < adj.length; k++) if (pickedSell[whole.edgeSell[adj[k]]] >= 0) sellers.push(pickedSell[whole.edgeSell[adj[k]]]);
    if (!ascending) sellers.sort((x, y) => x - y);
    for (const x of sellers) {
      eb.push(a);
      es.push(x);
    }
  });
  return indexOf(order.buy.map((c) => restrict(whole.buy[c])), order.sell.map((c) => restrict(whole.sell[c])), classOf, eb, es);
}

/** Whether the classes (those of a part of a book) have every (side, region) `regions` lists for their resources. */
function sameRegions(regions: Regions, buy: IntentClass[], sell: IntentClass[]): boolean {
  const own: Regions = new Map();
  for (const [side, classes] of [["buy", buy], ["sell", sell]] as const) {
    for (const c of classes) {
      let r = own.get(c.resource);
      if (!r) own.set(c.resource, (r = { buy: new Set(), sell: new Set() }));
      r[side].add(c.region);
    }
  }
  for (const [resource, r] of own) {
    const all = regions.get(resource)!;
    if (r.buy.size !== all.buy.size || r.sell.size !== all.sell.size) return false;
  }
  return true;
}

/**
 * The same classes with the intents `group` gives a key (≥ 0) split off into classes of their own, one per class and
 * key (copies of their class, so they meet the same counterparts). Soft latency moves an intent's limits by the
 * counterpart's region (CONTRACT.md section 1), so only intents with the same penalty against every region can keep
 * one price order across class pairs: the caller keys them by that. Members keep their order; empty classes go.
 */
export function splitClasses(idx: ClassIndex, group: (i: number) => number): ClassIndex {
  const classOf = new Int32Array(idx.classOf.length).fill(-1);
  const split = (classes: IntentClass[]): IntentClass[] => {
    const out: IntentClass[] = [];
    for (const c of classes) {
      const parts = new Map<number, number[]>(); // key (−1: the class's own members) → members in order
      for (const i of c.members) {
        const key = group(i);
        const list = parts.get(key);
        if (list) list.push(i);
        else parts.set(key, [i]);
      }
      for (const members of parts.values()) {
        for (const i of members) classOf[i] = out.length;
        out.push(withMembers(c, Int32Array.from(members)));
      }
    }
    return out;
  };
  return pairClasses(split(idx.buy), split(idx.sell), classOf);
}

/** Each class's cap admits the other's region, and they are not one agent's. */
function meets(A: IntentClass, X: IntentClass): boolean {
  return (
    (A.reach === null || A.reach.has(X.region)) && (X.reach === null || X.reach.has(A.region)) && (A.agent === undefined || A.agent !== X.agent)
  );
}

/** A new class's members until they are set (never written to: it has no elements). */
const NO_MEMBERS = new Int32Array(0);

function newClass(it: Intent, origin: Origin, prefix: number, agent: string | undefined): IntentClass {
  const reach = prefix < 0 ? null : new Set(origin.regs.slice(0, prefix));
  const c: IntentClass = { resource: it.resource, region: it.region, reach, members: NO_MEMBERS };
  if (agent !== undefined) c.agent = agent;
  return c;
}

/** The same class with other members, built as newClass builds one (objects of one shape keep property reads fast). */
function withMembers(c: IntentClass, members: Int32Array): IntentClass {
  const out: IntentClass = { resource: c.resource, region: c.region, reach: c.reach, members };
  if (c.agent !== undefined) out.agent = c.agent;
  return out;
}

/** The class of a prefix (and of an agent kept apart) within an origin, if it exists. */
function classAt(origin: Origin, prefix: number, agent: string | undefined): number | undefined {
  return agent === undefined ? origin.byPrefix.get(prefix) : origin.byAgent.get(`${prefix} ${agent}`);
}

/** How many of the origin's counterpart regions (nearest first) the intent's cap admits; −1: no cap, every region. */
function prefixOf(it: Intent, origin: Origin): number {
  if (it.maxLatencyMs === undefined) return -1;
  let prefix = 0;
  while (prefix < origin.ms.length && origin.ms[prefix] <= it.maxLatencyMs) prefix++;
  return prefix;
}

/** The class of an intent (its side's index), creating its origin in `lookup` and its class through `create`. */
function classFor(
  it: Intent,
  latency: LatencyTable,
  regions: Regions,
  lookup: Lookup,
  twoSided: TwoSided,
  create: (origin: Origin, prefix: number, agent: string | undefined) => number,
): number {
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
    const ms = new Float64Array(pairs.length); // a plain loop: TypedArray.from with a map function is slow in V8
    for (let k = 0; k < pairs.length; k++) ms[k] = pairs[k][1];
    origin = { regs: pairs.map((p) => p[0]), ms, byPrefix: new Map(), byAgent: new Map() };
    byRegion.set(it.region, origin);
  }
  const prefix = prefixOf(it, origin);
  const agent = ownerOf(it, twoSided);
  let c = classAt(origin, prefix, agent);
  if (c === undefined) {
    c = create(origin, prefix, agent);
    if (agent === undefined) origin.byPrefix.set(prefix, c);
    else origin.byAgent.set(`${prefix} ${agent}`, c);
  }
  return c;
}

/** Members of one limit price fill higher priority first (CONTRACT.md section 3: among allocations of equal
 *  welfare, the one that fills higher-priority intents more), then in book order. Never a price effect. */
function tieOrder(intents: readonly Intent[], a: number, b: number): number {
  return priorityWeight(intents[a]) - priorityWeight(intents[b]) || a - b;
}

/** An intent keeps its class (and its place in the price order) when these are unchanged; quantity may change. */
function sameClassFacts(a: Intent, b: Intent): boolean {
  return (
    a.side === b.side &&
    a.agent === b.agent &&
    a.resource === b.resource &&
    a.region === b.region &&
    a.maxLatencyMs === b.maxLatencyMs &&
    a.limitPrice === b.limitPrice &&
    a.priority === b.priority
  );
}

/**
 * The catalog for `intents` from an earlier one, without re-sorting: intents found in `prev` by id with the same
 * class facts keep their class; the others are placed by the lookup and merged into their class's price order.
 * Returns null (build cold) when the latency table is another object, or an intent brings a (resource, side,
 * region) the catalog has not seen (counterpart classes would then need that region in their reach).
 * The result equals a cold catalog up to the numbering of classes (and may keep classes that are now empty).
 */
export function updateClasses(intents: readonly Intent[], latency: LatencyTable, prev: ClassCatalog): ClassCatalog | null {
  if (latency !== prev.latency) return null;
  // An intent whose agent now trades both sides of its resource (or no longer does) is placed afresh below.
  const twoSided = twoSidedAgents(intents);
  const n = intents.length;
  const old = prev.intents;
  const oldIdx = prev.idx;
  const newOf = new Int32Array(old.length).fill(-1); // previous index → index in `intents`, when it keeps its class
  const classOf = new Int32Array(n).fill(-1);
  const added: number[] = [];
  // Matching by position, following the offset of the last match (an appended, shortened or lightly edited book
  // needs no id map); after a few misses, by an id map. An intent left unmatched is placed afresh: always correct.
  let byId: Map<string, number> | undefined;
  let off = 0;
  let misses = 0;
  for (let i = 0; i < n; i++) {
    const it = intents[i];
    if (!(it.quantity > 0)) continue;
    let p = i + off;
    if (!(p >= 0 && p < old.length && old[p].id === it.id)) {
      p = -1;
      if (byId) p = byId.get(it.id) ?? -1;
      else {
        for (let q = Math.max(0, i + off - 4); q < Math.min(old.length, i + off + 9); q++) {
          if (old[q].id === it.id) {
            p = q;
            break;
          }
        }
        if (p < 0 && ++misses > 16) {
          byId = new Map();
          for (let k = old.length - 1; k >= 0; k--) byId.set(old[k].id, k);
          p = byId.get(it.id) ?? -1;
        }
      }
      if (p >= 0) off = p - i;
    }
    const keeps = p >= 0 && sameClassFacts(old[p], it) && ownerOf(old[p], prev.twoSided) === ownerOf(it, twoSided);
    if (keeps && newOf[p] < 0 && oldIdx.classOf[p] >= 0) {
      newOf[p] = i;
      classOf[i] = oldIdx.classOf[p];
    } else added.push(i);
  }
  if (added.length > Math.max(64, n >> 2)) return null; // mostly another book: a cold build is as fast and tidier

  // Place the newcomers. New origins or classes go into copies of the lookup (the previous catalog stays valid).
  let lookup = prev.lookup;
  let copied = false;
  const buy = oldIdx.buy.slice();
  const sell = oldIdx.sell.slice();
  const firstNewBuy = buy.length;
  const firstNewSell = sell.length;
  for (const i of added) {
    const it = intents[i];
    if (!prev.regions.get(it.resource)?.[it.side].has(it.region)) return null;
    const origin = lookup[it.side].get(it.resource)?.get(it.region);
    const known = origin && classAt(origin, prefixOf(it, origin), ownerOf(it, twoSided));
    if (known !== undefined) {
      classOf[i] = known;
      continue;
    }
    if (!copied) {
      lookup = copyLookup(lookup);
      copied = true;
    }
    const side = it.side === "buy" ? buy : sell;
    classOf[i] = classFor(it, latency, prev.regions, lookup, twoSided, (o, prefix, agent) => {
      side.push(newClass(it, o, prefix, agent));
      return side.length - 1;
    });
  }

  // Members: the kept ones in their previous order (renumbered), merged with the newcomers by price.
  const price = (i: number) => intents[i].limitPrice;
  const addedBy = { buy: new Map<number, number[]>(), sell: new Map<number, number[]>() };
  for (const i of added) {
    const m = addedBy[intents[i].side];
    const c = classOf[i];
    const l = m.get(c);
    if (l) l.push(i);
    else m.set(c, [i]);
  }
  const renumber = (classes: IntentClass[], side: Side) => {
    const first = (a: number, b: number) => tieOrder(intents, a, b) < 0;
    const better = side === "buy" ? (a: number, b: number) => price(a) > price(b) || (price(a) === price(b) && first(a, b))
      : (a: number, b: number) => price(a) < price(b) || (price(a) === price(b) && first(a, b));
    for (let c = 0; c < classes.length; c++) {
      const cls = classes[c];
      const extra = addedBy[side].get(c);
      const was = cls.members;
      let kept = 0;
      let same = extra === undefined;
      for (let k = 0; k < was.length; k++) {
        const j = newOf[was[k]];
        if (j >= 0) kept++;
        if (j !== was[k]) same = false;
      }
      if (same) continue; // every member stays at its index: share the array
      const members = new Int32Array(kept + (extra?.length ?? 0));
      if (extra) extra.sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
      let e = 0;
      let w = 0;
      for (let k = 0; k < was.length; k++) {
        const j = newOf[was[k]];
        if (j < 0) continue;
        while (extra && e < extra.length && better(extra[e], j)) members[w++] = extra[e++];
        members[w++] = j;
      }
      while (extra && e < extra.length) members[w++] = extra[e++];
      classes[c] = withMembers(cls, members);
    }
  };
  renumber(buy, "buy");
  renumber(sell, "sell");

  let { edgeBuy, edgeSell, buyAdj, sellAdj } = oldIdx;
  if (buy.length > firstNewBuy || sell.length > firstNewSell) {
    const eb = Array.from(edgeBuy);
    const es = Array.from(edgeSell);
    const bAdj = buyAdj.map((l) => Array.from(l));
    const sAdj = sellAdj.map((l) => Array.from(l));
    for (let a = bAdj.length; a < buy.length; a++) bAdj.push([]);
    for (let x = sAdj.length; x < sell.length; x++) sAdj.push([]);
    const link = (a: number, x: number) => {
      if (buy[a].resource !== sell[x].resource || !meets(buy[a], sell[x])) return;
      bAdj[a].push(eb.length);
      sAdj[x].push(eb.length);
      eb.push(a);
      es.push(x);
    };
    for (let a = firstNewBuy; a < buy.length; a++) for (let x = 0; x < sell.length; x++) link(a, x);
    for (let x = firstNewSell; x < sell.length; x++) for (let a = 0; a < firstNewBuy; a++) link(a, x);
    edgeBuy = new Int32Array(eb);
    edgeSell = new Int32Array(es);
    buyAdj = bAdj.map((l) => new Int32Array(l));
    sellAdj = sAdj.map((l) => new Int32Array(l));
  }
  const idx: ClassIndex = { buy, sell, classOf, edgeBuy, edgeSell, buyAdj, sellAdj };
  return { latency, intents, idx, regions: prev.regions, lookup, twoSided };
}

function copyLookup(l: Lookup): Lookup {
  const copySide = (m: Map<string, Map<string, Origin>>) =>
    new Map([...m].map(([res, byRegion]) => [res, new Map([...byRegion].map(([reg, o]) => [reg, { ...o, byPrefix: new Map(o.byPrefix), byAgent: new Map(o.byAgent) }]))]));
  return { buy: copySide(l.buy), sell: copySide(l.sell) };
}
