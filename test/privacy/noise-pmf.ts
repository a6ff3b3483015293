/**
 * Exact probability mass functions of the integer noise fedistill releases, for the independent
 * privacy oracle. Nothing here imports @fedistill/dp: the point is a second implementation.
 *
 * A pmf is stored in log space on a window of integers; `missing` is an upper bound on the
 * mass outside the window (or lost to underflow), which the oracle treats pessimistically.
 */
export interface IntPmf {
  /** The integer of logp[0]. */
  readonly offset: number;
  /** ln P(offset + i); -Infinity where the mass underflows. */
  readonly logp: Float64Array;
  /** Upper bound on the probability outside the window. */
  readonly missing: number;
}

/** ln(e^a + e^b) without overflow. */
function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

function logSumExp(x: Float64Array): number {
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  if (m === -Infinity) return m;
  let s = 0;
  for (const v of x) s += Math.exp(v - m);
  return m + Math.log(s);
}

/**
 * The discrete Gaussian N_Z(0, σ²): P(x) ∝ exp(-x²/(2σ²)) on the integers (Canonne, Kamath,
 * Steinke 2020, arXiv:2004.00010, Definition 1). The window |x| <= 14σ + 3 leaves a tail below
 * e^{-98} (Gaussian tail of the unnormalized weights, which dominate a geometric series).
 */
export function discreteGaussianPmf(sigma2: number): IntPmf {
  if (!(sigma2 > 0)) throw new RangeError("'sigma2' must be > 0");
  const t = Math.ceil(14 * Math.sqrt(sigma2) + 3);
  const logp = new Float64Array(2 * t + 1);
  for (let i = 0; i <= 2 * t; i += 1) logp[i] = -((i - t) ** 2) / (2 * sigma2);
  const z = logSumExp(logp);
  for (let i = 0; i < logp.length; i += 1) logp[i] = (logp[i] as number) - z;
  // Both tails beyond t: sum_{x>t} e^{-x²/2σ²} <= e^{-t²/2σ²} / (1 - e^{-t/σ²}), over Z >= 1.
  const tail = Math.exp(-(t * t) / (2 * sigma2)) / -Math.expm1(-t / sigma2);
  return { offset: -t, logp, missing: 2 * tail };
}

/**
 * The Skellam distribution Sk(μ) = Poisson(μ) - Poisson(μ): P(k) = e^{-2μ} I_|k|(2μ) (Skellam
 * 1946; Agarwal, Kairouz, Liu 2021, arXiv:2110.04995, §2). The Bessel ratios r_k = I_k/I_{k-1}
 * come from the backward continued fraction r_k = 1/(2k/z + r_{k+1}) (Miller's algorithm, stable
 * because I_k is the minimal solution going down), and the normalization uses
 * I_0 + 2 Σ_{k>=1} I_k = e^z, so no Bessel function is ever evaluated directly.
 */
export function skellamPmf(mu: number): IntPmf {
  if (!(mu > 0)) throw new RangeError("'mu' must be > 0");
  const z = 2 * mu;
  // Window: the Chernoff bound P(X >= k) <= exp(-(k asinh(k/z) - sqrt(k² + z²) + z)) below e^-100.
  let t = Math.ceil(Math.sqrt(z)) + 5;
  const chernoff = (k: number) => -(k * Math.asinh(k / z) - Math.sqrt(k * k + z * z) + z);
  while (chernoff(t) > -100) t = Math.ceil(t * 1.2) + 1;
  // Start the continued fraction far enough above t that its start value no longer matters.
  const start = t + Math.ceil(20 + 10 * Math.sqrt(t));
  let r = 0;
  const ratios = new Float64Array(t + 1);
  for (let k = start; k >= 1; k -= 1) {
    r = 1 / ((2 * k) / z + r);
    if (k <= t) ratios[k] = r;
  }
  const half = new Float64Array(t + 1); // ln(I_k / I_0)
  for (let k = 1; k <= t; k += 1) half[k] = (half[k - 1] as number) + Math.log(ratios[k] as number);
  let norm = half[0] as number;
  for (let k = 1; k <= t; k += 1) norm = logAdd(norm, Math.LN2 + (half[k] as number));
  const logp = new Float64Array(2 * t + 1);
  for (let k = -t; k <= t; k += 1) logp[k + t] = (half[Math.abs(k)] as number) - norm;
  return { offset: -t, logp, missing: 2 * Math.exp(chernoff(t)) };
}

/** The Poisson pmf on 0..n (for checking the Skellam pmf by convolution). */
export function poissonLogPmf(mu: number, n: number): Float64Array {
  const out = new Float64Array(n + 1);
  let lf = 0;
  for (let k = 0; k <= n; k += 1) {
    if (k > 0) lf += Math.log(k);
    out[k] = k * Math.log(mu) - mu - lf;
  }
  return out;
}

/**
 * The pmf of X + Y for independent X ~ a, Y ~ b, by direct convolution (exact up to rounding).
 * Entries that underflow (below ~e^-745 of the peak) count as `missing`.
 */
export function convolvePmf(a: IntPmf, b: IntPmf): IntPmf {
  const pa = toLinear(a);
  const pb = toLinear(b);
  const out = new Float64Array(pa.p.length + pb.p.length - 1);
  for (let i = 0; i < pa.p.length; i += 1) {
    const x = pa.p[i] as number;
    if (x === 0) continue;
    for (let j = 0; j < pb.p.length; j += 1) out[i + j] = (out[i + j] as number) + x * (pb.p[j] as number);
  }
  const shift = pa.shift + pb.shift;
  const logp = Float64Array.from(out, (v) => (v > 0 ? Math.log(v) + shift : -Infinity));
  // Each underflowed entry held less than e^-700 of the peak: a bound, however tiny, joins `missing`.
  return { offset: a.offset + b.offset, logp, missing: a.missing + b.missing + out.length * 1e-300 };
}

/** The sum of `n` independent copies of `a`, by repeated squaring. */
export function sumOfCopies(a: IntPmf, n: number): IntPmf {
  if (!Number.isInteger(n) || n < 1) throw new RangeError("'n' must be an integer >= 1");
  let result: IntPmf | null = null;
  let power = a;
  for (let k = n; k > 0; k >>= 1) {
    if (k & 1) result = result ? convolvePmf(result, power) : power;
    if (k > 1) power = convolvePmf(power, power);
  }
  return result as IntPmf;
}

// Linear-scale values relative to the peak (so they neither overflow nor underflow in bulk).
function toLinear(a: IntPmf): { p: Float64Array; shift: number } {
  let m = -Infinity;
  for (const v of a.logp) m = Math.max(m, v);
  return { p: Float64Array.from(a.logp, (v) => Math.exp(v - m)), shift: m };
}

/** ln P(x) for any integer x (-Infinity outside the window). */
export function logAt(a: IntPmf, x: number): number {
  const i = x - a.offset;
  return i >= 0 && i < a.logp.length ? (a.logp[i] as number) : -Infinity;
}
