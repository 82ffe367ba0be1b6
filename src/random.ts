// A small seeded pseudo-random generator (mulberry32), shared by everything that must replay the same choices
// from a seed: generated markets, training data, relay jitter in tests, crash rounds.

/** Uniform numbers in [0, 1) from a 32-bit seed; the same seed gives the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
