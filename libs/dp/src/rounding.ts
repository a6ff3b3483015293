/**
 * Clipping and randomized rounding of real vectors to integers, as in the distributed discrete
 * Gaussian of Kairouz, Liu, Steinke 2021 (arXiv:2102.06387, Algorithm 1, steps "clip, scale,
 * round"): scale by 1/γ, clip to L2 norm c/γ, round each coordinate up with probability equal
 * to its fractional part (unbiased), and resample until the rounded norm is within the
 * conditional bound, so the L2 sensitivity of the integer vector is known. (The random rotation
 * step of that algorithm is not applied: our vectors are class-probability sums, already flat.)
 */
import { cryptoRandom, type RandomSource } from './random-source';
import { ROUND_BLOCK, roundBlock } from './simd-round';

/** Quantization parameters. */
export interface QuantizeOptions {
  /** L2 clipping norm C of the real vector (same units as the input), > 0. */
  readonly clip: number;
  /** Granularity γ: one integer unit is γ real units, > 0. Smaller γ means less rounding error. */
  readonly granularity: number;
  /** Probability β in (0, 1) that one rounding attempt exceeds the norm bound; KLS21 use exp(-0.5). */
  readonly beta?: number;
}

/** Scales `x` down so its L2 norm is at most `clip`; returns a new array. */
export function clipL2(x: Float64Array, clip: number): Float64Array {
  // Plain indexed loops: iterator and mapFn forms of typed-array methods are far slower in V8.
  const factor = clipFactor(x, clip);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) * factor;
  return out;
}

/**
 * The L2 norm bound of the rounded vector (KLS21, §4, conditional randomized rounding):
 * min(sqrt(c² + d/4 + sqrt(2 ln(1/β)) (c + sqrt(d)/2)), c + sqrt(d)), c = C/γ, d the dimension.
 */
export function roundedNormBound(
  clip: number,
  granularity: number,
  dimension: number,
  beta = Math.exp(-0.5),
): number {
  if (!(beta > 0 && beta < 1)) throw new RangeError("'beta' must be in (0, 1)");
  const c = clip / granularity;
  const d = dimension;
  const tight = Math.sqrt(c * c + d / 4 + Math.sqrt(2 * Math.log(1 / beta)) * (c + Math.sqrt(d) / 2));
  return Math.min(tight, c + Math.sqrt(d));
}

/**
 * Clips, scales and rounds `x` to integers with L2 norm <= `roundedNormBound(...)`. Writes into
 * `out` when given (length d; reusing one buffer per round avoids a fresh multi-megabyte
 * allocation, which costs ~10 ms of page faults per 4 MB on the reference VM).
 */
export function quantize(
  x: Float64Array,
  options: QuantizeOptions,
  random: RandomSource = cryptoRandom,
  out: Int32Array = new Int32Array(x.length),
): Int32Array {
  const { clip, granularity, beta = Math.exp(-0.5) } = options;
  if (!(granularity > 0)) throw new RangeError("'granularity' must be > 0");
  if (out.length !== x.length) throw new RangeError("'out' must have the length of 'x'");
  // After clipping every |x_i|·scale <= clip/γ, so this keeps each rounded entry within int32.
  if (!(clip / granularity < 2 ** 31 - 1)) {
    throw new RangeError("'clip' / 'granularity' must be below 2^31 - 1 so every entry fits in 32 bits");
  }
  const scale = clipFactor(x, clip) / granularity;
  const bound = roundedNormBound(clip, granularity, x.length, beta);
  // Each attempt passes with probability >= 1 - β; 200 failures in a row would mean a bug.
  for (let attempt = 0; attempt < 200; attempt++) {
    if (roundInto(x, scale, random, out) <= bound * bound) return out;
  }
  throw new Error('randomized rounding kept exceeding its norm bound');
}

// The factor that brings x to L2 norm <= clip (1 if it is already within).
function clipFactor(x: Float64Array, clip: number): number {
  if (!(clip > 0)) throw new RangeError("'clip' must be > 0");
  let sq = 0;
  for (let i = 0; i < x.length; i++) sq += (x[i] as number) * (x[i] as number);
  const norm = Math.sqrt(sq);
  return norm > clip ? clip / norm : 1;
}

// One rounding attempt of x·scale into out; returns the squared norm of the result. One 32-bit
// uniform per coordinate: floor(v + u·2^-32), u uniform in [0, 2^32), is floor(v) + 1 exactly
// when u·2^-32 >= 1 - frac(v), i.e. with probability frac(v) resolved to about 2^-32 (a little
// coarser above |v| = 2^20, where the double sum drops low bits of u). Computed in blocks of
// 16384 coordinates by the SIMD kernel of simd-round.ts, uniforms drawn straight into its memory.
function roundInto(x: Float64Array, scale: number, random: RandomSource, out: Int32Array): number {
  let sq = 0;
  for (let start = 0; start < x.length; start += ROUND_BLOCK) {
    const end = Math.min(x.length, start + ROUND_BLOCK);
    sq += roundBlock(x.subarray(start, end), scale, random, out.subarray(start, end));
  }
  return sq;
}
