// Checks a settlement without solving (CONTRACT.md section 2): feasibility, individual rationality, the welfare
// sum, the Nash bargaining optimality conditions of its prices, and optimality from its LP dual certificate.
// Time is linear in intents, fills and compatible class pairs.
import type { Certificate, Fill, Intent, LatencyTable } from "../schema.ts";
import { buildClasses } from "./classes.ts";
import { compatible } from "./latency.ts";
import { swapBuyView } from "./multi.ts";

export type VerifyResult = { ok: true } | { ok: false; errors: string[] };

/** Relative tolerances: quantities and welfare 1e-9, per-unit Nash surplus comparisons 1e-7 of the price scale. */
export function verify(
  intents: readonly Intent[],
  latency: LatencyTable,
  settlement: { fills: Fill[]; welfare: number; certificate?: Certificate },
): VerifyResult {
  const errors: string[] = [];
  const n = intents.length;
  const byId = new Map<string, number>();
  let pScale = 1;
  let qScale = 1;
  for (let i = 0; i < n; i++) {
    if (byId.has(intents[i].id)) errors.push(`intent id ${intents[i].id} is not unique`);
    byId.set(intents[i].id, i);
    pScale = Math.max(pScale, Math.abs(intents[i].limitPrice));
    qScale = Math.max(qScale, intents[i].quantity);
  }
  const pTol = 1e-9 * pScale;
  const qTol = 1e-9 * qScale;
  const filled = new Float64Array(n); // a swap: what it gives
  const received = new Float64Array(n); // a swap: what it takes in exchange
  const surplus = new Float64Array(n);
  const positive = new Uint8Array(n); // has a fill of positive gain
  const fillIdx: { b: number; s: number; gain: number; plain: boolean }[] = [];
  const hasSwaps = intents.some((it) => it.swapFor !== undefined);
  const buyView = (i: number): Intent => (intents[i].swapFor ? swapBuyView(intents[i]) : intents[i]);
  const sellView = (i: number): Intent => (intents[i].swapFor ? { ...intents[i], swapFor: undefined } : intents[i]);
  let welfare = 0;
  let absWelfare = 0;
  settlement.fills.forEach((f, k) => {
    const where = `fills.${k}`;
    const b = byId.get(f.buy);
    const s = byId.get(f.sell);
    if (b === undefined || s === undefined) {
      errors.push(`${where}: unknown intent ${b === undefined ? f.buy : f.sell}`);
      return;
    }
    const B = buyView(b);
    const S = sellView(s);
    const plain = !intents[b].swapFor && !intents[s].swapFor;
    if (B.side !== "buy" || S.side !== "sell") errors.push(`${where}: buy must name a buy intent (or a swap) and sell a sell intent`);
    if (f.resource !== B.resource || f.resource !== S.resource) errors.push(`${where}: resource does not match both intents`);
    else if (!compatible(B, S, latency)) errors.push(`${where}: regions are outside a latency cap`);
    if (!(Number.isFinite(f.quantity) && f.quantity > 0)) errors.push(`${where}: quantity must be positive`);
    // Individual rationality per fill for plain intents; a swap's is checked on its total below.
    if (!Number.isFinite(f.price) || (!intents[s].swapFor && f.price < S.limitPrice - pTol) || (!intents[b].swapFor && f.price > B.limitPrice + pTol))
      errors.push(`${where}: price ${f.price} is outside [${S.limitPrice}, ${B.limitPrice}]`);
    const gain = B.limitPrice - S.limitPrice;
    if (intents[b].swapFor) received[b] += f.quantity;
    else filled[b] += f.quantity;
    filled[s] += f.quantity;
    surplus[b] += (B.limitPrice - f.price) * f.quantity;
    surplus[s] += (f.price - S.limitPrice) * f.quantity;
    if (gain > pTol) positive[b] = positive[s] = 1;
    welfare += gain * f.quantity;
    absWelfare += Math.abs(gain * f.quantity);
    fillIdx.push({ b, s, gain, plain });
  });
  for (let i = 0; i < n; i++) {
    const it = intents[i];
    if (filled[i] > it.quantity + qTol) errors.push(`intent ${it.id}: fills ${filled[i]} exceed quantity ${it.quantity}`);
    const m = it.minQuantity ?? 0;
    if (filled[i] > qTol && filled[i] < m - qTol) errors.push(`intent ${it.id}: fills ${filled[i]} are below minQuantity ${m}`);
    if (it.swapFor) {
      if (Math.abs(received[i] - filled[i]) > qTol) errors.push(`intent ${it.id}: gives ${filled[i]} but receives ${received[i]}`);
      if (surplus[i] < -pTol * Math.max(1, filled[i])) errors.push(`intent ${it.id}: the swap loses ${-surplus[i]} (not individually rational)`);
    }
  }
  const wTol = 1e-9 * Math.max(1, absWelfare, Math.abs(settlement.welfare));
  if (!(Math.abs(welfare - settlement.welfare) <= wTol)) errors.push(`welfare ${settlement.welfare} differs from the fills' ${welfare}`);

  // Nash bargaining KKT: per-unit surplus a_k; an interior price equalises them, a price at a limit favours the other.
  const aTol = 1e-7 * pScale;
  const a = (k: number) => surplus[k] / filled[k];
  settlement.fills.forEach((f, k) => {
    const x = fillIdx[k];
    // Fills that touch a swap are priced per trade (notes/solver.md); the per-fill test is for plain pairs.
    if (!x || !x.plain || !(x.gain > pTol) || !positive[x.b] || !positive[x.s]) return;
    const atBuy = f.price >= intents[x.b].limitPrice - pTol;
    const atSell = f.price <= intents[x.s].limitPrice + pTol;
    const ab = a(x.b);
    const as = a(x.s);
    if (!atBuy && !atSell && Math.abs(ab - as) > aTol)
      errors.push(`fills.${k}: price is not the Nash bargaining price (per-unit surplus ${ab} vs ${as})`);
    else if (atSell && !atBuy && as < ab - aTol) errors.push(`fills.${k}: price at the seller's limit favours the buyer`);
    else if (atBuy && !atSell && ab < as - aTol) errors.push(`fills.${k}: price at the buyer's limit favours the seller`);
  });

  // Optimality from the certificate: dual feasibility per compatible class pair, then weak duality.
  const cert = settlement.certificate;
  if (!cert) {
    errors.push("certificate: missing, so optimality cannot be checked");
  } else if (hasSwaps) {
    // With swaps the dual is that of the circulation with swap nodes; only its bound is checked here.
    if (!(cert.bound >= welfare - 1e-9 * Math.max(1, Math.abs(welfare)))) errors.push(`certificate.bound ${cert.bound} is below the welfare ${welfare}`);
  } else {
    const idx = buildClasses(intents, latency, false);
    const mBuy = new Float64Array(idx.buy.length).fill(Infinity);
    const mSell = new Float64Array(idx.sell.length).fill(Infinity);
    let dualObjective = 0;
    let milp = false;
    for (let i = 0; i < n; i++) {
      const c = idx.classOf[i];
      if (c < 0) continue;
      const it = intents[i];
      if ((it.minQuantity ?? 0) > qTol) milp = true;
      const d = cert.duals[it.id] ?? 0;
      if (!Number.isFinite(d) || d < -pTol) {
        errors.push(`certificate.duals.${it.id}: must be a finite number ≥ 0`);
        continue;
      }
      dualObjective += it.quantity * d;
      if (it.side === "buy") mBuy[c] = Math.min(mBuy[c], d - it.limitPrice);
      else mSell[c] = Math.min(mSell[c], d + it.limitPrice);
    }
    for (let e = 0; e < idx.edgeBuy.length; e++) {
      const slack = mBuy[idx.edgeBuy[e]] + mSell[idx.edgeSell[e]];
      if (slack < -pTol) {
        errors.push(`certificate: duals violate u + v ≥ gain for a compatible pair (by ${-slack})`);
        break;
      }
    }
    const bTol = 1e-9 * Math.max(1, Math.abs(dualObjective), Math.abs(welfare));
    if (!(cert.bound >= welfare - bTol)) errors.push(`certificate.bound ${cert.bound} is below the welfare ${welfare}`);
    if (welfare < dualObjective - bTol) {
      // Without minQuantity the LP is the problem, so a dual bound above the welfare disproves optimality.
      // With minQuantity the LP dual only bounds the relaxation; the branch-and-bound bound is taken as stated.
      if (!milp) errors.push(`not optimal: the dual bound ${dualObjective} exceeds the welfare ${welfare}`);
      else if (cert.bound > dualObjective + bTol) errors.push(`certificate.bound exceeds the dual bound ${dualObjective}`);
    }
  }
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
}
