import { federationEpsilon, federationSpecSchema, planRound, type RoundPlan } from '@fedistill/protocol';
import { encodeState, initialCoordinatorState } from '@fedistill/secagg';
import type { RoundRecord } from '@fedistill/store';
import type { Decline, RoundSnapshot } from '../rounds/live-round';
import { privacyBySite } from './privacy-by-site';

const spec = federationSpecSchema.parse({
  id: 'fed',
  labels: ['neg', 'pos'],
  input: { shape: [2] },
  referenceSet: { sha256: 'a'.repeat(64) },
  student: { architecture: 'mlp', hidden: [4] },
  privacy: { mechanism: 'skellam', noiseMultiplier: 1.5, epsilonCap: 100 },
  rounds: { minSites: 2, queriesPerRound: 4 },
});
const SITES = ['st-marys', 'riverside', 'northgate'];
const roster = SITES.map((name, i) => ({ name, signingPublicKey: String(i).repeat(64) }));
const federation = { id: 'fed', members: SITES, privacy: spec.privacy };
const planOf = (round: number): RoundPlan => planRound(spec, round, roster, [0, 1, 2, 3], 1_000);

/** A stored round whose masked inputs came from `contributors`. */
function record(
  round: number,
  status: RoundRecord['status'],
  contributors: readonly string[],
  declines: readonly Decline[] = [],
): RoundRecord {
  const plan = planOf(round);
  const inputs = contributors.map((s) => plan.participants.find((p) => p.siteName === s)!.siteId);
  const snapshot: Partial<RoundSnapshot> = {
    plan,
    coordinator: {
      ...initialCoordinatorState(),
      stage: status === 'completed' ? 'done' : 'abandoned',
      inputs,
    },
    declines,
    status,
    reason: null,
  };
  return {
    federationId: 'fed',
    round,
    status,
    stage: 'done',
    engine: encodeState(snapshot),
    createdAt: 0,
    updatedAt: 0,
  };
}

const eps = (rounds: number[]) => federationEpsilon(rounds.map(planOf), spec.privacy.delta).epsilon;

describe(privacyBySite.name, () => {
  it('composes the federation over its completed rounds and each site over the rounds its input reached', () => {
    const sut = privacyBySite(federation, [
      // Stored out of order: the points come out by round.
      record(2, 'abandoned', ['st-marys']),
      record(1, 'completed', SITES),
      record(
        3,
        'completed',
        ['st-marys', 'riverside'],
        [
          {
            site: 'northgate',
            reason: 'DECLINE_REASON_BUDGET_EXHAUSTED',
            detail: 'the round would pass the epsilon limit (spent 3.5, limit 4.25, this round 1.2)',
          },
        ],
      ),
    ]);
    expect(sut.points.map((p) => [p.round, p.status])).toEqual([
      [1, 'completed'],
      [2, 'abandoned'],
      [3, 'completed'],
    ]);
    expect(sut.points.map((p) => p.federation)).toEqual([eps([1]), eps([1]), eps([1, 3])]);
    // st-marys sent its input in the abandoned round too: its release left the site.
    expect(sut.points[2]!.sites).toEqual({
      'st-marys': eps([1, 2, 3]),
      riverside: eps([1, 3]),
      northgate: eps([1]),
    });
    expect(sut.points[1]!.sites.riverside).toBe(eps([1]));
    expect(eps([1, 3])).toBeLessThan(2 * eps([1]));
    expect(sut.siteLimits).toEqual({ 'st-marys': null, riverside: null, northgate: 4.25 });
    expect(sut).toMatchObject({ federationId: 'fed', delta: 1e-5, epsilonCap: 100 });
  });

  it('gives no points and no limits before any round, and ignores a decline without a limit', () => {
    expect(privacyBySite(federation, []).points).toEqual([]);
    const sut = privacyBySite(federation, [
      record(
        1,
        'abandoned',
        [],
        [
          {
            site: 'riverside',
            reason: 'DECLINE_REASON_UNAVAILABLE',
            detail: 'no teachers (spent 0, limit 0, this round 0)',
          },
        ],
      ),
    ]);
    expect(sut.points).toEqual([
      { round: 1, status: 'abandoned', federation: 0, sites: { 'st-marys': 0, riverside: 0, northgate: 0 } },
    ]);
    expect(sut.siteLimits.riverside).toBeNull();
  });
});
