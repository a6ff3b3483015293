/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import type { Dataset } from '@fedistill/data';
import { exportInferenceModel, initModel, mlp, Predictor, SeededRandom } from '@fedistill/engine';
import { buildFeatureExtractor, extractFeatures, withFeatures } from './extractor';
import { fitPca } from './pca';

/** Seeded 8 x 8 "images": a few smooth patterns with noise, and a class per pattern. */
function images(count: number, seed: number): Dataset {
  const rng = new SeededRandom(seed);
  const features = new Float32Array(count * 64);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i += 1) {
    const c = i % 3;
    labels[i] = c;
    for (let p = 0; p < 64; p += 1) {
      const [r, col] = [Math.floor(p / 8), p % 8];
      const pattern = c === 0 ? r : c === 1 ? col : Math.abs(r - col);
      features[i * 64 + p] = pattern + 0.5 * rng.normal();
    }
  }
  return { features, labels, count, featureShape: [1, 8, 8], numClasses: 3 };
}

describe(buildFeatureExtractor.name, () => {
  const reference = images(120, 1);

  it('PCA: ONNX Runtime gives the float64 projection of the reference fit, for any data', async () => {
    const sut = await buildFeatureExtractor({ pca: { components: 5, whiten: true } }, [1, 8, 8], reference);
    expect(sut.outputSize).toBe(5);
    expect(sut.definition.parameters).toEqual([]);
    const fit = fitPca(reference.features, reference.count, 64, { components: 5, whiten: true });
    const other = images(7, 9);
    const out = await extractFeatures(sut, other);
    expect(out.featureShape).toEqual([5]);
    expect(out.labels).toBe(other.labels);
    for (let i = 0; i < other.count; i += 1)
      for (let c = 0; c < 5; c += 1) {
        let want = 0;
        for (let j = 0; j < 64; j += 1)
          want += (other.features[i * 64 + j]! - fit.mean[j]!) * fit.projection[j * 5 + c]!;
        expect(out.features[i * 5 + c]).toBeCloseTo(want, 3);
      }
  });

  it('the same spec and reference set give the same bytes; another reference set, others', async () => {
    const spec = { pca: { components: 4, whiten: false } };
    const a = await buildFeatureExtractor(spec, [1, 8, 8], reference);
    const b = await buildFeatureExtractor(spec, [1, 8, 8], {
      ...reference,
      features: reference.features.slice(),
    });
    expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    expect(b.sha256).toBe(a.sha256);
    expect(b.sha256).toMatch(/^[0-9a-f]{64}$/);
    const c = await buildFeatureExtractor(spec, [1, 8, 8], images(120, 2));
    expect(c.sha256).not.toBe(a.sha256);
  });

  it('scattering then PCA: deterministic, and the fit is on the scattered reference rows', async () => {
    const spec = {
      scattering: { scales: 1, angles: 4, order: 1 as const },
      pca: { components: 6, whiten: false },
    };
    const a = await buildFeatureExtractor(spec, [1, 8, 8], reference);
    const b = await buildFeatureExtractor(spec, [1, 8, 8], reference);
    expect(a.sha256).toBe(b.sha256);
    expect(a.outputSize).toBe(6);
    const scatterOnly = await buildFeatureExtractor({ scattering: spec.scattering }, [1, 8, 8], {
      features: new Float32Array(),
      count: 0,
    });
    expect(scatterOnly.outputSize).toBe(80);
    // PCA fitted on the scattered reference rows: its features are centred there (mean 0) and
    // their variance falls component by component.
    const out = await extractFeatures(a, reference);
    const scale = Math.max(...out.features.map(Math.abs));
    let previous = Infinity;
    for (let c = 0; c < 6; c += 1) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < reference.count; i += 1) {
        s += out.features[i * 6 + c]!;
        s2 += out.features[i * 6 + c]! ** 2;
      }
      expect(Math.abs(s / reference.count)).toBeLessThan(1e-5 * scale);
      expect(s2).toBeLessThanOrEqual(previous * (1 + 1e-5));
      previous = s2;
    }
  });

  it('refuses what it cannot build, naming the problem', async () => {
    await expect(buildFeatureExtractor({}, [64], reference)).rejects.toThrow(
      "'features' must name scattering, pca or both",
    );
    await expect(
      buildFeatureExtractor({ pca: { components: 65, whiten: false } }, [1, 8, 8], reference),
    ).rejects.toThrow("'pca.components' is 65; the input has only 64 values");
    await expect(
      buildFeatureExtractor({ pca: { components: 2, whiten: false } }, [1, 8, 8], {
        features: new Float32Array(),
        count: 0,
      }),
    ).rejects.toThrow('the reference set is empty');
    const bad = { ...reference, features: reference.features.slice() };
    bad.features[64 * 3 + 1] = Infinity;
    await expect(
      buildFeatureExtractor({ pca: { components: 2, whiten: false } }, [1, 8, 8], bad),
    ).rejects.toThrow('reference row 3 has a non-finite value (Infinity) at index 1');
    const sut = await buildFeatureExtractor({ pca: { components: 2, whiten: false } }, [1, 8, 8], reference);
    await expect(extractFeatures(sut, { ...reference, featureShape: [64] })).rejects.toThrow(
      "'dataset' has records of shape [64]; the extractor takes [1, 8, 8]",
    );
  });
});

describe(withFeatures.name, () => {
  it('the composed model takes raw inputs and gives the head on the extracted features', async () => {
    const reference = images(60, 3);
    const extractor = await buildFeatureExtractor(
      { pca: { components: 4, whiten: true } },
      [1, 8, 8],
      reference,
    );
    const head = mlp({ inputShape: [4], hidden: [5], outputs: 3 });
    const values = initModel(head, 11);
    const composed = exportInferenceModel(withFeatures(extractor, head), values);
    const alone = exportInferenceModel(head, values);
    const raw = await Predictor.create(composed, [1, 8, 8]);
    const onFeatures = await Predictor.create(alone, [4]);
    try {
      const features = await extractFeatures(extractor, reference);
      const want = await onFeatures.logits(features.features, features.count);
      const got = await raw.logits(reference.features, reference.count);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    } finally {
      await raw.dispose();
      await onFeatures.dispose();
    }
    expect(() => withFeatures(extractor, mlp({ inputShape: [5], hidden: [], outputs: 3 }))).toThrow(
      "'head' takes [5]; the extractor gives [4]",
    );
  });
});
