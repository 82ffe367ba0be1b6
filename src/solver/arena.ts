// Typed arrays carved out of one zeroed buffer. A typed array of more than 64 bytes is an allocation of its own,
// off the JS heap (a backing store the garbage collector must track and free); a small solve makes hundreds of
// them, one set per component, and together they cost more than its pivots. An arena makes one such allocation
// for all the large arrays of a call (views into it); arrays of up to 64 bytes stay ordinary (they live on the JS
// heap and cost less than a view). Views keep the whole buffer alive as long as any of them is.

const ON_HEAP_BYTES = 64;

export class Arena {
  readonly #bytes: number;
  #buffer: ArrayBuffer | null = null;
  #at = 0;

  /** Room for `f64` doubles, `i32` 32-bit integers and `i8` bytes, carved in that order (so each view is aligned). */
  constructor(f64: number, i32: number, i8 = 0) {
    this.#bytes = 8 * f64 + 4 * i32 + i8;
  }

  /** The buffer, allocated on first use. */
  #use(): ArrayBuffer {
    return (this.#buffer ??= new ArrayBuffer(this.#bytes));
  }

  /** Where the next `bytes` of the buffer start. */
  #take(bytes: number): number {
    const at = this.#at;
    this.#at += bytes;
    return at;
  }

  f64(n: number): Float64Array {
    return 8 * n <= ON_HEAP_BYTES ? new Float64Array(n) : new Float64Array(this.#use(), this.#take(8 * n), n);
  }

  i32(n: number): Int32Array {
    return 4 * n <= ON_HEAP_BYTES ? new Int32Array(n) : new Int32Array(this.#use(), this.#take(4 * n), n);
  }

  i8(n: number): Int8Array {
    return n <= ON_HEAP_BYTES ? new Int8Array(n) : new Int8Array(this.#use(), this.#take(n), n);
  }

  u8(n: number): Uint8Array {
    return n <= ON_HEAP_BYTES ? new Uint8Array(n) : new Uint8Array(this.#use(), this.#take(n), n);
  }
}
