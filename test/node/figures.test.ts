// support/figures.ts: a benchmark's run replaces its own section of docs/figures.md and nothing else.
import { describe, expect, it } from "vitest";
import { replaceSection, stamp } from "../../support/figures.ts";

const section = (id: string, body: string) => `<!-- figures:${id} begin -->\n${body}\n<!-- figures:${id} end -->`;

describe("figures", () => {
  it("appends a section the file does not have yet", () => {
    expect(replaceSection("# Figures\n", "solver", "table")).toBe(`# Figures\n\n${section("solver", "table")}\n`);
  });

  it("replaces only its own section, in place", () => {
    const text = `# Figures\n\n${section("solver", "old")}\n\n${section("model", "kept")}\n`;
    expect(replaceSection(text, "solver", "new")).toBe(`# Figures\n\n${section("solver", "new")}\n\n${section("model", "kept")}\n`);
  });

  it("stamps the date, the command and the machine", () => {
    const line = stamp("npm run bench:solver", new Date("2026-12-04T14:45:00Z"));
    expect(line).toMatch(/^Run 2026-12-04 14:45 UTC: `npm run bench:solver`; \d+ cores, \d+ GiB, Node [\d.]+, load average [\d. ]+ at the end\.$/);
  });
});
