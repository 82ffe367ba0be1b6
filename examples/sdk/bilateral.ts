// A buyer and a seller trade GPU hours through NASH with the TypeScript SDK, and a third client watches the
// settlement arrive on the market's stream. Run against `npm run dev` (in another terminal):
//   npx node examples/sdk/bilateral.ts            # BASE_URL defaults to http://127.0.0.1:8787
import { NashClient, generateKey, type Settlement } from "../../sdk/typescript/src/index.ts";

const baseUrl = process.env.BASE_URL ?? "http://127.0.0.1:8787";
const market = process.env.MARKET ?? `example-${Date.now().toString(36)}`;

// Each agent is an Ed25519 key; `nash keygen --out me.json` makes one to keep (load it with loadKey from ./node).
const buyer = new NashClient({ baseUrl, key: await generateKey() });
const seller = new NashClient({ baseUrl, key: await generateKey() });

// The buyer's intent opens the market (a market exists from its first write; before it, its stream answers 404).
await buyer.submit(market, { id: "inference", side: "buy", resource: "gpu-h100-hr", quantity: 100, limitPrice: 1.8, region: "eu-west" });

// Watch before the seller arrives, so the settlement is seen as it is committed.
let resolveSeen!: (s: Settlement) => void;
const seen = new Promise<Settlement>((resolve) => (resolveSeen = resolve));
const sub = new NashClient({ baseUrl }).watch(market, {
  onSettlement: (s) => {
    sub.close();
    resolveSeen(s);
  },
});
await sub.ready;

const answer = await seller.submit(market, { id: "compute", side: "sell", resource: "gpu-h100-hr", quantity: 500, limitPrice: 1.4, region: "eu-west" });
console.log(`seller's intent: ${answer.intent.status}, ${answer.intent.remainingQuantity} left`);

const settlement = await seen;
const round = (x: number) => Number(x.toPrecision(6)); // prices and welfare are floating point
for (const f of settlement.fills) console.log(`${settlement.id}: ${round(f.quantity)} ${f.resource}, ${f.buy} buys from ${f.sell} at ${round(f.price)}`);
console.log(`welfare ${round(settlement.welfare)} (${settlement.stats.status}, solved in ${round(settlement.stats.solveMs)} ms)`);

// The seller withdraws what is left.
const cancelled = await seller.cancel(market, "compute");
console.log(`seller's intent: ${cancelled.intent.status} after ${cancelled.intent.filledQuantity} filled`);
console.log(`watch it live: ${baseUrl}/markets/${market}`);
