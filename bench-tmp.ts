const oldS = await import("/tmp/xw-old/src/solver/index.ts");
const newS = await import("/work/wt/xwhale/src/solver/index.ts");
const { generateMarket } = await import("/work/wt/xwhale/support/generate.ts");
for (const [size, aon, reps] of [[100, 0, 41], [1000, 0, 21], [1000, 0.2, 11], [10000, 0, 7]] as const) {
  const m = generateMarket(1, { size, allOrNoneShare: aon });
  let tA = Infinity, tB = Infinity, same = true;
  for (let k = 0; k < reps; k++) {
    let c = process.cpuUsage(); const a = oldS.solve(m.intents, m.latency); tA = Math.min(tA, process.cpuUsage(c).user / 1000);
    c = process.cpuUsage(); const b = newS.solve(m.intents, m.latency); tB = Math.min(tB, process.cpuUsage(c).user / 1000);
    if (JSON.stringify({ ...a, solveMs: 0, warmStart: 0 }) !== JSON.stringify({ ...b, solveMs: 0, warmStart: 0 })) same = false;
  }
  console.log(size, aon, same ? "identical" : "DIFFERENT", tA.toFixed(2), tB.toFixed(2), "ms CPU best of", reps);
}
