import { SeededRandom } from '@fedistill/engine';
import { FeatureReferenceError, fitPca, WHITEN_EPS } from './pca';
import { symmetricEigen } from './symmetric-eigen';

/** Rows x = z diag(sqrt(lambda)) Q^T + centre, z standard normal: covariance Q diag(lambda) Q^T. */
function correlated(count: number, d: number, seed: number): Float64Array {
  const rng = new SeededRandom(seed);
  const mix = Array.from({ length: d * d }, () => rng.normal());
  const rows = new Float64Array(count * d);
  for (let i = 0; i < count; i += 1) {
    const z = Array.from({ length: d }, (_, j) => rng.normal() * (d - j));
    for (let a = 0; a < d; a += 1) {
      let v = 3 + a;
      for (let b = 0; b < d; b += 1) v += mix[a * d + b]! * z[b]!;
      rows[i * d + a] = v;
    }
  }
  return rows;
}

/** Sample covariance computed independently here (two passes, full matrix). */
function covarianceOf(rows: ArrayLike<number>, count: number, d: number): number[][] {
  const mean = Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let i = 0; i < count; i += 1) s += rows[i * d + j]!;
    return s / count;
  });
  return Array.from({ length: d }, (_, a) =>
    Array.from({ length: d }, (_, b) => {
      let s = 0;
      for (let i = 0; i < count; i += 1) s += (rows[i * d + a]! - mean[a]!) * (rows[i * d + b]! - mean[b]!);
      return s / count;
    }),
  );
}

function project(rows: ArrayLike<number>, count: number, fit: ReturnType<typeof fitPca>): Float64Array {
  const { inputSize: d, components: k } = fit;
  const out = new Float64Array(count * k);
  for (let i = 0; i < count; i += 1)
    for (let c = 0; c < k; c += 1) {
      let s = 0;
      for (let j = 0; j < d; j += 1) s += (rows[i * d + j]! - fit.mean[j]!) * fit.projection[j * k + c]!;
      out[i * k + c] = s;
    }
  return out;
}

describe(symmetricEigen.name, () => {
  it('gives the closed-form eigenpairs of [[2, 1], [1, 2]]', () => {
    const sut = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
    expect([...sut.values]).toEqual([expect.closeTo(3, 12), expect.closeTo(1, 12)]);
    expect(sut.vectors[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(sut.vectors[1]).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('refuses a matrix that is not symmetric, naming the entry', () => {
    expect(() => symmetricEigen(Float64Array.of(1, 2, 3, 4), 2)).toThrow("'a' is not symmetric at (1, 0)");
  });
});

describe(fitPca.name, () => {
  const d = 6;
  const count = 400;
  const rows = correlated(count, d, 7);

  it('finds eigenvectors of the independently computed covariance, orthonormal, largest variance first', () => {
    const sut = fitPca(rows, count, d, { components: d, whiten: false });
    const cov = covarianceOf(rows, count, d);
    for (let c = 0; c < d; c += 1) {
      const v = Array.from(sut.axes.subarray(c * d, (c + 1) * d));
      // C v = lambda v, to float64 precision relative to the largest eigenvalue.
      cov.forEach((row, a) =>
        expect(Math.abs(row.reduce((s, x, b) => s + x * v[b]!, 0) - sut.variances[c]! * v[a]!)).toBeLessThan(
          1e-9 * sut.variances[0]!,
        ),
      );
      for (let e = 0; e < d; e += 1) {
        const dot = v.reduce((s, x, j) => s + x * sut.axes[e * d + j]!, 0);
        expect(dot).toBeCloseTo(c === e ? 1 : 0, 10);
      }
      if (c > 0) expect(sut.variances[c]!).toBeLessThanOrEqual(sut.variances[c - 1]!);
      // The sign rule: the entry of largest magnitude is positive.
      const big = v.reduce((best, x, j) => (Math.abs(x) > Math.abs(v[best]!) ? j : best), 0);
      expect(v[big]!).toBeGreaterThan(0);
    }
    // Variance of the data along each axis is its eigenvalue.
    const y = project(rows, count, sut);
    for (let c = 0; c < d; c += 1) {
      let s = 0;
      for (let i = 0; i < count; i += 1) s += y[i * d + c]! ** 2;
      expect(s / count).toBeCloseTo(sut.variances[c]!, 6);
    }
  });

  it('reconstructs the rows from all components, and from k with the dropped variance as the error', () => {
    const full = fitPca(rows, count, d, { components: d, whiten: false });
    const k = 3;
    const part = fitPca(rows, count, d, { components: k, whiten: false });
    const residual = (fit: typeof full) => {
      const y = project(rows, count, fit);
      let err = 0;
      for (let i = 0; i < count; i += 1)
        for (let j = 0; j < d; j += 1) {
          let back = fit.mean[j]!;
          for (let c = 0; c < fit.components; c += 1)
            back += y[i * fit.components + c]! * fit.axes[c * d + j]!;
          err += (rows[i * d + j]! - back) ** 2;
        }
      return err / count;
    };
    expect(residual(full)).toBeLessThan(1e-18 * full.variances[0]! * d);
    const dropped = full.variances.subarray(k).reduce((a, b) => a + b, 0);
    expect(residual(part)).toBeCloseTo(dropped, 6);
  });

  it('whitened components have identity covariance on the reference rows', () => {
    const sut = fitPca(rows, count, d, { components: 4, whiten: true });
    const cov = covarianceOf(project(rows, count, sut), count, 4);
    // 1 up to the eps floor: lambda / (lambda + eps), eps = WHITEN_EPS x the largest eigenvalue.
    const eps = WHITEN_EPS * sut.variances[0]!;
    cov.forEach((row, a) =>
      row.forEach((v, b) =>
        expect(v).toBeCloseTo(a === b ? sut.variances[a]! / (sut.variances[a]! + eps) : 0, 9),
      ),
    );
    cov.forEach((row, a) => expect(row[a]).toBeCloseTo(1, 3));
  });

  it('standardized: the same map as PCA of rows divided by their standard deviation, on raw inputs', () => {
    // Inputs on very different scales; one constant input (its deviation 0 is left at 1).
    const scaled = rows.map((v, i) => (i % d === 0 ? 7 : v * (i % d) ** 3));
    const sd = Array.from({ length: d }, (_, j) => {
      const cov = covarianceOf(scaled, count, d);
      return cov[j]![j]! > 0 ? Math.sqrt(cov[j]![j]!) : 1;
    });
    const divided = scaled.map((v, i) => v / sd[i % d]!);
    const sut = fitPca(scaled, count, d, { components: 3, whiten: true, standardize: true });
    const direct = fitPca(divided, count, d, { components: 3, whiten: true });
    const a = project(scaled, count, sut);
    const b = project(divided, count, direct);
    a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(1e-9 * (1 + Math.abs(b[i]!))));
    // Without standardize the fit is the covariance's, as before: another map on these inputs.
    const plain = project(scaled, count, fitPca(scaled, count, d, { components: 3, whiten: true }));
    expect(plain.some((v, i) => Math.abs(Math.abs(v) - Math.abs(b[i]!)) > 1e-3)).toBe(true);
  });

  it('is deterministic: the same rows give the same bits', () => {
    const a = fitPca(rows, count, d, { components: 3, whiten: true });
    const b = fitPca(Float64Array.from(rows), count, d, { components: 3, whiten: true });
    expect(Buffer.from(a.projection.buffer).equals(Buffer.from(b.projection.buffer))).toBe(true);
  });

  it.each([
    [{ components: 7, whiten: false }, count, "'pca.components' is 7; the input has only 6 values"],
    [{ components: 0, whiten: false }, count, "'pca.components' must be an integer >= 1, got 0"],
    [
      { components: 3, whiten: false },
      3,
      "'pca.components' is 3; 3 reference rows span at most 2 directions",
    ],
  ])('refuses %j with %i rows: %s', (o, n, message) => {
    expect(() => fitPca(rows.subarray(0, n * d), n, d, o)).toThrow(message);
  });

  it('refuses an empty reference set and a non-finite value, naming the row', () => {
    expect(() => fitPca(new Float64Array(), 0, d, { components: 2, whiten: false })).toThrow(
      FeatureReferenceError,
    );
    const bad = Float64Array.from(rows);
    bad[5 * d + 2] = NaN;
    expect(() => fitPca(bad, count, d, { components: 2, whiten: false })).toThrow(
      'reference row 5 has a non-finite value (NaN) at index 2',
    );
  });
});
