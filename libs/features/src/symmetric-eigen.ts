/**
 * Eigen-decomposition of a real symmetric matrix by the cyclic Jacobi method (Golub and Van Loan,
 * Matrix Computations, 4th ed., §8.5), written here rather than taken from a library: every site
 * must get the same bits from the same matrix, so the method uses only +, -, *, / and sqrt, which
 * IEEE-754 rounds correctly on every platform (no Math.atan, Math.hypot or other functions whose
 * last bit may differ between engines), in a fixed order of rotations.
 *
 * Cost: about 2d³ flops per sweep and usually under 10 sweeps, so a few seconds at d = 784.
 */
export interface SymmetricEigen {
  /** Eigenvalues, largest first (ties keep the lower diagonal index first). */
  readonly values: Float64Array;
  /** Eigenvectors as rows, vectors[i * d + j] = component j of eigenvector i; unit length. */
  readonly vectors: Float64Array;
}

/** Sweeps after which an unconverged matrix is an error (a symmetric one converges in far fewer). */
const MAX_SWEEPS = 100;

/** Returns the eigen-decomposition of the symmetric d x d matrix `a` (row-major); `a` is not changed. */
export function symmetricEigen(a: Float64Array, d: number): SymmetricEigen {
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`'d' must be an integer >= 1, got ${d}`);
  if (a.length !== d * d) throw new RangeError(`'a' must hold d * d = ${d * d} values, got ${a.length}`);
  for (let i = 0; i < d; i += 1)
    for (let j = 0; j < i; j += 1)
      if (a[i * d + j] !== a[j * d + i]) throw new RangeError(`'a' is not symmetric at (${i}, ${j})`);
  const m = Float64Array.from(a);
  // v holds eigenvectors as columns while rotating (v[r * d + p] = component r of vector p).
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i += 1) v[i * d + i] = 1;
  let total = 0;
  for (const x of m) total += x * x;
  for (let sweep = 0; ; sweep += 1) {
    let off = 0;
    for (let i = 0; i < d; i += 1) for (let j = i + 1; j < d; j += 1) off += m[i * d + j]! ** 2;
    // Off-diagonal mass below 1e-30 of the whole: the diagonal is exact to float64 rounding.
    if (off <= 1e-30 * total || off === 0) break;
    if (sweep === MAX_SWEEPS)
      throw new Error(`Jacobi eigen-decomposition did not converge in ${MAX_SWEEPS} sweeps`);
    for (let p = 0; p < d; p += 1) for (let q = p + 1; q < d; q += 1) rotate(m, v, d, p, q);
  }
  return sorted(m, v, d);
}

/** One Jacobi rotation zeroing m[p][q] (Numerical Recipes' stable form, t the smaller root). */
function rotate(m: Float64Array, v: Float64Array, d: number, p: number, q: number): void {
  const apq = m[p * d + q]!;
  if (apq === 0) return;
  const app = m[p * d + p]!;
  const aqq = m[q * d + q]!;
  const theta = (aqq - app) / (2 * apq);
  // For |theta| past 1e150, theta² overflows: t = 1 / (2 theta) to float64 precision.
  const t =
    Math.abs(theta) > 1e150
      ? 1 / (2 * theta)
      : (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  for (let r = 0; r < d; r += 1) {
    if (r === p || r === q) continue;
    const arp = m[r * d + p]!;
    const arq = m[r * d + q]!;
    const np = c * arp - s * arq;
    const nq = s * arp + c * arq;
    m[r * d + p] = np;
    m[p * d + r] = np;
    m[r * d + q] = nq;
    m[q * d + r] = nq;
  }
  m[p * d + p] = app - t * apq;
  m[q * d + q] = aqq + t * apq;
  m[p * d + q] = 0;
  m[q * d + p] = 0;
  for (let r = 0; r < d; r += 1) {
    const vrp = v[r * d + p]!;
    const vrq = v[r * d + q]!;
    v[r * d + p] = c * vrp - s * vrq;
    v[r * d + q] = s * vrp + c * vrq;
  }
}

/** Eigenpairs largest first, each vector's sign fixed: its largest-|v| entry (first such) positive. */
function sorted(m: Float64Array, v: Float64Array, d: number): SymmetricEigen {
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => m[j * d + j]! - m[i * d + i]! || i - j);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((col, k) => {
    values[k] = m[col * d + col]!;
    let big = 0;
    for (let r = 1; r < d; r += 1) if (Math.abs(v[r * d + col]!) > Math.abs(v[big * d + col]!)) big = r;
    const sign = v[big * d + col]! < 0 ? -1 : 1;
    for (let r = 0; r < d; r += 1) vectors[k * d + r] = sign * v[r * d + col]!;
  });
  return { values, vectors };
}
