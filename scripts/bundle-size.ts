// Builds the deployable bundle exactly as `wrangler deploy` would (--dry-run: nothing is uploaded) and reports
// its size, raw and gzipped, against Cloudflare's Worker size limits (3 MB free plan, 10 MB paid, gzipped).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parseFlags, parseOrExit } from "../src/cli/args.ts";

parseOrExit("usage: npm run bundle-size (no flags)", () => parseFlags({ options: {} }));
const outdir = mkdtempSync(join(tmpdir(), "nash-bundle-"));
const build = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], {
  encoding: "utf8",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
});
if (build.status !== 0) {
  process.stderr.write(build.stdout + build.stderr);
  process.exit(build.status ?? 1);
}

const files = readdirSync(outdir, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile())
  .map((e) => join(e.parentPath, e.name))
  // Source maps and wrangler's README are written beside the bundle but not uploaded.
  .filter((f) => !f.endsWith(".map") && !f.endsWith("README.md"));
let raw = 0;
let gzipped = 0;
const rows: string[] = [];
for (const file of files) {
  const bytes = readFileSync(file);
  const gz = gzipSync(bytes, { level: 9 }).length;
  raw += statSync(file).size;
  gzipped += gz;
  rows.push(`| ${file.slice(outdir.length + 1)} | ${(bytes.length / 1024).toFixed(1)} KiB | ${(gz / 1024).toFixed(1)} KiB |`);
}
const mb = (n: number) => (n / 1024 / 1024).toFixed(2) + " MiB";
console.log("wrangler deploy --dry-run: the bundle\n\n| file | raw | gzip |\n|---|---|---|\n" + rows.join("\n"));
console.log(`| **total** | ${mb(raw)} | ${mb(gzipped)} |\n`);
const PAID_LIMIT = 10 * 1024 * 1024;
if (gzipped > PAID_LIMIT) {
  console.error(`bundle is ${mb(gzipped)} gzipped, over the 10 MiB Workers limit`);
  process.exit(1);
}
console.log(`within the paid-plan limit (10 MiB gzipped)${gzipped > 3 * 1024 * 1024 ? "; over the free plan's 3 MiB" : "; within the free plan's 3 MiB"}`);
