import { DiscreteGaussianSampler, bernoulliExp, discreteLaplace } from './discrete-gaussian';
import { seededRandom } from './random-source';
import { UniformSampler } from './uniform';

// Independent reference: the N_Z(0, σ²) pmf by direct normalisation, P(x) ∝ exp(-x²/(2σ²)).
function pmf(sigma2: number): (x: number) => number {
  let z = 0;
  for (let x = -2000; x <= 2000; x++) z += Math.exp((-x * x) / (2 * sigma2));
  return (x) => Math.exp((-x * x) / (2 * sigma2)) / z;
}

// |observed - expected| must stay within 5 standard errors of a frequency estimated from n draws.
function expectFrequency(hits: number, n: number, p: number): void {
  expect(Math.abs(hits / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 1e-9);
}

describe(DiscreteGaussianSampler.name, () => {
  it.each([0.7, 4, 30.25])('matches the exact mean, variance and tails of N_Z(0, %f)', (sigma2) => {
    const sut = new DiscreteGaussianSampler(new UniformSampler(seededRandom(11)), sigma2);
    const n = 40000;
    const p = pmf(sigma2);
    let variance = 0;
    for (let x = -2000; x <= 2000; x++) variance += x * x * p(x);
    const sd = Math.sqrt(variance);
    const tailAt = Math.max(1, Math.round(2 * sd));
    let tailP = 0;
    for (let x = tailAt; x <= 2000; x++) tailP += 2 * p(x);
    let sum = 0;
    let sq = 0;
    let zeros = 0;
    let tail = 0;
    for (let i = 0; i < n; i++) {
      const x = sut.sample();
      sum += x;
      sq += x * x;
      if (x === 0) zeros++;
      if (Math.abs(x) >= tailAt) tail++;
    }
    expect(Math.abs(sum / n)).toBeLessThan((5 * sd) / Math.sqrt(n));
    // The sample variance of n draws has standard error about sqrt(2/n)·σ² for near-Gaussian data.
    expect(Math.abs(sq / n - variance)).toBeLessThan(5 * Math.sqrt(2 / n) * variance + 0.01);
    expectFrequency(zeros, n, p(0));
    expectFrequency(tail, n, tailP);
  });

  it('rejects a bad variance by name', () => {
    expect(() => new DiscreteGaussianSampler(new UniformSampler(seededRandom(1)), 0)).toThrow("'sigma2'");
  });
});

describe('bernoulliExp and discreteLaplace', () => {
  it.each([
    [3n, 10n],
    [17n, 10n],
    [0n, 1n],
  ])('bernoulliExp(%i/%i) is true with probability exp(-γ)', (num, den) => {
    const u = new UniformSampler(seededRandom(5));
    const n = 40000;
    let hits = 0;
    for (let i = 0; i < n; i++) if (bernoulliExp(u, num, den)) hits++;
    expectFrequency(hits, n, Math.exp(-Number(num) / Number(den)));
  });

  it('discrete Laplace with scale t has variance 2e^{-1/t}/(1-e^{-1/t})²', () => {
    const u = new UniformSampler(seededRandom(8));
    const t = 3;
    const q = Math.exp(-1 / t);
    const expected = (2 * q) / (1 - q) ** 2;
    const n = 40000;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += Number(discreteLaplace(u, BigInt(t))) ** 2;
    // Laplace-like tails: allow 5 standard errors with excess kurtosis 3 (variance of x² ≈ 5σ⁴).
    expect(Math.abs(sq / n - expected)).toBeLessThan(5 * Math.sqrt(5 / n) * expected);
  });
});
