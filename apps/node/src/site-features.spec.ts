/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpyFloat32 } from '@fedistill/data';
import { TeacherEnsemble } from '@fedistill/distill';
import { buildFeatureExtractor, extractFeatures } from '@fedistill/features';
import type { LocalFederation } from './federation-sync';
import type { NodeConfig } from './node-config';
import { testNodeConfig } from './testing/node-config';
import type { SessionLogger } from './node-session';
import { FeatureDigestError, teacherInputs } from './site-features';
import { SitePreparation } from './site-preparation';

const PCA = { pca: { components: 2, whiten: true } };

function config(dir: string, onnx?: NodeConfig['teachers']['onnx']): NodeConfig {
  return testNodeConfig(dir, { teachers: { onnx }, privacy: { epsilonLimit: 10 } });
}

describe('a site rebuilding the federation feature extractor', () => {
  let dir: string;
  const log: SessionLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  // Public reference rows, and the site's private records (another distribution).
  const reference = Float32Array.from({ length: 10 * 3 }, (_, i) => ((i * 7) % 11) / 5);
  const privateRows = Array.from({ length: 12 }, (_, i) => [i % 3, (i * i) % 5, i % 2, i % 2]);
  const local = (sha256: string | undefined): LocalFederation => ({
    id: 'fed',
    spec: {
      labels: ['no', 'yes'],
      input: { shape: [3] },
      features: { ...PCA, ...(sha256 === undefined ? {} : { sha256 }) },
    },
    members: [],
    referenceFile: path.join(dir, 'reference.npy'),
    referenceSha256: 'a'.repeat(64),
  });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-features-'));
    fs.writeFileSync(path.join(dir, 'reference.npy'), encodeNpyFloat32([10, 3], reference));
    fs.writeFileSync(
      path.join(dir, 'train.csv'),
      `a,b,c,label\n${privateRows.map((r) => r.join(',')).join('\n')}\n`,
    );
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('matches the digest the coordinator recorded, trains its teachers on features and answers queries on them', async () => {
    const honest = await buildFeatureExtractor(PCA, [3], { features: reference, count: 10 });
    const train = jest.spyOn(TeacherEnsemble, 'train');
    const sut = new SitePreparation(config(dir), log);
    try {
      const site = await sut.prepare(local(honest.sha256));
      expect(site.features?.extractor.sha256).toBe(honest.sha256);
      const x = teacherInputs(local(honest.sha256), site, [4, 1]);
      const want = await extractFeatures(honest, {
        features: reference,
        labels: new Int32Array(10),
        count: 10,
        featureShape: [3],
        numClasses: 2,
      });
      expect([...x]).toEqual([...want.features.subarray(8, 10), ...want.features.subarray(2, 4)]);
      // The teachers trained on the 2 features of the 12 private records, not on their 3 raw values.
      const trainedOn = train.mock.calls[0]?.[0];
      expect(trainedOn?.featureShape).toEqual([2]);
      expect(trainedOn?.count).toBe(12);
      expect(await site.teachers.probabilities(x, 2)).toHaveLength(2);
      // The records kept raw: the student of an evaluation round takes raw inputs.
      expect(site.data.train.featureShape).toEqual([3]);
    } finally {
      await sut.dispose();
    }
  });

  it("refuses a coordinator's digest of another extractor (PCA fitted on the site's private records): nothing trained", async () => {
    const leaky = await buildFeatureExtractor(PCA, [3], {
      features: Float32Array.from(privateRows.flatMap((r) => r.slice(0, 3))),
      count: privateRows.length,
    });
    const honest = await buildFeatureExtractor(PCA, [3], { features: reference, count: 10 });
    expect(leaky.sha256).not.toBe(honest.sha256);
    const train = jest.spyOn(TeacherEnsemble, 'train');
    const sut = new SitePreparation(config(dir), log);
    const refused = sut.prepare(local(leaky.sha256));
    await expect(refused).rejects.toThrow(FeatureDigestError);
    await expect(refused).rejects.toThrow(
      `federation 'fed': the coordinator recorded feature extractor ${leaky.sha256}, but the extractor rebuilt here from the definition and the reference set is ${honest.sha256}; refusing the federation`,
    );
    await expect(new SitePreparation(config(dir), log).prepare(local(undefined))).rejects.toThrow(
      'the coordinator recorded no feature extractor digest (features.sha256)',
    );
    expect(train).not.toHaveBeenCalled();
    await sut.dispose();
  });

  it('refuses site-provided ONNX teachers (they take raw inputs) with a federation that has features', async () => {
    const honest = await buildFeatureExtractor(PCA, [3], { features: reference, count: 10 });
    const sut = new SitePreparation(config(dir, [{ path: path.join(dir, 't.onnx') } as never]), log);
    await expect(sut.prepare(local(honest.sha256))).rejects.toThrow(
      "teachers.onnx: federation 'fed' uses a feature extractor (features), and site-provided ONNX teachers take raw inputs",
    );
  });
});
