import { DEFAULT_ORDERS } from '@fedistill/dp';
import {
  dpFedAvgEpsilon,
  dpFedAvgMaxInput,
  dpFedAvgNoiseFor,
  type DpFedAvgNoiseSetup,
  dpFedAvgRelease,
  dpFedAvgRingBits,
} from './dp-fedavg-privacy';

// Hand-written references (not libs/dp): the KLS21 §4 rounded-norm bound with β = exp(-0.5)
// (so sqrt(2 ln(1/β)) = 1), and the improved RDP-to-DP conversion (CKS20 Prop. 12) of a curve.
const handBound = (clip: number, gamma: number, d: number): number => {
  const c = clip / gamma;
  return Math.min(Math.sqrt(c * c + d / 4 + (c + Math.sqrt(d) / 2)), c + Math.sqrt(d));
};
const handEpsilon = (curve: (alpha: number) => number, delta: number): number =>
  Math.min(
    ...DEFAULT_ORDERS.map((a) =>
      Math.max(0, curve(a) + Math.log((a - 1) / a) - (Math.log(delta) + Math.log(a)) / (a - 1)),
    ),
  );

const paranoid: DpFedAvgNoiseSetup = { sites: 10, clip: 0.5, granularity: 0.5 / 1000, dimension: 101_770 };
const trusting: DpFedAvgNoiseSetup = { ...paranoid, toleratedDropouts: 1, assumedColluders: 0 };

describe(dpFedAvgEpsilon.name, () => {
  it('charges R·α/(2z²) over R rounds, converted, when the shares are large', () => {
    for (const [z, rounds] of [
      [1.3, 1],
      [3.7, 5],
      [8, 20],
    ] as const) {
      const expected = handEpsilon((a) => (rounds * a) / (2 * z * z), 1e-5);
      expect(dpFedAvgEpsilon(paranoid, z, rounds, 1e-5)).toBeCloseTo(expected, 10);
      // 9 counted shares of a variance in the millions of units: KLS21's τ underflows to 0.
      expect(dpFedAvgEpsilon(trusting, z, rounds, 1e-5)).toBeCloseTo(expected, 10);
    }
  });

  it('uses the replace-one sensitivity 2B of the rounded update and splits V over n - T - C shares', () => {
    const sut = dpFedAvgRelease(trusting, 2);
    const b = handBound(0.5, 0.5 / 1000, 101_770);
    expect(sut.normBound).toBeCloseTo(b, 9);
    expect(sut.l2).toBeCloseTo(2 * b, 9);
    expect(sut.noise.variance).toBeCloseTo((2 * 2 * b) ** 2, 3);
    expect(sut.perSiteVariance).toBeCloseTo((2 * 2 * b) ** 2 / 9, 3);
    expect(dpFedAvgRelease(paranoid, 2).perSiteVariance).toBeCloseTo((2 * 2 * b) ** 2, 3);
  });

  it('adds the sum-of-shares correction τ of KLS21 Theorem 1 when shares are small', () => {
    // 4 entries, C = γ = 1: B = min(sqrt(1 + 1 + 2), 3) = 2, Δ2 = 4, Δ1 = min(16, 8) = 8.
    const setup: DpFedAvgNoiseSetup = {
      sites: 5,
      clip: 1,
      granularity: 1,
      dimension: 4,
      assumedColluders: 0,
    };
    const z = 0.5;
    const s2 = (z * 4) ** 2 / 5; // each of 5 counted shares
    let tau = 0;
    for (let k = 1; k < 5; k++) tau += 10 * Math.exp((-2 * Math.PI ** 2 * s2 * k) / (k + 1));
    const curve = (a: number): number => {
      const nv = 5 * s2;
      const sd = Math.sqrt(nv);
      return Math.min(
        (a * 16) / (2 * nv) + tau * 4,
        (a / 2) * (16 / nv + (2 * 8 * tau) / sd + tau * tau * 4),
        (a / 2) * (4 / sd + tau * 2) ** 2,
      );
    };
    expect(tau).toBeGreaterThan(1e-3);
    expect(dpFedAvgEpsilon(setup, z, 3, 1e-5)).toBeCloseTo(
      handEpsilon((a) => 3 * curve(a), 1e-5),
      9,
    );
    expect(dpFedAvgEpsilon(setup, z, 3, 1e-5)).toBeGreaterThan(
      handEpsilon((a) => (3 * a) / (2 * z * z), 1e-5),
    );
  });

  it('refuses bad settings, naming them', () => {
    expect(() => dpFedAvgEpsilon(paranoid, 1, 0, 1e-5)).toThrow("'rounds'");
    expect(() => dpFedAvgEpsilon(paranoid, 1, 1, 0)).toThrow("'delta'");
    expect(() => dpFedAvgRelease(paranoid, 0)).toThrow("'noiseMultiplier'");
    expect(() => dpFedAvgRelease({ ...paranoid, sites: 1 }, 1)).toThrow("'sites'");
    expect(() => dpFedAvgRelease({ ...paranoid, clip: 0 }, 1)).toThrow("'clip'");
    expect(() => dpFedAvgRelease({ ...paranoid, granularity: NaN }, 1)).toThrow("'granularity'");
    expect(() => dpFedAvgRelease({ ...paranoid, dimension: 1.5 }, 1)).toThrow("'dimension'");
    expect(() => dpFedAvgRelease({ ...paranoid, toleratedDropouts: 10 }, 1)).toThrow("'toleratedDropouts'");
    expect(() => dpFedAvgRelease({ ...trusting, assumedColluders: 9 }, 1)).toThrow("'assumedColluders'");
  });
});

describe(dpFedAvgNoiseFor.name, () => {
  it.each([
    [2.7, 5],
    [1, 3],
    [2.7, 1],
  ])('chooses the smallest z that meets epsilon %p over %p rounds', (target, rounds) => {
    const z = dpFedAvgNoiseFor(target, 1e-5, rounds, trusting);
    const eps = (x: number): number => handEpsilon((a) => (rounds * a) / (2 * x * x), 1e-5);
    expect(eps(z)).toBeLessThanOrEqual(target);
    expect(eps(z / (1 + 2e-4))).toBeGreaterThan(target);
  });

  it('refuses a target no noise reaches, or none at all', () => {
    expect(() => dpFedAvgNoiseFor(1e-3, 1e-5, 1, paranoid)).toThrow(
      "'targetEpsilon' 0.001 cannot be reached",
    );
    expect(() => dpFedAvgNoiseFor(0, 1e-5, 1, paranoid)).toThrow("'targetEpsilon' must be");
  });
});

describe(dpFedAvgRingBits.name, () => {
  it('picks the smallest signed ring holding n x (B + 20 share deviations), refuses a smaller one', () => {
    const release = dpFedAvgRelease(trusting, 3);
    const need = 10 * (Math.ceil(release.normBound) + Math.ceil(20 * Math.sqrt(release.perSiteVariance)));
    expect(10 * dpFedAvgMaxInput(release)).toBe(need);
    const bits = dpFedAvgRingBits(release, 10);
    expect(need).toBeLessThanOrEqual(2 ** (bits - 1) - 1);
    expect(need).toBeGreaterThan(2 ** (bits - 2) - 1);
    expect(dpFedAvgRingBits(release, 10, 32)).toBe(32);
    expect(() => dpFedAvgRingBits(release, 10, bits - 1)).toThrow(`'bits' ${bits - 1} too small`);
    expect(() => dpFedAvgRingBits(release, 10, 40)).toThrow("'bits' must be an integer in [8, 32]");
    expect(() => dpFedAvgRingBits(dpFedAvgRelease(paranoid, 1e5), 10)).toThrow('no ring of at most 32 bits');
  });
});
