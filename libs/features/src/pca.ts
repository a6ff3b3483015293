import { subspaceEigen } from './subspace-eigen';
import { symmetricEigen, type SymmetricEigen } from './symmetric-eigen';

/** A reference set the extractor cannot be fitted on (empty, or a value that is not finite). */
export class FeatureReferenceError extends Error {
  override readonly name = 'FeatureReferenceError';
}

/** PCA settings: the number of components kept and whether each is scaled to unit variance. */
export interface PcaOptions {
  /** Principal components kept, an integer in [1, min(input values, reference rows - 1)]. */
  readonly components: number;
  /** Divide each component by sqrt(eigenvalue + eps), eps = 1e-5 x the largest eigenvalue. */
  readonly whiten: boolean;
  /**
   * Divide each input by its standard deviation over the reference rows before the fit (PCA of
   * the correlation matrix), so inputs of very different scales weigh alike; an input constant
   * over the reference rows is left unscaled. Absent or false: the covariance, as before.
   */
  readonly standardize?: boolean;
}

/** A fitted PCA: y = (x - mean) W, W = projection (d x k, row-major), whitening folded in. */
export interface PcaFit {
  /** Mean of the reference rows (d values). */
  readonly mean: Float64Array;
  /** Unit eigenvectors of the covariance, largest eigenvalue first, as rows (k x d). */
  readonly axes: Float64Array;
  /** The eigenvalues of the kept components (variance along each axis), largest first. */
  readonly variances: Float64Array;
  /** The map applied, d x k row-major: axes transposed, each column divided by its scale. */
  readonly projection: Float64Array;
  readonly inputSize: number;
  readonly components: number;
}

/** Relative floor added to eigenvalues before whitening, so a near-zero variance is not blown up. */
export const WHITEN_EPS = 1e-5;

/**
 * Fewest inputs for which PCA keeping at most a quarter of them uses subspace iteration
 * (subspace-eigen.ts) rather than the full Jacobi solve: below it Jacobi takes under a minute
 * (20 s at d = 784), and raw 28 x 28 pixels keep the exact path they had.
 */
export const SUBSPACE_MIN_INPUTS = 1025;

/** Whether fitPca finds the top `components` of `d` inputs by subspace iteration. */
export function usesSubspace(d: number, components: number): boolean {
  return d >= SUBSPACE_MIN_INPUTS && components <= d / 4;
}

/**
 * Fits PCA on public reference rows (`count` rows of `d` values, row-major), in float64: mean,
 * covariance (divided by count), eigenvectors by Jacobi (symmetric-eigen.ts), top `components`.
 * With many inputs and few components (usesSubspace) the top components come from subspace
 * iteration on the centred rows instead, without forming the covariance (subspace-eigen.ts,
 * falling back to Jacobi where it does not settle).
 * Deterministic: the same rows give the same bits on every platform.
 */
export function fitPca(rows: ArrayLike<number>, count: number, d: number, o: PcaOptions): PcaFit {
  checkOptions(o, d);
  if (count < 1) throw new FeatureReferenceError('the reference set is empty: PCA needs rows to fit');
  if (rows.length !== count * d)
    throw new RangeError(`'rows' must hold count * d = ${count * d} values, got ${rows.length}`);
  if (o.components > count - 1)
    throw new RangeError(
      `'pca.components' is ${o.components}; ${count} reference rows span at most ${count - 1} directions`,
    );
  for (let i = 0; i < rows.length; i += 1)
    if (!Number.isFinite(rows[i]))
      throw new FeatureReferenceError(
        `reference row ${Math.floor(i / d)} has a non-finite value (${rows[i]}) at index ${i % d}`,
      );
  const mean = new Float64Array(d);
  for (let i = 0; i < count; i += 1) for (let j = 0; j < d; j += 1) mean[j]! += rows[i * d + j]!;
  for (let j = 0; j < d; j += 1) mean[j]! /= count;
  const k = o.components;
  // Standardized: fit on x / sd (mean / sd is its mean), then fold 1 / sd into the projection,
  // so the map on raw inputs is (x - mean) diag(1 / sd) W.
  const sd = o.standardize ? standardDeviations(rows, count, d, mean) : null;
  const fitRows = sd ? Float64Array.from(rows, (v, i) => v / sd[i % d]!) : rows;
  const fitMean = sd ? mean.map((m, j) => m / sd[j]!) : mean;
  const eig = topEigen(fitRows, count, d, fitMean, k);
  const axes = eig.vectors.slice(0, k * d);
  const variances = eig.values.slice(0, k).map((v) => Math.max(v, 0));
  const eps = WHITEN_EPS * Math.max(variances[0] ?? 0, Number.MIN_VALUE);
  const projection = new Float64Array(d * k);
  for (let c = 0; c < k; c += 1) {
    const scale = o.whiten ? Math.sqrt(variances[c]! + eps) : 1;
    for (let j = 0; j < d; j += 1) projection[j * k + c] = axes[c * d + j]! / scale / (sd ? sd[j]! : 1);
  }
  return { mean, axes, variances, projection, inputSize: d, components: k };
}

/** Population standard deviation of each input over the rows; 1 where it is 0 (a constant input). */
function standardDeviations(
  rows: ArrayLike<number>,
  count: number,
  d: number,
  mean: Float64Array,
): Float64Array {
  const sd = new Float64Array(d);
  for (let i = 0; i < count; i += 1)
    for (let j = 0; j < d; j += 1) {
      const x = rows[i * d + j]! - mean[j]!;
      sd[j]! += x * x;
    }
  for (let j = 0; j < d; j += 1) sd[j] = sd[j]! > 0 ? Math.sqrt(sd[j]! / count) : 1;
  return sd;
}

/**
 * The eigenpairs fitPca keeps: by subspace iteration where usesSubspace says so and it settles
 * within MAX_ITERATIONS, else (a spectrum too flat past k to separate in that many) by Jacobi on
 * the full covariance. Either way the pairs are converged, and every site takes the same path.
 */
function topEigen(
  rows: ArrayLike<number>,
  count: number,
  d: number,
  mean: Float64Array,
  k: number,
): SymmetricEigen {
  if (usesSubspace(d, k)) {
    const sub = subspaceEigen(rows, count, d, mean, k);
    if (sub.converged) return sub;
  }
  return symmetricEigen(covariance(rows, count, d, mean), d);
}

/** Covariance (population, / count) of the centred rows; upper triangle computed, mirrored exactly. */
function covariance(rows: ArrayLike<number>, count: number, d: number, mean: Float64Array): Float64Array {
  const cov = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (let i = 0; i < count; i += 1) {
    for (let j = 0; j < d; j += 1) centred[j] = rows[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a += 1) {
      const x = centred[a]!;
      if (x === 0) continue;
      const base = a * d;
      for (let b = a; b < d; b += 1) cov[base + b]! += x * centred[b]!;
    }
  }
  for (let a = 0; a < d; a += 1)
    for (let b = a; b < d; b += 1) {
      const v = cov[a * d + b]! / count;
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  return cov;
}

function checkOptions(o: PcaOptions, d: number): void {
  if (!Number.isInteger(o.components) || o.components < 1)
    throw new RangeError(`'pca.components' must be an integer >= 1, got ${o.components}`);
  if (o.components > d)
    throw new RangeError(`'pca.components' is ${o.components}; the input has only ${d} values`);
  if (typeof o.whiten !== 'boolean') throw new TypeError(`'pca.whiten' must be a boolean`);
  if (o.standardize !== undefined && typeof o.standardize !== 'boolean')
    throw new TypeError(`'pca.standardize' must be a boolean`);
}
