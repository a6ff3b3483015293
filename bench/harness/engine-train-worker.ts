// The engine's side of `engine-throughput`: one fresh process per sample. Trains the model on the
// batch file's batches (the first `warmup` untimed, then `warmup-passes` untimed passes over every
// batch, then `passes` timed passes over every batch) and prints {samples_per_s, peak_rss_kb, ...}
// as its last line, with `page_faults_per_step` (minor faults over the timed passes); with a
// warm-up pass also `first_pass_samples_per_s`, the throughput of the first one.
// Usage: node engine-train-worker.js --model mlp|cnn --data DIR --threads T --steps-per-run K
//        [--warmup 10] [--warmup-passes 0] [--passes 1] [--spin 0|1]
import { Trainer, type Batch } from '@fedistill/engine';
import { benchModel } from './bench-models';
import { batchAt, readBatchFile } from './batch-file';
import { intFlag, stringFlag } from './flags';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const model = stringFlag(args, 'model', ['mlp', 'cnn']);
  const data = readBatchFile(stringFlag(args, 'data'));
  const threads = intFlag(args, 'threads', 2);
  const stepsPerRun = intFlag(args, 'steps-per-run', 1);
  const warmup = intFlag(args, 'warmup', 10);
  const warmupPasses = intFlag(args, 'warmup-passes', 0);
  if (warmupPasses < 0) throw new RangeError(`'--warmup-passes' must be >= 0, got ${warmupPasses}`);
  const passes = intFlag(args, 'passes', 1);
  if (passes < 1) throw new RangeError(`'--passes' must be >= 1, got ${passes}`);
  const spin = intFlag(args, 'spin', 0) === 1;
  const batches: Batch[] = Array.from({ length: data.meta.steps }, (_, i) => batchAt(data, i));
  const trainer = await Trainer.create({
    model: benchModel(model),
    loss: { kind: 'cross-entropy' },
    optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 },
    batchSize: data.meta.batch,
    stepsPerRun,
    threads,
    allowSpinning: spin,
  });
  await trainer.trainSteps(batches.slice(0, Math.min(warmup, batches.length)));
  let firstPass: number | undefined;
  for (let p = 0; p < warmupPasses; p += 1) {
    const t0 = process.hrtime.bigint();
    await trainer.trainSteps(batches);
    firstPass ??= (batches.length * data.meta.batch) / (Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const faults0 = process.resourceUsage().minorPageFault;
  let losses: number[] = [];
  for (let p = 0; p < passes; p += 1) losses = await trainer.trainSteps(batches);
  const cpu = process.cpuUsage(cpu0);
  const faults = process.resourceUsage().minorPageFault - faults0;
  const samples = passes * batches.length * data.meta.batch;
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  await trainer.dispose();
  console.log(
    JSON.stringify({
      samples_per_s: samples / s,
      peak_rss_kb: process.resourceUsage().maxRSS,
      // Samples per CPU-second of the whole process (all threads): far less sensitive to other
      // processes' load than wall time, as long as no thread spins.
      cpu_samples_per_s: samples / ((cpu.user + cpu.system) / 1e6),
      seconds: s,
      // Minor page faults per timed step (docs/benchmarks.md, "Page faults, the allocator and a
      // fair PyTorch").
      page_faults_per_step: faults / (passes * batches.length),
      ...(firstPass === undefined ? {} : { first_pass_samples_per_s: firstPass }),
      steps: passes * batches.length,
      last_loss: losses[losses.length - 1],
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
