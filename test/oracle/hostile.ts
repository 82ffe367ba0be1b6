// Hostile books and hostile proposals (issue 14), and the properties every clearing must keep, as pure TS that
// Node tests, workerd tests and scripts/adversarial.ts share. Judgement comes from the oracle (checker.ts,
// support/compat.ts), never from src/solver; the solver is only used to craft proposals and as the thing under test.
import fc from "fast-check";
import type { Fill, Intent, LatencyTable } from "../../src/contract/schema.ts";
import { NASH_RULES, checkSettlement, type Violation } from "./checker.ts";
import { incompatibility } from "../../support/compat.ts";
import * as solver from "../../src/solver/index.ts";
import { fillsWelfare, proposalErrors } from "../../src/market/proposals.ts";
import type { IntentRecord } from "../../src/market/book.ts";

/** The properties of issue 14; a fault names the one it breaks. */
export type Property =
  | "feasible"
  | "individual-rationality"
  | "minimums"
  | "no-self-trade"
  | "nash"
  | "optimal"
  | "independence"
  | "no-crossed-pair"
  | "proposal-below-own";

export interface Fault {
  property: Property;
  message: string;
  /** Which clearing: the book solved whole, S alone against S ∪ T, or a batch's close with hostile proposals. */
  scope?: "solve" | "independence" | "batch";
}

/** The contract's bounds (CONTRACT.md v1.1). */
export const MAX_QUANTITY = 1e12;
export const MAX_PRICE = 1e9;

/** Every tolerance is relative to the intent a check concerns: 1e-9 × max(1, |its own number|). */
export const tol = (x: number) => 1e-9 * Math.max(1, Math.abs(x));

// ---- hostile books ----

/** Labels that are object properties in JavaScript: a lookup that is not prototype-free finds them. */
export const ODD_NAMES = ["constructor", "length", "toString"] as const;
/** Resources and regions of the set S; T's "other resources" are disjoint from these. */
const S_RESOURCES = ["gpu", "constructor"];
const T_RESOURCES = ["length", "toString"];
const REGIONS = ["eu", "constructor", "length", "toString"];
/** A region no latency table lists: capped intents there reach no one outside it. */
export const ISLAND = "island";
const AGENTS = ["a0", "a1", "a2", "a3"];

/** Quantities across the allowed range: the extremes, log-uniform in between, and plain small integers. */
export const hostileQuantity = fc.oneof(
  fc.constantFrom(1e-6, 1, 100, 1e12),
  fc.double({ min: -6, max: 12, noNaN: true }).map((e) => Number((10 ** e).toPrecision(6))),
  fc.integer({ min: 1, max: 1000 }),
);

/** Prices across the allowed range: 0, the maximum, log-uniform, and cents near each other (ties, thin gains). */
export const hostilePrice = fc.oneof(
  fc.constantFrom(0, 1, 1.5, MAX_PRICE),
  fc.double({ min: -6, max: 9, noNaN: true }).map((e) => Number((10 ** e).toPrecision(6))),
  fc.integer({ min: 0, max: 400 }).map((c) => c / 100),
);

interface IntentShape {
  agent: string;
  side: "buy" | "sell";
  resource: string;
  region: string;
  quantity: number;
  limitPrice: number;
  min: "none" | "all-or-none" | "part";
  minShare: number;
  maxLatencyMs?: number;
}

/** T's sizes and prices lean to the extremes: the intents most likely to bend S's clearing if anything can. */
const extremeQuantity = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(MAX_QUANTITY, 1e-6) }, { weight: 1, arbitrary: hostileQuantity });
const extremePrice = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(MAX_PRICE, 0) }, { weight: 1, arbitrary: hostilePrice });

const intentShape = (resources: readonly string[], regions: readonly string[], quantity = hostileQuantity, price = hostilePrice) =>
  fc.record(
    {
      agent: fc.constantFrom(...AGENTS),
      side: fc.constantFrom("buy" as const, "sell" as const),
      resource: fc.constantFrom(...resources),
      region: fc.constantFrom(...regions),
      quantity,
      limitPrice: price,
      min: fc.constantFrom("none" as const, "none" as const, "all-or-none" as const, "part" as const),
      minShare: fc.double({ min: 0.01, max: 1, noNaN: true }),
      maxLatencyMs: fc.constantFrom(0, 1, 10, 100),
    },
    { requiredKeys: ["agent", "side", "resource", "region", "quantity", "limitPrice", "min", "minShare"] },
  );

function toIntent(shape: IntentShape, id: string): Intent {
  const { min, minShare, maxLatencyMs, ...fields } = shape;
  const intent: Intent = { id, ...fields };
  if (min === "all-or-none") intent.minQuantity = shape.quantity;
  if (min === "part") intent.minQuantity = Math.max(1e-6, Number((shape.quantity * minShare).toPrecision(6)));
  if (maxLatencyMs !== undefined) intent.maxLatencyMs = maxLatencyMs;
  return intent;
}

/** A latency table over REGIONS (never ISLAND): some pairs listed one way, some not at all. */
export const hostileLatency: fc.Arbitrary<LatencyTable> = fc
  .array(fc.tuple(fc.constantFrom(...REGIONS), fc.constantFrom(...REGIONS), fc.constantFrom(0, 1, 5, 50)), { maxLength: 6 })
  .map((entries) => {
    const table: LatencyTable = {};
    for (const [a, b, ms] of entries) {
      // Symmetric (section 3): a pair listed both ways with two values is a malformed table, not a hostile one.
      if (Object.hasOwn(table, b) && Object.hasOwn(table[b], a)) continue;
      if (!Object.hasOwn(table, a)) table[a] = {};
      table[a][b] = ms;
    }
    return table;
  });

/** A hostile book: 2–7 intents over odd names, extreme sizes, all-or-none, one agent on both sides. */
export const hostileBook = fc
  .tuple(fc.array(intentShape(S_RESOURCES, REGIONS), { minLength: 2, maxLength: 7 }), hostileLatency)
  .map(([shapes, latency]) => ({ intents: shapes.map((s, k) => toIntent(s, `s${k}`)), latency }));

/** A swap: gives one resource of S for the other (a two-swap ring of one agent is a self-trade). */
const swapOf = (quantity: fc.Arbitrary<number>, price: fc.Arbitrary<number>) =>
  fc
    .record({ agent: fc.constantFrom(...AGENTS), gives: fc.constantFrom(0, 1), region: fc.constantFrom(...REGIONS), quantity, limitPrice: price, wants: price })
    .map(({ gives, wants, ...rest }): Omit<Intent, "id"> => ({
      ...rest,
      side: "sell",
      kind: "swap",
      resource: S_RESOURCES[gives],
      swapFor: { resource: S_RESOURCES[1 - gives], limitPrice: wants },
    }));
export const hostileSwap = swapOf(hostileQuantity, hostilePrice);

/**
 * Books with one to three swaps whose intents, swaps included, may carry minimums (none, all-or-none, a share), over
 * the given sizes and prices: what the solver must settle with every minimum honoured (CONTRACT.md: minQuantity
 * applies to every intent). The schema refuses minimums on swaps today; the solver takes them all the same.
 */
export const swapBookWithMinimums = (quantity = hostileQuantity, price = hostilePrice) =>
  fc
    .tuple(
      fc.array(intentShape(S_RESOURCES, REGIONS, quantity, price), { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(swapOf(quantity, price), intentShape(S_RESOURCES, REGIONS, quantity, price)), { minLength: 1, maxLength: 3 }),
      hostileLatency,
    )
    .map(([shapes, swaps, latency]) => ({
      intents: [
        ...shapes.map((s, k) => toIntent(s, `s${k}`)),
        // A swap takes the minimum rule of a generated shape, applied to its own quantity.
        ...swaps.map(([w, m], k) => {
          const { minQuantity } = toIntent({ ...m, quantity: w.quantity }, "");
          return { ...w, id: `w${k}`, ...(minQuantity === undefined ? {} : { minQuantity }) };
        }),
      ],
      latency,
    }));

/** A hostile book with up to three swaps among its intents (ids w0, w1, …). */
export const hostileBookWithSwaps = fc
  .tuple(hostileBook, fc.array(hostileSwap, { maxLength: 3 }))
  .map(([{ intents, latency }, swaps]) => ({ intents: [...intents, ...swaps.map((w, k) => ({ ...w, id: `w${k}` }))], latency }));

/** How T is kept from trading with S. */
export type Separation = "other-resource" | "unreachable" | "non-crossing";

/**
 * T: intents that cannot trade with S (nor make S's intents trade differently), of any size and price within
 * bounds: on other resources, in a region no table lists with a latency cap, or on S's resource at prices that
 * cross nothing (buys below every sell, sells above every buy, S's and T's).
 */
export function separatedFrom(s: readonly Intent[]): fc.Arbitrary<{ t: Intent[]; separation: Separation }> {
  const shapes = fc.array(intentShape(S_RESOURCES, REGIONS, extremeQuantity, extremePrice), { minLength: 1, maxLength: 4 });
  return fc
    .tuple(fc.constantFrom<Separation>("other-resource", "unreachable", "non-crossing"), shapes, fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 4, maxLength: 4 }))
    .map(([separation, raw, u]) => {
      const t = raw.map((shape, k) => toIntent(shape, `t${k}`));
      for (const [k, intent] of t.entries()) {
        if (separation === "other-resource") intent.resource = T_RESOURCES[k % T_RESOURCES.length];
        if (separation === "unreachable") {
          intent.region = ISLAND;
          intent.maxLatencyMs ??= 0;
        }
      }
      if (separation === "non-crossing") priceAwayFrom(s, t, u);
      return { t: t.filter((i) => i.limitPrice >= 0 && i.limitPrice <= MAX_PRICE), separation };
    });
}

/** Reprices T's intents so that none crosses any intent of S ∪ T on its resource (an intent priced -1 is dropped). */
function priceAwayFrom(s: readonly Intent[], t: Intent[], u: readonly number[]): void {
  const limits = (book: readonly Intent[], side: string, resource: string) => book.filter((i) => i.side === side && i.resource === resource).map((i) => i.limitPrice);
  // Buys first, strictly below every sell of S; then sells strictly above every buy of S and of T.
  t.forEach((intent, k) => {
    if (intent.side !== "buy") return;
    const ceiling = Math.min(MAX_PRICE, ...limits(s, "sell", intent.resource));
    intent.limitPrice = ceiling > 0 ? ceiling * u[k % u.length] : -1;
  });
  t.forEach((intent, k) => {
    if (intent.side !== "sell") return;
    const floor = Math.max(0, ...limits(s, "buy", intent.resource), ...limits(t, "buy", intent.resource));
    intent.limitPrice = floor < MAX_PRICE ? floor + (MAX_PRICE - floor) * (1 - u[k % u.length]) : -1;
  });
}

/** A book S and a set T that cannot trade with it, over one latency table. */
export const independenceCase = hostileBook.chain(({ intents, latency }) =>
  separatedFrom(intents).map(({ t, separation }) => ({ s: intents, t, latency, separation })),
);

// ---- hostile proposals ----

export type ProposalKind =
  | "at-buyer-limit"
  | "past-limit-by-book-slack"
  | "thousand-times-limit"
  | "over-remaining"
  | "all-or-none-partial"
  | "self-trade"
  | "wrong-resource"
  | "slightly-worse";

export interface HostileProposal {
  kind: ProposalKind;
  fills: Fill[];
}

/** An allocation as a list of fills without prices: the optimum the proposals are crafted from. */
export type Allocation = readonly { buy: string; sell: string; resource: string; quantity: number }[];

/**
 * What a hostile miner proposes for `book`, crafted from an optimal `allocation`: the optimum priced at a limit, past
 * it by half the book-relative slack (1e-9 × the largest price), or at 1000× it, quantities over what remains by 1e-7, an all-or-none intent filled below its minimum, a self-trade, a
 * fill on the wrong resource, and an allocation slightly worse than the optimum.
 */
export function hostileProposals(book: readonly Intent[], allocation: Allocation): HostileProposal[] {
  const byId = new Map(book.map((i) => [i.id, i]));
  const priced = (price: (buy: Intent) => number) => allocation.map((a) => ({ ...a, price: price(byId.get(a.buy)!) }));
  const atBuyer = priced((b) => b.limitPrice);
  const out: HostileProposal[] = [];
  if (allocation.length > 0) {
    // First (ties go to the earliest): past the buyer's limit by half of 1e-9 × the book's largest price, what a
    // book-relative tolerance lets through.
    const bookSlack = 1e-9 * Math.max(1, ...book.map((i) => i.limitPrice));
    out.push({ kind: "past-limit-by-book-slack", fills: priced((b) => b.limitPrice + bookSlack / 2) });
    out.push({ kind: "at-buyer-limit", fills: atBuyer });
    out.push({ kind: "thousand-times-limit", fills: priced((b) => 1000 * Math.max(1, b.limitPrice)) });
    out.push({ kind: "over-remaining", fills: atBuyer.map((f, k) => (k === 0 ? { ...f, quantity: f.quantity * (1 + 1e-7) } : f)) });
    out.push({ kind: "wrong-resource", fills: atBuyer.map((f, k) => (k === 0 ? { ...f, resource: f.resource === "gpu" ? "constructor" : "gpu" } : f)) });
    out.push({ kind: "slightly-worse", fills: atBuyer.map((f, k) => (k === 0 ? { ...f, quantity: f.quantity * 0.999 } : f)) });
  }
  const pairs = crossingPairs(book);
  const aon = pairs.find(({ buy, sell }) => buy.minQuantity === buy.quantity || sell.minQuantity === sell.quantity);
  if (aon) {
    const quantity = Math.min(aon.buy.quantity, aon.sell.quantity) / 2;
    out.push({ kind: "all-or-none-partial", fills: [{ buy: aon.buy.id, sell: aon.sell.id, resource: aon.buy.resource, quantity, price: aon.sell.limitPrice }] });
  }
  const self = [...book.filter((b) => b.side === "buy")].flatMap((b) =>
    book.filter((s) => s.side === "sell" && s.agent === b.agent && s.resource === b.resource && s.limitPrice <= b.limitPrice).map((s) => ({ buy: b, sell: s })),
  )[0];
  if (self) {
    const quantity = Math.min(self.buy.quantity, self.sell.quantity);
    out.push({ kind: "self-trade", fills: [{ buy: self.buy.id, sell: self.sell.id, resource: self.buy.resource, quantity, price: self.sell.limitPrice }] });
  }
  return out;
}

/** Buy/sell pairs on one resource whose limits cross (compatibility and agents aside). */
function crossingPairs(book: readonly Intent[]): { buy: Intent; sell: Intent }[] {
  const buys = book.filter((i) => i.side === "buy");
  const sells = book.filter((i) => i.side === "sell");
  return buys.flatMap((buy) => sells.filter((s) => s.resource === buy.resource && s.limitPrice < buy.limitPrice).map((sell) => ({ buy, sell })));
}

// ---- properties ----

/**
 * A latency table as the oracle must read it: prototype-free (null-prototype rows), so that `constructor` or
 * `length` are regions like any other. The market and the solver get the table as JSON parses it.
 */
export function oracleTable(latency: LatencyTable): LatencyTable {
  const table = Object.create(null) as LatencyTable;
  for (const [a, row] of Object.entries(latency)) table[a] = Object.assign(Object.create(null) as Record<string, number>, row);
  return table;
}

const FEASIBILITY_RULES = new Set(["unknown-intent", "wrong-side", "resource-mismatch", "incompatible", "bad-number", "non-positive-quantity"]);
const OPTIMALITY_RULES = new Set(["not-optimal", "above-optimum", "welfare-misreported"]);

/**
 * Every property `fills` (one clearing of `book`) breaks: feasibility, individual rationality and minimums to
 * 1e-9 of each intent's own numbers, no self-trade, Nash prices by the oracle's KKT check and, when the optimum
 * welfare is known, optimality. `book` holds what each intent had open at the clearing (quantity = remaining);
 * `filledBefore` what each had filled before it (for minimums already met).
 */
export function clearingFaults(
  book: readonly Intent[],
  latency: LatencyTable,
  fills: readonly Fill[],
  options: { optimum?: number; filledBefore?: ReadonlyMap<string, number> } = {},
): Fault[] {
  const byId = new Map(book.map((i) => [i.id, i]));
  const swapIds = new Set(book.filter((i) => i.swapFor !== undefined).map((i) => i.id));
  const faults: Fault[] = [];
  const totals = new Map<string, number>();
  fills.forEach((f, k) => {
    const buy = byId.get(f.buy);
    const sell = byId.get(f.sell);
    if (!buy || !sell) return; // the checker reports it as infeasible
    // A swap's limit bounds what it nets over both of its fills (swapFaults), not each fill's price.
    if (!swapIds.has(buy.id) && f.price > buy.limitPrice + tol(buy.limitPrice)) faults.push({ property: "individual-rationality", message: `fill ${k}: ${buy.id} pays ${f.price} > its limit ${buy.limitPrice}` });
    if (!swapIds.has(sell.id) && f.price < sell.limitPrice - tol(sell.limitPrice)) faults.push({ property: "individual-rationality", message: `fill ${k}: ${sell.id} gets ${f.price} < its limit ${sell.limitPrice}` });
    if (buy.agent === sell.agent) faults.push({ property: "no-self-trade", message: `fill ${k}: ${buy.id} and ${sell.id} are both ${buy.agent}'s` });
    for (const id of [buy.id, sell.id]) if (!swapIds.has(id) || id === sell.id) totals.set(id, (totals.get(id) ?? 0) + f.quantity);
  });
  for (const [id, total] of totals) faults.push(...minimumFaults(byId.get(id)!, total, options.filledBefore?.get(id) ?? 0));
  for (const id of swapIds) faults.push(...swapFaults(byId.get(id)!, fills));
  // The checker knows no swaps: it judges the fills between plain intents, and optimality only of books without swaps.
  const plain = fills.filter((f) => !swapIds.has(f.buy) && !swapIds.has(f.sell));
  const violations = checkSettlement(book, oracleTable(latency), { fills: plain, welfare: welfareOf(byId, plain) }, options.optimum ?? welfareOf(byId, plain));
  faults.push(...asFaults(violations, FEASIBILITY_RULES, "feasible"), ...nashFaults(byId, latency, plain));
  if (options.optimum !== undefined && swapIds.size === 0) faults.push(...asFaults(violations, OPTIMALITY_RULES, "optimal"));
  return faults;
}

/** A swap receives what it gives, and nets per unit at least its limit less the value of what it receives. */
function swapFaults(swap: Intent, fills: readonly Fill[]): Fault[] {
  const gives = fills.filter((f) => f.sell === swap.id);
  const gets = fills.filter((f) => f.buy === swap.id);
  const sum = (fs: readonly Fill[], value: (f: Fill) => number) => fs.reduce((t, f) => t + value(f), 0);
  const given = sum(gives, (f) => f.quantity);
  const faults: Fault[] = [];
  if (Math.abs(given - sum(gets, (f) => f.quantity)) > tol(swap.quantity)) faults.push({ property: "feasible", message: `swap ${swap.id} gives ${given} but receives ${sum(gets, (f) => f.quantity)}` });
  const nets = sum(gives, (f) => f.quantity * f.price) - sum(gets, (f) => f.quantity * f.price);
  const floor = given * (swap.limitPrice - (swap.swapFor?.limitPrice ?? 0));
  if (nets < floor - tol(Math.max(swap.limitPrice, swap.swapFor?.limitPrice ?? 0)) * Math.max(1, given)) {
    faults.push({ property: "individual-rationality", message: `swap ${swap.id} nets ${nets} for ${given} units, below its limit's ${floor}` });
  }
  return faults;
}

const welfareOf = (byId: ReadonlyMap<string, Intent>, fills: readonly Fill[]) =>
  fills.reduce((w, f) => w + f.quantity * ((byId.get(f.buy)?.limitPrice ?? 0) - (byId.get(f.sell)?.limitPrice ?? 0)), 0);

/**
 * The oracle's Nash check, one group of fills at a time (intents linked by fills): the checker's tolerance is
 * relative to the largest limit it is given, so a 1e9 junk intent elsewhere in the book must not loosen or tighten
 * the check of a pair trading near 1. Its "no-surplus" finding is left out: a share can be legitimately below any
 * fixed threshold (1e-6 of a seller trading against 3e10 units of one buyer gets ~3e-8 a unit of a 1e9 gain), and
 * the KKT conditions it follows from (at a limit, that side earns at least the other) are checked as they are.
 */
function nashFaults(byId: ReadonlyMap<string, Intent>, latency: LatencyTable, fills: readonly Fill[]): Fault[] {
  const known = fills.filter((f) => byId.has(f.buy) && byId.has(f.sell));
  const faults: Fault[] = [];
  for (const group of fillGroups(known)) {
    const intents = [...new Set(group.flatMap((f) => [f.buy, f.sell]))].map((id) => byId.get(id)!);
    const violations = checkSettlement(intents, oracleTable(latency), { fills: group, welfare: welfareOf(byId, group) }, welfareOf(byId, group));
    faults.push(...asFaults(violations.filter((v) => v.rule !== "no-surplus"), NASH_RULES, "nash"));
  }
  return faults;
}

/** Fills grouped by the intents they link (connected components). */
function fillGroups(fills: readonly Fill[]): Fill[][] {
  const root = new Map<string, string>();
  const find = (id: string): string => {
    const up = root.get(id) ?? id;
    return up === id ? id : find(up);
  };
  for (const f of fills) root.set(find(f.buy), find(f.sell));
  const groups = new Map<string, Fill[]>();
  for (const f of fills) groups.set(find(f.buy), [...(groups.get(find(f.buy)) ?? []), f]);
  return [...groups.values()];
}

/** An intent's fill in one clearing: at most what it had open, and its total 0 or at least its minimum. */
function minimumFaults(intent: Intent, filledNow: number, filledBefore: number): Fault[] {
  const faults: Fault[] = [];
  if (filledNow > intent.quantity + tol(intent.quantity)) faults.push({ property: "minimums", message: `${intent.id} fills ${filledNow} > ${intent.quantity} open` });
  const total = filledBefore + filledNow;
  const min = intent.minQuantity ?? 0;
  if (total > 0 && total < min - tol(filledBefore + intent.quantity)) faults.push({ property: "minimums", message: `${intent.id} fills ${total} in all, below its minimum ${min}` });
  return faults;
}

function asFaults(violations: readonly Violation[], rules: ReadonlySet<string>, property: Property): Fault[] {
  return violations.filter((v) => rules.has(v.rule)).map((v) => ({ property, message: `[${v.rule}] ${v.message}` }));
}

/** An intent as it rests after clearings: what it asked for and how much has traded. */
export interface LiveIntent {
  intent: Intent;
  filled: number;
}

/**
 * "No crossed compatible pair left": a live buy and sell of different agents, compatible by the oracle's rule,
 * with buy limit > sell limit beyond both tolerances, and each with enough remaining to meet the other's unmet
 * minimum, means a clearing left welfare on the table.
 */
export function crossedPairFaults(live: readonly LiveIntent[], latency: LatencyTable): Fault[] {
  const table = oracleTable(latency);
  const remaining = (l: LiveIntent) => l.intent.quantity - l.filled;
  const unmet = (l: LiveIntent) => (l.filled > 0 ? 0 : (l.intent.minQuantity ?? 0));
  const open = live.filter((l) => remaining(l) > tol(l.intent.quantity) && l.intent.swapFor === undefined);
  const faults: Fault[] = [];
  for (const b of open.filter((l) => l.intent.side === "buy")) {
    for (const s of open.filter((l) => l.intent.side === "sell")) {
      if (b.intent.agent === s.intent.agent || incompatibility(b.intent, s.intent, table) !== undefined) continue;
      if (!(b.intent.limitPrice - tol(b.intent.limitPrice) > s.intent.limitPrice + tol(s.intent.limitPrice))) continue;
      const q = Math.min(remaining(b), remaining(s));
      if (q < unmet(b) - tol(b.intent.quantity) || q < unmet(s) - tol(s.intent.quantity)) continue;
      faults.push({ property: "no-crossed-pair", message: `${b.intent.id} (buy ${remaining(b)} @ ${b.intent.limitPrice}) and ${s.intent.id} (sell ${remaining(s)} @ ${s.intent.limitPrice}) cross and rest` });
    }
  }
  return faults;
}

/** The book after a clearing: each intent's fills added to what it had filled. */
export function afterFills(book: readonly Intent[], fills: readonly Fill[]): LiveIntent[] {
  const filled = new Map<string, number>();
  for (const f of fills) for (const id of [f.buy, f.sell]) filled.set(id, (filled.get(id) ?? 0) + f.quantity);
  return book.map((intent) => ({ intent, filled: filled.get(intent.id) ?? 0 }));
}

/**
 * Independence: S's fills and prices when cleared alone (`alone`) and when cleared with T (`withT`) must be the same,
 * to 1e-9 of each intent's own quantity and limit; and no fill may pair S with T.
 */
export function independenceFaults(s: readonly Intent[], alone: readonly Fill[], withT: readonly Fill[]): Fault[] {
  const ids = new Map(s.map((i) => [i.id, i]));
  const faults: Fault[] = [];
  const key = (f: Fill) => `${f.buy}|${f.sell}|${f.resource}`;
  const sum = (fills: readonly Fill[]) => {
    const out = new Map<string, { quantity: number; value: number }>();
    for (const f of fills) {
      if (ids.has(f.buy) !== ids.has(f.sell)) faults.push({ property: "independence", message: `fill ${f.buy} → ${f.sell} pairs S with T` });
      if (!ids.has(f.buy) || !ids.has(f.sell)) continue;
      const e = out.get(key(f)) ?? { quantity: 0, value: 0 };
      out.set(key(f), { quantity: e.quantity + f.quantity, value: e.value + f.quantity * f.price });
    }
    return out;
  };
  const a = sum(alone);
  const b = sum(withT);
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const [buyId] = k.split("|");
    const buy = ids.get(buyId)!;
    const x = a.get(k) ?? { quantity: 0, value: 0 };
    const y = b.get(k) ?? { quantity: 0, value: 0 };
    const price = (e: { quantity: number; value: number }) => (e.quantity > 0 ? e.value / e.quantity : 0);
    if (Math.abs(x.quantity - y.quantity) > tol(buy.quantity) || Math.abs(price(x) - price(y)) > tol(buy.limitPrice)) {
      faults.push({ property: "independence", message: `${k}: alone ${x.quantity} @ ${price(x)}, with T ${y.quantity} @ ${price(y)}` });
    }
  }
  return faults;
}

/** One line per fault, for assertion messages. */
export function describeFaults(faults: readonly Fault[]): string {
  return faults.map((f) => `[${f.scope ? `${f.scope}/` : ""}${f.property}] ${f.message}`).join("\n");
}

// ---- the pure path: what the market does at a clearing, without the object ----

type PriceAllocation = (intents: readonly Intent[], latency: LatencyTable, fills: Allocation) => Fill[];
/**
 * `priceAllocation` (CONTRACT v1.1: the market prices whatever settles by Nash bargaining), looked up rather than
 * imported so that this suite also runs on code that lacks it: there, a settled proposal keeps its own prices.
 */
export const priceAllocation = (solver as Record<string, unknown>).priceAllocation as PriceAllocation | undefined;

/** A batch's close as the contract has it: outside proposals in arrival order, then the market's own. */
export interface BatchOutcome {
  fills: Fill[];
  welfare: number;
  /** Index of the settled outside proposal, or "market". */
  chosen: number | "market";
  /** The market's own solve's welfare (0 when its own allocation failed the check). */
  own: number;
}

/**
 * The batch's close on the pure path: the market's feasibility check (`proposalErrors`) on each proposal, the
 * feasible allocation of greatest welfare settles (ties within 1e-9 relative to the earliest, the market's own
 * counted as received at the close), priced by `priceAllocation`.
 */
export function settleBatch(book: readonly Intent[], latency: LatencyTable, proposals: readonly (readonly Fill[])[]): BatchOutcome {
  const now = Date.now();
  const records = new Map<string, IntentRecord>(book.map((intent, seq) => [intent.id, { intent, status: "open", filled: 0, seq, createdAt: "" }]));
  const own = solver.solve(book, latency);
  // The market checks its own allocation as it checks any other (a solver bug settles nothing rather than harm).
  const candidates = [...proposals.map((fills, k) => ({ k: k as number | "market", fills: [...fills] })), { k: "market" as const, fills: own.fills }]
    .filter((p) => proposalErrors(records, book, latency, p.fills, now).length === 0)
    .map((p) => ({ ...p, welfare: fillsWelfare(book, latency, p.fills) }));
  const ownWelfare = candidates.find((p) => p.k === "market")?.welfare ?? 0;
  let best: (typeof candidates)[number] = { k: "market", fills: [], welfare: 0 };
  for (const p of candidates.reverse()) if (p.welfare >= best.welfare - 1e-9 * Math.max(1, Math.abs(best.welfare))) best = p;
  const fills = best.k === "market" || !priceAllocation ? best.fills : priceAllocation(book, latency, best.fills);
  return { fills, welfare: best.welfare, chosen: best.k, own: ownWelfare };
}

/** The reference optimum of a book (HiGHS or the exact oracle, in Node), one optimal allocation, which oracle said so. */
export type Optimum = (book: readonly Intent[], latency: LatencyTable) => { welfare: number; allocation: Allocation; judge?: string };

export type PureCase = { s: Intent[]; t: Intent[]; latency: LatencyTable };

/**
 * Every fault of one case over the pure path: the whole book S ∪ T cleared by `solve` (every property, and no
 * crossed pair left), S alone against S ∪ T (independence), and the hostile proposals at a batch's close.
 */
export function pureFaults(c: PureCase, optimum: Optimum): Fault[] {
  const book = [...c.s, ...c.t];
  const best = optimum(book, c.latency);
  const cleared = solver.solve(book, c.latency).fills;
  const solved = [...clearingFaults(book, c.latency, cleared, { optimum: best.welfare }), ...crossedPairFaults(afterFills(book, cleared), c.latency)];
  const independence = independenceFaults(c.s, solver.solve(c.s, c.latency).fills, cleared);
  const batch = settleBatch(book, c.latency, hostileProposals(book, best.allocation).map((p) => p.fills));
  const settled = clearingFaults(book, c.latency, batch.fills, { optimum: best.welfare });
  if (batch.welfare < batch.own - tol(batch.own)) settled.push({ property: "proposal-below-own", message: `settled ${batch.welfare} < the market's own ${batch.own}` });
  const scoped = (scope: Fault["scope"], faults: Fault[]) => faults.map((f) => ({ ...f, scope }));
  return [...scoped("solve", solved), ...scoped("independence", independence), ...scoped("batch", settled)];
}
