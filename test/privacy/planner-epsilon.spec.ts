import { federationEpsilon, parseFederationSpec, planNoise, planRound } from '@fedistill/protocol';
import { epsilonBracket, type NoiseSpec } from './exact-curve';

/**
 * Does the epsilon the noise planner promises hold? A federation states privacy.targetEpsilon;
 * the planner (libs/protocol noise-plan.ts) chooses z. Here, for the vote release of the
 * planned full rounds, (1) the planner's epsilon is the accountant's: the one composition
 * (federationEpsilon) of the rounds planRound plans; (2) the exact epsilon of those rounds,
 * bracketed by the independent oracle of this folder (no code shared with @fedistill/dp), is at
 * most the target and at most the planner's figure; (3) the planner does not buy much more noise
 * than the exact curve needs (its figure is within 25% of the oracle's lower bound).
 *
 * The mechanism from first principles, not from the planner: one record moves one teacher's q
 * votes, 2q counts by one (PATE, arXiv:1610.05755, §2.1; arXiv:1802.08908, §4.1), Δ2 = sqrt(2q);
 * the aggregate noise has variance V = (z Δ2)²; with assumedColluders 'all' each site adds V by
 * itself, so the worst case keeps one honest share: Skellam Sk(V/2), or one N_Z(0, V).
 */
const CASES = [
  { kind: 'skellam', target: 2.7, queries: 100, rounds: 3, delta: 1e-5 },
  { kind: 'skellam', target: 1, queries: 50, rounds: 4, delta: 1e-5 },
  { kind: 'discrete-gaussian', target: 2, queries: 100, rounds: 2, delta: 1e-6 },
] as const;

const rows: string[] = [];

describe('the noise planner against the exact privacy curve', () => {
  afterAll(() => {
    console.log(
      [
        '| mechanism | target ε | q | rounds | z | planner ε | exact ε in |',
        '|---|---|---|---|---|---|---|',
        ...rows,
      ].join('\n'),
    );
  });

  it.each(
    CASES.map((c) => [`${c.kind}, target ${c.target}, q ${c.queries}, ${c.rounds} rounds`, c] as const),
  )(
    "%s: the planned epsilon is the accountant's, and the exact epsilon stays within the target",
    (_name, c) => {
      const parsed = parseFederationSpec({
        id: 'planned',
        labels: Array.from({ length: 10 }, (_, i) => `c${i}`),
        input: { shape: [1] },
        referenceSet: { sha256: '0'.repeat(64) },
        student: { architecture: 'mlp' },
        privacy: { mechanism: c.kind, summary: 'votes', targetEpsilon: c.target, delta: c.delta },
        rounds: { queriesPerRound: c.queries, maxRounds: c.rounds, minSites: 3 },
      });
      if (!parsed.ok) throw new Error(parsed.problems.join('; '));
      const plan = planNoise(parsed.spec);
      const z = plan.noiseMultiplier;

      // (1) The planner's epsilon is the one composition of the rounds planRound plans.
      const sites = [0, 1, 2].map((i) => ({ name: `s${i}`, signingPublicKey: 'aa' }));
      const queries = Array.from({ length: c.queries }, (_, i) => i);
      const plans = Array.from({ length: c.rounds }, (_, r) =>
        planRound(parsed.spec, r + 1, sites, queries, 0),
      );
      expect(plan.epsilon).toBe(federationEpsilon(plans, c.delta).epsilon);
      expect(plans[0]?.release.noise?.noiseMultiplier).toBe(z);

      // (2) The exact epsilon of the planned rounds, from first principles.
      const variance = z * z * 2 * c.queries;
      const noise: NoiseSpec =
        c.kind === 'skellam'
          ? { kind: 'skellam', mu: variance / 2 }
          : { kind: c.kind, sigma2: variance, shares: 1 };
      const exact = epsilonBracket(
        noise,
        { shift: 1, coordinates: 2 * c.queries },
        { delta: c.delta, rounds: c.rounds },
      );
      expect(exact.upper).toBeLessThanOrEqual(c.target);
      expect(exact.upper).toBeLessThanOrEqual(plan.epsilon);
      // (3) Not much more noise than needed: the accountant's slack over the exact curve is bounded.
      expect(plan.epsilon).toBeLessThanOrEqual(1.25 * exact.lower);
      rows.push(
        `| ${c.kind} | ${c.target} | ${c.queries} | ${c.rounds} | ${z.toFixed(4)} | ${plan.epsilon.toFixed(3)} | [${exact.lower.toFixed(3)}, ${exact.upper.toFixed(3)}] |`,
      );
    },
    60_000,
  );
});
