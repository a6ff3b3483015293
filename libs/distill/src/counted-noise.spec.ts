import { assumptionText, countedNoise, countedShares } from './counted-noise';
import { planRelease, type ReleaseSpec } from './release';

const spec = (assumedColluders: number): ReleaseSpec => ({
  summary: 'votes',
  queries: 10,
  classes: 2,
  clipNorm: 1,
  granularity: 1,
  maxTeachers: 4,
  noise: { kind: 'skellam', noiseMultiplier: 2, sites: 10, toleratedDropouts: 2, assumedColluders },
});

describe(countedNoise.name, () => {
  it('splits V over the n - T - C honest survivors and counts k shares of it: own share when paranoid', () => {
    const plan = planRelease(spec(3));
    const v = plan.noise!.variance / 5; // n - T - C = 10 - 2 - 3
    expect(plan.mechanism).toMatchObject({ kind: 'skellam', mu: (5 * v) / 2 });
    // 20 standard deviations of the (larger) share bound a site's input.
    expect(plan.maxInput).toBe(4 + Math.ceil(20 * Math.sqrt(v)));
    const cases: [Parameters<typeof countedShares>[1], number][] = [
      [{ kind: 'paranoid' }, 1],
      [{ kind: 'colluders', colluders: 0 }, 8],
      [{ kind: 'colluders', colluders: 3 }, 5],
      [{ kind: 'colluders', colluders: 7 }, 1],
      [{ kind: 'colluders', colluders: 50 }, 1],
    ];
    for (const [trust, k] of cases) {
      const c = countedNoise(plan, trust);
      expect({ shares: c.shares, planned: c.planned }).toEqual({ shares: k, planned: 5 });
      expect(c.mechanism).toMatchObject({ kind: 'skellam', mu: expect.closeTo((k * v) / 2, 9) });
    }
  });

  it('counts discrete Gaussian shares as summands of the announced share', () => {
    const s = spec(0);
    const plan = planRelease({ ...s, noise: { ...s.noise!, kind: 'discrete-gaussian' } });
    const c = countedNoise(plan, { kind: 'colluders', colluders: 6 });
    expect(c.mechanism).toMatchObject({
      kind: 'distributed-discrete-gaussian',
      summands: 2,
      sigma: expect.closeTo(Math.sqrt(plan.noise!.variance / 8), 9),
    });
  });

  it('states the assumption in words and names a bad setting', () => {
    const plan = planRelease(spec(3));
    expect(assumptionText(plan.noise!)).toBe(
      'assuming at most 3 of 10 participants collude with the coordinator and at most 2 drop out',
    );
    expect(countedNoise(plan, { kind: 'paranoid' }).assumption).toBe(
      "assuming any of the other 9 participants may collude with the coordinator (paranoid: only this site's own noise share counts)",
    );
    expect(() => planRelease(spec(8))).toThrow(
      "'assumedColluders' must be an integer in [0, sites - toleratedDropouts)",
    );
    expect(() => countedNoise(plan, { kind: 'colluders', colluders: -1 })).toThrow("'colluders'");
    expect(() => countedNoise(planRelease({ ...spec(0), noise: null }), { kind: 'paranoid' })).toThrow(
      "'plan' has no noise",
    );
  });
});
