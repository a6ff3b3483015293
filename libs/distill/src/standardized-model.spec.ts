import { Standardizer } from '@fedistill/data';
import { exportInferenceModel, initModel, mlp, Predictor } from '@fedistill/engine';
import { standardizedModel } from './standardized-model';

describe(standardizedModel.name, () => {
  it('gives on raw inputs the logits the inner model gives on standardized ones', async () => {
    const features = Float32Array.from({ length: 5 * 3 }, (_v, i) => Math.sin(i) * 10 + i);
    const data = { features, labels: new Int32Array(5), count: 5, featureShape: [3], numClasses: 2 };
    const standardizer = Standardizer.fit(data);
    const inner = mlp({ inputShape: [3], hidden: [4], outputs: 2 });
    const values = initModel(inner, 3);
    const sut = await Predictor.create(
      exportInferenceModel(standardizedModel(inner, standardizer), values),
      [3],
    );
    const plain = await Predictor.create(exportInferenceModel(inner, values), [3]);
    const raw = await sut.logits(features, 5);
    const expected = await plain.logits(standardizer.apply(data).features, 5);
    await Promise.all([sut.dispose(), plain.dispose()]);
    expect(raw.length).toBe(10);
    raw.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  it('refuses a standardizer fitted on another input size', () => {
    const data = {
      features: new Float32Array(4),
      labels: new Int32Array(2),
      count: 2,
      featureShape: [2],
      numClasses: 2,
    };
    expect(() =>
      standardizedModel(mlp({ inputShape: [3], hidden: [2], outputs: 2 }), Standardizer.fit(data)),
    ).toThrow("'standardizer' has 2 features; the model's input has 3");
  });
});
