/**
 * Seeded uniform PRNG (mulberry32) for reproducible shuffling and splits. Not for anything
 * security- or privacy-relevant.
 */
export function seededUniform(seed: number): () => number {
  if (!Number.isInteger(seed)) throw new TypeError("'seed' must be an integer");
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, seed: number): Uint32Array {
  const next = seededUniform(seed);
  const out = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}
