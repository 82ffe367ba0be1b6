// The import rule checked in `npm test` (npm run cycles): no module may reach itself through its imports.
// Scope: the code that ships or runs as a tool (src/, sdk/, tools/) and the support code tests and benchmarks
// share (support/). Type-only imports count: a cycle of types still ties the modules' designs together.
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
  ],
  options: {
    includeOnly: "^(src|sdk|tools|support)/",
    exclude: { path: "(^|/)(node_modules|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs", ".json"] },
  },
};
