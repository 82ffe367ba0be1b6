// Continuous clearing of windowed books (notes/solver.md, "Time: speed (session 9)"): when a book grew by a few
// windowed arrivals, its components are the earlier book's joined by what the arrivals change, and only the hubs the
// arrivals visit are looked at again. The rule is timeComponents' (components.ts), so the components, and with them
// the whole result, are the ones a cold solve finds.
import type { Intent, LatencyTable } from "../contract/schema.ts";
import { Joined, joinedComponents, legPlaces, legReach } from "./components.ts";
import { legsOn, timeLegs, windowed, type Leg, type Slots } from "./time-slots.ts";

/** Per hub (or per family of windowless legs): the legs of each side there, as intent and worth. */
interface Side {
  intent: number[];
  worth: number[];
  /** The dearest worth (a buyers' side) or the cheapest (sellers'). */
  best: number;
}
const side = (buy: boolean): Side => ({ intent: [], worth: [], best: buy ? -Infinity : Infinity });
const best = (s: Side | undefined, buy: boolean) => (s ? s.best : buy ? -Infinity : Infinity);

/** The earlier book's legs placed on hubs, built when a later solve first needs them. */
interface HubIndex {
  regions: Map<string, number>;
  resources: Map<string, number>;
  names: string[];
  stride: number;
  /** Windowed legs per hub key (slot × stride + family). */
  buyers: Map<number, Side>;
  sellers: Map<number, Side>;
  /** Windowless legs per family (resource, buyer region, seller region). */
  groupBuyers: Map<number, Side>;
  groupSellers: Map<number, Side>;
}

/** What a windowed solve hands to the next: its book (each intent's facts copied), now, its intervals and components. */
export class TimeWarm {
  readonly #facts: Intent[];
  readonly #latency: LatencyTable;
  readonly #now: number | undefined;
  readonly #slots: Slots;
  readonly #comps: Int32Array[];
  #index: HubIndex | undefined;

  /** `earlier`: the warm state this book grew from (its facts are this book's first ones, already compared). */
  constructor(intents: readonly Intent[], latency: LatencyTable, now: number | undefined, slots: Slots, comps: Int32Array[], earlier?: TimeWarm) {
    const kept = earlier ? earlier.#facts.length : 0;
    this.#facts = kept > 0 ? earlier!.#facts.slice() : [];
    for (let i = kept; i < intents.length; i++) this.#facts.push(copyFacts(intents[i]));
    this.#latency = latency;
    this.#now = now;
    this.#slots = slots;
    this.#comps = comps;
  }

  static of(x: unknown): TimeWarm | undefined {
    return typeof x === "object" && x !== null && #facts in x ? (x as TimeWarm) : undefined;
  }

  /**
   * The components of `intents` and its intervals when it is this book (same facts, same order) followed by
   * arrivals whose windows start and end on this book's boundaries, in regions and resources it has, under the same
   * latency table and now; else undefined (a cold solve).
   */
  grown(intents: readonly Intent[], latency: LatencyTable, now: number | undefined): { comps: Int32Array[]; slots: Slots } | undefined {
    const from = this.#facts.length;
    if (latency !== this.#latency || now !== this.#now || intents.length <= from) return undefined;
    for (let i = 0; i < from; i++) if (!sameFacts(intents[i], this.#facts[i])) return undefined;
    const legs = legsOn(intents, from, this.#slots);
    if (!legs) return undefined;
    const index = (this.#index ??= this.#hubIndex());
    const regionOf = (i: number) => index.regions.get(intents[i].region);
    if (legs.some((l) => regionOf(l.intent) === undefined || !index.resources.has(l.resource))) return undefined;
    return { comps: this.#join(intents, legs, index), slots: this.#slots };
  }

  #hubIndex(): HubIndex {
    const intents = this.#facts;
    const { legs } = timeLegs(intents, this.#now);
    const { regionOf: regions, resourceOf: resources, legRegion, legResource, names } = legPlaces(intents, legs);
    const R = names.length;
    const stride = resources.size * R * R;
    const index: HubIndex = { regions, resources, names, stride, buyers: new Map(), sellers: new Map(), groupBuyers: new Map(), groupSellers: new Map() };
    const { reachStart, reachRegion, reachWorth } = legReach(intents, this.#latency, legs, names, legRegion);
    legs.forEach((l, k) => {
      for (let r = reachStart[k]; r < reachStart[k + 1]; r++) {
        const pk = family(index, l.buy, legResource[k], legRegion[k], reachRegion[r]);
        if (!windowed(l)) add(l.buy ? index.groupBuyers : index.groupSellers, l.buy, pk, l.intent, reachWorth[r]);
        else for (let t = l.first; t < l.last; t++) add(l.buy ? index.buyers : index.sellers, l.buy, t * stride + pk, l.intent, reachWorth[r]);
      }
    });
    return index;
  }

  /**
   * The earlier components joined by the arrivals: at each hub an arrival visits (a windowless one: every hub of its
   * family), every leg that meets the other side's best (now with the arrival) joins; in the families of those hubs,
   * windowless legs that meet the family's loosest best join their side's group, and a group joins each visited hub
   * its best member meets. Bests only improve with arrivals, so hubs and families they do not visit join what they
   * joined before.
   */
  #join(intents: readonly Intent[], legs: Leg[], index: HubIndex): Int32Array[] {
    const n = intents.length;
    const { stride } = index;
    const { open, count } = this.#slots;
    const joined = new Joined(n);
    const traded = new Uint8Array(n);
    for (const c of this.#comps)
      for (const i of c) {
        joined.join(c[0], i);
        traded[i] = 1;
      }
    const joinAll = (members: number[]) => {
      for (const i of members) {
        traded[i] = 1;
        joined.join(members[0], i);
      }
    };
    // The arrivals' visits, added to copies of the hubs they touch (the index stays the earlier book's).
    const buyers = new Map<number, Side>();
    const sellers = new Map<number, Side>();
    const copy = (from: Map<number, Side>, to: Map<number, Side>, h: number, buy: boolean) => {
      if (to.has(h)) return;
      const old = from.get(h);
      to.set(h, old ? { intent: [...old.intent], worth: [...old.worth], best: old.best } : side(buy));
    };
    const legRegion = Int32Array.from(legs, (l) => index.regions.get(intents[l.intent].region)!);
    const { reachStart, reachRegion, reachWorth } = legReach(intents, this.#latency, legs, index.names, legRegion);
    const groupBuyers = new Map<number, Side>();
    const groupSellers = new Map<number, Side>();
    const visit = (h: number) => {
      copy(index.buyers, buyers, h, true);
      copy(index.sellers, sellers, h, false);
    };
    legs.forEach((l, k) => {
      for (let r = reachStart[k]; r < reachStart[k + 1]; r++) {
        const pk = family(index, l.buy, index.resources.get(l.resource)!, index.regions.get(intents[l.intent].region)!, reachRegion[r]);
        if (!windowed(l)) {
          // A windowless arrival joins its family's group, whose best counts in every hub of the family.
          copy(index.groupBuyers, groupBuyers, pk, true);
          copy(index.groupSellers, groupSellers, pk, false);
          add(l.buy ? groupBuyers : groupSellers, l.buy, pk, l.intent, reachWorth[r]);
          for (let t = open; t <= count; t++) visit(t * stride + pk);
          continue;
        }
        for (let t = l.first; t < l.last; t++) {
          visit(t * stride + pk);
          add(l.buy ? buyers : sellers, l.buy, t * stride + pk, l.intent, reachWorth[r]);
        }
      }
    });
    const groupOf = (pk: number, buy: boolean) => (buy ? groupBuyers : groupSellers).get(pk) ?? (buy ? index.groupBuyers : index.groupSellers).get(pk);
    const groupBest = (pk: number, buy: boolean) => best(groupOf(pk, buy), buy);
    const grouped = (pk: number) => groupOf(pk, true) !== undefined || groupOf(pk, false) !== undefined;
    // A hub's dearest buyer and cheapest seller: its windowed legs (with the arrivals) and, in slots from now, its
    // family's windowless ones.
    const bestAt = (h: number, buy: boolean) => {
      const s = (buy ? buyers : sellers).get(h) ?? (buy ? index.buyers : index.sellers).get(h);
      const t = Math.floor(h / stride);
      const g = t >= open && grouped(h % stride) ? groupBest(h % stride, buy) : buy ? -Infinity : Infinity;
      return buy ? Math.max(best(s, true), g) : Math.min(best(s, false), g);
    };
    // Families of visited hubs: windowless legs that meet the loosest best over the family's hubs join their group.
    const groups = new Map<number, number[]>(); // 2 × family + (0 buyers, 1 sellers) → the group's members
    for (const h of buyers.keys()) {
      const pk = h % stride;
      if (!grouped(pk) || groups.has(2 * pk)) continue;
      let least = Infinity;
      let most = -Infinity;
      for (let t = open; t <= count; t++) {
        least = Math.min(least, bestAt(t * stride + pk, false));
        most = Math.max(most, bestAt(t * stride + pk, true));
      }
      const members = (s: Side | undefined, meets: (w: number) => boolean) => (s ? s.intent.filter((_, j) => meets(s.worth[j])) : []);
      groups.set(2 * pk, members(groupOf(pk, true), (w) => w >= least));
      groups.set(2 * pk + 1, members(groupOf(pk, false), (w) => w <= most));
      for (const g of [groups.get(2 * pk)!, groups.get(2 * pk + 1)!]) if (g.length > 0) joinAll(g);
    }
    // Each visited hub: its legs that meet the other side's best, and the groups whose best member meets it.
    for (const h of buyers.keys()) {
      const dearest = bestAt(h, true);
      const cheapest = bestAt(h, false);
      const b = buyers.get(h)!;
      const s = sellers.get(h)!;
      const at = b.intent.filter((_, j) => b.worth[j] >= cheapest);
      for (let j = 0; j < s.intent.length; j++) if (s.worth[j] <= dearest) at.push(s.intent[j]);
      const pk = h % stride;
      if (Math.floor(h / stride) >= open && grouped(pk)) {
        const gb = groups.get(2 * pk)!;
        const gs = groups.get(2 * pk + 1)!;
        if (gb.length > 0 && groupBest(pk, true) >= cheapest) at.push(gb[0]);
        if (gs.length > 0 && groupBest(pk, false) <= dearest) at.push(gs[0]);
      }
      if (at.length > 0) joinAll(at);
    }
    return joinedComponents(traded, joined);
  }
}

/** A hub family: (resource, buyer region, seller region), from a leg's side, its resource, region and the other's. */
function family(index: HubIndex, buy: boolean, res: number, own: number, other: number): number {
  const R = index.names.length;
  return buy ? (res * R + own) * R + other : (res * R + other) * R + own;
}

function add(m: Map<number, Side>, buy: boolean, key: number, intent: number, worth: number): void {
  let s = m.get(key);
  if (!s) m.set(key, (s = side(buy)));
  s.intent.push(intent);
  s.worth.push(worth);
  s.best = buy ? Math.max(s.best, worth) : Math.min(s.best, worth);
}

/** An intent's facts as they are now (a caller may change an intent object between solves). */
function copyFacts(it: Intent): Intent {
  const out = { ...it };
  if (it.window) out.window = { ...it.window };
  if (it.swapFor) out.swapFor = { ...it.swapFor, ...(it.swapFor.window ? { window: { ...it.swapFor.window } } : {}) };
  return out;
}

/** Equal facts: the same fields with equal values, one level of objects deep (window, swapFor and its window). */
function sameFacts(a: object, b: object, depth = 0): boolean {
  let keys = 0;
  for (const k in a) {
    keys++;
    const x = (a as Record<string, unknown>)[k];
    const y = (b as Record<string, unknown>)[k];
    if (x === y) continue;
    if (depth >= 2 || typeof x !== "object" || typeof y !== "object" || x === null || y === null || !sameFacts(x, y, depth + 1)) return false;
  }
  for (const _ in b) keys--;
  return keys === 0;
}
