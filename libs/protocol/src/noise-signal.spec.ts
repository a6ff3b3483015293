import { type FederationSpec, parseFederationSpec } from './federation-spec';
import { noiseAgainstSignal } from './noise-signal';

const base = {
  id: 'breast-cancer',
  labels: ['malignant', 'benign'],
  input: { shape: [30] },
  referenceSet: { sha256: 'ab'.repeat(32) },
  student: { architecture: 'mlp' },
};

function federation(
  privacy: Record<string, unknown>,
  rounds: Record<string, unknown>,
  teachersPerSite: number,
): FederationSpec {
  const parsed = parseFederationSpec({
    ...base,
    privacy,
    rounds,
    secureAggregation: { maxTeachersPerSite: teachersPerSite },
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.spec;
}

describe(noiseAgainstSignal.name, () => {
  it('warns when the vote noise exceeds every teacher agreeing, naming both numbers and what to change', () => {
    // Votes: Δ2 = sqrt(2q) = sqrt(200); z = 2 gives a standard deviation of 2 sqrt(200) = 28.28
    // votes, against 3 sites x 4 teachers = 12 votes.
    const spec = federation(
      { mechanism: 'skellam', summary: 'votes', noiseMultiplier: 2, epsilonCap: 50 },
      { queriesPerRound: 100, minSites: 3 },
      4,
    );
    const sut = noiseAgainstSignal(spec, 3);
    expect(sut?.noiseStddev).toBeCloseTo(2 * Math.sqrt(200), 9);
    expect(sut?.maxSignal).toBe(12);
    expect(sut?.warning).toContain('standard deviation 28.3 votes');
    expect(sut?.warning).toContain('3 sites x 4 teachers = 12.0 votes');
    expect(sut?.warning).toMatch(/rounds\.queriesPerRound.*privacy\.targetEpsilon.*maxTeachersPerSite/);
  });

  it('counts the sites that answer: the same definition is clear with enough sites', () => {
    const spec = federation(
      { mechanism: 'skellam', summary: 'votes', noiseMultiplier: 2, epsilonCap: 50 },
      { queriesPerRound: 100, minSites: 3 },
      4,
    );
    // 10 sites x 4 teachers = 40 votes > 28.28.
    const sut = noiseAgainstSignal(spec, 10);
    expect(sut?.maxSignal).toBe(40);
    expect(sut?.warning).toBeNull();
  });

  it('soft labels: noise in probability mass against teachers x clipNorm', () => {
    // Soft labels, q = 100, clip 0.5: one teacher's vector has norm <= 0.5 x 10 = 5, so
    // Δ2 >= 10 in probability mass and z = 1 gives at least 10 against 3 x 2 x 0.5 = 3.
    const spec = federation(
      { mechanism: 'skellam', clipNorm: 0.5, noiseMultiplier: 1, epsilonCap: 50 },
      { queriesPerRound: 100, minSites: 3 },
      2,
    );
    const sut = noiseAgainstSignal(spec, 3);
    expect(sut?.unit).toBe('probability mass');
    expect(sut?.maxSignal).toBeCloseTo(3, 12);
    expect(sut?.noiseStddev).toBeGreaterThanOrEqual(10);
    expect(sut?.warning).toContain('x clipNorm 0.5');
  });

  it('stays quiet for the federation of docs/federations.md (3 sites x 20 teachers, 25 vote queries)', () => {
    const spec = federation(
      { mechanism: 'skellam', summary: 'votes', targetEpsilon: 6 },
      { queriesPerRound: 25, maxRounds: 2, minSites: 3 },
      20,
    );
    const sut = noiseAgainstSignal(spec, 3);
    expect(sut?.noiseStddev).toBeLessThan(sut?.maxSignal ?? 0);
    expect(sut?.warning).toBeNull();
  });

  it('has nothing to compare without privacy', () => {
    expect(noiseAgainstSignal(federation({ mechanism: 'none' }, {}, 4), 3)).toBeNull();
  });

  it('refuses a site count that is not a positive integer', () => {
    const spec = federation({ mechanism: 'skellam', targetEpsilon: 6 }, {}, 4);
    expect(() => noiseAgainstSignal(spec, 0)).toThrow("'sites' must be an integer >= 1");
  });
});
