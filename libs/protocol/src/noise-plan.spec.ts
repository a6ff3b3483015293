import { planRelease } from '@fedistill/distill';
import { federationEpsilon } from './federation-epsilon';
import { type FederationSpec, parseFederationSpec } from './federation-spec';
import { effectiveNoiseMultiplier, noiseMultiplierFor, planNoise, worstEpsilon } from './noise-plan';
import { planEvaluationRound, planRound, type RoundPlan } from './round-plan';

const base = {
  id: 'fmnist',
  labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  input: { shape: [784] },
  referenceSet: { sha256: 'ab'.repeat(32) },
  student: { architecture: 'mlp' },
  rounds: { minSites: 3, maxRounds: 4, queriesPerRound: 200 },
};

function federation(privacy: Record<string, unknown>, rounds: Record<string, unknown> = {}): FederationSpec {
  const parsed = parseFederationSpec({ ...base, privacy, rounds: { ...base.rounds, ...rounds } });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.spec;
}

const sites = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `s${i}`, signingPublicKey: 'aa' }));
const rows = (q: number) => Array.from({ length: q }, (_, i) => i);

describe(noiseMultiplierFor.name, () => {
  it.each([
    ['skellam votes', { mechanism: 'skellam', summary: 'votes', targetEpsilon: 2.7 }],
    ['skellam soft labels', { mechanism: 'skellam', targetEpsilon: 1 }],
    [
      'discrete gaussian, 1 colluder',
      { mechanism: 'discrete-gaussian', targetEpsilon: 4, assumedColluders: 1 },
    ],
    [
      'skellam votes, epsilon 0.3',
      { mechanism: 'skellam', summary: 'votes', targetEpsilon: 0.3, delta: 1e-8 },
    ],
  ])('%s: the smallest z (to 1e-3) whose composed epsilon meets the target', (_name, privacy) => {
    const spec = federation(privacy);
    const sut = noiseMultiplierFor(spec);
    const target = privacy.targetEpsilon;
    expect(worstEpsilon(spec, sut)).toBeLessThanOrEqual(target);
    expect(worstEpsilon(spec, sut * (1 - 1e-3))).toBeGreaterThan(target);
  });

  it('needs more noise for more rounds, more noise for a smaller target', () => {
    const z = (privacy: Record<string, unknown>, rounds = {}) =>
      noiseMultiplierFor(federation(privacy, rounds));
    const p = { mechanism: 'skellam', summary: 'votes', targetEpsilon: 2 };
    expect(z(p, { maxRounds: 8 })).toBeGreaterThan(z(p));
    expect(z({ ...p, targetEpsilon: 1 })).toBeGreaterThan(z(p));
  });

  it('prices the costliest round: a one-query round costs more than a full one (Skellam)', () => {
    // rounds.maxRounds 4 distillation rounds and the default rounds.maxEvaluationRounds 1.
    const spec = federation({ mechanism: 'skellam', summary: 'votes', targetEpsilon: 1 });
    expect(spec.rounds.maxEvaluationRounds).toBe(1);
    const cost = (q: number, rounds = 4) =>
      federationEpsilon(
        Array.from({ length: rounds }, (_, r) => planRound(spec, r + 1, sites(3), rows(q), 0)),
        spec.privacy.delta,
      ).epsilon;
    expect(cost(1)).toBeGreaterThan(cost(200));
    // Every mix of the rounds the federation may run stays within the target: four distillation
    // rounds of any size and its evaluation round.
    const mixed: RoundPlan[] = [
      planRound(spec, 1, sites(3), rows(1), 0),
      planRound(spec, 2, sites(3), rows(1), 0),
      planRound(spec, 3, sites(3), rows(200), 0),
      planRound(spec, 4, sites(3), rows(1), 0),
      planEvaluationRound(spec, 5, sites(3), 1, 0),
    ];
    expect(federationEpsilon(mixed, spec.privacy.delta).epsilon).toBeLessThanOrEqual(1);
    expect(cost(1, 5)).toBeLessThanOrEqual(1);
    // The planned z is the smallest that keeps five one-query rounds (the costliest) within the target.
    expect(worstEpsilon(spec, noiseMultiplierFor(spec))).toBeCloseTo(cost(1, 5), 12);
  });

  it('budgets rounds.maxEvaluationRounds evaluation rounds beside rounds.maxRounds', () => {
    const p = { mechanism: 'skellam', summary: 'votes', targetEpsilon: 2 };
    const z = (rounds: Record<string, unknown>) => noiseMultiplierFor(federation(p, rounds));
    expect(z({ maxEvaluationRounds: 0, maxRounds: 5 })).toBeCloseTo(
      z({ maxEvaluationRounds: 1, maxRounds: 4 }),
      12,
    );
    expect(z({ maxEvaluationRounds: 3 })).toBeGreaterThan(z({ maxEvaluationRounds: 0 }));
  });

  it('refuses a target no noise multiplier in range reaches, naming privacy.targetEpsilon', () => {
    const parsed = parseFederationSpec({
      ...base,
      privacy: { mechanism: 'skellam', targetEpsilon: 1e-6, delta: 1e-12 },
      rounds: { ...base.rounds, maxRounds: 10000 },
    });
    expect(parsed.ok ? [] : parsed.problems).toEqual([
      expect.stringMatching(/^privacy\.targetEpsilon: cannot be reached with noise multiplier <= 1000000/),
    ]);
  });
});

describe(effectiveNoiseMultiplier.name, () => {
  it('is the expert noiseMultiplier when given', () => {
    expect(
      effectiveNoiseMultiplier(federation({ mechanism: 'skellam', noiseMultiplier: 2.5, epsilonCap: 8 })),
    ).toBe(2.5);
  });

  it('planRound and planEvaluationRound noise rounds of a targetEpsilon federation with the planned z', () => {
    const spec = federation({ mechanism: 'skellam', summary: 'votes', targetEpsilon: 2.7 });
    const z = effectiveNoiseMultiplier(spec);
    expect(z).toBe(noiseMultiplierFor(spec));
    const plan = planRound(spec, 1, sites(3), rows(200), 0);
    const release = planRelease(plan.release);
    expect(plan.release.noise?.noiseMultiplier).toBe(z);
    // The aggregate noise stddev every site recomputes: z x Δ2, with Δ2 = sqrt(2q) for votes.
    expect(Math.sqrt(release.noise?.variance ?? NaN)).toBeCloseTo(z * Math.sqrt(2 * 200), 9);
    const evaluation = planEvaluationRound(spec, 2, sites(3), 1, 0);
    expect(evaluation.evaluation.noise?.noiseMultiplier).toBe(z);
  });
});

describe(planNoise.name, () => {
  it("reports the accountant's epsilon: planned maxRounds full rounds composed by federationEpsilon", () => {
    const spec = federation({ mechanism: 'skellam', summary: 'votes', targetEpsilon: 2.7 });
    const sut = planNoise(spec);
    const plans = [1, 2, 3, 4].map((r) => planRound(spec, r, sites(3), rows(200), 0));
    expect(sut.epsilon).toBe(federationEpsilon(plans, spec.privacy.delta).epsilon);
    expect(sut.epsilon).toBeLessThanOrEqual(sut.worstEpsilon);
    expect(sut.worstEpsilon).toBeLessThanOrEqual(2.7);
    expect(sut).toMatchObject({
      chosen: true,
      targetEpsilon: 2.7,
      rounds: 4,
      queriesPerRound: 200,
      sites: 3,
    });
    expect(sut.noiseStddev).toBeCloseTo(sut.noiseMultiplier * Math.sqrt(400), 9);
    expect(sut.maxSignal).toBe(3 * 16);
  });

  it('states soft-label noise in probability mass and prices an expert z too', () => {
    const spec = federation({ mechanism: 'skellam', noiseMultiplier: 3, epsilonCap: 50, granularity: 0.05 });
    const sut = planNoise(spec);
    expect(sut).toMatchObject({ noiseMultiplier: 3, chosen: false, targetEpsilon: null });
    expect(sut.noiseStddev).toBeCloseTo(3 * sut.release.l2 * 0.05, 9);
    expect(() => planNoise(federation({ mechanism: 'none' }))).toThrow(/privacy\.mechanism/);
  });
});
