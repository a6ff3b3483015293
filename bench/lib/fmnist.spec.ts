import { RdpAccountant } from '@fedistill/dp';
import { parseFederationSpec, planNoise, releasePlanOf, planRound } from '@fedistill/protocol';
import { federationDefinition } from '@fedistill/simulate';
import { atEpsilon, fmnistBase, fmnistPrivate, plannedEpsilon } from './fmnist';

const base = fmnistBase({ quick: true, directory: '/nonexistent', seed: 1, threads: 1 });
const arm = fmnistPrivate(base, 1, 200, undefined);
const shape = [3969];

describe(atEpsilon.name, () => {
  it.each([1, 2, 2.7])(
    'chooses the noise at which the planned epsilon is %p, to the bisection precision',
    (e) => {
      const sut = atEpsilon(arm, e, shape, 10);
      const epsilon = plannedEpsilon(sut, shape, 10);
      expect(epsilon).toBeLessThanOrEqual(e);
      expect(epsilon).toBeGreaterThan(e * 0.999);
      expect(sut.privacy).toEqual({ ...arm.privacy, noiseMultiplier: expect.any(Number) });
    },
  );

  it('plans the epsilon the coordinator charges for the round it plans (same release, same accountant)', () => {
    const sut = atEpsilon(
      { ...arm, privacy: { ...arm.privacy, assumedColluders: 'all' } as typeof arm.privacy },
      2,
      shape,
      10,
    );
    const parsed = parseFederationSpec(
      federationDefinition(sut, { classes: 10, inputShape: shape, referenceSha256: '0'.repeat(64) }),
    );
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    const roster = Array.from({ length: 10 }, (_v, i) => ({ name: `site-${i + 1}`, signingPublicKey: '' }));
    const queries = Array.from({ length: 200 }, (_v, i) => i);
    const plan = releasePlanOf(planRound(parsed.spec, 1, roster, queries, 0));
    const charged = new RdpAccountant().add(plan.mechanism!, 1).epsilon(1e-5).epsilon;
    expect(charged).toBeCloseTo(planNoise(parsed.spec).epsilon, 10);
    expect(charged).toBeLessThanOrEqual(2);
  });

  it('refuses a target that is not a positive epsilon, and an arm without privacy', () => {
    expect(() => atEpsilon(arm, 0, shape, 10)).toThrow("'targetEpsilon' must be > 0");
    expect(() => atEpsilon(arm, Number.NaN, shape, 10)).toThrow("'targetEpsilon' must be > 0");
    expect(() => atEpsilon(base, 2, shape, 10)).toThrow("'arm' has no privacy");
  });
});
