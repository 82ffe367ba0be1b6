// The import rules checked by `npm run imports` (notes/contract.md). Scope: the code that ships or runs as a tool
// (src/, sdk/, tools/) and the support code tests and benchmarks share (support/).
// 1. No cycles: no module may reach itself through its imports. Type-only imports count: a cycle of types still
//    ties the modules' designs together.
// 2. The contract (src/contract/) is a leaf: it imports only itself, zod and @noble/hashes, so the SDK tarball
//    and every runtime (workerd, Node, browsers) can carry it.
const { builtinModules } = require("node:module");

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A module reaches itself through its imports; move the shared part into a module both import.",
      from: {},
      to: { circular: true },
    },
    {
      name: "contract-is-a-leaf",
      severity: "error",
      comment: "src/contract/ imports only itself, zod and @noble/hashes.",
      from: { path: "^src/contract/" },
      to: { pathNot: ["^src/contract/", "^node_modules/(zod|@noble/hashes)/"] },
    },
  ],
  options: {
    // The scope, plus the packages and Node built-ins it imports (seen, not followed), for the leaf rule.
    includeOnly: ["^(src|sdk|tools|support|node_modules)/", `^(${builtinModules.join("|")})$`],
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)dist/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs", ".json"] },
  },
};
