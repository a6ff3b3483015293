import { type Dataset, Standardizer } from '@fedistill/data';
import { exportInferenceModel, initModel, mlp, Predictor, SeededRandom } from '@fedistill/engine';
import { StackedTeacherPredictor } from './stacked-inference';

const [F, C, N] = [6, 4, 9];
const rng = new SeededRandom(3);
const data = (n: number, shift: number): Dataset => ({
  features: Float32Array.from({ length: n * F }, (_, i) => shift * (i % F) + 3 * rng.normal()),
  labels: new Int32Array(n),
  count: n,
  featureShape: [F],
  numClasses: C,
});

describe(StackedTeacherPredictor.name, () => {
  it.each([
    ['linear', []],
    ['hidden [5]', [5]],
  ] as const)(
    "gives each teacher's logits as its own predictor on its own standardized inputs (%s)",
    async (_kind, hidden) => {
      const net = { inputShape: [F], hidden, outputs: C };
      const values = [0, 1, 2].map((t) => initModel(mlp(net), 40 + t));
      const standardizers = [0, 1, 2].map((t) => Standardizer.fit(data(20, t)));
      const queries = data(N, 1);
      // 2 rows per run (3 teachers x 2 rows x 6 features = 36 floats): runs cover 2, 2, 2, 2, 1 rows.
      const sut = await StackedTeacherPredictor.create(net, values, standardizers, {
        threads: 1,
        runFloats: 36,
      });
      try {
        const got = await sut.logits(queries.features, N);
        expect(got).toHaveLength(3);
        for (const [t, v] of values.entries()) {
          const alone = await Predictor.create(exportInferenceModel(mlp(net), v), [F], { threads: 1 });
          const want = await alone.logits(standardizers[t]!.apply(queries).features, N);
          await alone.dispose();
          expect(got[t]).toHaveLength(N * C);
          want.forEach((w, i) => expect(got[t]![i]).toBeCloseTo(w, 4));
        }
        // Not vacuous: two teachers answer differently.
        expect(Math.abs(got[0]![0]! - got[1]![0]!)).toBeGreaterThan(1e-3);
      } finally {
        await sut.dispose();
      }
    },
  );

  it('refuses values and standardizers that do not pair up, naming them', async () => {
    const net = { inputShape: [F], hidden: [], outputs: C };
    const s = Standardizer.fit(data(5, 1));
    await expect(StackedTeacherPredictor.create(net, [initModel(mlp(net), 1)], [s, s], {})).rejects.toThrow(
      /'values' and 'standardizers' must hold one entry per teacher/,
    );
    await expect(
      StackedTeacherPredictor.create(net, [{ params: new Map(), buffers: new Map() }], [s], {}),
    ).rejects.toThrow(/teacher 0 lacks 24 values for 'fc1.weight'/);
  });
});
