/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mlp } from '../models/mlp';
import { blobBatches } from '../testing/toy-data';
import { tuningOf, tuningOptions } from './session-tuning';
import { Trainer, type TrainerOptions } from './trainer';

const base: TrainerOptions = {
  model: mlp({ inputShape: [6], hidden: [16], outputs: 3 }),
  loss: { kind: 'cross-entropy' },
  optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 },
  batchSize: 8,
  seed: 3,
};

describe(tuningOptions.name, () => {
  it("keeps ORT's spinning default unless spinning is turned off", () => {
    expect(tuningOptions().extra).toEqual({ session: { intra_op: { allow_spinning: '1' } } });
    expect(tuningOptions({ allowSpinning: false }).extra).toEqual({
      session: { intra_op: { allow_spinning: '0' } },
    });
    expect(tuningOptions()).not.toHaveProperty('enableProfiling');
  });

  it('turns profiling on with a file prefix', () => {
    expect(tuningOptions({ profilePrefix: '/tmp/p' })).toMatchObject({
      enableProfiling: true,
      profileFilePrefix: '/tmp/p',
    });
  });

  it('picks only the tuning fields of larger options', () => {
    expect(tuningOf({ ...base, allowSpinning: false } as never)).toEqual({ allowSpinning: false });
  });
});

describe('Trainer with session tuning', () => {
  it('trains identically with spinning off (only thread idling changes)', async () => {
    const run = async (allowSpinning: boolean) => {
      const sut = await Trainer.create({ ...base, allowSpinning, threads: 2 });
      const losses = await sut.trainSteps(blobBatches(6, 8, 6, 3, 1));
      await sut.dispose();
      return losses;
    };
    expect(await run(false)).toEqual(await run(true));
  });

  it('writes an ORT profile with per-node times when given a prefix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engine-profile-'));
    try {
      const sut = await Trainer.create({ ...base, profilePrefix: join(dir, 'train') });
      await sut.trainSteps(blobBatches(2, 8, 6, 3, 1));
      await sut.dispose();
      const files = readdirSync(dir).filter((f) => f.startsWith('train') && f.endsWith('.json'));
      expect(files).toHaveLength(1);
      const events = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as {
        cat?: string;
        name: string;
      }[];
      expect(events.some((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
