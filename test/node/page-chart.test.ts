// support/chart.ts and support/progress.ts: the PNG line/bar chart writer (decoded back and checked pixel by pixel) and the progress lines.
import { describe, expect, test } from "vitest";
import { PALETTE, barChart, encodePng, lineChart, niceTicks, raster, fillRect } from "../../support/chart.ts";
import { formatDuration, progress, progressLine } from "../../support/progress.ts";
import { countColour, decodePng } from "./page-png.ts";

describe("PNG charts", () => {
  test("a raster round-trips through the encoder", () => {
    const r = raster(7, 5, [10, 20, 30]);
    fillRect(r, 2, 1, 3, 2, [200, 100, 50]);
    const img = decodePng(encodePng(r));
    expect([img.width, img.height, img.channels]).toEqual([7, 5, 3]);
    expect(Buffer.from(img.pixels)).toEqual(Buffer.from(r.rgb));
  });

  test("bar heights are proportional to the values", () => {
    const png = barChart([{ label: "a", values: [10] }, { label: "b", values: [30] }], { title: "Bars", width: 400, height: 300 });
    const img = decodePng(png);
    expect([img.width, img.height]).toEqual([400, 300]);
    // Measure each bar: the tallest run of the first palette colour in its column band.
    const heightAt = (x: number) => {
      let n = 0;
      for (let y = 0; y < img.height; y++) {
        const i = (y * img.width + x) * 3;
        if (img.pixels[i] === PALETTE[0][0] && img.pixels[i + 1] === PALETTE[0][1] && img.pixels[i + 2] === PALETTE[0][2]) n++;
      }
      return n;
    };
    const left = 70, plotW = 400 - 70 - 20, group = plotW / 2;
    const a = heightAt(Math.round(left + group * 0.5)), b = heightAt(Math.round(left + group * 1.5));
    expect(a).toBeGreaterThan(10);
    expect(b / a).toBeCloseTo(3, 1);
  });

  test("a line chart draws each series in its colour", () => {
    const png = lineChart(
      [
        { name: "train", points: [[0, 1], [1, 0.5], [2, 0.3], [3, 0.2]] },
        { name: "test", points: [[0, 1.1], [1, 0.7], [2, 0.5], [3, 0.45]] },
      ],
      { title: "Loss by epoch", xLabel: "epoch", yLabel: "loss" },
    );
    const img = decodePng(png);
    expect([img.width, img.height]).toEqual([640, 400]);
    expect(countColour(img, PALETTE[0], 0)).toBeGreaterThan(300);
    expect(countColour(img, PALETTE[1], 0)).toBeGreaterThan(300);
  });

  test("ticks are round numbers covering the range", () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 97)).toEqual([20, 40, 60, 80]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });
});

describe("progress lines", () => {
  test("the line says count, percent, rate and time left", () => {
    expect(progressLine("solve", 25, 100, 5000)).toBe("solve [#####...............] 25/100 25.0% 5.00/s elapsed 5.0 s left 15.0 s");
    expect(formatDuration(125_000)).toBe("2 min 05 s");
    expect(formatDuration(3_720_000)).toBe("1 h 02 min");
  });

  test("in a log (not a terminal) it prints at most one line per interval, and a final line", () => {
    let t = 0;
    const lines: string[] = [];
    const p = progress("train", 1000, { tty: false, everyMs: 1000, now: () => t, write: (s) => lines.push(s) });
    for (let i = 0; i < 1000; i++) {
      t += 10; // 10 s in all
      p.tick();
    }
    p.finish();
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines.at(-1)).toMatch(/^train \[#{20}\] 1000\/1000 100\.0% 100\/s elapsed 10\.0 s left 0\.0 s\n$/);
  });

  test("on a terminal it rewrites one line", () => {
    const out: string[] = [];
    let t = 0;
    const p = progress("bench", 3, { tty: true, now: () => (t += 200), write: (s) => out.push(s) });
    p.tick();
    p.tick();
    p.tick();
    p.finish();
    expect(out.every((s) => s.startsWith("\r") || s === "\n")).toBe(true);
    expect(out.at(-1)).toBe("\n");
  });
});
