import { RdpAccountant, rdpCurve } from './accountant';
import { DEFAULT_ORDERS, classicEpsilonFromRdp, epsilonFromRdp } from './conversion';
import { rdp } from './mechanisms';

// Independent reference: the exact privacy profile of the Gaussian mechanism (Balle & Wang 2018,
// "Improving the Gaussian mechanism", arXiv:1805.06530, Theorem 8):
// δ(ε) = Φ(Δ/(2σ) - εσ/Δ) - e^ε Φ(-Δ/(2σ) - εσ/Δ). Φ via erfc (Numerical Recipes 6.2, |rel err| < 1.2e-7).
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + z / 2);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
const phi = (x: number): number => 0.5 * erfc(-x / Math.SQRT2);
const exactDelta = (eps: number, sigma: number, l2: number): number =>
  phi(l2 / (2 * sigma) - (eps * sigma) / l2) - Math.exp(eps) * phi(-l2 / (2 * sigma) - (eps * sigma) / l2);

describe(RdpAccountant.name, () => {
  it('has the closed form of the Gaussian mechanism, αΔ²/(2σ²) (Mironov 2017, arXiv:1702.07476, Table II)', () => {
    expect(rdp({ kind: 'gaussian', sigma: 2, l2: 1 }, 8)).toBe(1);
    expect(rdp({ kind: 'gaussian', sigma: 3, l2: 1.5 }, 2)).toBeCloseTo(0.25, 15);
    // Composition adds curves: k queries at σ equal one query at σ/√k.
    const k = 16;
    const composed = rdpCurve({ kind: 'gaussian', sigma: 4, l2: 1 }, k);
    const single = rdpCurve({ kind: 'gaussian', sigma: 1, l2: 1 }, 1);
    composed.forEach((r, i) => expect(r).toBeCloseTo(single[i] as number, 12));
  });

  it.each([
    [1, 1e-5],
    [4, 1e-5],
    [10, 1e-6],
  ])('gives a valid and near-tight (ε, δ) for the Gaussian at σ = %f, δ = %f', (sigma, delta) => {
    const sut = new RdpAccountant().add({ kind: 'gaussian', sigma, l2: 1 });
    const { epsilon } = sut.epsilon(delta);
    // Valid: the exact δ at the reported ε is no larger than δ.
    expect(exactDelta(epsilon, sigma, 1)).toBeLessThanOrEqual(delta);
    // Near-tight: the exact ε (bisection on the exact profile) is within 35% of ours.
    let lo = 0;
    let hi = epsilon;
    for (let i = 0; i < 100; i++) {
      const mid = (lo + hi) / 2;
      if (exactDelta(mid, sigma, 1) > delta) lo = mid;
      else hi = mid;
    }
    expect(epsilon).toBeLessThan(1.35 * hi);
  });

  it('improves on the classic conversion at every setting', () => {
    for (const sigma of [0.8, 2, 10]) {
      const curve = rdpCurve({ kind: 'gaussian', sigma, l2: 1 }, 50);
      const improved = epsilonFromRdp(DEFAULT_ORDERS, curve, 1e-5).epsilon;
      expect(improved).toBeLessThan(classicEpsilonFromRdp(DEFAULT_ORDERS, curve, 1e-5).epsilon);
    }
  });

  it('is monotone: ε falls with σ and δ and grows with the number of queries', () => {
    const eps = (sigma: number, count: number, delta: number): number =>
      new RdpAccountant()
        .add({ kind: 'skellam', mu: (sigma * sigma) / 2, l2: 1, l1: 1 }, count)
        .epsilon(delta).epsilon;
    for (const s of [1, 2, 5, 10, 50]) expect(eps(s * 1.1, 10, 1e-5)).toBeLessThan(eps(s, 10, 1e-5));
    for (const c of [1, 10, 100, 1000]) expect(eps(5, c + 1, 1e-5)).toBeGreaterThan(eps(5, c, 1e-5));
    for (const d of [1e-3, 1e-5, 1e-8]) expect(eps(5, 10, d / 10)).toBeGreaterThan(eps(5, 10, d));
  });
});

describe('RDP of the integer mechanisms', () => {
  it('Skellam: AKL21 (arXiv:2110.04995, §3) bound, above and converging to the Gaussian of variance 2μ', () => {
    // α = 4, Δ2 = 2, Δ1 = 4, μ = 10: 4·4/40 + min((7·4 + 24)/1600, 12/40) = 0.4 + 0.0325.
    expect(rdp({ kind: 'skellam', mu: 10, l2: 2, l1: 4 }, 4)).toBeCloseTo(0.4325, 12);
    for (const mu of [10, 1e3, 1e5]) {
      const gaussian = rdp({ kind: 'gaussian', sigma: Math.sqrt(2 * mu), l2: 1 }, 8);
      const skellam = rdp({ kind: 'skellam', mu, l2: 1, l1: 1 }, 8);
      expect(skellam).toBeGreaterThan(gaussian);
      expect(skellam / gaussian - 1).toBeLessThan(1 / mu);
    }
    expect(rdp({ kind: 'skellam', mu: 10, l2: 1, l1: 1 }, 2.5)).toBe(Infinity);
  });

  it('distributed discrete Gaussian: KLS21 (arXiv:2102.06387, Thm 1) tends to the Gaussian of variance nσ² as τ -> 0', () => {
    const m = {
      kind: 'distributed-discrete-gaussian' as const,
      sigma: 3,
      summands: 10,
      dimension: 100,
      l2: 1,
      l1: 10,
    };
    const gaussian = rdp({ kind: 'gaussian', sigma: 3 * Math.sqrt(10), l2: 1 }, 8);
    // τ = 10 Σ exp(-2π²·9·k/(k+1)) ≈ 10 · exp(-88.8) · ..., negligible.
    expect(rdp(m, 8)).toBeCloseTo(gaussian, 12);
    // With σ = 0.3 per site τ is large and the bound exceeds the Gaussian one.
    expect(rdp({ ...m, sigma: 0.3 }, 8)).toBeGreaterThan(
      rdp({ kind: 'gaussian', sigma: 0.3 * Math.sqrt(10), l2: 1 }, 8),
    );
  });

  it('GNMax: (λ, λ/σ²) data-independent (Papernot et al. 2018, arXiv:1802.08908, Proposition 8); the threshold λ/(2σ1²)', () => {
    expect(rdp({ kind: 'gnmax', sigma: 40 }, 10)).toBeCloseTo(10 / 1600, 15);
    expect(rdp({ kind: 'gnmax-threshold', sigma: 150 }, 10)).toBeCloseTo(10 / 45000, 15);
  });

  it('names bad parameters', () => {
    expect(() => rdpCurve({ kind: 'gaussian', sigma: 0, l2: 1 }, 1)).toThrow("'sigma'");
    expect(() => rdpCurve({ kind: 'gaussian', sigma: 1, l2: 1 }, -1)).toThrow("'count'");
    expect(() => epsilonFromRdp([2], [1], 0)).toThrow("'delta'");
  });
});
