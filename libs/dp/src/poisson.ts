/**
 * Poisson and Skellam samplers for the Skellam mechanism (Agarwal, Kairouz, Liu 2021,
 * arXiv:2110.04995, §3: Sk(μ) = Poisson(μ) - Poisson(μ), variance 2μ, closed under sums).
 *
 * Poisson(λ) uses multiplication of uniforms for λ < 10 and Hörmann's transformed rejection
 * PTRS ("The transformed rejection method for generating Poisson random variables", 1993) for
 * λ >= 10. Unlike the discrete Gaussian sampler these use double-precision uniforms and
 * logarithms, so they are exact only up to floating-point rounding (as are the samplers AKL21
 * used); the randomness itself comes from the injected CSPRNG.
 */
import type { UniformSampler } from './uniform';

const LOG_FACTORIAL_TABLE: number[] = [0];
for (let k = 1; k < 32; k++) LOG_FACTORIAL_TABLE[k] = (LOG_FACTORIAL_TABLE[k - 1] as number) + Math.log(k);

/** ln(k!) for an integer k >= 0: a table below 32, Stirling's series (error < 1e-14) above. */
export function logFactorial(k: number): number {
  if (k < 32) return LOG_FACTORIAL_TABLE[k] as number;
  const x = k + 1;
  const inv = 1 / x;
  const inv2 = inv * inv;
  const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)));
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series;
}

/** One Poisson(lambda) draw, lambda in [0, 1e15]. */
export function samplePoisson(u: UniformSampler, lambda: number): number {
  if (!(lambda >= 0) || lambda > 1e15) throw new RangeError("'lambda' must be in [0, 1e15]");
  if (lambda === 0) return 0;
  return lambda < 10 ? poissonByMultiplication(u, lambda) : poissonPtrs(u, lambda);
}

function poissonByMultiplication(u: UniformSampler, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let product = u.unit();
  while (product > limit) {
    k++;
    product *= u.unit();
  }
  return k;
}

function poissonPtrs(u: UniformSampler, lambda: number): number {
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const uu = u.unit() - 0.5;
    const v = u.unit();
    const us = 0.5 - Math.abs(uu);
    const k = Math.floor(((2 * a) / us + b) * uu + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    const lhs = Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b);
    if (lhs <= -lambda + k * loglam - logFactorial(k)) return k;
  }
}

/** One Skellam draw Sk(mu) = Poisson(mu) - Poisson(mu): mean 0, variance 2·mu. */
export function sampleSkellam(u: UniformSampler, mu: number): number {
  return samplePoisson(u, mu) - samplePoisson(u, mu);
}
