import { SeededRandom } from '@fedistill/engine';
import { fitPca, usesSubspace } from './pca';
import { oversampling, subspaceEigen } from './subspace-eigen';
import { symmetricEigen } from './symmetric-eigen';

/**
 * `count` rows of d values with a planted spectrum: z_j ~ N(0, lambda_j), lambda_j = 0.8^j for
 * j < rank (1e-4 beyond it, 0 when `noise` is false), turned by three Householder reflections
 * and shifted off the origin, so the covariance is full and dense but its top gaps are clear.
 */
function planted(count: number, d: number, rank: number, noise: boolean, seed: number): Float64Array {
  const rng = new SeededRandom(seed);
  const reflections = [0, 1, 2].map(() => {
    const u = Array.from({ length: d }, () => rng.normal());
    const norm = Math.sqrt(u.reduce((s, x) => s + x * x, 0));
    return u.map((x) => x / norm);
  });
  const rows = new Float64Array(count * d);
  for (let i = 0; i < count; i += 1) {
    const x = Array.from(
      { length: d },
      (_, j) => rng.normal() * (j < rank ? 0.8 ** (j / 2) : noise ? 0.01 : 0),
    );
    for (const u of reflections) {
      const dot = u.reduce((s, v, j) => s + v * x[j]!, 0);
      u.forEach((v, j) => (x[j]! -= 2 * dot * v));
    }
    x.forEach((v, j) => (rows[i * d + j] = v + 0.01 * j));
  }
  return rows;
}

function meanOf(rows: Float64Array, count: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < count; i += 1) for (let j = 0; j < d; j += 1) mean[j]! += rows[i * d + j]!;
  return mean.map((v) => v / count);
}

/** The covariance formed in full (as fitPca's Jacobi path does), for symmetricEigen. */
function covarianceOf(rows: Float64Array, count: number, d: number): Float64Array {
  const mean = meanOf(rows, count, d);
  const cov = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let i = 0; i < count; i += 1) {
    for (let j = 0; j < d; j += 1) c[j] = rows[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a += 1) for (let b = a; b < d; b += 1) cov[a * d + b]! += c[a]! * c[b]!;
  }
  for (let a = 0; a < d; a += 1)
    for (let b = a; b < d; b += 1) cov[b * d + a] = cov[a * d + b] = cov[a * d + b]! / count;
  return cov;
}

/** max_a |(C v)_a - lambda v_a| with C v = Xc^T (Xc v) / count, computed from the rows. */
function residual(rows: Float64Array, count: number, d: number, v: Float64Array, lambda: number): number {
  const mean = meanOf(rows, count, d);
  const cv = new Float64Array(d);
  for (let i = 0; i < count; i += 1) {
    let s = 0;
    for (let j = 0; j < d; j += 1) s += (rows[i * d + j]! - mean[j]!) * v[j]!;
    for (let j = 0; j < d; j += 1) cv[j]! += ((rows[i * d + j]! - mean[j]!) * s) / count;
  }
  return cv.reduce((m, x, j) => Math.max(m, Math.abs(x - lambda * v[j]!)), 0);
}

describe(subspaceEigen.name, () => {
  const d = 1025;
  const count = 500;
  const k = 20;
  const rows = planted(count, d, 60, true, 11);

  it('matches the Jacobi solve of the full covariance (d = 240, k = 20): values to 1e-8, vectors to 1e-6', () => {
    const [small, n] = [240, 1000];
    const data = planted(n, small, 60, true, 13);
    const sut = subspaceEigen(data, n, small, meanOf(data, n, small), k);
    const jacobi = symmetricEigen(covarianceOf(data, n, small), small);
    expect(sut.converged).toBe(true);
    for (let c = 0; c < k; c += 1) {
      expect(Math.abs(sut.values[c]! - jacobi.values[c]!)).toBeLessThan(1e-8 * jacobi.values[c]!);
      // Same sign rule on both sides, so the vectors agree entry by entry.
      for (let j = 0; j < small; j += 1)
        expect(Math.abs(sut.vectors[c * small + j]! - jacobi.vectors[c * small + j]!)).toBeLessThan(1e-6);
    }
  });

  it('is what fitPca uses for d = 1025, k = 20, and two fits give the same bytes', () => {
    expect(usesSubspace(d, k)).toBe(true);
    const a = fitPca(rows, count, d, { components: k, whiten: true });
    const b = fitPca(Float64Array.from(rows), count, d, { components: k, whiten: true });
    const direct = subspaceEigen(rows, count, d, meanOf(rows, count, d), k);
    expect(Buffer.from(a.axes.buffer).equals(Buffer.from(direct.vectors.buffer))).toBe(true);
    expect(Buffer.from(a.variances.buffer).equals(Buffer.from(direct.values.buffer))).toBe(true);
    expect(Buffer.from(a.projection.buffer).equals(Buffer.from(b.projection.buffer))).toBe(true);
    for (let c = 0; c < k; c += 1)
      expect(residual(rows, count, d, a.axes.subarray(c * d, (c + 1) * d), a.variances[c]!)).toBeLessThan(
        1e-8 * a.variances[0]!,
      );
  });

  it('finds the pairs of rows spanning fewer directions than it iterates (reseeding lost columns)', () => {
    const n = 200;
    const thin = planted(n, d, 8, false, 12);
    const wanted = 6;
    expect(wanted + oversampling(wanted)).toBeGreaterThan(8);
    const sut = subspaceEigen(thin, n, d, meanOf(thin, n, d), wanted);
    expect(sut.converged).toBe(true);
    for (let c = 0; c < wanted; c += 1) {
      const v = sut.vectors.subarray(c * d, (c + 1) * d);
      expect(residual(thin, n, d, v, sut.values[c]!)).toBeLessThan(1e-10 * sut.values[0]!);
      expect(v.reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 12);
      if (c > 0) expect(sut.values[c]!).toBeLessThanOrEqual(sut.values[c - 1]!);
    }
  });

  it('is used from 1,025 inputs for at most a quarter of them', () => {
    expect([usesSubspace(1024, 16), usesSubspace(1025, 256), usesSubspace(1100, 276)]).toEqual([
      false,
      true,
      false,
    ]);
  });

  it('stops after maxIterations unsettled, saying so', () => {
    const sut = subspaceEigen(rows, count, d, meanOf(rows, count, d), k, 2);
    expect([sut.iterations, sut.converged]).toEqual([2, false]);
  });

  it('refuses a block wider than the input', () => {
    expect(() => subspaceEigen(rows, count, 20, new Float64Array(20), 15)).toThrow(
      "'k' must be an integer in [1, d - oversampling], got 15 for d = 20",
    );
  });
});
