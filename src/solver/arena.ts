// Typed arrays carved out of one zeroed buffer. A typed array of more than 64 bytes is an allocation of its own,
// off the JS heap (a backing store the garbage collector must track and free); a small solve makes hundreds of
// them, one set per component, and together they cost more than its pivots. An arena makes one such allocation
// for all the large arrays of a call (views into it); arrays of up to 64 bytes stay ordinary (they live on the JS
// heap and cost less than a view). Views keep the whole buffer alive as long as any of them is.

const ON_HEAP_BYTES = 64;

export class Arena {
  readonly #bytes: number;
  #buffer: ArrayBuffer | undefined;
  #at = 0;

  /** Room for `f64` doubles, `i32` 32-bit integers and `i8` bytes, carved in that order (so each view is aligned). */
  constructor(f64: number, i32: number, i8 = 0) {
    this.#bytes = 8 * f64 + 4 * i32 + i8;
  }

  /** The buffer (allocated on first use) and where the next `bytes` of it go. */
  #take(bytes: number): [ArrayBuffer, number] {
    this.#buffer ??= new ArrayBuffer(this.#bytes);
    const at = this.#at;
    this.#at += bytes;
    return [this.#buffer, at];
  }

  f64(n: number): Float64Array {
    if (8 * n <= ON_HEAP_BYTES) return new Float64Array(n);
    const [buffer, at] = this.#take(8 * n);
    return new Float64Array(buffer, at, n);
  }

  i32(n: number): Int32Array {
    if (4 * n <= ON_HEAP_BYTES) return new Int32Array(n);
    const [buffer, at] = this.#take(4 * n);
    return new Int32Array(buffer, at, n);
  }

  i8(n: number): Int8Array {
    if (n <= ON_HEAP_BYTES) return new Int8Array(n);
    const [buffer, at] = this.#take(n);
    return new Int8Array(buffer, at, n);
  }

  u8(n: number): Uint8Array {
    if (n <= ON_HEAP_BYTES) return new Uint8Array(n);
    const [buffer, at] = this.#take(n);
    return new Uint8Array(buffer, at, n);
  }
}
