// A tiny PNG writer (8-bit RGB, zlib from node:zlib) for the training report's calibration plot: no image
// dependency for one picture.
import { crc32, deflateSync } from "node:zlib";

export interface Canvas {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export function canvas(width: number, height: number, background = 0xffffff): Canvas {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    rgb[i * 3] = background >> 16;
    rgb[i * 3 + 1] = (background >> 8) & 0xff;
    rgb[i * 3 + 2] = background & 0xff;
  }
  return { width, height, rgb };
}

export function plot(c: Canvas, x: number, y: number, color: number, alpha = 1): void {
  if (x < 0 || y < 0 || x >= c.width || y >= c.height) return;
  const i = (Math.floor(y) * c.width + Math.floor(x)) * 3;
  const mix = (old: number, v: number) => Math.round(old * (1 - alpha) + v * alpha);
  c.rgb[i] = mix(c.rgb[i], color >> 16);
  c.rgb[i + 1] = mix(c.rgb[i + 1], (color >> 8) & 0xff);
  c.rgb[i + 2] = mix(c.rgb[i + 2], color & 0xff);
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

export function encodePng(c: Canvas): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(c.width, 0);
  ihdr.writeUInt32BE(c.height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter method, no interlace
  const raw = Buffer.alloc((c.width * 3 + 1) * c.height);
  for (let y = 0; y < c.height; y++) {
    raw[y * (c.width * 3 + 1)] = 0; // filter: none
    raw.set(c.rgb.subarray(y * c.width * 3, (y + 1) * c.width * 3), y * (c.width * 3 + 1) + 1);
  }
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array(0))]);
}
