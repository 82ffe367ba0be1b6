// The one codec module: hex, base64, base64url and UTF-8, for the service, the bridge, the CLI and the SDK.
// Decoders answer undefined on text they cannot read, so each caller decides what a bad encoding means.
//
// Encoders write character codes into one byte array and decode it once: signing runs them for every request, and
// building strings a character at a time made them a visible share of the worker's allocations.

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();
const ascii = new TextDecoder();

const codes = (alphabet: string) => Uint8Array.from(alphabet, (c) => c.charCodeAt(0));
const HEX = codes("0123456789abcdef");
const BASE64 = codes("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
const BASE64URL = codes("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
const BASE64_VALUE = valuesOf(BASE64);
const BASE64URL_VALUE = valuesOf(BASE64URL);
const PAD = 61; // "="

/** Each ASCII code's value in `alphabet`, -1 where it is not a character of it. */
function valuesOf(alphabet: Uint8Array): Int8Array {
  const values = new Int8Array(128).fill(-1);
  alphabet.forEach((code, value) => (values[code] = value));
  return values;
}

/** UTF-8 bytes of a string. */
export function utf8ToBytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** The string UTF-8 `bytes` spell; invalid sequences become U+FFFD and a leading BOM is dropped (TextDecoder's rules). */
export function bytesToUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** Lower-case hex. */
export function bytesToHex(bytes: Uint8Array): string {
  const out = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    out[2 * i] = HEX[bytes[i] >> 4];
    out[2 * i + 1] = HEX[bytes[i] & 15];
  }
  return ascii.decode(out);
}

/** Decodes hex of either case, with or without `0x`; undefined on odd length or a non-hex character. */
export function hexToBytes(text: string): Uint8Array | undefined {
  const h = text.startsWith("0x") || text.startsWith("0X") ? text.slice(2) : text;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) return undefined;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** base64 with `=` padding (RFC 4648 section 4). */
export function bytesToBase64(bytes: Uint8Array): string {
  const text = encode(bytes, BASE64);
  return text + "=".repeat((4 - (text.length % 4)) % 4);
}

/** Decodes base64 with or without padding; undefined when the text is not base64. */
export function base64ToBytes(text: string): Uint8Array | undefined {
  return decode(text, BASE64_VALUE);
}

/** base64url without padding (RFC 4648 section 5). */
export function bytesToBase64url(bytes: Uint8Array): string {
  return encode(bytes, BASE64URL);
}

/** Decodes base64url with or without padding; undefined when the text is not base64url. */
export function base64urlToBytes(text: string): Uint8Array | undefined {
  return decode(text, BASE64URL_VALUE);
}

/** Six bits a character, no padding. */
function encode(bytes: Uint8Array, alphabet: Uint8Array): string {
  const out = new Uint8Array(Math.ceil((bytes.length * 4) / 3));
  let o = 0;
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, out.length - o);
    for (let k = 0; k < chars; k++) out[o++] = alphabet[(n >> (18 - 6 * k)) & 63];
  }
  return ascii.decode(out);
}

/** Trailing `=` are dropped; the bits of a last partial byte are ignored. */
function decode(text: string, values: Int8Array): Uint8Array | undefined {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === PAD) end--;
  if (end % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? values[code] : -1;
    if (value < 0) return undefined;
    acc = (acc << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  return out;
}
