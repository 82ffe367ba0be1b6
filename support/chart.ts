// PNG line and bar charts for benchmark and training reports, with no image dependency: an RGB raster, a
// 3×5 bitmap font for titles and axis labels, and a PNG encoder on node:zlib (deflate + crc32).
import { crc32, deflateSync } from "node:zlib";

export interface Raster {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export type Colour = readonly [number, number, number];

/** Series colours, in order (colour-blind-safe Okabe–Ito). */
export const PALETTE: readonly Colour[] = [
  [0, 114, 178], [213, 94, 0], [0, 158, 115], [204, 121, 167], [230, 159, 0], [86, 180, 233], [0, 0, 0],
];
const INK: Colour = [40, 40, 40];
const GRID: Colour = [225, 225, 225];

export function raster(width: number, height: number, background: Colour = [255, 255, 255]): Raster {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(background, i * 3);
  return { width, height, rgb };
}

function plot(r: Raster, x: number, y: number, c: Colour): void {
  x = Math.round(x);
  y = Math.round(y);
  if (x < 0 || y < 0 || x >= r.width || y >= r.height) return;
  r.rgb.set(c, (y * r.width + x) * 3);
}

export function fillRect(r: Raster, x0: number, y0: number, w: number, h: number, c: Colour): void {
  for (let y = Math.round(y0); y < Math.round(y0 + h); y++) for (let x = Math.round(x0); x < Math.round(x0 + w); x++) plot(r, x, y, c);
}

/** A line `thickness` pixels wide (Bresenham on a square brush). */
export function line(r: Raster, x0: number, y0: number, x1: number, y1: number, c: Colour, thickness = 1): void {
  const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
  const half = Math.floor(thickness / 2);
  for (let i = 0; i <= steps; i++) {
    const x = x0 + ((x1 - x0) * i) / steps;
    const y = y0 + ((y1 - y0) * i) / steps;
    for (let dy = -half; dy < thickness - half; dy++) for (let dx = -half; dx < thickness - half; dx++) plot(r, x + dx, y + dy, c);
  }
}

// 3×5 glyphs, rows top to bottom, 3 bits each (4 = left column). Lower case is drawn as upper case.
const GLYPHS: Record<string, number[]> = {
  "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 2, 2], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
  A: [2, 5, 7, 5, 5], B: [6, 5, 6, 5, 6], C: [3, 4, 4, 4, 3], D: [6, 5, 5, 5, 6], E: [7, 4, 6, 4, 7], F: [7, 4, 6, 4, 4],
  G: [3, 4, 5, 5, 3], H: [5, 5, 7, 5, 5], I: [7, 2, 2, 2, 7], J: [1, 1, 1, 5, 2], K: [5, 5, 6, 5, 5], L: [4, 4, 4, 4, 7],
  M: [5, 7, 7, 5, 5], N: [6, 5, 5, 5, 5], O: [2, 5, 5, 5, 2], P: [6, 5, 6, 4, 4], Q: [2, 5, 5, 6, 3], R: [6, 5, 6, 5, 5],
  S: [3, 4, 2, 1, 6], T: [7, 2, 2, 2, 2], U: [5, 5, 5, 5, 7], V: [5, 5, 5, 5, 2], W: [5, 5, 7, 7, 5], X: [5, 5, 2, 5, 5],
  Y: [5, 5, 2, 2, 2], Z: [7, 1, 2, 4, 7], ".": [0, 0, 0, 0, 2], ",": [0, 0, 0, 2, 4], "-": [0, 0, 7, 0, 0], "+": [0, 2, 7, 2, 0],
  "%": [5, 1, 2, 4, 5], "/": [1, 1, 2, 4, 4], "(": [1, 2, 2, 2, 1], ")": [4, 2, 2, 2, 4], ":": [0, 2, 0, 2, 0], "=": [0, 7, 0, 7, 0],
  "_": [0, 0, 0, 0, 7], "<": [1, 2, 4, 2, 1], ">": [4, 2, 1, 2, 4], "#": [5, 7, 5, 7, 5], " ": [0, 0, 0, 0, 0],
};

/** Width in pixels of `text` at `scale`. */
export function textWidth(text: string, scale = 2): number {
  return text.length * 4 * scale - scale;
}

/** Draws `text` with its top-left corner at (x, y); unknown characters are drawn as `#`-less gaps. */
export function text(r: Raster, x: number, y: number, s: string, c: Colour = INK, scale = 2): void {
  let cx = x;
  for (const ch of s.toUpperCase()) {
    const glyph = GLYPHS[ch] ?? GLYPHS[" "];
    for (let row = 0; row < 5; row++) {
      for (let col = 0; col < 3; col++) if (glyph[row] & (4 >> col)) fillRect(r, cx + col * scale, y + row * scale, scale, scale, c);
    }
    cx += 4 * scale;
  }
}

/** Encodes an RGB raster as PNG (8-bit truecolour, filter 0 per row). */
export function encodePng(r: Raster): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, "ascii");
    data.copy(out, 8);
    out.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, "ascii"), data])) >>> 0, 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(r.width, 0);
  header.writeUInt32BE(r.height, 4);
  header[8] = 8;
  header[9] = 2;
  const rows = Buffer.alloc((r.width * 3 + 1) * r.height);
  for (let y = 0; y < r.height; y++) Buffer.from(r.rgb.buffer, r.rgb.byteOffset + y * r.width * 3, r.width * 3).copy(rows, y * (r.width * 3 + 1) + 1);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

/** Round numbers for axis ticks: about `count` steps of 1, 2 or 5 × 10^k covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function label(n: number): string {
  const a = Math.abs(n);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return n.toExponential(1).replace("e+", "e");
  return String(Number(n.toPrecision(4)));
}

export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
}

export interface ChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Force the y axis to start at 0 (default true for bar charts, false for lines). */
  yFromZero?: boolean;
}

interface Frame {
  r: Raster;
  left: number;
  top: number;
  plotW: number;
  plotH: number;
  y: (v: number) => number;
}

function frame(options: ChartOptions, yLo: number, yHi: number, legend: string[]): Frame {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const r = raster(width, height);
  const left = 70, right = 20, top = 40 + 14 * Math.ceil(legend.length / 3), bottom = 50;
  const plotW = width - left - right, plotH = height - top - bottom;
  text(r, left, 12, options.title, INK, 2);
  legend.forEach((name, i) => {
    const lx = left + (i % 3) * Math.floor(plotW / 3), ly = 34 + 14 * Math.floor(i / 3);
    fillRect(r, lx, ly, 12, 8, PALETTE[i % PALETTE.length]);
    text(r, lx + 16, ly - 1, name, INK, 2);
  });
  const ticks = niceTicks(yLo, yHi);
  const lo = Math.min(yLo, ticks[0]), hi = Math.max(yHi, ticks[ticks.length - 1]);
  const y = (v: number) => top + plotH - ((v - lo) / (hi - lo || 1)) * plotH;
  for (const t of ticks) {
    line(r, left, y(t), left + plotW, y(t), GRID);
    const s = label(t);
    text(r, left - 6 - textWidth(s), y(t) - 5, s);
  }
  line(r, left, top, left, top + plotH, INK);
  line(r, left, top + plotH, left + plotW, top + plotH, INK);
  if (options.xLabel) text(r, left + plotW / 2 - textWidth(options.xLabel) / 2, height - 16, options.xLabel);
  if (options.yLabel) text(r, 4, top - 14, options.yLabel);
  return { r, left, top, plotW, plotH, y };
}

/** A line chart of one or more series; x and y axes are linear. */
export function lineChart(series: readonly Series[], options: ChartOptions): Buffer {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xLo = Math.min(...xs, Infinity), xHi = Math.max(...xs, -Infinity);
  const yLo = options.yFromZero ? Math.min(0, ...ys) : Math.min(...ys), yHi = Math.max(...ys);
  const f = frame(options, Number.isFinite(yLo) ? yLo : 0, Number.isFinite(yHi) ? yHi : 1, series.map((s) => s.name));
  const xTicks = niceTicks(xLo, xHi);
  const x0 = Math.min(xLo, xTicks[0]), x1 = Math.max(xHi, xTicks[xTicks.length - 1]);
  const x = (v: number) => f.left + ((v - x0) / (x1 - x0 || 1)) * f.plotW;
  for (const t of xTicks) {
    line(f.r, x(t), f.top + f.plotH, x(t), f.top + f.plotH + 4, INK);
    const s = label(t);
    text(f.r, x(t) - textWidth(s) / 2, f.top + f.plotH + 8, s);
  }
  series.forEach((s, i) => {
    const c = PALETTE[i % PALETTE.length];
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < pts.length; k++) line(f.r, x(pts[k - 1][0]), f.y(pts[k - 1][1]), x(pts[k][0]), f.y(pts[k][1]), c, 2);
    if (pts.length === 1) fillRect(f.r, x(pts[0][0]) - 2, f.y(pts[0][1]) - 2, 5, 5, c);
  });
  return encodePng(f.r);
}

/** A bar chart: one bar per label, or grouped bars when `values` has several series. */
export function barChart(bars: ReadonlyArray<{ label: string; values: readonly number[] }>, options: ChartOptions & { seriesNames?: string[] }): Buffer {
  const all = bars.flatMap((b) => b.values);
  const f = frame(options, Math.min(0, ...all), Math.max(0, ...all, 1e-12), options.seriesNames ?? []);
  const group = f.plotW / Math.max(1, bars.length);
  const per = Math.max(...bars.map((b) => b.values.length), 1);
  const barW = Math.max(1, (group * 0.8) / per);
  bars.forEach((b, i) => {
    const gx = f.left + i * group + group * 0.1;
    b.values.forEach((v, k) => {
      const top = Math.min(f.y(v), f.y(0)), h = Math.abs(f.y(v) - f.y(0));
      fillRect(f.r, gx + k * barW, top, Math.max(1, barW - 1), Math.max(1, h), PALETTE[k % PALETTE.length]);
    });
    const s = b.label.length * 8 > group ? b.label.slice(0, Math.max(1, Math.floor(group / 8))) : b.label;
    text(f.r, gx + (group * 0.8) / 2 - textWidth(s) / 2, f.top + f.plotH + 8, s);
  });
  return encodePng(f.r);
}
