/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint';
import { mlp } from '../models/mlp';
import { smallCnn } from '../models/cnn';
import type { OptimizerSpec } from '../optim/optimizers';
import { blobBatches } from '../testing/toy-data';
import { Trainer, type TrainerOptions } from './trainer';

const optimizer: OptimizerSpec = { kind: 'adam', lr: 0.01 };
const base: TrainerOptions = {
  model: mlp({ inputShape: [6], hidden: [16], outputs: 3 }),
  loss: { kind: 'cross-entropy' },
  optimizer,
  batchSize: 8,
  seed: 7,
};
const batches = blobBatches(12, 8, 6, 3, 1);

async function train(o: TrainerOptions, data = batches) {
  const sut = await Trainer.create(o);
  const losses = await sut.trainSteps(data);
  const snap = sut.snapshot();
  await sut.dispose();
  return { losses, snap };
}

const flat = (m: Map<string, Float32Array>) => [...m.values()].flatMap((v) => Array.from(v));

describe(Trainer.name, () => {
  it('lowers the loss on a seeded problem', async () => {
    const sut = await Trainer.create(base);
    const progress: number[] = [];
    const first = await sut.trainEpoch(batches, (p) => progress.push(p.step));
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    let last = first;
    for (let e = 0; e < 4; e += 1) last = await sut.trainEpoch(batches);
    expect(sut.stepCount).toBe(60);
    expect(last.meanLoss).toBeLessThan(0.5 * first.meanLoss);
    await sut.dispose();
  });

  it('is deterministic on cpu for a seed, and the seed matters', async () => {
    const a = await train(base);
    const b = await train(base);
    const c = await train({ ...base, seed: 8 });
    expect(flat(b.snap.params)).toEqual(flat(a.snap.params));
    expect(b.losses).toEqual(a.losses);
    expect(flat(c.snap.params)).not.toEqual(flat(a.snap.params));
  });

  it('gives the same result with several steps per run', async () => {
    const one = await train(base);
    const four = await train({ ...base, stepsPerRun: 4 }, batches.slice(0, 10));
    const oneShort = await train(base, batches.slice(0, 10));
    expect(one.losses.slice(0, 10).length).toBe(four.losses.length);
    flat(four.snap.params).forEach((v, i) => expect(v).toBeCloseTo(flat(oneShort.snap.params)[i]!, 5));
  });

  it('resumes identically from a saved checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedistill-ckpt-'));
    try {
      const straight = await train({ ...base, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 } });
      const first = await Trainer.create({ ...base, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 } });
      await first.trainSteps(batches.slice(0, 5));
      await saveCheckpoint(join(dir, 'a.ckpt'), first.snapshot());
      await first.dispose();
      const resumed = await Trainer.create({
        ...base,
        optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 },
        seed: 99,
        initial: await loadCheckpoint(join(dir, 'a.ckpt')),
      });
      expect(resumed.stepCount).toBe(5);
      const rest = await resumed.trainSteps(batches.slice(5));
      expect(rest).toEqual(straight.losses.slice(5));
      expect(flat(resumed.snapshot().params)).toEqual(flat(straight.snap.params));
      expect(flat(resumed.snapshot().optimizer)).toEqual(flat(straight.snap.optimizer));
      await resumed.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps batch-norm running averages of the batch statistics', async () => {
    const model = smallCnn({ inputShape: [1, 4, 4], channels: [2], hidden: 4, outputs: 2, batchNorm: true });
    const x = Float32Array.from({ length: 4 * 16 }, (_, i) => Math.sin(i));
    const sut = await Trainer.create({ ...base, model, batchSize: 4, optimizer: { kind: 'sgd', lr: 1e-9 } });
    const w = sut.snapshot().params.get('conv1.weight')!;
    await sut.trainSteps([{ x, y: BigInt64Array.from([0n, 1n, 0n, 1n]) }]);
    // Reference: conv1 output channel 0 (3x3, pad 1, zero bias) computed here, batch mean.
    let sum = 0;
    for (let n = 0; n < 4; n += 1) {
      for (let i = 0; i < 4; i += 1) {
        for (let j = 0; j < 4; j += 1) {
          for (let di = -1; di <= 1; di += 1) {
            for (let dj = -1; dj <= 1; dj += 1) {
              const [a, b] = [i + di, j + dj];
              if (a >= 0 && a < 4 && b >= 0 && b < 4)
                sum += x[n * 16 + a * 4 + b]! * w[(di + 1) * 3 + dj + 1]!;
            }
          }
        }
      }
    }
    expect(sut.snapshot().buffers.get('bn1.runningMean')![0]).toBeCloseTo(0.1 * (sum / 64), 5);
    await sut.dispose();
  });

  it('checks batch size and snapshot contents naming the problem', async () => {
    await expect(Trainer.create({ ...base, batchSize: 0 })).rejects.toThrow(/'batchSize'/);
    const sut = await Trainer.create(base);
    expect(() => sut.restore({ ...sut.snapshot(), params: new Map() })).toThrow(/parameter 'fc1.weight'/);
    await sut.dispose();
  });
});
