/**
 * Exact uniform draws from a byte source: integers by rejection (no modulo bias), doubles from
 * 53 random bits, and Bernoulli trials with exact rational probabilities (bigint), as the exact
 * samplers of Canonne, Kamath, Steinke (arXiv:2004.00010, §5) require.
 */
import type { RandomSource } from './random-source';

const POOL_BYTES = 4096;

/** Buffers a RandomSource and draws uniform values from it. */
export class UniformSampler {
  private pool = new Uint8Array(POOL_BYTES);
  private at = POOL_BYTES;

  constructor(private readonly source: RandomSource) {}

  /** One uniformly random byte. */
  byte(): number {
    if (this.at >= POOL_BYTES) {
      this.source.fill(this.pool);
      this.at = 0;
    }
    return this.pool[this.at++] as number;
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    return ((this.byte() << 24) | (this.byte() << 16) | (this.byte() << 8) | this.byte()) >>> 0;
  }

  /** A uniform integer in [0, n), 1 <= n <= 2^32, by rejection so every value is equally likely. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32)
      throw new RangeError("'n' must be an integer in [1, 2^32]");
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.uint32();
      if (x < limit) return x % n;
    }
  }

  /** A uniform bigint in [0, n), n >= 1, by rejection over the smallest covering power of two. */
  bigint(n: bigint): bigint {
    if (n < 1n) throw new RangeError("'n' must be >= 1");
    if (n <= 2n ** 32n) return BigInt(this.int(Number(n)));
    const bits = n.toString(2).length;
    const bytes = Math.ceil(bits / 8);
    const excess = BigInt(bytes * 8 - bits);
    for (;;) {
      let x = 0n;
      for (let i = 0; i < bytes; i++) x = (x << 8n) | BigInt(this.byte());
      x >>= excess;
      if (x < n) return x;
    }
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  unit(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** True with probability exactly num/den (0 <= num <= den, den >= 1). */
  bernoulli(num: bigint, den: bigint): boolean {
    if (den < 1n || num < 0n || num > den) throw new RangeError("'num'/'den' must be a probability");
    return this.bigint(den) < num;
  }
}
