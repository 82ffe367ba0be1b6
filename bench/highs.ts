// How long the HiGHS reference takes on generated markets (6 regions, 2 resources, 40% latency caps), printed as a
// table. Run: npx node bench/highs.ts [sizes...] (default 100 250 500 1000). Not a test.
import { generateMarket } from "../support/generate.ts";
import { solveWithHighs } from "../support/highs.ts";

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const variants = [
  { name: "no minQuantity", options: {} },
  { name: "20% minQuantity, 10% all-or-none", options: { minQuantityShare: 0.2, allOrNoneShare: 0.1 } },
];
console.log("| intents | market | pairs | binaries | welfare | HiGHS ms |");
console.log("|---:|---|---:|---:|---:|---:|");
for (const size of sizes.length > 0 ? sizes : [100, 250, 500, 1000]) {
  for (const { name, options } of variants) {
    const m = generateMarket(size, { size, regions: 6, resources: 2, latencyCapShare: 0.4, ...options });
    const r = solveWithHighs(m.intents, m.latency);
    console.log(`| ${size} | ${name} | ${r.pairs} | ${r.binaries} | ${r.welfare.toFixed(2)} | ${r.ms.toFixed(0)} |`);
  }
}
