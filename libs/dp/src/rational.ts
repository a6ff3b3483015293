/** Exact rationals from doubles, for the exact samplers (arXiv:2004.00010 assumes rational σ²). */

/** A non-negative rational num/den with bigint parts. */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

/** The exact value of a finite, non-negative double as a rational (a double is m / 2^k). */
export function toRational(x: number): Rational {
  if (!Number.isFinite(x) || x < 0) throw new RangeError("'x' must be a finite number >= 0");
  let den = 1n;
  let v = x;
  // Doubling is exact in binary floating point, and at most 1074 steps make any double an integer.
  while (!Number.isInteger(v)) {
    v *= 2;
    den *= 2n;
  }
  return { num: BigInt(v), den };
}

/** floor(sqrt(n)) for a bigint n >= 0 (Newton's method on integers). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError("'n' must be >= 0");
  if (n < 2n) return n;
  let x = n;
  let y = (x + 1n) / 2n;
  while (y < x) {
    x = y;
    y = (x + n / x) / 2n;
  }
  return x;
}
