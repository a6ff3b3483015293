import { logFactorial, samplePoisson, sampleSkellam } from './poisson';
import { aggregateMechanism, perSiteVariance, sampleNoiseShare } from './noise';
import { seededRandom } from './random-source';
import { UniformSampler } from './uniform';

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    sum += x;
    sq += x * x;
  }
  const mean = sum / n;
  return { mean, variance: sq / n - mean * mean };
}

describe('samplePoisson', () => {
  it('ln(k!) agrees with the direct sum of logs', () => {
    let direct = 0;
    for (let k = 1; k <= 500; k++) {
      direct += Math.log(k);
      expect(logFactorial(k)).toBeCloseTo(direct, 9);
    }
  });

  it.each([0.5, 3, 12, 250, 1e5])('has mean and variance λ = %f', (lambda) => {
    const u = new UniformSampler(seededRandom(21));
    const n = 40000;
    const { mean, variance } = moments(() => samplePoisson(u, lambda), n);
    expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n));
    // Var of the sample variance of Poisson ≈ (2λ² + λ)/n.
    expect(Math.abs(variance - lambda)).toBeLessThan(5 * Math.sqrt((2 * lambda * lambda + lambda) / n));
  });

  it('matches the Poisson(12) pmf at P(X = 12) and in the upper tail P(X >= 20)', () => {
    const u = new UniformSampler(seededRandom(4));
    const n = 40000;
    const p = (k: number): number => Math.exp(-12 + k * Math.log(12) - logFactorial(k));
    let tailP = 0;
    for (let k = 20; k < 200; k++) tailP += p(k);
    let mode = 0;
    let tail = 0;
    for (let i = 0; i < n; i++) {
      const x = samplePoisson(u, 12);
      if (x === 12) mode++;
      if (x >= 20) tail++;
    }
    expect(Math.abs(mode / n - p(12))).toBeLessThan(5 * Math.sqrt((p(12) * (1 - p(12))) / n));
    expect(Math.abs(tail / n - tailP)).toBeLessThan(5 * Math.sqrt((tailP * (1 - tailP)) / n));
  });
});

describe('Skellam noise shares', () => {
  it('Sk(μ) has mean 0 and variance 2μ', () => {
    const u = new UniformSampler(seededRandom(9));
    const n = 40000;
    const { mean, variance } = moments(() => sampleSkellam(u, 40), n);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(80 / n));
    expect(Math.abs(variance - 80)).toBeLessThan(5 * Math.sqrt(2 / n) * 80 * 1.05);
  });

  it('the sum over the n - T surviving sites carries the target variance', () => {
    const spec = { kind: 'skellam' as const, variance: 400, sites: 10, toleratedDropouts: 3 };
    expect(perSiteVariance(spec)).toBeCloseTo(400 / 7, 12);
    const length = 20000;
    const sum = new Float64Array(length);
    for (let site = 0; site < 7; site++) {
      sampleNoiseShare(length, spec, seededRandom(100 + site)).forEach(
        (x, i) => (sum[i] = (sum[i] as number) + x),
      );
    }
    let sq = 0;
    for (const x of sum) sq += x * x;
    expect(Math.abs(sq / length - 400)).toBeLessThan(5 * Math.sqrt(2 / length) * 400);
  });

  it('discrete Gaussian shares also sum to the target variance', () => {
    const spec = { kind: 'discrete-gaussian' as const, variance: 90, sites: 4, toleratedDropouts: 1 };
    const length = 20000;
    const sum = new Float64Array(length);
    for (let site = 0; site < 3; site++) {
      sampleNoiseShare(length, spec, seededRandom(7 + site)).forEach(
        (x, i) => (sum[i] = (sum[i] as number) + x),
      );
    }
    let sq = 0;
    for (const x of sum) sq += x * x;
    // Each share N_Z(0, 30) has variance within 1e-10 of 30 (CKS20, Fact 20: σ² > 1/3 makes the gap tiny).
    expect(Math.abs(sq / length - 90)).toBeLessThan(5 * Math.sqrt(2 / length) * 90);
  });

  it('charges the accountant for the worst case of n - T sites', () => {
    const spec = { kind: 'skellam' as const, variance: 400, sites: 10, toleratedDropouts: 3 };
    const s = { l2: 2, l1: 4, dimension: 10 };
    expect(aggregateMechanism(spec, s)).toEqual({ kind: 'skellam', mu: 200, l2: 2, l1: 4 });
    const dg = aggregateMechanism({ ...spec, kind: 'discrete-gaussian' }, s);
    expect(dg).toMatchObject({ kind: 'distributed-discrete-gaussian', summands: 7 });
    expect(dg.kind === 'distributed-discrete-gaussian' && dg.sigma ** 2 * 7).toBeCloseTo(400, 9);
  });

  it('refuses a dropout tolerance that leaves no site', () => {
    expect(() => perSiteVariance({ kind: 'skellam', variance: 1, sites: 3, toleratedDropouts: 3 })).toThrow(
      "'toleratedDropouts'",
    );
  });
});
