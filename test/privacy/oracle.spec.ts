import { epsilonBracket } from './exact-curve';
import { erfc, gaussianDelta, gaussianGridPld } from './gaussian';
import { convolvePmf, discreteGaussianPmf, type IntPmf, logAt, poissonLogPmf, skellamPmf } from './noise-pmf';
import { deltaOf, epsilonFor, selfCompose } from './pld';

// The oracle is tested against closed forms and direct computations only, never against the
// accountant it checks.

const total = (d: IntPmf) => d.logp.reduce((s, v) => s + Math.exp(v), 0);
const gaussianEpsilon = (delta: number, sensitivity: number, sigma: number) =>
  epsilonFor((e) => gaussianDelta(e, sensitivity, sigma), delta, true, 1e-10);

describe('privacy oracle: noise pmfs', () => {
  it('erfc matches reference values', () => {
    // Abramowitz & Stegun Table 7.1 and standard values.
    expect(erfc(0)).toBe(1);
    expect(erfc(1)).toBeCloseTo(0.157299207050285, 14);
    expect(erfc(2)).toBeCloseTo(0.004677734981047266, 15);
    expect(erfc(5) / 1.5374597944280349e-12).toBeCloseTo(1, 12);
    expect(erfc(10) / 2.088487583762545e-45).toBeCloseTo(1, 12);
  });

  it.each([0.3, 3, 40])('the Skellam pmf (mu %p) is the convolution of two Poisson pmfs', (mu) => {
    const sut = skellamPmf(mu);
    const n = 400;
    const pois = poissonLogPmf(mu, n);
    for (const k of [-7, -1, 0, 1, 2, 9, 25]) {
      let direct = 0;
      for (let j = 0; j + Math.abs(k) <= n; j += 1)
        direct += Math.exp((pois[j + Math.abs(k)] as number) + (pois[j] as number));
      if (direct < 1e-300) continue;
      expect(Math.exp(logAt(sut, k)) / direct).toBeCloseTo(1, 11);
    }
    expect(total(sut)).toBeCloseTo(1, 13);
    expect(sut.missing).toBeLessThan(1e-40);
  });

  it('the discrete Gaussian pmf has the defining ratios and sums to one', () => {
    const sut = discreteGaussianPmf(0.25);
    expect(logAt(sut, 3) - logAt(sut, 0)).toBeCloseTo(-18, 12);
    expect(logAt(sut, -3)).toBe(logAt(sut, 3));
    expect(total(sut)).toBeCloseTo(1, 14);
    // A sum of two shares is NOT a discrete Gaussian of twice the variance (KLS21, §3).
    const two = convolvePmf(sut, sut);
    expect(total(two)).toBeCloseTo(1, 13);
    expect(Math.abs(logAt(two, 1) - logAt(two, 0) + 1)).toBeGreaterThan(0.01);
  });
});

describe('privacy oracle: PLD composition against the Gaussian closed form', () => {
  const delta = 1e-5;

  it.each([
    [1, 2, 1],
    [1, 2, 10],
    [1, 10, 1000],
    [1, 100, 50_000],
  ])(
    'Δ %p, σ %p, %p compositions: the bracket holds the exact ε (Balle & Wang 2018, Thm 8)',
    (sens, sigma, k) => {
      const exact = gaussianEpsilon(delta, sens, sigma / Math.sqrt(k));
      const sd = sens / sigma;
      const upper = selfCompose(gaussianGridPld(sens, sigma, sd / 40, true), k, true);
      const epsUp = epsilonFor((e) => deltaOf(upper, e), delta, true);
      expect(epsUp).toBeGreaterThanOrEqual(exact - 1e-9);
      // Connect-the-dots is second order in the grid step: 0.02% after 50,000 compositions with
      // the grid coarsened to 3,000 points (measured).
      expect(epsUp).toBeLessThan(exact * 1.001);
      if (k <= 10) {
        const lower = selfCompose(gaussianGridPld(sens, sigma, sd / 100 / k, false), k, false);
        const epsLo = epsilonFor((e) => deltaOf(lower, e), delta, false);
        expect(epsLo).toBeLessThanOrEqual(exact + 1e-9);
        expect(epsLo).toBeGreaterThan(exact * 0.99);
      }
    },
  );

  it('δ(ε) of a composed grid PLD matches the closed form at several ε', () => {
    const sut = selfCompose(gaussianGridPld(1, 3, 1 / 120, true), 9, true);
    for (const eps of [0, 0.5, 1, 2, 3]) {
      const exact = gaussianDelta(eps, 1, 1);
      expect(deltaOf(sut, eps)).toBeGreaterThanOrEqual(exact * (1 - 1e-9));
      expect(deltaOf(sut, eps)).toBeLessThan(exact * 1.02 + 1e-12);
    }
  });
});

describe('privacy oracle: discrete mechanisms', () => {
  it('a discrete Gaussian with a large σ and unit shifts is bracketed tightly, near the Gaussian', () => {
    // 100 unit shifts at σ = 30 are close to one shift of 10 at σ = 30 (CKS20, arXiv:2004.00010).
    const sut = epsilonBracket(
      { kind: 'discrete-gaussian', sigma2: 900, shares: 1 },
      { shift: 1, coordinates: 100 },
      { delta: 1e-5, rounds: 1 },
    );
    const gauss = gaussianEpsilon(1e-5, 10, 30);
    expect(sut.lower).toBeLessThanOrEqual(sut.upper);
    expect(sut.upper / sut.lower).toBeLessThan(1.02);
    expect(Math.abs(sut.upper / gauss - 1)).toBeLessThan(0.02);
  });

  it('one discrete Gaussian: the bracket holds the exact curve of CKS20 Theorem 7', () => {
    // δ(ε) = P[X > εσ²/Δ - Δ/2] - e^ε P[X > εσ²/Δ + Δ/2], X ~ N_Z(0, σ²) (Canonne, Kamath,
    // Steinke 2020, arXiv:2004.00010, Theorem 7), summed directly over the integers.
    const [sigma2, shift] = [4, 2];
    const pmf = discreteGaussianPmf(sigma2);
    const above = (t: number) => {
      let p = 0;
      pmf.logp.forEach((lp, i) => (p += pmf.offset + i > t ? Math.exp(lp) : 0));
      return p;
    };
    const cks = (e: number) =>
      above((e * sigma2) / shift - shift / 2) - Math.exp(e) * above((e * sigma2) / shift + shift / 2);
    const sut = epsilonBracket(
      { kind: 'discrete-gaussian', sigma2, shares: 1 },
      { shift, coordinates: 1 },
      { delta: 1e-5, rounds: 1 },
    );
    const exactUp = epsilonFor(cks, 1e-5, true, 1e-9);
    const exactLo = epsilonFor(cks, 1e-5, false, 1e-9);
    expect(sut.lower).toBeLessThanOrEqual(exactUp);
    expect(sut.upper).toBeGreaterThanOrEqual(exactLo);
    expect(sut.upper - sut.lower).toBeLessThan(0.01);
  });

  it('the upper bound of one round equals the exact curve of the pmfs', () => {
    // One coordinate, one round: no composition, so upper and lower meet (up to the grid).
    const sut = epsilonBracket(
      { kind: 'skellam', mu: 2 },
      { shift: 1, coordinates: 1 },
      { delta: 1e-5, rounds: 1 },
    );
    expect(sut.upper - sut.lower).toBeLessThan(0.02);
  });
});
