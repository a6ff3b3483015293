import { planRelease, type ReleaseSpec } from '@fedistill/distill';
import { type Mechanism, PrivacyLedger } from '@fedistill/dp';
import { epsilonBracket, lowerEpsilon, type NoiseSpec } from './exact-curve';

/**
 * Is the accountant sound? For the vote release (a teacher's q one-hot votes summed with the
 * other teachers' and the sites', plus distributed noise), the ε a site's ledger charges after
 * R rounds must never be below the exact ε of the mechanism, computed by the independent
 * oracle of this folder (which shares no code with @fedistill/dp).
 *
 * The neighbouring pair, from first principles rather than from planRelease: replacing one
 * record changes one teacher (disjoint partitions, PATE, arXiv:1610.05755, §2.1; checked by
 * libs/distill/src/teachers-neighbouring.spec.ts), and that teacher can move each of its q votes
 * from one class to another: 2q counts move by one. This is the worst case (a vote that does
 * not move leaves two coordinates unchanged: fewer composed shifts). The noise, also from first
 * principles: aggregate variance V = (z Δ2)² with Δ2 = sqrt(2q); each site adds V/(n - T - C)
 * and the worst case keeps n - T - C honest shares: Skellam shares sum to Sk(V/2) exactly;
 * discrete Gaussian shares stay n - T - C summands N_Z(0, V/(n - T - C)).
 */

interface Case {
  readonly name: string;
  readonly kind: 'skellam' | 'discrete-gaussian';
  readonly queries: number;
  readonly z: number;
  readonly sites: number;
  readonly dropouts: number;
  readonly colluders: number;
  readonly rounds: number;
  readonly delta: number;
}

const CASES: Case[] = [
  {
    name: 'skellam, tiny σ',
    kind: 'skellam',
    queries: 1,
    z: 1,
    sites: 3,
    dropouts: 0,
    colluders: 0,
    rounds: 1,
    delta: 1e-5,
  },
  {
    name: 'skellam, tiny σ',
    kind: 'skellam',
    queries: 1,
    z: 1,
    sites: 3,
    dropouts: 0,
    colluders: 0,
    rounds: 5,
    delta: 1e-5,
  },
  {
    name: 'skellam',
    kind: 'skellam',
    queries: 100,
    z: 3,
    sites: 10,
    dropouts: 2,
    colluders: 0,
    rounds: 3,
    delta: 1e-5,
  },
  {
    name: 'skellam, 5000 queries',
    kind: 'skellam',
    queries: 5000,
    z: 5,
    sites: 5,
    dropouts: 1,
    colluders: 0,
    rounds: 1,
    delta: 1e-5,
  },
  {
    name: 'skellam, 5000 queries',
    kind: 'skellam',
    queries: 5000,
    z: 5,
    sites: 5,
    dropouts: 1,
    colluders: 0,
    rounds: 5,
    delta: 1e-8,
  },
  {
    name: 'DDG, σ share 0.71',
    kind: 'discrete-gaussian',
    queries: 1,
    z: 1,
    sites: 5,
    dropouts: 1,
    colluders: 0,
    rounds: 1,
    delta: 1e-5,
  },
  {
    name: 'DDG, σ share 0.71',
    kind: 'discrete-gaussian',
    queries: 1,
    z: 1,
    sites: 5,
    dropouts: 1,
    colluders: 0,
    rounds: 5,
    delta: 1e-5,
  },
  {
    name: 'DDG',
    kind: 'discrete-gaussian',
    queries: 100,
    z: 3,
    sites: 10,
    dropouts: 2,
    colluders: 0,
    rounds: 3,
    delta: 1e-5,
  },
  {
    name: 'DDG, one honest share',
    kind: 'discrete-gaussian',
    queries: 50,
    z: 2,
    sites: 3,
    dropouts: 1,
    colluders: 1,
    rounds: 2,
    delta: 1e-5,
  },
  {
    name: 'DDG, 5000 queries',
    kind: 'discrete-gaussian',
    queries: 5000,
    z: 5,
    sites: 3,
    dropouts: 1,
    colluders: 0,
    rounds: 1,
    delta: 1e-5,
  },
  {
    name: 'DDG, 5000 queries',
    kind: 'discrete-gaussian',
    queries: 5000,
    z: 5,
    sites: 3,
    dropouts: 1,
    colluders: 0,
    rounds: 5,
    delta: 1e-8,
  },
];

function spec(c: Case): ReleaseSpec {
  return {
    summary: 'votes',
    queries: c.queries,
    classes: 10,
    clipNorm: 1,
    granularity: 1,
    maxTeachers: 8,
    noise: {
      kind: c.kind,
      noiseMultiplier: c.z,
      sites: c.sites,
      toleratedDropouts: c.dropouts,
      assumedColluders: c.colluders,
    },
  };
}

/** The noise from first principles (see the file comment). */
function firstPrinciplesNoise(c: Case): NoiseSpec {
  const variance = c.z * c.z * 2 * c.queries;
  const honest = c.sites - c.dropouts - c.colluders;
  return c.kind === 'skellam'
    ? { kind: 'skellam', mu: variance / 2 }
    : { kind: 'discrete-gaussian', sigma2: variance / honest, shares: honest };
}

/** What a site's ledger holds after `rounds` rounds of `m` (as the node charges: one release a round). */
function ledgerEpsilon(m: Mechanism, c: Case): number {
  const ledger = new PrivacyLedger(Number.MAX_VALUE, c.delta);
  for (let r = 1; r <= c.rounds; r += 1) ledger.commit({ label: `round ${r}`, mechanism: m, count: 1 });
  return ledger.spent.epsilon;
}

const rows: string[] = [];

describe('the accountant against the exact privacy curve', () => {
  afterAll(() => {
    // The table of docs/privacy.md ("Independent check of the accountant").
    console.log(
      [
        '| case | q | rounds | δ | exact ε in | accountant ε | gap |',
        '|---|---|---|---|---|---|---|',
        ...rows,
      ].join('\n'),
    );
  });

  it.each(CASES.map((c) => [`${c.name}, q ${c.queries}, ${c.rounds} round(s)`, c] as const))(
    '%s: the ledger never charges less than the exact ε',
    (_name, c) => {
      const plan = planRelease(spec(c));
      const m = plan.mechanism as Mechanism;
      // The plan releases the mechanism the first principles say (else the oracle checks the wrong thing).
      const noise = firstPrinciplesNoise(c);
      if (noise.kind === 'skellam')
        expect(m).toMatchObject({ kind: 'skellam', l2: Math.sqrt(2 * c.queries) });
      else expect(m).toMatchObject({ kind: 'distributed-discrete-gaussian', summands: noise.shares });
      if (m.kind === 'skellam' && noise.kind === 'skellam') expect(m.mu).toBeCloseTo(noise.mu, 6);
      if (m.kind === 'distributed-discrete-gaussian' && noise.kind === 'discrete-gaussian')
        expect(m.sigma ** 2).toBeCloseTo(noise.sigma2, 6);

      const exact = epsilonBracket(
        noise,
        { shift: 1, coordinates: 2 * c.queries },
        { delta: c.delta, rounds: c.rounds },
      );
      const charged = ledgerEpsilon(m, c);
      expect(exact.lower).toBeLessThanOrEqual(exact.upper);
      // Soundness: against the rigorous upper end of the bracket.
      expect(charged).toBeGreaterThanOrEqual(exact.upper);
      rows.push(
        `| ${c.name} | ${c.queries} | ${c.rounds} | ${c.delta} | [${exact.lower.toFixed(3)}, ${exact.upper.toFixed(3)}] | ${charged.toFixed(3)} | +${((charged / exact.upper - 1) * 100).toFixed(1)}% |`,
      );
    },
    30_000,
  );

  it('would catch an accountant that understates the noise it needs (the check can fail)', () => {
    // An accountant that believes every share of n = 5 sites arrives (ignoring the dropout
    // tolerance) charges a Skellam with 25% more variance than the T = 1 worst case releases.
    const c = CASES[3] as Case;
    const m = planRelease(spec(c)).mechanism as Extract<Mechanism, { kind: 'skellam' }>;
    const optimistic = ledgerEpsilon({ ...m, mu: (m.mu * c.sites) / (c.sites - c.dropouts) }, c);
    const exact = lowerEpsilon(firstPrinciplesNoise(c), { shift: 1, coordinates: 2 * c.queries }, c);
    expect(optimistic).toBeLessThan(exact);
  }, 30_000);

  /**
   * Soft labels: a teacher's q x k vector, each row clipped to L2 norm C, scaled by 1/γ and
   * randomly rounded with the conditional norm bound B of KLS21 (arXiv:2102.06387, §4):
   * B = min(sqrt(c² + d/4 + sqrt(2 ln(1/β)) (c + sqrt(d)/2)), c + sqrt(d)), c = C sqrt(q)/γ,
   * β = e^-0.5; replacing the teacher moves the sum by an integer vector v with ||v||2 <= 2B.
   * Here the worst v is not known in closed form, so the oracle brackets three realizable
   * extremes (one coordinate moved by floor(2B); every coordinate moved by floor(2B/sqrt(d)),
   * whose L1 norm stays within Δ1 = sqrt(d) 2B; and unit moves on min(d, Δ1) coordinates) and
   * checks the ledger against the largest upper bound. Mixed patterns are not enumerated: this
   * is evidence, not a proof, for soft labels (docs/privacy.md says so).
   */
  it.each([
    ['skellam', 1, 3, 0, 3],
    ['discrete-gaussian', 1, 4, 1, 2],
  ] as const)(
    'soft labels, %s, z %p: the ledger covers the worst of the realizable shift patterns',
    (kind, z, sites, dropouts, rounds) => {
      const q = 10;
      const k = 10;
      const [clip, gamma] = [1, 0.05];
      const d = q * k;
      const c = (clip * Math.sqrt(q)) / gamma;
      const b = Math.min(
        Math.sqrt(c * c + d / 4 + Math.sqrt(2 * 0.5) * (c + Math.sqrt(d) / 2)),
        c + Math.sqrt(d),
      );
      const l2 = 2 * b;
      const plan = planRelease({
        summary: 'soft-labels',
        queries: q,
        classes: k,
        clipNorm: clip,
        granularity: gamma,
        maxTeachers: 8,
        noise: { kind, noiseMultiplier: z, sites, toleratedDropouts: dropouts },
      });
      expect(plan.l2).toBeCloseTo(l2, 9);
      const variance = (z * l2) ** 2;
      const honest = sites - dropouts;
      const noise: NoiseSpec =
        kind === 'skellam' ? { kind, mu: variance / 2 } : { kind, sigma2: variance / honest, shares: honest };
      const c0: Case = {
        name: `soft labels, ${kind}`,
        kind,
        queries: q,
        z,
        sites,
        dropouts,
        colluders: 0,
        rounds,
        delta: 1e-5,
      };
      const patterns = [
        { shift: Math.floor(l2), coordinates: 1 },
        { shift: Math.floor(l2 / Math.sqrt(d)), coordinates: d },
        { shift: 1, coordinates: Math.min(d, Math.floor(Math.sqrt(d) * l2)) },
      ];
      const brackets = patterns.map((p) => epsilonBracket(noise, p, { delta: c0.delta, rounds }));
      const upper = Math.max(...brackets.map((x) => x.upper));
      const lower = Math.max(...brackets.map((x) => x.lower));
      const charged = ledgerEpsilon(plan.mechanism as Mechanism, c0);
      expect(charged).toBeGreaterThanOrEqual(upper);
      rows.push(
        `| ${c0.name} (worst of 3 patterns) | ${q} | ${rounds} | ${c0.delta} | [${lower.toFixed(3)}, ${upper.toFixed(3)}] | ${charged.toFixed(3)} | +${((charged / upper - 1) * 100).toFixed(1)}% |`,
      );
    },
    30_000,
  );
});
