// How a fresh training process warms up: the engine trains on the harness's batch file (views into
// the file's bytes, as engine-throughput's worker does) for `--passes` passes and prints, per chunk
// of `--chunk` steps, the throughput and the minor page faults the process took meanwhile. It is
// the measurement behind engine-throughput's untimed warm-up pass (docs/benchmarks.md, "Steady
// state, idle threads and a fused update"). `--repeat` cycles the first `stepsPerRun` batches
// instead, so every chunk reads memory already read once: what is left of the first pass's cost
// is then not the batches' pages.
// Usage: npm run bench -- engine-warmup [--model mlp|cnn] [--steps 468] [--chunk 39] [--passes 2]
//        [--threads 2] [--steps-per-run 4] [--repeat]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trainer } from '@fedistill/engine';
import { batchAt, readBatchFile, writeBatchFile } from './harness/batch-file';
import { benchModel } from './harness/bench-models';
import { intFlag, stringFlag } from './harness/flags';
import { load1 } from './harness/interleave';
import { median } from './harness/stats';

interface Chunk {
  readonly pass: number;
  readonly from: number;
  readonly samples_per_s: number;
  readonly page_faults: number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const model = stringFlag(args, 'model', ['mlp', 'cnn'], 'mlp');
  const steps = intFlag(args, 'steps', 468);
  const chunk = intFlag(args, 'chunk', 39);
  const passes = intFlag(args, 'passes', 2);
  const threads = intFlag(args, 'threads', 2);
  const stepsPerRun = intFlag(args, 'steps-per-run', 4);
  const repeat = args.includes('--repeat');
  for (const [k, v] of Object.entries({ steps, chunk, passes, threads, 'steps-per-run': stepsPerRun }))
    if (v < 1) throw new RangeError(`'--${k}' must be >= 1, got ${v}`);
  if (chunk > steps) throw new RangeError(`'--chunk' (${chunk}) must not exceed '--steps' (${steps})`);
  const dir = mkdtempSync(join(tmpdir(), 'engine-warmup-'));
  const loadBefore = load1();
  try {
    writeBatchFile(dir, { steps, batch: 128, inputShape: [1, 28, 28], classes: 10, seed: 1 });
    const data = readBatchFile(dir);
    const batches = Array.from({ length: steps }, (_, i) => batchAt(data, repeat ? i % stepsPerRun : i));
    const trainer = await Trainer.create({
      model: benchModel(model),
      loss: { kind: 'cross-entropy' },
      optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 },
      batchSize: 128,
      stepsPerRun,
      threads,
      allowSpinning: false,
    });
    const faults = () => process.resourceUsage().minorPageFault;
    const chunks: Chunk[] = [];
    for (let pass = 0; pass < passes; pass += 1) {
      for (let from = 0; from + chunk <= steps; from += chunk) {
        const f0 = faults();
        const t0 = process.hrtime.bigint();
        await trainer.trainSteps(batches.slice(from, from + chunk));
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        const c = { pass, from, samples_per_s: Math.round((chunk * 128) / s), page_faults: faults() - f0 };
        chunks.push(c);
        console.log(
          `  pass ${pass} steps ${from}-${from + chunk - 1}: ${c.samples_per_s} samples/s, ${c.page_faults} page faults`,
        );
      }
    }
    await trainer.dispose();
    const ofPass = (p: number) => chunks.filter((c) => c.pass === p);
    console.log(
      JSON.stringify({
        model,
        repeat,
        steps,
        chunk,
        steps_per_run: stepsPerRun,
        threads,
        pass_median_samples_per_s: Array.from({ length: passes }, (_, p) =>
          Math.round(median(ofPass(p).map((c) => c.samples_per_s))),
        ),
        pass_page_faults: Array.from({ length: passes }, (_, p) =>
          ofPass(p).reduce((a, c) => a + c.page_faults, 0),
        ),
        chunks,
        load_average_before: loadBefore,
        load_average_after: load1(),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
