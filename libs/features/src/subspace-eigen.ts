import { symmetricEigen, type SymmetricEigen } from './symmetric-eigen';

/**
 * Top-k eigenpairs of a covariance C = Xc^T Xc / count (Xc the centred rows) by block subspace
 * iteration with Rayleigh-Ritz (Golub and Van Loan, Matrix Computations, 4th ed., §8.2.4 and
 * §8.1.4; Saad, Numerical Methods for Large Eigenvalue Problems, §5.2), for when k is much
 * smaller than d and the full Jacobi solve (O(d³) a sweep) is too slow. C is never formed: each
 * iteration applies it as Xc^T (Xc Q), 4 x count x d x b flops for a block of b vectors: on
 * 5,000 scattered Fashion-MNIST images (d = 3,969) about 3 s of CPU an iteration at b = 120 and
 * 6 s at b = 240 in Node 20, 24 and 25 iterations (docs/federations.md).
 *
 * Like symmetric-eigen.ts it must give every site the same bits: only +, -, *, / and sqrt, each
 * sum over its terms in one fixed order (the unrolled loops keep it); the start block comes from
 * a fixed-seed xorshift generator (integer xor and shifts, exact on every engine); the stopping
 * rule reads only values computed that way, so every site stops at the same iteration.
 *
 * A block of b vectors of d values is stored vector by vector (block[c * d + j] = entry j of
 * vector c), so the loops run along contiguous memory. 300 lines: the kernels stay beside the
 * iteration they serve.
 */

/** Extra vectors iterated beyond the k wanted (oversampling): they speed up convergence. */
export function oversampling(k: number): number {
  return Math.max(10, Math.ceil(k / 5));
}

/** Iterations after which subspaceEigen stops unsettled (fitPca then takes the Jacobi path). */
export const MAX_ITERATIONS = 200;

/** Stop once no wanted Ritz value moved by more than this, relative to the largest one. */
export const RITZ_TOLERANCE = 1e-13;

/** Seed of the start block's generator. */
const SEED = 0x9e3779b9;

/** Data rows centred and multiplied at a time: Q and Z are read once per this many rows. */
const ROW_BLOCK = 32;

/** What a subspace solve found: the top-k pairs (as symmetricEigen) and the iterations it took. */
export interface SubspaceEigen extends SymmetricEigen {
  readonly iterations: number;
  readonly converged: boolean;
}

/**
 * The `k` largest eigenpairs of the covariance of `rows` (`count` x `d`, row-major) about `mean`,
 * largest first, each vector's largest-|v| entry (first such) positive: symmetricEigen's order
 * and sign rule. Needs k + oversampling(k) <= d. After `maxIterations` without settling it
 * returns the Ritz pairs it has, with `converged` false.
 */
export function subspaceEigen(
  rows: ArrayLike<number>,
  count: number,
  d: number,
  mean: Float64Array,
  k: number,
  maxIterations = MAX_ITERATIONS,
): SubspaceEigen {
  const b = k + oversampling(k);
  if (!Number.isInteger(k) || k < 1 || b > d)
    throw new RangeError(`'k' must be an integer in [1, d - oversampling], got ${k} for d = ${d}`);
  let q = startBlock(d, b);
  orthonormalize(q, d, b);
  let previous: Float64Array | undefined;
  for (let iteration = 1; ; iteration += 1) {
    const z = applyCovariance(rows, count, d, mean, q, b);
    const ritz = symmetricEigen(projected(q, z, d, b), b);
    // Ritz vectors Q V, and C (Q V) = Z V: the next block, before orthonormalizing.
    const done = previous !== undefined && settled(previous, ritz.values, k);
    if (done || iteration >= maxIterations) {
      return { ...pairs(rotated(q, ritz, d, b), ritz.values, d, k), iterations: iteration, converged: done };
    }
    previous = ritz.values;
    q = rotated(z, ritz, d, b);
    orthonormalize(q, d, b);
  }
}

/** The start block: b vectors of d entries in [-1, 1) from xorshift32 with a fixed seed. */
function startBlock(d: number, b: number): Float64Array {
  const q = new Float64Array(d * b);
  const next = generator(SEED);
  for (let i = 0; i < q.length; i += 1) q[i] = next();
  return q;
}

/** xorshift32 (Marsaglia, 2003): integer operations only, values in [-1, 1). */
function generator(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s | 0) / 2147483648;
  };
}

/**
 * Z = Xc^T (Xc Q) / count (b vectors), ROW_BLOCK rows at a time. Every sum runs over its terms in
 * one fixed order (Y over inputs j, Z over rows), whatever the unrolling.
 */
function applyCovariance(
  rows: ArrayLike<number>,
  count: number,
  d: number,
  mean: Float64Array,
  q: Float64Array,
  b: number,
): Float64Array {
  const z = new Float64Array(b * d);
  const x = new Float64Array(ROW_BLOCK * d);
  const y = new Float64Array(ROW_BLOCK * b);
  for (let start = 0; start < count; start += ROW_BLOCK) {
    const n = Math.min(ROW_BLOCK, count - start);
    for (let r = 0; r < n; r += 1) {
      const base = (start + r) * d;
      for (let j = 0; j < d; j += 1) x[r * d + j] = rows[base + j]! - mean[j]!;
    }
    rowsTimesBlock(x, n, q, d, b, y);
    for (let c = 0; c < b; c += 1) accumulate(z, c * d, x, y, n, d, b, c);
  }
  for (let i = 0; i < z.length; i += 1) z[i]! /= count;
  return z;
}

/**
 * y[r][c] = centred row r . vector c, each a sum over j in order. Two rows by four vectors at a
 * time: eight independent sums, so the adds do not wait on one another.
 */
function rowsTimesBlock(
  x: Float64Array,
  n: number,
  q: Float64Array,
  d: number,
  b: number,
  y: Float64Array,
): void {
  for (let r = 0; r < n; r += 2)
    for (let c = 0; c < b; c += 4) {
      if (r + 2 > n || c + 4 > b) {
        for (let i = r; i < Math.min(r + 2, n); i += 1)
          for (let v = c; v < Math.min(c + 4, b); v += 1) {
            let s = 0;
            for (let j = 0, xi = i * d, qv = v * d; j < d; j += 1) s += x[xi + j]! * q[qv + j]!;
            y[i * b + v] = s;
          }
        continue;
      }
      const x0 = r * d;
      const x1 = x0 + d;
      const q0 = c * d;
      const [q1, q2, q3] = [q0 + d, q0 + 2 * d, q0 + 3 * d];
      let [s00, s01, s02, s03, s10, s11, s12, s13] = [0, 0, 0, 0, 0, 0, 0, 0];
      for (let j = 0; j < d; j += 1) {
        const a0 = x[x0 + j]!;
        const a1 = x[x1 + j]!;
        const v0 = q[q0 + j]!;
        const v1 = q[q1 + j]!;
        const v2 = q[q2 + j]!;
        const v3 = q[q3 + j]!;
        s00 += a0 * v0;
        s01 += a0 * v1;
        s02 += a0 * v2;
        s03 += a0 * v3;
        s10 += a1 * v0;
        s11 += a1 * v1;
        s12 += a1 * v2;
        s13 += a1 * v3;
      }
      y.set([s00, s01, s02, s03], r * b + c);
      y.set([s10, s11, s12, s13], (r + 1) * b + c);
    }
}

/** z[zc + j] += sum over rows r < n, in order, of x[r][j] y[r][c]; eight rows per pass over z. */
function accumulate(
  z: Float64Array,
  zc: number,
  x: Float64Array,
  y: Float64Array,
  n: number,
  d: number,
  b: number,
  c: number,
): void {
  let r = 0;
  for (; r + 8 <= n; r += 8) {
    const w = Array.from({ length: 8 }, (_, i) => y[(r + i) * b + c]!);
    const [w0, w1, w2, w3, w4, w5, w6, w7] = w as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const x0 = r * d;
    for (let j = 0; j < d; j += 1) {
      let s = z[zc + j]!;
      s += x[x0 + j]! * w0;
      s += x[x0 + d + j]! * w1;
      s += x[x0 + 2 * d + j]! * w2;
      s += x[x0 + 3 * d + j]! * w3;
      s += x[x0 + 4 * d + j]! * w4;
      s += x[x0 + 5 * d + j]! * w5;
      s += x[x0 + 6 * d + j]! * w6;
      s += x[x0 + 7 * d + j]! * w7;
      z[zc + j] = s;
    }
  }
  for (; r < n; r += 1) {
    const yr = y[r * b + c]!;
    for (let j = 0, xr = r * d; j < d; j += 1) z[zc + j]! += x[xr + j]! * yr;
  }
}

/** H = Q^T Z (b x b), upper triangle computed and mirrored, so it is exactly symmetric. */
function projected(q: Float64Array, z: Float64Array, d: number, b: number): Float64Array {
  const h = new Float64Array(b * b);
  for (let u = 0; u < b; u += 1)
    for (let v = u; v < b; v += 1) {
      let s = 0;
      for (let j = 0, qu = u * d, zv = v * d; j < d; j += 1) s += q[qu + j]! * z[zv + j]!;
      h[u * b + v] = s;
      h[v * b + u] = s;
    }
  return h;
}

/** Vector c of the result = sum over u, in order, of ritz.vectors[c][u] x vector u of `m`. */
function rotated(m: Float64Array, ritz: SymmetricEigen, d: number, b: number): Float64Array {
  const out = new Float64Array(d * b);
  for (let c = 0; c < b; c += 1)
    for (let u = 0; u < b; u += 1) {
      const w = ritz.vectors[c * b + u]!;
      for (let j = 0, oc = c * d, mu = u * d; j < d; j += 1) out[oc + j]! += w * m[mu + j]!;
    }
  return out;
}

/** Fresh vectors tried where one falls into the span of those before it (rank below b). */
const MAX_RESEEDS = 8;

/**
 * Modified Gram-Schmidt on the block's vectors, twice over for orthogonality. A vector that
 * (nearly) vanishes against those before it, as when the data span fewer than b directions, is
 * replaced by a fixed pseudo-random one and orthogonalized again: its Ritz value is then ~0.
 */
function orthonormalize(q: Float64Array, d: number, b: number): void {
  for (let c = 0; c < b; c += 1) {
    const qc = c * d;
    for (let attempt = 0; ; attempt += 1) {
      const before = norm(q, qc, d);
      for (let pass = 0; pass < 2; pass += 1)
        for (let e = 0; e < c; e += 1) {
          const qe = e * d;
          let dot = 0;
          for (let j = 0; j < d; j += 1) dot += q[qe + j]! * q[qc + j]!;
          for (let j = 0; j < d; j += 1) q[qc + j]! -= dot * q[qe + j]!;
        }
      const after = norm(q, qc, d);
      if (after > 1e-10 * before) {
        for (let j = 0; j < d; j += 1) q[qc + j]! /= after;
        break;
      }
      if (attempt === MAX_RESEEDS) throw new Error(`subspace iteration lost rank at vector ${c}`);
      const next = generator(SEED + 1 + c * MAX_RESEEDS + attempt);
      for (let j = 0; j < d; j += 1) q[qc + j] = next();
    }
  }
}

function norm(q: Float64Array, at: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j += 1) s += q[at + j]! ** 2;
  return Math.sqrt(s);
}

/** Every one of the k wanted Ritz values moved by at most RITZ_TOLERANCE x the largest. */
function settled(previous: Float64Array, current: Float64Array, k: number): boolean {
  const scale = Math.abs(current[0]!);
  for (let i = 0; i < k; i += 1)
    if (Math.abs(current[i]! - previous[i]!) > RITZ_TOLERANCE * scale) return false;
  return true;
}

/** The top k pairs, each vector signed so its largest-|v| entry (first such) is positive. */
function pairs(block: Float64Array, values: Float64Array, d: number, k: number): SymmetricEigen {
  const vectors = new Float64Array(k * d);
  for (let c = 0; c < k; c += 1) {
    const at = c * d;
    let big = 0;
    for (let j = 1; j < d; j += 1) if (Math.abs(block[at + j]!) > Math.abs(block[at + big]!)) big = j;
    const sign = block[at + big]! < 0 ? -1 : 1;
    for (let j = 0; j < d; j += 1) vectors[at + j] = sign * block[at + j]!;
  }
  return { values: values.slice(0, k), vectors };
}
