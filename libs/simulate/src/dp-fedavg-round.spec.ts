import { seededRandom } from '@fedistill/dp';
import { dpFedAvgRelease, dpFedAvgRingBits } from './dp-fedavg-privacy';
import { secureNoisySum } from './dp-fedavg-round';

const norm = (x: ArrayLike<number>): number => Math.sqrt(Array.from(x).reduce((a, v) => a + v * v, 0));

function updates(n: number, d: number, scale: number, seed: number): Float64Array[] {
  const bytes = seededRandom(seed, 'spec').fill(new Uint8Array(n * d));
  return Array.from({ length: n }, (_, i) =>
    Float64Array.from({ length: d }, (_, j) => ((bytes[i * d + j] as number) / 255 - 0.5) * scale),
  );
}

describe(secureNoisySum.name, () => {
  const setup = {
    sites: 5,
    clip: 1,
    granularity: 0.01,
    dimension: 40,
    toleratedDropouts: 1,
    assumedColluders: 0,
  };

  it('returns exactly the plain sum of the sites’ quantized noisy vectors, through masking', () => {
    const release = dpFedAvgRelease(setup, 1);
    const bits = dpFedAvgRingBits(release, 5);
    const sut = secureNoisySum(updates(5, 40, 0.2, 1), release, {
      roundId: 'r1',
      bits,
      random: seededRandom(2),
      secaggSeed: 3,
    });
    const plain = new Int32Array(40);
    for (const v of sut.inputs) v.forEach((x, j) => (plain[j] = (plain[j] as number) + x));
    expect(Array.from(sut.sum)).toEqual(Array.from(plain));
    expect(sut.survivors).toBe(5);
    // The noise is there: per-site stddev sqrt(V/4) = 2B/2 = B (about 100 units) per entry.
    expect(norm(sut.inputs[0]!)).toBeGreaterThan(2 * release.normBound);
  });

  it('clips every site to norm C before rounding (large updates keep their direction)', () => {
    const release = dpFedAvgRelease(setup, 1e-3); // per-site noise stddev ~0.1 unit
    const big = updates(5, 40, 1000, 4); // norms ~ 1800 = 1800 C
    const sut = secureNoisySum(big, release, {
      roundId: 'r2',
      bits: 32,
      random: seededRandom(5),
      secaggSeed: 6,
    });
    const sigma = Math.sqrt(release.perSiteVariance);
    for (const [i, v] of sut.inputs.entries()) {
      expect(norm(v)).toBeLessThanOrEqual(release.normBound + 8 * sigma * Math.sqrt(40));
      expect(norm(v)).toBeGreaterThan(0.9 * (setup.clip / setup.granularity));
      const u = big[i]!;
      const cos = Array.from(v).reduce((a, x, j) => a + x * (u[j] as number), 0) / (norm(v) * norm(u));
      expect(cos).toBeGreaterThan(0.99);
    }
  });

  it('adds to each site a noise share of variance V/(n - T - C)', () => {
    const wide = { ...setup, dimension: 2000 };
    const release = dpFedAvgRelease(wide, 0.5); // V = (0.5·Δ2)², shares V/4: stddev ~50 units
    const zeros = Array.from({ length: 5 }, () => new Float64Array(2000));
    const sut = secureNoisySum(zeros, release, {
      roundId: 'r4',
      bits: 32,
      random: seededRandom(10),
      secaggSeed: 11,
    });
    const all = sut.inputs.flatMap((v) => Array.from(v));
    const variance = all.reduce((a, x) => a + x * x, 0) / all.length;
    expect(variance / ((0.5 * release.l2) ** 2 / 4)).toBeCloseTo(1, 1);
  });

  it('refuses updates that do not match the plan', () => {
    const release = dpFedAvgRelease(setup, 1);
    const o = { roundId: 'r3', bits: 32, random: seededRandom(7), secaggSeed: 8 };
    expect(() => secureNoisySum(updates(4, 40, 1, 9), release, o)).toThrow(
      '4 updates for a release planned for 5',
    );
    expect(() => secureNoisySum(updates(5, 39, 1, 9), release, o)).toThrow(
      'update 0 has 39 entries, expected 40',
    );
  });
});
