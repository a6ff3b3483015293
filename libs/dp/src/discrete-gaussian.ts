/**
 * Exact samplers of Canonne, Kamath and Steinke, "The Discrete Gaussian for Differential
 * Privacy" (arXiv:2004.00010, §5): Bernoulli(exp(-γ)) (Algorithm 1), the discrete Laplace
 * (Algorithm 2) and the discrete Gaussian N_Z(0, σ²) (Algorithm 3). All arithmetic on the
 * parameters is exact (bigint rationals), so the output distribution is exactly the target one
 * given a uniform byte source; floating point never decides an outcome.
 */
import { type Rational, isqrt, toRational } from './rational';
import type { UniformSampler } from './uniform';

/** True with probability exp(-num/den), num/den >= 0 (CKS20 Algorithm 1, with the γ > 1 split). */
export function bernoulliExp(u: UniformSampler, num: bigint, den: bigint): boolean {
  // exp(-γ) = exp(-1)^floor(γ) * exp(-(γ - floor γ)); each factor is an independent trial.
  let whole = num / den;
  while (whole > 0n) {
    if (!bernoulliExpUnit(u, 1n, 1n)) return false;
    whole -= 1n;
  }
  return bernoulliExpUnit(u, num % den, den);
}

// For γ = num/den in [0, 1]: draw A_k ~ Bernoulli(γ/k) for k = 1, 2, ... until one fails; the
// index of the first failure is odd with probability exactly exp(-γ) (CKS20, Algorithm 1).
function bernoulliExpUnit(u: UniformSampler, num: bigint, den: bigint): boolean {
  let k = 1n;
  while (u.bernoulli(num, den * k)) k += 1n;
  return k % 2n === 1n;
}

/** Discrete Laplace with scale t (integer >= 1): P(x) ∝ exp(-|x|/t) (CKS20 Algorithm 2). */
export function discreteLaplace(u: UniformSampler, t: bigint): bigint {
  for (;;) {
    const small = u.bigint(t);
    if (!bernoulliExp(u, small, t)) continue;
    let big = 0n;
    while (bernoulliExp(u, 1n, 1n)) big += 1n;
    const magnitude = small + t * big;
    const negative = u.byte() < 128;
    if (negative && magnitude === 0n) continue;
    return negative ? -magnitude : magnitude;
  }
}

/** A prepared N_Z(0, σ²) sampler; σ² is taken exactly as the rational value of the given double. */
export class DiscreteGaussianSampler {
  private readonly sigma2: Rational;
  private readonly t: bigint;

  /** `sigma2`: the variance parameter σ² (the true variance is slightly below σ²), > 0 and <= 1e12. */
  constructor(
    private readonly uniform: UniformSampler,
    sigma2: number,
  ) {
    if (!(sigma2 > 0) || sigma2 > 1e12) throw new RangeError("'sigma2' must be in (0, 1e12]");
    this.sigma2 = toRational(sigma2);
    this.t = isqrt(this.sigma2.num / this.sigma2.den) + 1n;
  }

  /** One draw (CKS20 Algorithm 3): a discrete Laplace proposal accepted with an exact Bernoulli(exp). */
  sample(): number {
    const { num: p, den: q } = this.sigma2;
    const t = this.t;
    for (;;) {
      const y = discreteLaplace(this.uniform, t);
      const abs = y < 0n ? -y : y;
      // (|y| - σ²/t)² / (2σ²) with σ² = p/q equals (|y| t q - p)² / (2 t² p q).
      const diff = abs * t * q - p;
      if (bernoulliExp(this.uniform, diff * diff, 2n * t * t * p * q)) return Number(y);
    }
  }
}
