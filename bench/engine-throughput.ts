// Training throughput of the engine (MLP 784-256-10 and the small CNN, batch 128, 2 threads,
// one epoch of Fashion-MNIST-shaped data) against PyTorch in the same invocation.
// Usage: npm run bench -- engine-throughput [--samples 60000] [--threads 2] [--batch 128]
//        [--steps-per-run 4] [--no-torch]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { type Batch, mlp, type ModelDefinition, SeededRandom, smallCnn, Trainer } from '@fedistill/engine';

// Helpers shared with engine-accuracy.ts and engine-gpu.ts, which import them from here.
/** The MLP of the issue: 784-256-10. */
export const benchMlp = (): ModelDefinition => mlp({ inputShape: [1, 28, 28], hidden: [256], outputs: 10 });

/** The small CNN: two 3x3 conv stages (16, 32 channels) with 2x2 max-pool, dense 128, 10 outputs. */
export const CNN_SHAPE = { c1: 16, c2: 32, hidden: 128 } as const;
export const benchCnn = (): ModelDefinition =>
  smallCnn({
    inputShape: [1, 28, 28],
    channels: [CNN_SHAPE.c1, CNN_SHAPE.c2],
    hidden: CNN_SHAPE.hidden,
    outputs: 10,
  });

/** Seeded Fashion-MNIST-shaped batches (uniform pixels, uniform labels). */
export function randomBatches(count: number, batchSize: number, seed: number): Batch[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, () => ({
    x: Float32Array.from({ length: batchSize * 784 }, () => rng.next()),
    y: BigInt64Array.from({ length: batchSize }, () => BigInt(Math.floor(rng.next() * 10))),
  }));
}

/** Reads `--name value` flags with defaults. */
export function flag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v)) throw new RangeError(`'--${name}' needs a number`);
  return v;
}

export function loadAverage(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

export const seconds = (startNs: bigint): number => Number(process.hrtime.bigint() - startNs) / 1e9;

const args = process.argv.slice(2);
const samples = flag(args, 'samples', 60000);
const threads = flag(args, 'threads', 2);
const batch = flag(args, 'batch', 128);
const stepsPerRun = flag(args, 'steps-per-run', 4);
const WARMUP = 10;

async function ours(model: ModelDefinition, steps: number): Promise<number> {
  const data = randomBatches(Math.min(steps, 64), batch, 1);
  const trainer = await Trainer.create({
    model,
    loss: { kind: 'cross-entropy' },
    optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 },
    batchSize: batch,
    stepsPerRun,
    threads,
  });
  const epoch = Array.from({ length: steps }, (_, i) => data[i % data.length]!);
  await trainer.trainSteps(epoch.slice(0, WARMUP));
  const start = process.hrtime.bigint();
  await trainer.trainSteps(epoch);
  const s = seconds(start);
  await trainer.dispose();
  return (steps * batch) / s;
}

function torch(): { version: string; mlp: number; cnn: number } | { error: string } {
  const script = join(__dirname, '..', '..', 'bench', 'torch_throughput.py');
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const argv = [script, threads, batch, samples, CNN_SHAPE.c1, CNN_SHAPE.c2, CNN_SHAPE.hidden].map(String);
  const run = spawnSync('/usr/bin/python3', argv, { encoding: 'utf8', env });
  if (run.status !== 0)
    return { error: (run.error?.message ?? run.stderr).trim().split('\n').pop() ?? 'failed' };
  const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, number | string>;
  return {
    version: String(out['torch_version']),
    mlp: Number(out['mlp_samples_per_s']),
    cnn: Number(out['cnn_samples_per_s']),
  };
}

async function main(): Promise<void> {
  const steps = Math.floor(samples / batch);
  const load = loadAverage();
  console.log(
    `engine-throughput: ${steps} steps of batch ${batch}, ${threads} threads, ${stepsPerRun} steps/run, load ${load}`,
  );
  const mlp = await ours(benchMlp(), steps);
  console.log(`ours  MLP 784-256-10: ${mlp.toFixed(0)} samples/s`);
  const cnn = await ours(benchCnn(), steps);
  console.log(`ours  small CNN:      ${cnn.toFixed(0)} samples/s`);
  const t = args.includes('--no-torch') ? { error: 'skipped (--no-torch)' } : torch();
  if ('error' in t) console.log(`PyTorch unavailable: ${t.error}`);
  else console.log(`torch ${t.version}: MLP ${t.mlp.toFixed(0)}, CNN ${t.cnn.toFixed(0)} samples/s`);
  const tm = 'error' in t ? null : t;
  const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
  console.log(
    JSON.stringify({
      mlp_samples_per_s: Math.round(mlp),
      cnn_samples_per_s: Math.round(cnn),
      torch_mlp_samples_per_s: tm ? Math.round(tm.mlp) : null,
      torch_cnn_samples_per_s: tm ? Math.round(tm.cnn) : null,
      mlp_ratio: round(tm ? mlp / tm.mlp : null),
      cnn_ratio: round(tm ? cnn / tm.cnn : null),
      torch_version: tm ? tm.version : null,
      batch,
      threads,
      samples: steps * batch,
      steps_per_run: stepsPerRun,
      load_average_before: load,
      load_average_after: loadAverage(),
    }),
  );
}

// Only run when executed, not when the other engine benchmarks import the helpers above.
if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
