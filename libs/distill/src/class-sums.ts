import { quantize, type RandomSource, roundedNormBound, sampleNoiseShare } from '@fedistill/dp';
import type { Targets } from './aggregation';

/**
 * The class-sum release (summary 'class-sums', issue 13): instead of teachers' answers about
 * reference rows, each site releases once, for every class, the sum over its records of a fixed
 * unit-norm map of their features, phi(x) = [w u, b] with u = f / |f| (f the federation's
 * feature extractor output) and w^2 + b^2 = 1. The coordinator fits a ridge classifier from the
 * noisy sums and the second moment of phi over the public reference set (never the sites'
 * records), and labels the reference rows with it. That is the sufficient-statistics
 * perturbation of least squares (Wang 2018, arXiv:1803.02596; Sheffet 2017) with the second
 * moment taken from public data, so only the class sums are private.
 *
 * Why: the release does not grow with the number of queries, so one release at a given noise
 * answers every reference row, where votes pay z sqrt(2q) per count. Hand-written: no library
 * does this under secure aggregation.
 */

/**
 * Temperature of the targets: the classifier's scores (least squares on one-hot labels, so about
 * 1 for the likely class and 0 for the others) through softmax(score / 0.05). Soft targets let
 * the student learn the classifier's margins, not only its argmax: on Fashion-MNIST features at
 * epsilon 2.7 a student distilled from them matched the classifier (0.864) where one-hot targets
 * lost 0.4 points (a scratch comparison, docs/benchmarks.md).
 */
export const CLASS_SUM_TEMPERATURE = 0.05;

/** Weight b of the constant coordinate of phi (b^2 = 0.1): phi's last entry counts records. */
export const CLASS_SUM_BIAS = Math.sqrt(0.1);
const FEATURE_WEIGHT = Math.sqrt(1 - CLASS_SUM_BIAS * CLASS_SUM_BIAS);

/**
 * phi of `count` rows of `size` features, row-major [count, size + 1]: each row scaled to unit
 * norm (a zero row stays zero), times sqrt(0.9), then the constant sqrt(0.1). Every row of the
 * result has L2 norm <= 1 whatever the input (a non-finite feature is refused).
 */
export function classSumFeatures(features: Float32Array, count: number, size: number): Float64Array {
  if (!Number.isInteger(size) || size < 1) throw new RangeError("'size' must be an integer >= 1");
  if (features.length !== count * size)
    throw new RangeError(`${features.length} feature values for ${count} rows of ${size}`);
  const out = new Float64Array(count * (size + 1));
  for (let r = 0; r < count; r += 1) {
    let sq = 0;
    for (let j = 0; j < size; j += 1) {
      const v = features[r * size + j] as number;
      if (!Number.isFinite(v)) throw new RangeError(`row ${r} has a feature that is not finite`);
      sq += v * v;
    }
    const scale = sq > 0 ? FEATURE_WEIGHT / Math.sqrt(sq) : 0;
    for (let j = 0; j < size; j += 1) out[r * (size + 1) + j] = (features[r * size + j] as number) * scale;
    out[r * (size + 1) + size] = CLASS_SUM_BIAS;
  }
  return out;
}

/** The public terms of a class-sum release, as the round announces them. */
export interface ClassSumTerms {
  readonly classes: number;
  /** Values of the feature extractor's output (phi has one more). */
  readonly features: number;
  /** One integer unit of phi. */
  readonly granularity: number;
  /** The most records one site may count (bounds one site's input for the ring). */
  readonly maxRecords: number;
}

/**
 * Sizes of a class-sum release. One record adds its rounded phi (L2 norm <= B =
 * roundedNormBound(1, granularity, features + 1): only the features + 1 entries of its class are
 * non-zero, and a zero entry rounds to zero) to one class block, so replacing it moves the sum
 * by at most Δ2 = 2B; Δ1 <= min(Δ2², sqrt(d) Δ2) as for any integer vector.
 */
export function classSumSizes(t: ClassSumTerms): {
  dimension: number;
  l2: number;
  l1: number;
  maxSignal: number;
} {
  const int = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`'${name}' must be an integer >= ${min}`);
  };
  int(t.classes, 'classes', 2);
  int(t.features, 'features', 1);
  int(t.maxRecords, 'maxRecords', 1);
  if (!(t.granularity > 0 && t.granularity <= 1)) throw new RangeError("'granularity' must be in (0, 1]");
  const dimension = t.classes * (t.features + 1);
  const l2 = 2 * roundedNormBound(1, t.granularity, t.features + 1);
  const l1 = Math.min(l2 * l2, Math.sqrt(dimension) * l2);
  // An entry of phi is at most 1, so a rounded one at most ceil(1 / granularity).
  return { dimension, l2, l1, maxSignal: t.maxRecords * Math.ceil(1 / t.granularity) };
}

/**
 * One site's class sums plus its noise share: each record's phi randomly rounded on its own
 * (conditional randomized rounding, Kairouz, Liu, Steinke 2021, arXiv:2102.06387, §4, so its
 * integer norm is within B) and added to its class block; then the noise share. Refuses more
 * records than `maxRecords` and labels outside the classes.
 */
export function siteClassSums(
  phi: Float64Array,
  labels: ArrayLike<number>,
  t: ClassSumTerms,
  noise: Parameters<typeof sampleNoiseShare>[1] | null,
  random: RandomSource,
): Int32Array {
  const width = t.features + 1;
  const count = labels.length;
  if (phi.length !== count * width) throw new RangeError(`phi has ${phi.length} values for ${count} records`);
  if (count > t.maxRecords)
    throw new RangeError(`the site has ${count} records; the round counts at most ${t.maxRecords}`);
  const sum = new Int32Array(t.classes * width);
  const rounded = new Int32Array(width);
  for (let r = 0; r < count; r += 1) {
    const y = labels[r] as number;
    if (!Number.isInteger(y) || y < 0 || y >= t.classes)
      throw new RangeError(`label ${y} is not a class in [0, ${t.classes})`);
    quantize(
      phi.subarray(r * width, (r + 1) * width),
      { clip: 1, granularity: t.granularity },
      random,
      rounded,
    );
    for (let j = 0; j < width; j += 1)
      sum[y * width + j] = (sum[y * width + j] as number) + (rounded[j] as number);
  }
  if (!noise) return sum;
  const share = sampleNoiseShare(sum.length, noise, random);
  for (let i = 0; i < sum.length; i += 1) sum[i] = (sum[i] as number) + (share[i] as number);
  return sum;
}

/**
 * The coordinator's post-processing of a class-sum release: a ridge classifier
 * theta = (M + λ I)^-1 S, with S the noisy class sums (in units of phi) and M the second moment
 * of phi over the public reference rows scaled to the number of records the release counted
 * (its noisy constant coordinate; at least the reference rows), λ = 1e-2 x trace(M) / (F + 1)
 * for F features (so the scaling leaves the argmax unchanged; it keeps M in record units);
 * then, for every reference row, targets softmax(phi(row) theta / CLASS_SUM_TEMPERATURE).
 * Reads nothing but the release and the public reference features.
 */
export function classSumTargets(
  /** The decoded sum, in integer units (or the mean of several rounds' sums). */
  sum: ArrayLike<number>,
  t: Pick<ClassSumTerms, 'classes' | 'features' | 'granularity'>,
  referencePhi: Float64Array,
): Targets & { readonly records: number } {
  const width = t.features + 1;
  const k = t.classes;
  if (sum.length !== k * width)
    throw new RangeError(`the sum has ${sum.length} entries; expected ${k * width}`);
  const rows = referencePhi.length / width;
  if (!Number.isInteger(rows) || rows < 1)
    throw new RangeError('the reference features do not match the release');
  let counted = 0;
  for (let c = 0; c < k; c += 1)
    counted += ((sum[c * width + t.features] as number) * t.granularity) / CLASS_SUM_BIAS;
  const records = Math.max(rows, counted);
  const m = new Float64Array(width * width);
  for (let r = 0; r < rows; r += 1) {
    const o = r * width;
    for (let i = 0; i < width; i += 1) {
      const v = referencePhi[o + i] as number;
      if (v === 0) continue;
      for (let j = i; j < width; j += 1)
        m[i * width + j] = (m[i * width + j] as number) + v * (referencePhi[o + j] as number);
    }
  }
  let trace = 0;
  for (let i = 0; i < width; i += 1) {
    for (let j = i; j < width; j += 1) {
      const v = ((m[i * width + j] as number) * records) / rows;
      m[i * width + j] = v;
      m[j * width + i] = v;
    }
    trace += m[i * width + i] as number;
  }
  const lambda = (1e-2 * trace) / width;
  for (let i = 0; i < width; i += 1) m[i * width + i] = (m[i * width + i] as number) + lambda;
  const chol = cholesky(m, width);
  const theta = new Float64Array(width * k);
  const rhs = new Float64Array(width);
  for (let c = 0; c < k; c += 1) {
    for (let j = 0; j < width; j += 1) rhs[j] = (sum[c * width + j] as number) * t.granularity;
    const x = choleskySolve(chol, width, rhs);
    for (let j = 0; j < width; j += 1) theta[j * k + c] = x[j] as number;
  }
  const probs = new Float32Array(rows * k);
  const scores = new Float64Array(k);
  for (let r = 0; r < rows; r += 1) {
    let top = -Infinity;
    for (let c = 0; c < k; c += 1) {
      let s = 0;
      for (let j = 0; j < width; j += 1)
        s += (referencePhi[r * width + j] as number) * (theta[j * k + c] as number);
      scores[c] = s;
      top = Math.max(top, s);
    }
    let total = 0;
    for (let c = 0; c < k; c += 1) total += Math.exp(((scores[c] as number) - top) / CLASS_SUM_TEMPERATURE);
    for (let c = 0; c < k; c += 1)
      probs[r * k + c] = Math.exp(((scores[c] as number) - top) / CLASS_SUM_TEMPERATURE) / total;
  }
  return { probs, answered: Array.from({ length: rows }, (_, i) => i), records };
}

/** Lower-triangular L with L L^T = a (a symmetric positive definite, row-major n x n). */
function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j <= i; j += 1) {
      let s = a[i * n + j] as number;
      for (let p = 0; p < j; p += 1) s -= (l[i * n + p] as number) * (l[j * n + p] as number);
      if (i === j) {
        if (!(s > 0)) throw new RangeError('the reference second moment is not positive definite');
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / (l[j * n + j] as number);
    }
  }
  return l;
}

function choleskySolve(l: Float64Array, n: number, b: Float64Array): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    let s = b[i] as number;
    for (let p = 0; p < i; p += 1) s -= (l[i * n + p] as number) * (y[p] as number);
    y[i] = s / (l[i * n + i] as number);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i -= 1) {
    let s = y[i] as number;
    for (let p = i + 1; p < n; p += 1) s -= (l[p * n + i] as number) * (x[p] as number);
    x[i] = s / (l[i * n + i] as number);
  }
  return x;
}
