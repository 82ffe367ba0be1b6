// An independent judge of a settlement, from CONTRACT.md section 2 and MATH.md alone: feasibility, welfare against
// a known optimum, individual rationality, Nash bargaining prices (by their KKT conditions) and, separately, the
// LP certificate. Shares no code with src/solver; violations are returned as data, never thrown.
import type { Certificate, Fill, Intent, LatencyTable } from "../../src/contract/schema.ts";
import { incompatibility, tradablePairs } from "../../support/compat.ts";
import { pairLimits } from "../../support/soft-compat.ts";

export type Rule =
  | "unknown-intent"
  | "wrong-side"
  | "resource-mismatch"
  | "incompatible"
  | "bad-number"
  | "non-positive-quantity"
  | "over-quantity"
  | "under-min-quantity"
  | "welfare-misreported"
  | "not-optimal"
  | "above-optimum"
  | "price-outside-limits"
  | "no-surplus"
  | "nash-interior"
  | "nash-seller-limit"
  | "nash-buyer-limit"
  | "certificate-negative-dual"
  | "certificate-infeasible-dual"
  | "certificate-bound"
  | "gap-unproven";

/** Rules about prices under Nash bargaining; the rest concern feasibility, welfare and individual rationality. */
export const NASH_RULES: ReadonlySet<Rule> = new Set<Rule>(["no-surplus", "nash-interior", "nash-seller-limit", "nash-buyer-limit"]);

export interface Violation {
  rule: Rule;
  message: string;
  /** Index of the offending fill in settlement.fills, when one fill is at fault. */
  fill?: number;
  /** Id of the offending intent, when one intent is at fault. */
  intent?: string;
}

/**
 * Tolerances. Quantities are relative to the intent's quantity; prices and per-unit surpluses are relative to
 * the price scale (the largest limit price in the market, at least 1).
 */
export interface Tolerances {
  /** Per-intent totals against quantity and minQuantity. Default 1e-9. */
  quantity: number;
  /** Recomputed welfare against the settlement's own `welfare` field. Default 1e-9. */
  welfareReport: number;
  /** Welfare against the optimum (relative to max(1, |optimum|)). Default 1e-6. */
  welfare: number;
  /** Prices against limits (individual rationality). Default 1e-9. */
  price: number;
  /** KKT conditions on per-unit surpluses, and the "at a limit" test that picks the condition. Default 1e-6. */
  nash: number;
}

export const DEFAULT_TOLERANCES: Tolerances = { quantity: 1e-9, welfareReport: 1e-9, welfare: 1e-6, price: 1e-9, nash: 1e-6 };

/** The part of a settlement the checker reads: `solve()`'s result and a contract Settlement both fit. */
export interface SettlementLike {
  fills: readonly Fill[];
  welfare: number;
}

/**
 * Every way `settlement` breaks CONTRACT.md section 2 for these intents and latency table, given the optimum welfare
 * from an independent solve. An empty list means the settlement is feasible, welfare-optimal, individually rational
 * and Nash-priced (to the tolerances).
 *
 * Nash convention (agreed with the solver): an intent all of whose fills are on zero-gain pairs (buy limit == sell
 * limit) necessarily has zero surplus; it is priced at its limit and left out of the Nash objective. Every other
 * trading intent is in it, with q its total filled quantity (zero-gain fills included).
 */
export function checkSettlement(
  intents: readonly Intent[],
  latency: LatencyTable,
  settlement: SettlementLike,
  optimumWelfare: number,
  tolerances: Partial<Tolerances> = {},
): Violation[] {
  return inspectSettlement(intents, latency, settlement, optimumWelfare, tolerances).violations;
}

/** How many fills each KKT condition was tested on: shows that a clean result was not a vacuous one. */
export interface NashCoverage {
  interior: number;
  atSellerLimit: number;
  atBuyerLimit: number;
  /** Fills on (near) zero-gain pairs, where the price is pinned and no condition applies. */
  pinned: number;
}

/** checkSettlement, plus which KKT conditions were exercised. */
export function inspectSettlement(
  intents: readonly Intent[],
  latency: LatencyTable,
  settlement: SettlementLike,
  optimumWelfare: number,
  tolerances: Partial<Tolerances> = {},
): { violations: Violation[]; coverage: NashCoverage } {
  const coverage: NashCoverage = { interior: 0, atSellerLimit: 0, atBuyerLimit: 0, pinned: 0 };
  const tol = { ...DEFAULT_TOLERANCES, ...tolerances };
  const out: Violation[] = [];
  const byId = new Map(intents.map((i) => [i.id, i]));

  // Fills that name real intents on the right sides; only these feed the per-intent and price checks.
  const valid: { f: number; fill: Fill; buy: Intent; sell: Intent; gain: number; buyLimit: number; sellLimit: number }[] = [];
  settlement.fills.forEach((fill, f) => {
    const buy = byId.get(fill.buy);
    const sell = byId.get(fill.sell);
    if (!buy || !sell) {
      const missing = [!buy ? `buy ${fill.buy}` : "", !sell ? `sell ${fill.sell}` : ""].filter(Boolean).join(", ");
      out.push({ rule: "unknown-intent", fill: f, message: `fill ${f} names no such intent: ${missing}` });
      return;
    }
    if (buy.side !== "buy" || sell.side !== "sell") {
      out.push({ rule: "wrong-side", fill: f, message: `fill ${f}: ${buy.id} must be a buy and ${sell.id} a sell` });
      return;
    }
    if (!Number.isFinite(fill.quantity) || !Number.isFinite(fill.price)) {
      out.push({ rule: "bad-number", fill: f, message: `fill ${f}: quantity ${fill.quantity}, price ${fill.price}` });
      return;
    }
    if (fill.resource !== buy.resource || fill.resource !== sell.resource) {
      out.push({
        rule: "resource-mismatch",
        fill: f,
        message: `fill ${f} trades ${fill.resource}; buy ${buy.id} is ${buy.resource}, sell ${sell.id} is ${sell.resource}`,
      });
    }
    const why = incompatibility(buy, sell, latency);
    if (why !== undefined && buy.resource === sell.resource) {
      out.push({ rule: "incompatible", fill: f, message: `fill ${f} (${buy.id} → ${sell.id}): ${why}` });
    }
    if (!(fill.quantity > 0)) {
      out.push({ rule: "non-positive-quantity", fill: f, message: `fill ${f} has quantity ${fill.quantity}` });
    }
    // Soft latency moves both limits for this pair (CONTRACT section 1); an unlisted pair cannot trade at all.
    const { buyLimit, sellLimit } = pairLimits(latency, buy, sell);
    if (!Number.isFinite(buyLimit) || !Number.isFinite(sellLimit)) {
      out.push({ rule: "incompatible", fill: f, message: `fill ${f} (${buy.id} → ${sell.id}): soft latency and no latency listed between ${buy.region} and ${sell.region}` });
      return;
    }
    // Each limit with a tolerance of its own size (CONTRACT section 2), never the book's largest price.
    if (fill.price < sellLimit - tol.price * scale(sellLimit) || fill.price > buyLimit + tol.price * scale(buyLimit)) {
      out.push({
        rule: "price-outside-limits",
        fill: f,
        message: `fill ${f} priced ${fill.price}, outside [${sellLimit} (seller), ${buyLimit} (buyer)]`,
      });
    }
    valid.push({ f, fill, buy, sell, gain: buyLimit - sellLimit, buyLimit, sellLimit });
  });

  // Per-intent totals, surplus and whether any of its fills has something to gain.
  const filled = new Map<Intent, number>();
  const surplus = new Map<Intent, number>();
  const gains = new Set<Intent>();
  for (const { fill, buy, sell, gain, buyLimit, sellLimit } of valid) {
    filled.set(buy, (filled.get(buy) ?? 0) + fill.quantity);
    filled.set(sell, (filled.get(sell) ?? 0) + fill.quantity);
    surplus.set(buy, (surplus.get(buy) ?? 0) + (buyLimit - fill.price) * fill.quantity);
    surplus.set(sell, (surplus.get(sell) ?? 0) + (fill.price - sellLimit) * fill.quantity);
    if (gain > 0) {
      gains.add(buy);
      gains.add(sell);
    }
  }
  for (const [intent, total] of filled) {
    const slack = tol.quantity * Math.max(1, intent.quantity);
    if (total > intent.quantity + slack) {
      out.push({ rule: "over-quantity", intent: intent.id, message: `${intent.id} fills ${total} > quantity ${intent.quantity}` });
    }
    const m = intent.minQuantity ?? 0;
    if (total > 0 && total < m - slack) {
      out.push({ rule: "under-min-quantity", intent: intent.id, message: `${intent.id} fills ${total}, neither 0 nor ≥ minQuantity ${m}` });
    }
  }

  // Welfare: recomputed from the limits, against the settlement's claim and against the optimum.
  const welfare = valid.reduce((w, { fill, gain }) => w + gain * fill.quantity, 0);
  if (!Number.isFinite(settlement.welfare)) {
    out.push({ rule: "bad-number", message: `welfare is ${settlement.welfare}` });
  } else if (Math.abs(settlement.welfare - welfare) > tol.welfareReport * Math.max(1, Math.abs(welfare))) {
    out.push({ rule: "welfare-misreported", message: `welfare says ${settlement.welfare}, the fills give ${welfare}` });
  }
  const welfareSlack = tol.welfare * Math.max(1, Math.abs(optimumWelfare));
  if (welfare < optimumWelfare - welfareSlack) {
    out.push({ rule: "not-optimal", message: `welfare ${welfare} is below the optimum ${optimumWelfare}` });
  } else if (welfare > optimumWelfare + welfareSlack) {
    out.push({ rule: "above-optimum", message: `welfare ${welfare} exceeds the optimum ${optimumWelfare}: infeasible, or a wrong optimum` });
  }

  // Nash bargaining, by the KKT conditions of max Σ q_k log s_k over prices within the limits (MATH.md).
  const perUnit = new Map<Intent, number>();
  for (const intent of gains) {
    const a = (surplus.get(intent) ?? 0) / (filled.get(intent) ?? 1);
    perUnit.set(intent, a);
    if (!(a > tol.nash * scale(intent.limitPrice))) {
      out.push({
        rule: "no-surplus",
        intent: intent.id,
        message: `${intent.id} trades on a pair with gains but earns ${a} per unit: Nash prices give it a share`,
      });
    }
  }
  for (const { f, fill, buy, sell, gain, buyLimit, sellLimit } of valid) {
    const nashSlack = tol.nash * scale(buyLimit, sellLimit);
    if (gain <= 2 * nashSlack) {
      coverage.pinned++; // price pinned at both limits: no condition
      continue;
    }
    const aBuy = perUnit.get(buy) ?? 0;
    const aSell = perUnit.get(sell) ?? 0;
    const atSeller = fill.price - sellLimit <= nashSlack;
    const atBuyer = buyLimit - fill.price <= nashSlack;
    const pair = `fill ${f} (${buy.id} → ${sell.id} at ${fill.price}; buyer earns ${aBuy}/unit, seller ${aSell}/unit)`;
    if (atSeller) {
      coverage.atSellerLimit++;
      if (aSell < aBuy - nashSlack) {
        out.push({ rule: "nash-seller-limit", fill: f, message: `${pair}: at the seller's limit, the seller must earn at least the buyer's per-unit surplus` });
      }
    } else if (atBuyer) {
      coverage.atBuyerLimit++;
      if (aBuy < aSell - nashSlack) {
        out.push({ rule: "nash-buyer-limit", fill: f, message: `${pair}: at the buyer's limit, the buyer must earn at least the seller's per-unit surplus` });
      }
    } else {
      coverage.interior++;
      if (Math.abs(aBuy - aSell) > nashSlack) {
        out.push({ rule: "nash-interior", fill: f, message: `${pair}: priced inside both limits, both sides must earn the same per-unit surplus` });
      }
    }
  }
  return { violations: out, coverage };
}

/**
 * Checks an LP certificate (section 2, "Certified") against the contract: duals non-negative, u_i + v_j ≥ g_ij on
 * every tradable pair (a missing dual counts as 0), and `bound` no lower than the dual objective Σ Q_i u_i + Σ K_j v_j
 * it is proven by. Without minQuantity, an optimal settlement also needs bound == welfare (zero gap): pass
 * `expectZeroGapAt`. Valid only for duals of the relaxation over all intents, which is what the contract promises.
 */
export function checkCertificate(
  intents: readonly Intent[],
  latency: LatencyTable,
  certificate: Certificate,
  expectZeroGapAt?: number,
  tolerance = 1e-6,
): Violation[] {
  const out: Violation[] = [];
  const dual = (id: string) => (Object.prototype.hasOwnProperty.call(certificate.duals, id) ? certificate.duals[id] : 0);
  let dualObjective = 0;
  for (const intent of intents) {
    const d = dual(intent.id);
    if (!Number.isFinite(d) || d < -tolerance * scale(intent.limitPrice)) {
      out.push({ rule: "certificate-negative-dual", intent: intent.id, message: `dual of ${intent.id} is ${d}` });
    }
    dualObjective += intent.quantity * Math.max(0, d);
  }
  for (const { buy, sell } of tradablePairs(intents, latency)) {
    // The pair's gain between its limits as soft latency moves them (an unlisted pair with soft latency: none).
    const { buyLimit, sellLimit } = pairLimits(latency, buy, sell);
    const gain = buyLimit - sellLimit;
    if (!(gain >= 0 && Number.isFinite(gain))) continue;
    if (dual(buy.id) + dual(sell.id) < gain - tolerance * scale(buy.limitPrice, sell.limitPrice)) {
      out.push({
        rule: "certificate-infeasible-dual",
        message: `u(${buy.id}) + v(${sell.id}) = ${dual(buy.id) + dual(sell.id)} < gain ${gain}`,
      });
    }
  }
  const objSlack = tolerance * Math.max(1, Math.abs(dualObjective));
  if (!(certificate.bound >= dualObjective - objSlack)) {
    out.push({ rule: "certificate-bound", message: `bound ${certificate.bound} is below the dual objective ${dualObjective} that proves it` });
  }
  if (expectZeroGapAt !== undefined && Math.abs(certificate.bound - expectZeroGapAt) > tolerance * Math.max(1, Math.abs(expectZeroGapAt))) {
    out.push({ rule: "certificate-bound", message: `bound ${certificate.bound} differs from the optimal welfare ${expectZeroGapAt}: the gap is not closed` });
  }
  return out;
}

/**
 * A settlement stopped by a budget must state its proven gap (section 2), and a proven gap cannot be smaller than
 * the true distance to the optimum: gap ≥ optimum − welfare (relative tolerance, default 1e-6).
 */
export function checkStatedGap(
  result: { welfare: number; status: string; gap?: number },
  optimumWelfare: number,
  tolerance = 1e-6,
): Violation[] {
  if (result.status === "optimal") return [];
  if (result.gap === undefined || !Number.isFinite(result.gap)) {
    return [{ rule: "gap-unproven", message: `status ${result.status} without a finite gap (${result.gap})` }];
  }
  const missing = optimumWelfare - result.welfare;
  if (result.gap < missing - tolerance * Math.max(1, Math.abs(optimumWelfare))) {
    return [{ rule: "gap-unproven", message: `stated gap ${result.gap} is below the true gap ${missing}: it is not a proof` }];
  }
  return [];
}

/** The unit of a tolerance: the largest of the concerned intents' own numbers, at least 1. */
function scale(...xs: number[]): number {
  return xs.reduce((m, x) => Math.max(m, Math.abs(x)), 1);
}

/** One line per violation, for assertion messages. */
export function describeViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `[${v.rule}] ${v.message}`).join("\n");
}

/**
 * Nash bargaining on the net (CONTRACT.md section 2a), for settlements with swaps (and soft latency): the fill
 * prices must maximise Σ qᵢ·log(surplusᵢ) over the intents that trade, one price per fill, where a plain intent's
 * surplus is Σ (its limit − price)·q as a buyer or Σ (price − its limit)·q as a seller, each fill within its limit,
 * and a swap's is its net: Σ price·q over what it gives − Σ price·q over what it takes + (swapFor.limitPrice −
 * limitPrice) per unit swapped, only its total ≥ 0. Limits are those soft latency moves for each pair. qᵢ is a plain
 * intent's filled quantity, a swap's units given.
 *
 * The program is concave in the prices with linear constraints, so its optimum is its KKT point. The derivative of
 * the objective in one fill's price is q_f·(Q_seller/s_seller − Q_buyer/s_buyer): with per-unit surpluses
 * a = s/Q, a price free to move in both directions needs a_buyer = a_seller; a price held at the plain buyer's
 * limit (the buyer gains nothing from the fill) needs a_buyer ≥ a_seller, one held at the plain seller's limit
 * a_seller ≥ a_buyer. Fills between plain intents whose moved limits are equal are pinned (no condition). A swap's
 * total at 0 bounds no single price; it can only be optimal when its per-unit surplus 0 also satisfies the above.
 */
export function checkNetNash(
  intents: readonly Intent[],
  latency: LatencyTable,
  fills: readonly Fill[],
  tolerance = 1e-7,
): Violation[] {
  const out: Violation[] = [];
  const byId = new Map(intents.map((i) => [i.id, i]));
  const surplus = new Map<Intent, number>();
  const volume = new Map<Intent, number>();
  const size = new Map<Intent, number>(); // the largest number an intent's surplus is summed from
  const bump = (m: Map<Intent, number>, k: Intent, x: number) => m.set(k, (m.get(k) ?? 0) + x);
  const rows: { f: number; buy: Intent; sell: Intent; B: number; S: number; price: number }[] = [];
  fills.forEach((fill, f) => {
    const buy = byId.get(fill.buy);
    const sell = byId.get(fill.sell);
    if (!buy || !sell) {
      out.push({ rule: "unknown-intent", fill: f, message: `fill ${f} names an unknown intent` });
      return;
    }
    const { buyLimit: B, sellLimit: S } = pairLimits(latency, buy, sell);
    if (!Number.isFinite(B) || !Number.isFinite(S)) {
      out.push({ rule: "incompatible", fill: f, message: `fill ${f}: soft latency cannot price ${buy.region} ↔ ${sell.region}` });
      return;
    }
    const q = fill.quantity;
    bump(surplus, buy, (B - fill.price) * q);
    bump(surplus, sell, (fill.price - S) * q);
    if (!buy.swapFor) bump(volume, buy, q);
    bump(volume, sell, q);
    for (const [k, lim] of [[buy, B], [sell, S]] as const) size.set(k, Math.max(size.get(k) ?? 1, Math.abs(lim), Math.abs(fill.price)));
    if ((!buy.swapFor && fill.price > B + tolerance * scale(B)) || (!sell.swapFor && fill.price < S - tolerance * scale(S)))
      out.push({ rule: "price-outside-limits", fill: f, message: `fill ${f} priced ${fill.price}, outside its plain limits [${S}, ${B}]` });
    rows.push({ f, buy, sell, B, S, price: fill.price });
  });
  const perUnit = (k: Intent) => (surplus.get(k) ?? 0) / (volume.get(k) ?? 1);
  for (const k of intents) {
    if (k.swapFor && volume.has(k) && (surplus.get(k) ?? 0) < -tolerance * size.get(k)! * volume.get(k)!)
      out.push({ rule: "no-surplus", intent: k.id, message: `swap ${k.id} loses ${-surplus.get(k)!} on its net (not individually rational)` });
  }
  for (const { f, buy, sell, B, S, price } of rows) {
    const levelSlack = tolerance * Math.max(size.get(buy)!, size.get(sell)!);
    const slack = 1e-2 * levelSlack; // a price this close to a limit is at it
    const plain = !buy.swapFor && !sell.swapFor;
    if (plain && B - S <= 2 * slack) continue;
    const atBuyer = !buy.swapFor && B - price <= slack;
    const atSeller = !sell.swapFor && price - S <= slack;
    const aB = perUnit(buy);
    const aS = perUnit(sell);
    const pair = `fill ${f} (${buy.id} → ${sell.id} at ${price}; buyer earns ${aB}/unit, seller ${aS}/unit)`;
    if (atBuyer && atSeller) continue;
    if (atBuyer) {
      if (aB < aS - levelSlack) out.push({ rule: "nash-buyer-limit", fill: f, message: `${pair}: at the buyer's limit, the buyer must earn at least the seller's per-unit surplus` });
    } else if (atSeller) {
      if (aS < aB - levelSlack) out.push({ rule: "nash-seller-limit", fill: f, message: `${pair}: at the seller's limit, the seller must earn at least the buyer's per-unit surplus` });
    } else if (Math.abs(aB - aS) > levelSlack) {
      out.push({ rule: "nash-interior", fill: f, message: `${pair}: a price free to move must give both sides the same per-unit surplus` });
    }
  }
  return out;
}

/**
 * The objective of the Nash program on the net (see checkNetNash): Σ qᵢ·log(surplusᵢ) over the intents that trade
 * with a positive surplus, −Infinity when an individually rational bound is broken (a plain price beyond its moved
 * limit, a swap's net below 0). For a numerical check: no small move of one price within the bounds may raise it.
 */
export function netNashObjective(intents: readonly Intent[], latency: LatencyTable, fills: readonly Fill[], tolerance = 1e-9): number {
  const byId = new Map(intents.map((i) => [i.id, i]));
  const surplus = new Map<Intent, number>();
  const volume = new Map<Intent, number>();
  const bump = (m: Map<Intent, number>, k: Intent, x: number) => m.set(k, (m.get(k) ?? 0) + x);
  for (const fill of fills) {
    const buy = byId.get(fill.buy)!;
    const sell = byId.get(fill.sell)!;
    const { buyLimit: B, sellLimit: S } = pairLimits(latency, buy, sell);
    if ((!buy.swapFor && fill.price > B + tolerance * scale(B)) || (!sell.swapFor && fill.price < S - tolerance * scale(S))) return -Infinity;
    bump(surplus, buy, (B - fill.price) * fill.quantity);
    bump(surplus, sell, (fill.price - S) * fill.quantity);
    if (!buy.swapFor) bump(volume, buy, fill.quantity);
    bump(volume, sell, fill.quantity);
  }
  let objective = 0;
  for (const [k, s] of surplus) {
    if (k.swapFor && s < -tolerance * scale(k.limitPrice) * volume.get(k)!) return -Infinity;
    if (s > 0) objective += volume.get(k)! * Math.log(s);
  }
  return objective;
}
