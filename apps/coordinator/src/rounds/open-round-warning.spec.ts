import type { AuditEntryInput } from '@fedistill/audit';
import { type FederationView, parseFederationSpec } from '@fedistill/protocol';
import { EngineContext, type EngineDeps } from './engine-context';
import { openRound } from './open-round';

/**
 * The planner's warning when a round is opened: the noise against the signal of the round's
 * own participants (maxTeachersPerSite each), in the answer and in the transcript.
 */
describe(`${openRound.name}: noise against signal`, () => {
  const SITES = ['a', 'b', 'c'];

  function context(teachersPerSite: number, transcript: AuditEntryInput[]): EngineContext {
    const parsed = parseFederationSpec({
      id: 'fed',
      labels: ['x', 'y'],
      input: { shape: [3] },
      referenceSet: { sha256: 'ab'.repeat(32) },
      student: { architecture: 'mlp' },
      // Votes over 100 queries at z = 2: noise standard deviation 2 sqrt(200) = 28.3 votes.
      privacy: { mechanism: 'skellam', summary: 'votes', noiseMultiplier: 2, epsilonCap: 50 },
      secureAggregation: { maxTeachersPerSite: teachersPerSite },
      rounds: { minSites: 3, queriesPerRound: 100 },
    });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    const federation: FederationView = {
      ...parsed.spec,
      members: SITES,
      createdAt: '2026-12-02T00:00:00.000Z',
      privacyOff: false,
    };
    return new EngineContext({
      federations: { get: () => Promise.resolve(federation) },
      sites: {
        list: () =>
          Promise.resolve(SITES.map((name) => ({ name, online: true, signingPublicKey: '11'.repeat(32) }))),
      },
      store: {
        rounds: { list: () => Promise.resolve([]), create: () => Promise.resolve() },
        sites: { get: () => Promise.resolve({ signingPublicKey: new Uint8Array(32).fill(1) }) },
      },
      transcript: { append: (e: AuditEntryInput) => Promise.resolve(void transcript.push(e)) },
      queryPlanner: {
        choose: () =>
          Promise.resolve({
            queries: Array.from({ length: 100 }, (_v, i) => i),
            selection: { strategy: 'random' },
          }),
      },
      now: () => 0,
    } as unknown as EngineDeps);
  }

  it("warns when the noise exceeds the participants' largest signal (3 sites x 4 teachers)", async () => {
    const transcript: AuditEntryInput[] = [];
    const sut = await openRound(context(4, transcript), 'fed', undefined);
    expect(sut.round).toBe(1);
    expect(sut.warnings?.[0]).toContain('3 sites x 4 teachers = 12.0 votes');
    expect(transcript.at(-1)?.detail).toContain('opened with a, b, c; 100 queries; warning: the noise');
  });

  it('opens quietly when the teachers can outvote the noise (3 sites x 20 teachers)', async () => {
    const transcript: AuditEntryInput[] = [];
    const sut = await openRound(context(20, transcript), 'fed', undefined);
    expect(sut.warnings).toBeUndefined();
    expect(transcript.at(-1)?.detail).toBe('opened with a, b, c; 100 queries');
  });
});
