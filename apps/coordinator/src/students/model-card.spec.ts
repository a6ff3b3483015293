import { parseFederationSpec } from '@fedistill/protocol';
import { buildModelCard, type ModelCardInput, modelCardMarkdown } from './model-card';

function input(features: unknown): ModelCardInput {
  const parsed = parseFederationSpec({
    id: 'fed',
    labels: ['a', 'b'],
    input: { shape: [1, 8, 8] },
    referenceSet: { sha256: 'ab'.repeat(32) },
    student: { architecture: 'mlp' },
    privacy: { mechanism: 'skellam', noiseMultiplier: 1, epsilonCap: 10 },
    ...(features ? { features } : {}),
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return {
    spec: parsed.spec,
    version: 1,
    createdAt: 0,
    onnx: { sha256: 'cd'.repeat(32), bytes: 10 },
    referenceRows: 20,
    rowsDistilled: 5,
    rounds: [],
    pseudoLabelled: null,
    privacy: {
      mechanism: 'skellam',
      epsilon: 1,
      delta: 1e-5,
      order: 8,
      unit: 'one record at one site',
      assumption: null,
    },
    trainingSeconds: 1,
    metrics: null,
    evaluationSet: null,
    features: features ? { sha256: 'ef'.repeat(32), outputSize: 12 } : null,
  };
}

describe(buildModelCard.name, () => {
  it('records the feature extractor inside the student: spec, digest, output size, and says the input is raw', () => {
    const sut = buildModelCard(
      input({ scattering: { scales: 1, angles: 4 }, pca: { components: 12, whiten: true } }),
    );
    expect(sut.features).toMatchObject({
      scattering: { scales: 1, angles: 4, order: 2 },
      pca: { components: 12, whiten: true },
      sha256: 'ef'.repeat(32),
      outputSize: 12,
    });
    expect(sut.student.io).toContain('the feature extractor and standardization are inside the model');
    expect(modelCardMarkdown(sut)).toContain(
      `- Features: scattering (scales 1, angles 4, order 2) then PCA (12 components, whitened), 12 values, extractor SHA-256 \`${'ef'.repeat(32)}\``,
    );
  });

  it('has no features entry without them', () => {
    const sut = buildModelCard(input(undefined));
    expect(sut.features).toBeUndefined();
    expect(modelCardMarkdown(sut)).not.toContain('Features');
  });
});
