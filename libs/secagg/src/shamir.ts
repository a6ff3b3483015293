/**
 * Shamir t-of-n secret sharing (Shamir, CACM 1979) byte-wise over GF(2^8) with the AES
 * polynomial x^8 + x^4 + x^3 + x + 1, as used for the key and seed shares of Bonawitz et al.
 * (CCS 2017, §3). Each byte of the secret is the constant term of its own random polynomial of
 * degree t-1; share x holds the evaluations at x. Any t shares give the secret by Lagrange
 * interpolation at 0; fewer than t are independent of it (perfect secrecy per byte).
 *
 * Why our own: the audited `shamir-secret-sharing` package (it loads from CommonJS on Node 20)
 * only offers an async API, picks its own random x-coordinates and requires t >= 2; the protocol
 * needs synchronous calls inside pure state machines, x-coordinates fixed by the recipient's
 * position, and an injectable random source for tests. Same field and polynomial as that
 * package, whose shares ours combine with and vice versa (checked in shamir.spec.ts).
 * Field x-coordinates are 1..255, so a round has at most 255 sites.
 */
import { randomBytes, type RandomSource } from './random';

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
(() => {
  let v = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = v;
    LOG[v] = i;
    // Multiply by the generator 3: v*2 (with reduction) xor v.
    const doubled = (v << 1) ^ (v & 0x80 ? 0x11b : 0);
    v = (doubled ^ v) & 0xff;
  }
  for (let i = 255; i < 510; i++) EXP[i] = EXP[i - 255] as number;
})();

function mul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[(LOG[a] as number) + (LOG[b] as number)] as number;
}

function div(a: number, b: number): number {
  if (a === 0) return 0;
  return EXP[(LOG[a] as number) + 255 - (LOG[b] as number)] as number;
}

/** One share: the x-coordinate (1..255) and the evaluations, one byte per secret byte. */
export interface Share {
  readonly x: number;
  readonly y: Uint8Array;
}

/** Splits `secret` into one share per x in `xs` (distinct, 1..255); any `threshold` of them recover it. */
export function shamirSplit(
  secret: Uint8Array,
  xs: readonly number[],
  threshold: number,
  random: RandomSource,
): Share[] {
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > xs.length) {
    throw new RangeError("'threshold' must be an integer in [1, number of shares]");
  }
  if (new Set(xs).size !== xs.length || xs.some((x) => !Number.isInteger(x) || x < 1 || x > 255)) {
    throw new RangeError("'xs' must be distinct integers in [1, 255]");
  }
  // coefficients[j * len + i] is the degree-(j+1) coefficient of byte i's polynomial.
  const coefficients = randomBytes(random, (threshold - 1) * secret.length);
  return xs.map((x) => {
    const y = new Uint8Array(secret.length);
    for (let i = 0; i < secret.length; i++) {
      // Horner's rule from the highest degree down to the constant term (the secret byte).
      let acc = 0;
      for (let j = threshold - 2; j >= 0; j--)
        acc = mul(acc, x) ^ (coefficients[j * secret.length + i] as number);
      y[i] = mul(acc, x) ^ (secret[i] as number);
    }
    return { x, y };
  });
}

/** Recovers the secret from at least `threshold` shares (all of them are used; pass exactly t or more). */
export function shamirCombine(shares: readonly Share[]): Uint8Array {
  const first = shares[0];
  if (!first) throw new RangeError("'shares' must not be empty");
  if (new Set(shares.map((s) => s.x)).size !== shares.length)
    throw new RangeError("'shares' have duplicate x");
  const len = first.y.length;
  const out = new Uint8Array(len);
  for (const [k, share] of shares.entries()) {
    if (share.y.length !== len) throw new RangeError("'shares' differ in length");
    // Lagrange basis polynomial of x_k evaluated at 0: prod_{m != k} x_m / (x_m - x_k); minus is xor.
    let basis = 1;
    for (const [m, other] of shares.entries()) {
      if (m !== k) basis = mul(basis, div(other.x, other.x ^ share.x));
    }
    for (let i = 0; i < len; i++) out[i] = (out[i] as number) ^ mul(basis, share.y[i] as number);
  }
  return out;
}
