// The solver under test, loaded dynamically so that a missing or broken solver fails every test that asks for it with
// one clear message (instead of a skipped file or a bare import error).
type SolverModule = typeof import("../../src/solver/index.ts");
let solver: SolverModule | undefined;
let loadError: unknown;
try {
  solver = await import("../../src/solver/index.ts");
} catch (error) {
  loadError = error;
}

/** src/solver/index.ts, or an error saying it did not load. */
export function requireSolver(): SolverModule {
  if (!solver) throw new Error(`src/solver/index.ts did not load, so the solver cannot be checked: ${String(loadError)}`);
  return solver;
}
