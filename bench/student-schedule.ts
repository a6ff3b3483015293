// The student's learning-rate schedule on Fashion-MNIST (Xiao et al., arXiv:1708.07747): the
// distillation recipe of fmnist-federation's student (MLP [128], Adam at 1e-2, batch 64, 30
// epochs, embedded standardizer) with a constant rate against cosine annealing to zero
// (arXiv:1608.03983), each over several seeds, on one teacher's soft labels of 5,000 reference
// images (the teacher: fmnist-federation's, an MLP [128] trained 10 epochs on 3,000 other
// training images). Reports each schedule's test accuracy per seed, mean, spread, and the
// difference of the means. Both schedules run in this one invocation, seed by seed, interleaved.
// Usage: npm run bench -- student-schedule [--dir DIR] [--seeds 5] [--threads 2]
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { loadIdxDataset, permutation, selectSamples } from '@fedistill/data';
import {
  classificationMetrics,
  distillStudent,
  type LearningRateSchedule,
  studentProbabilities,
  TeacherEnsemble,
} from '@fedistill/distill';

const args = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = args[i + 1];
  if (!v || v.startsWith('--')) throw new RangeError(`'--${name}' needs a value`);
  return v;
}
function count(name: string, fallback: number): number {
  const v = Number(option(name, String(fallback)));
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`'--${name}' must be an integer >= 1`);
  return v;
}
const dir = option('dir', '/usr/share/datasets/fashion-mnist');
const seeds = count('seeds', 5);
const threads = count('threads', 2);
const SCHEDULES: readonly LearningRateSchedule[] = ['constant', 'cosine'];

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: readonly number[]): number => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
};
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const loadBefore = loadavg()[0] as number;
  const train = await loadIdxDataset(
    path.join(dir, 'train-images-idx3-ubyte.gz'),
    path.join(dir, 'train-labels-idx1-ubyte.gz'),
  );
  const test = await loadIdxDataset(
    path.join(dir, 't10k-images-idx3-ubyte.gz'),
    path.join(dir, 't10k-labels-idx1-ubyte.gz'),
  );
  const order = Array.from(permutation(train.count, 7));
  const reference = selectSamples(train, order.slice(0, 5_000));
  const teacher = await TeacherEnsemble.train(selectSamples(train, order.slice(5_000, 8_000)), {
    teachers: 1,
    hidden: [128],
    epochs: 10,
    batchSize: 64,
    seed: 3,
    threads,
  });
  const [probs] = await teacher.probabilities(reference.features, reference.count);
  await teacher.dispose();
  const rows = Array.from({ length: reference.count }, (_, i) => i);
  const accuracy: Record<LearningRateSchedule, number[]> = { constant: [], cosine: [] };
  for (let s = 1; s <= seeds; s += 1)
    for (const schedule of SCHEDULES) {
      const student = await distillStudent(
        reference,
        rows,
        { probs: probs as Float32Array, answered: rows },
        {
          hidden: [128],
          classes: 10,
          temperature: 1,
          epochs: 30,
          batchSize: 64,
          schedule,
          seed: 1000 + s,
          threads,
          embedStandardizer: true,
        },
      );
      const a = classificationMetrics(await studentProbabilities(student, test), test.labels, 10).accuracy;
      accuracy[schedule].push(round4(a));
      console.log(`seed ${1000 + s}, ${schedule}: test accuracy ${a.toFixed(4)}`);
    }
  const summary = Object.fromEntries(
    SCHEDULES.map((k) => [
      k,
      {
        accuracy: accuracy[k],
        mean: round4(mean(accuracy[k])),
        sd: round4(sd(accuracy[k])),
        min: Math.min(...accuracy[k]),
        max: Math.max(...accuracy[k]),
      },
    ]),
  );
  console.log(
    JSON.stringify({
      seeds,
      threads,
      ...summary,
      cosine_minus_constant: round4(mean(accuracy.cosine) - mean(accuracy.constant)),
      wall_s: round4(Number(process.hrtime.bigint() - started) / 1e9),
      load_average_before: loadBefore,
      load_average_after: loadavg()[0],
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
