/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import type { Dataset } from '@fedistill/data';
import { Predictor, SeededRandom } from '@fedistill/engine';
import { buildFeatureExtractor, fitPca } from '@fedistill/features';
import { parseFederationSpec } from '@fedistill/protocol';
import { trainStudent } from './train-student';

const D = 6;
const features = { pca: { components: 2, whiten: true } };

/** Three classes along the first two axes of 6-value rows, with small noise elsewhere. */
function rows(count: number, seed: number): Dataset {
  const rng = new SeededRandom(seed);
  const x = new Float32Array(count * D);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i += 1) {
    labels[i] = i % 3;
    for (let j = 0; j < D; j += 1)
      x[i * D + j] = (j < 2 ? 3 * ((i % 3) - 1) * (j + 1) : 0) + 0.3 * rng.normal();
  }
  return { features: x, labels, count, featureShape: [D], numClasses: 3 };
}

describe(trainStudent.name, () => {
  it('with features: publishes extractor-then-head, which takes raw inputs and sees them only through the features', async () => {
    const parsed = parseFederationSpec({
      id: 'fed',
      labels: ['a', 'b', 'c'],
      input: { shape: [D] },
      referenceSet: { sha256: 'ab'.repeat(32) },
      student: { architecture: 'mlp', hidden: [8] },
      privacy: { mechanism: 'none' },
      distillation: { epochs: 60, batchSize: 8 },
      features,
    });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    const reference = rows(90, 1);
    const extractor = await buildFeatureExtractor(features, [D], reference);
    const answered = Array.from({ length: 45 }, (_, i) => i * 2);
    const probs = new Float32Array(answered.length * 3);
    answered.forEach((r, i) => (probs[i * 3 + reference.labels[r]!] = 1));
    const evaluation = rows(30, 2);
    const sut = await trainStudent(
      parsed.spec,
      reference,
      { rows: answered, probs },
      evaluation,
      1,
      extractor,
    );
    expect(sut.metrics!.accuracy).toBeGreaterThan(0.9);
    const student = await Predictor.create(sut.onnx, [D]);
    try {
      expect(student.signature.inputs[0]?.shape).toEqual(['N', D]);
      // A change of the raw input orthogonal to the PCA axes leaves the features, and so the
      // logits, as they were; a change along an axis does not.
      const fit = fitPca(reference.features, reference.count, D, features.pca);
      const along = Array.from(fit.axes.subarray(0, D));
      const other = Array.from({ length: D }, (_, j): number => (j === 4 ? 1 : 0));
      for (let c = 0; c < 2; c += 1) {
        const axis = fit.axes.subarray(c * D, (c + 1) * D);
        const dot = other.reduce((s, v, j) => s + v * axis[j]!, 0);
        other.forEach((_v, j) => (other[j]! -= dot * axis[j]!));
      }
      const x = evaluation.features.slice(0, D);
      const shifted = (dir: number[]) => Float32Array.from(x, (v, j) => v + 2 * dir[j]!);
      const base = await student.logits(x, 1);
      const orthogonal = await student.logits(shifted(other), 1);
      const parallel = await student.logits(shifted(along), 1);
      orthogonal.forEach((v, k) => expect(v).toBeCloseTo(base[k]!, 4));
      expect(Math.max(...parallel.map((v, k) => Math.abs(v - base[k]!)))).toBeGreaterThan(1e-2);
    } finally {
      await student.dispose();
    }
  });
});
