#!/usr/bin/env node
// The `nash` command. The CLI is TypeScript run by Node's type stripping (Node >= 22.18); on an older Node
// (the machine's own, when called outside npm) it re-runs itself with the project's Node 22 from node_modules.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(root, "src", "cli", "main.ts");
const [major, minor] = process.versions.node.split(".").map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  const { run } = await import(main);
  process.exitCode = await run(process.argv.slice(2));
} else {
  const node22 = join(root, "node_modules", ".bin", "node");
  if (!existsSync(node22)) {
    process.stderr.write("nash: needs Node >= 22.18 (run `npm install` in the project to get it)\n");
    process.exit(2);
  }
  const result = spawnSync(node22, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}
