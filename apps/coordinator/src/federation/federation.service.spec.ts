import type { AuditEntryInput } from '@fedistill/audit';
import { encodeNpyFloat32 } from '@fedistill/data';
import { type CoordinatorStore, openSqliteCoordinatorStore } from '@fedistill/store';
import { buildFeatureExtractor } from '@fedistill/features';
import { NodeEventHub } from '../domain/node-event-hub';
import { FederationService } from './federation.service';

describe(FederationService.name, () => {
  let store: CoordinatorStore;
  let entries: AuditEntryInput[];
  let sut: FederationService;
  let sha256: string;

  beforeEach(async () => {
    store = openSqliteCoordinatorStore(':memory:');
    entries = [];
    sut = new FederationService(
      store,
      { append: (e) => Promise.resolve(void entries.push(e)) },
      new NodeEventHub(),
    );
    ({ sha256 } = await sut.registerReferenceSet(
      encodeNpyFloat32(
        [10, 3],
        Float32Array.from({ length: 30 }, (_v, i) => i / 7),
      ),
    ));
  });
  afterEach(() => store.close());

  const definition = (id: string, teachersPerSite: number) => ({
    id,
    labels: ['a', 'b'],
    input: { shape: [3] },
    referenceSet: { sha256 },
    student: { architecture: 'mlp' },
    // Votes over 100 queries at z = 2: noise standard deviation 2 sqrt(200) = 28.3 votes.
    privacy: { mechanism: 'skellam', summary: 'votes', noiseMultiplier: 2, epsilonCap: 50 },
    secureAggregation: { maxTeachersPerSite: teachersPerSite },
    rounds: { minSites: 3, queriesPerRound: 100 },
  });

  it('creates a federation whose noise dwarfs every teacher agreeing, with a warning naming both and what to change', async () => {
    const created = await sut.create(definition('noisy', 4));
    expect(created.id).toBe('noisy');
    expect(created.warnings).toHaveLength(1);
    expect(created.warnings[0]).toContain('standard deviation 28.3 votes');
    expect(created.warnings[0]).toContain('3 sites x 4 teachers = 12.0 votes');
    expect(created.warnings[0]).toContain('rounds.queriesPerRound');
    // Stored as given (a warning, not a refusal), and the warning is in the coordinator's transcript.
    expect((await sut.get('noisy')).secureAggregation.maxTeachersPerSite).toBe(4);
    expect(entries.map((e) => e.detail)).toContainEqual(`warning: ${created.warnings[0]}`);
  });

  it('records the digest of the feature extractor built from the definition and the reference set', async () => {
    const features = { pca: { components: 2, whiten: true } };
    const created = await sut.create({ ...definition('pca', 20), features });
    const rows = Float32Array.from({ length: 30 }, (_v, i) => i / 7);
    const extractor = await buildFeatureExtractor(features, [3], { features: rows, count: 10 });
    expect(created.features).toEqual({ ...features, sha256: extractor.sha256 });
    expect((await sut.get('pca')).features?.sha256).toBe(extractor.sha256);
    expect((await sut.featureExtractor('pca'))?.sha256).toBe(extractor.sha256);
    expect(await sut.featureExtractor('clear-none').catch((e: Error) => e.message)).toMatch(/does not exist/);
  });

  it('refuses features it cannot build or a digest that is not the one it builds, and stores nothing', async () => {
    await expect(
      sut.create({
        ...definition('wrong', 20),
        features: { pca: { components: 2 }, sha256: 'ab'.repeat(32) },
      }),
    ).rejects.toThrow(
      /^invalid federation: features\.sha256 (ab){32} is not the extractor built from this definition/,
    );
    // PCA of three rows spans at most two directions: three components are refused.
    const flat = encodeNpyFloat32([3, 3], Float32Array.of(1, 2, 3, 1, 2, 3, 2, 3, 4));
    const small = await sut.registerReferenceSet(flat);
    await expect(
      sut.create({
        ...definition('rank', 20),
        referenceSet: { sha256: small.sha256 },
        features: { pca: { components: 3 } },
      }),
    ).rejects.toThrow(
      "invalid federation: features: 'pca.components' is 3; 3 reference rows span at most 2 directions",
    );
    expect(await store.federations.list()).toEqual([]);
  });

  it('creates one whose teachers can outvote the noise without a warning', async () => {
    const created = await sut.create(definition('clear', 20));
    expect(created.warnings).toEqual([]);
    expect(entries.some((e) => e.detail?.startsWith('warning:'))).toBe(false);
  });
});
