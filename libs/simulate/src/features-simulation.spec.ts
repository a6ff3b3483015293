/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Predictor } from '@fedistill/engine';
import { buildFeatureExtractor } from '@fedistill/features';
import type { SimulationConfig } from './config';
import { loadSimulationData } from './data';
import { SIMULATED_FEDERATION } from './product/federation-terms';
import { runSimulation } from './run-simulation';

/** Three sites on the bundled 8 x 8 digits, with PCA fitted on the public reference set. */
const config: SimulationConfig = {
  dataset: { name: 'digits' },
  sites: 3,
  partition: { kind: 'iid' },
  partitionSeed: 5,
  teachers: { perSite: 10, hidden: [16], epochs: 15, batchSize: 8 },
  student: { hidden: [32], epochs: 40, batchSize: 16 },
  referenceSize: 300,
  testFraction: 0.2,
  rounds: 1,
  queries: { perRound: 150, strategy: 'random' },
  summary: 'soft-labels',
  aggregation: { kind: 'mean' },
  // A private round with little noise (z = 0.2; a large epsilon): the test is of the pipeline.
  privacy: { kind: 'skellam', noiseMultiplier: 0.2, clip: 1, delta: 1e-5 },
  secureAggregation: { threshold: 2, neighbours: 'all', bits: 32, toleratedDropouts: 0 },
  features: { pca: { components: 16, whiten: true } },
  seed: 5,
};

describe('a federation with features, simulated', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-features-sim-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs a private round on PCA features; every site checked the digest; the student takes raw inputs', async () => {
    const sut = await runSimulation(config, { workspace: dir });
    const data = await loadSimulationData(config);
    expect(sut.rounds.map((r) => r.abandoned)).toEqual([null]);
    expect(sut.rounds[0]!.survivors).toHaveLength(3);
    expect(sut.epsilon).toBeGreaterThan(0);
    // The digest each site received is the extractor of the definition and the PUBLIC reference set.
    const extractor = await buildFeatureExtractor(
      config.features!,
      data.reference.featureShape,
      data.reference,
    );
    for (const site of ['site-1', 'site-2', 'site-3']) {
      const file = path.join(dir, 'sites', site, 'federations', SIMULATED_FEDERATION, 'federation.json');
      const served = JSON.parse(fs.readFileSync(file, 'utf8')) as { spec: { features: { sha256: string } } };
      expect(served.spec.features.sha256).toBe(extractor.sha256);
    }
    // The published student takes the raw 64 pixels (the extractor is inside it).
    const student = await Predictor.create(sut.student!.model, data.test.featureShape);
    try {
      expect(student.signature.inputs[0]?.shape).toEqual(['N', 64]);
      // Ten classes: chance is 0.1; 150 noisy soft labels on 16 PCA features do far better
      // (0.69 measured, 2026-12-03).
      expect(await student.accuracy(data.test.features, data.test.labels)).toBeGreaterThan(0.55);
    } finally {
      await student.dispose();
    }
  }, 240_000);

  it("builds the same extractor whatever the sites' private records (it reads none of them)", async () => {
    const iid = await loadSimulationData(config);
    const skewed = await loadSimulationData({ ...config, partition: { kind: 'dirichlet', alpha: 0.1 } });
    expect(
      Buffer.from(skewed.sites[0]!.features.buffer).equals(Buffer.from(iid.sites[0]!.features.buffer)),
    ).toBe(false);
    const shape = iid.reference.featureShape;
    const a = await buildFeatureExtractor(config.features!, shape, iid.reference);
    const b = await buildFeatureExtractor(config.features!, shape, skewed.reference);
    expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
  });
});
