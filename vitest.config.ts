// Two test layers: pure code in Node, routes and the market object inside workerd.
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-plugin";

export default defineConfig({
  test: {
    projects: [
      { test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node", testTimeout: 120_000 } },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // The adversarial suite's size and focus, passed from the shell (test/workers/adversarial.test.ts).
            miniflare: { bindings: { ADVERSARIAL_RUNS: process.env.ADVERSARIAL_RUNS ?? "", ADVERSARIAL_PROPERTIES: process.env.ADVERSARIAL_PROPERTIES ?? "", ADVERSARIAL_SEED: process.env.ADVERSARIAL_SEED ?? "" } },
          }),
        ],
        test: { name: "workers", include: ["test/workers/**/*.test.ts"], testTimeout: 60_000 },
      },
    ],
  },
});
