/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import { initModel, type ModelValues } from '../models/init';
import { mlp, type MlpOptions } from '../models/mlp';
import type { OptimizerSpec } from '../optim/optimizers';
import { blobBatches } from '../testing/toy-data';
import { StackedMlpTrainer } from './stacked-mlp-trainer';
import { Trainer } from './trainer';

const T = 3;
const [F, C, B, STEPS] = [5, 3, 4, 8];
// Model t trains on its own toy problem (its own blobs and labels).
const data = Array.from({ length: T }, (_, t) => blobBatches(STEPS, B, F, C, 10 + t));
const stackStep = (s: number) => {
  const x = new Float32Array(T * B * F);
  const y = new BigInt64Array(T * B);
  data.forEach((d, t) => {
    x.set(d[s]!.x, t * B * F);
    y.set(d[s]!.y as BigInt64Array, t * B);
  });
  return { x, y };
};

async function stacked(net: MlpOptions, optimizer: OptimizerSpec, initial: ModelValues[]) {
  const sut = await StackedMlpTrainer.create({ mlp: net, batchSize: B, optimizer, initial });
  const losses: Float32Array[] = [];
  for (let s = 0; s < STEPS; s += 1) {
    const { x, y } = stackStep(s);
    losses.push(await sut.step(x, y));
  }
  const values = initial.map((_, t) => sut.values(t));
  await sut.dispose();
  return { losses, values };
}

async function oneByOne(net: MlpOptions, optimizer: OptimizerSpec, initial: ModelValues[]) {
  return Promise.all(
    initial.map(async (init, t) => {
      const trainer = await Trainer.create({
        model: mlp(net),
        loss: { kind: 'cross-entropy' },
        optimizer,
        batchSize: B,
        initial: init,
      });
      const losses = await trainer.trainSteps(data[t]!);
      const params = trainer.snapshot().params;
      await trainer.dispose();
      return { losses, params };
    }),
  );
}

describe(StackedMlpTrainer.name, () => {
  it.each([
    [
      'linear, Adam with a cosine schedule',
      [],
      { kind: 'adam', lr: 0.05, schedule: { kind: 'cosine', totalSteps: 8 } },
    ],
    ['hidden [6], SGD with momentum', [6], { kind: 'sgd', lr: 0.1, momentum: 0.9 }],
  ] as const)('trains each model as its own Trainer would (%s)', async (_n, hidden, optimizer) => {
    const net = { inputShape: [F], hidden, outputs: C };
    const initial = Array.from({ length: T }, (_, t) => initModel(mlp(net), 100 + t));
    const sut = await stacked(net, optimizer, initial);
    const expected = await oneByOne(net, optimizer, initial);
    expected.forEach((e, t) => {
      sut.losses.forEach((l, s) => expect(l[t]).toBeCloseTo(e.losses[s]!, 4));
      for (const [name, v] of e.params) {
        const got = sut.values[t]!.params.get(name)!;
        expect(got).toHaveLength(v.length);
        v.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 4));
        // Training moved it: the comparison is not of two untouched initial values.
        expect(got).not.toEqual(initial[t]!.params.get(name));
      }
    });
  });

  it("changes only model t's parameters when only model t's rows change", async () => {
    const net = { inputShape: [F], hidden: [4], outputs: C };
    const initial = Array.from({ length: T }, (_, t) => initModel(mlp(net), 200 + t));
    const optimizer: OptimizerSpec = { kind: 'adam', lr: 0.05 };
    const a = await stacked(net, optimizer, initial);
    const saved = data[1]![2]!.x[0]!;
    data[1]![2]!.x[0] = saved + 3;
    const b = await stacked(net, optimizer, initial).finally(() => (data[1]![2]!.x[0] = saved));
    for (let t = 0; t < T; t += 1)
      for (const [name, v] of a.values[t]!.params)
        if (t === 1) expect(b.values[t]!.params.get(name)).not.toEqual(v);
        else expect(b.values[t]!.params.get(name)).toEqual(v);
  });

  it('refuses options that would couple the models or do not fit, naming them', async () => {
    const net = { inputShape: [F], hidden: [], outputs: C };
    const initial = [initModel(mlp(net), 1)];
    const o = { mlp: net, batchSize: B, optimizer: { kind: 'adam', lr: 0.1 } as OptimizerSpec, initial };
    await expect(
      StackedMlpTrainer.create({ ...o, optimizer: { kind: 'adam', lr: 0.1, clipNorm: 1 } }),
    ).rejects.toThrow(/'clipNorm' would couple/);
    await expect(StackedMlpTrainer.create({ ...o, initial: [] })).rejects.toThrow(/'initial' must hold/);
    await expect(
      StackedMlpTrainer.create({ ...o, initial: [{ params: new Map(), buffers: new Map() }] }),
    ).rejects.toThrow(/model 0 lack 15 values for parameter 'fc1.weight'/);
    const sut = await StackedMlpTrainer.create(o);
    await expect(sut.step(new Float32Array(3), new BigInt64Array(B))).rejects.toThrow(/'x' must hold/);
    expect(() => sut.values(1)).toThrow(/'t' must be an integer in \[0, 1\)/);
    await sut.dispose();
  });
});
