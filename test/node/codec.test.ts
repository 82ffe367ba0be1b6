// src/contract/codec.ts against Node's Buffer, an independent implementation of the same RFC 4648 encodings.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { base64ToBytes, base64urlToBytes, bytesToBase64, bytesToBase64url, bytesToHex, bytesToUtf8, hexToBytes, utf8ToBytes } from "../../src/contract/codec.ts";

const bytes = fc.uint8Array({ maxLength: 80 });

describe("codec", () => {
  test("every encoder agrees with Buffer and every decoder inverts it", () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const buffer = Buffer.from(b);
        expect(bytesToHex(b)).toBe(buffer.toString("hex"));
        expect(bytesToBase64(b)).toBe(buffer.toString("base64"));
        expect(bytesToBase64url(b)).toBe(buffer.toString("base64url"));
        expect(hexToBytes(bytesToHex(b))).toEqual(b);
        expect(base64ToBytes(bytesToBase64(b))).toEqual(b);
        expect(base64urlToBytes(bytesToBase64url(b))).toEqual(b);
      }),
    );
  });

  test("hex: either case and 0x are read; odd length and junk are refused", () => {
    expect(hexToBytes("0xDEadbeef")).toEqual(Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    expect(hexToBytes("")).toEqual(new Uint8Array(0));
    expect(hexToBytes("abc")).toBeUndefined();
    expect(hexToBytes("zz")).toBeUndefined();
  });

  test("base64: padding optional; the other alphabet and impossible lengths are refused", () => {
    expect(base64ToBytes("+/8")).toEqual(Uint8Array.of(0xfb, 0xff));
    expect(base64ToBytes("-_8")).toBeUndefined();
    expect(base64urlToBytes("+/8")).toBeUndefined();
    expect(base64ToBytes("abcde")).toBeUndefined();
  });

  test("utf8 agrees with Buffer on any string (a leading BOM is dropped on decoding, as TextDecoder does)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }).filter((s) => !s.startsWith("\uFEFF")), (s) => {
        expect(utf8ToBytes(s)).toEqual(new Uint8Array(Buffer.from(s, "utf8")));
        expect(bytesToUtf8(utf8ToBytes(s))).toBe(s);
      }),
    );
  });
});
