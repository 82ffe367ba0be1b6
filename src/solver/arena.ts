// Typed arrays carved out of one zeroed buffer. A typed array of more than 64 bytes is an allocation of its own,
// off the JS heap (a backing store the garbage collector must track and free); a small solve makes hundreds of
// them, one set per component, and they cost more than its pivots. One buffer per call with views into it costs one
// such allocation. Views keep the whole buffer alive, so arrays that outlive a call should come from a small arena.

export class Arena {
  readonly #buffer: ArrayBuffer;
  #at = 0;

  /** Room for `f64` doubles, `i32` 32-bit integers and `i8` bytes, carved in that order (each view is aligned). */
  constructor(f64: number, i32: number, i8 = 0) {
    this.#buffer = new ArrayBuffer(8 * f64 + 4 * i32 + i8);
  }

  f64(n: number): Float64Array {
    const a = new Float64Array(this.#buffer, this.#at, n);
    this.#at += 8 * n;
    return a;
  }

  i32(n: number): Int32Array {
    const a = new Int32Array(this.#buffer, this.#at, n);
    this.#at += 4 * n;
    return a;
  }

  i8(n: number): Int8Array {
    const a = new Int8Array(this.#buffer, this.#at, n);
    this.#at += n;
    return a;
  }

  u8(n: number): Uint8Array {
    const a = new Uint8Array(this.#buffer, this.#at, n);
    this.#at += n;
    return a;
  }
}
