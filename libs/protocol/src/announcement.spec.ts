import { type NoiseMechanism, RoundAnnouncement, type SummaryKind } from '@fedistill/wire';
import { releaseFromTerms, evaluationFromTerms, TermsRefusedError } from './announcement-checks';
import { decodeAnnouncement, encodeAnnouncement } from './announcement';
import { type FederationSpec, parseFederationSpec } from './federation-spec';
import { type RoundPlan, planEvaluationRound, planRound, releasePlanOf } from './round-plan';
import { secaggConfigOf } from './secagg-config';
import { WireFieldError } from './wire-field-error';

const SITES = ['a', 'b', 'c', 'd', 'e'].map((name, i) => ({
  name,
  signingPublicKey: String(i + 1).repeat(64),
}));

function federation(over: Record<string, unknown> = {}): FederationSpec {
  const parsed = parseFederationSpec({
    id: 'fed',
    labels: ['x', 'y', 'z'],
    input: { shape: [4] },
    referenceSet: { sha256: 'ab'.repeat(32) },
    student: { architecture: 'mlp' },
    privacy: { mechanism: 'skellam', noiseMultiplier: 2, epsilonCap: 8, assumedColluders: 1 },
    secureAggregation: { dropoutTolerance: 1, maxTeachersPerSite: 8 },
    rounds: { minSites: 3, queriesPerRound: 20 },
    ...over,
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.spec;
}

/** The announcement of `plan` as a site receives it: encoded, serialized to protobuf bytes, parsed. */
function overTheWire(plan: RoundPlan, spec: FederationSpec) {
  const bytes = RoundAnnouncement.encode(encodeAnnouncement(plan, spec)).finish();
  return RoundAnnouncement.decode(bytes);
}

const QUERIES = [3, 7, 11, 20, 41];

describe(decodeAnnouncement.name, () => {
  it.each([
    ['soft labels, colluders assumed', {}],
    [
      'votes, all colluders',
      { privacy: { mechanism: 'discrete-gaussian', summary: 'votes', noiseMultiplier: 3, epsilonCap: 5 } },
    ],
    [
      '4 neighbours and a high dropout tolerance',
      { secureAggregation: { neighbours: 4, dropoutTolerance: 2 } },
    ],
  ])("gives back the planner's terms, SecAggConfig and release (%s)", (_name, over) => {
    const spec = federation(over);
    const plan = planRound(spec, 4, SITES, QUERIES, 1_000);
    const sut = decodeAnnouncement(overTheWire(plan, spec));
    expect(sut).toMatchObject({ federationId: 'fed', round: 4, kind: 'distill', queryIndices: QUERIES });
    expect(sut.participants).toEqual(plan.participants);
    expect(sut.deadlines).toEqual(plan.deadlines);
    expect(sut.referenceSha256).toBe('ab'.repeat(32));
    expect(secaggConfigOf(sut)).toEqual(plan.config);
    const { spec: release, plan: recomputed } = releaseFromTerms(sut, {
      classes: 3,
      teachers: plan.release.maxTeachers,
      allowNonPrivate: false,
    });
    expect(release).toMatchObject({
      summary: plan.release.summary,
      queries: QUERIES.length,
      classes: 3,
      maxTeachers: plan.release.maxTeachers,
    });
    const planned = releasePlanOf(plan);
    const { noise, mechanism: _m, ...rest } = recomputed;
    const { noise: plannedNoise, mechanism: _p, ...plannedRest } = planned;
    expect(rest).toEqual(plannedRest);
    expect(recomputed.dimension).toBe(plan.config.length);
    expect(noise).toEqual({ ...plannedNoise, variance: expect.any(Number) });
    expect(noise?.variance).toBeCloseTo(plannedNoise?.variance ?? 0, 6);
  });

  it('gives back an evaluation round with its student and a 2 x classes vector', () => {
    const spec = federation();
    const plan = planEvaluationRound(spec, 2, SITES, 3, 1_000);
    const sut = decodeAnnouncement(overTheWire(plan, spec));
    expect(sut).toMatchObject({
      kind: 'evaluation',
      summary: 'evaluation',
      studentVersion: 3,
      queryIndices: [],
    });
    expect(secaggConfigOf(sut)).toEqual(plan.config);
    expect(plan.config.length).toBe(6);
    const { plan: recomputed } = evaluationFromTerms(sut, {
      classes: 3,
      testRecords: spec.secureAggregation.maxEvaluationRecords,
      allowNonPrivate: false,
    });
    expect(recomputed.maxInput).toBe(releasePlanOf(plan).maxInput);
  });

  it('splits the noise over the survivors the sites are told (T = n - min_survivors)', () => {
    // 5 sites, dropoutTolerance 3, threshold 3: the floor is max(3, 5 - 3) = 3, so T = 2 and
    // each of 3 - C = 2 honest shares is half the target. A planner that took T = 3 would
    // announce a share every site refuses as inconsistent.
    const spec = federation({
      secureAggregation: { dropoutTolerance: 3, threshold: 3, maxTeachersPerSite: 8 },
      rounds: { minSites: 5, queriesPerRound: 20 },
    });
    const plan = planRound(spec, 1, SITES, QUERIES, 1_000);
    const sut = decodeAnnouncement(overTheWire(plan, spec));
    expect(sut.minSurvivors).toBe(3);
    expect(sut.siteNoiseStddev ** 2).toBeCloseTo(sut.aggregateNoiseStddev ** 2 / 2, 6);
    expect(() => releaseFromTerms(sut, { classes: 3, teachers: 8, allowNonPrivate: false })).not.toThrow();
  });

  it('refuses a tampered noise share', () => {
    const spec = federation();
    const wire = overTheWire(planRound(spec, 1, SITES, QUERIES, 1_000), spec);
    const sut = decodeAnnouncement({ ...wire, siteNoiseStddev: wire.siteNoiseStddev / 2 });
    expect(() => releaseFromTerms(sut, { classes: 3, teachers: 8, allowNonPrivate: false })).toThrow(
      TermsRefusedError,
    );
  });

  describe('bad wire values', () => {
    const spec = federation();
    const good = overTheWire(planRound(spec, 1, SITES, QUERIES, 1_000), spec);
    const bad = (change: Partial<RoundAnnouncement>) => () => decodeAnnouncement({ ...good, ...change });

    it.each<[string, Partial<RoundAnnouncement>, string]>([
      ['a missing round', { round: undefined }, 'round: is required'],
      ['round 0', { round: { federationId: 'fed', round: 0 } }, 'round.round: 0 is outside'],
      [
        'a short reference digest',
        { referenceSha256: Buffer.alloc(31) },
        'reference_sha256: has 31 bytes; it must have 32',
      ],
      ['a threshold above the neighbours', { threshold: 5 }, 'threshold: 5 is outside (4/2, 4]'],
      ['a threshold that is no majority', { threshold: 2 }, 'threshold: 2 is outside (4/2, 4]'],
      ['an odd neighbour count', { neighbours: 3 }, 'neighbours: 3 is neither 0'],
      ['min_survivors 0', { minSurvivors: 0 }, 'min_survivors: 0 is outside [1, 5]'],
      ['more survivors than sites', { minSurvivors: 6 }, 'min_survivors: 6 is outside [1, 5]'],
      ['an unknown summary kind', { summaryKind: 99 as SummaryKind }, 'summary_kind: unknown kind 99'],
      ['an unknown mechanism', { mechanism: 42 as NoiseMechanism }, 'mechanism: unknown mechanism 42'],
      ['a 33-bit ring', { modulusBits: 33 }, 'modulus_bits: 33 is outside [1, 32]'],
      ['a zero temperature', { temperature: 0 }, 'temperature: 0 is outside (0'],
      ['a missing deadline', { deadlines: good.deadlines.slice(1) }, 'deadlines: no deadline for stage keys'],
      ['a repeated query', { queryIndices: [1, 1] }, 'query_indices: lists a row twice'],
      // Found by fuzzing (test/fuzz, 'node RoundAnnouncement' cases 1355 and 1994): both passed
      // here and failed later in libs/secagg with a bare RangeError.
      [
        'an input bound whose sum overflows the ring',
        { maxInput: 2 ** 31 },
        'max_input: 2147483648 x 5 participants exceeds 2147483647, the largest sum a 32-bit ring holds',
      ],
      [
        'a federation id longer than any federation has',
        { round: { federationId: 'a'.repeat(65), round: 1 } },
        'round.federation_id: has 65 characters; at most 64',
      ],
    ])('%s', (_name, change, message) => {
      expect(bad(change)).toThrow(WireFieldError);
      expect(bad(change)).toThrow(message);
    });

    it('a participant key of the wrong length, naming the participant', () => {
      const participants = good.participants.map((p, i) =>
        i === 2 ? { ...p, signingPublicKey: Buffer.alloc(31) } : p,
      );
      expect(bad({ participants })).toThrow(
        'participants[2].signing_public_key: has 31 bytes; it must have 32',
      );
    });

    it('a repeated site id', () => {
      const participants = good.participants.map((p) => ({ ...p, siteId: 0 }));
      expect(bad({ participants })).toThrow('participants: site ids are not distinct');
    });
  });
});
