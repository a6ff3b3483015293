// Training throughput of the engine (MLP 784-256-10 and the small CNN) against PyTorch through the
// interleaved harness (bench/harness/): every sample is a fresh process of one side, A/B/A/B over
// `--pairs` pairs, both sides training on the same batch file (same batches, same order, same
// step count, batch 128) with the same thread count; what idle threads do is `--idle` (below).
// Before the timed passes each process makes `--warmup-passes` untimed passes over every batch
// (default 1): the timed figure is the steady state of multi-epoch training, and the first pass's
// figures are reported beside it (docs/benchmarks.md, "Steady state, idle threads and a fused
// update"). Timed passes per process: `--passes`, default 5 for the MLP (one pass of the engine
// is about 0.4 s, short enough for a blip of the shared machine to move it) and 1 for the CNN
// (about 8 s for the engine, 30 s for PyTorch); both sides always do the same number. What the
// C library's allocator does with freed memory is `--malloc`, the same for both sides (default
// `retain`: glibc keeps it, so neither side pays this VM's 10 us page faults; `release`: glibc's
// defaults; bench/harness/malloc.ts); the JSON gives the measured cost of a fault here and each
// side's faults per step. After each model's pairs, `--floor-runs` fresh processes (default 3)
// measure its kernel floor (bench/harness/kernel-floor.ts): the time ONNX Runtime's kernels need
// for the step's matrix products and convolutions alone, and from it the largest ratio to
// PyTorch that any engine on these kernels could reach in this run (`<model>_ratio_ceiling`).
// Usage: npm run bench -- engine-throughput [--pairs 5] [--steps 468] [--threads 2] [--batch 128]
//        [--steps-per-run 4] [--warmup-passes 1] [--passes N] [--max-spread 0.25] [--models mlp,cnn]
//        [--idle best|passive|active] [--spin (= --idle active)] [--malloc retain|release] [--no-torch]
//        [--floor-runs 3]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { type Batch, SeededRandom } from '@fedistill/engine';
import { writeBatchFile } from './harness/batch-file';
import { CNN_SHAPE } from './harness/bench-models';
import { intFlag, numberFlag, stringFlag } from './harness/flags';
import { floorJson, type FloorWorkerReport } from './harness/kernel-floor';
import { mallocEnv, type MallocMode, measurePageFaultCost } from './harness/malloc';
import { load1, resultJson, runInterleaved, type SideCommand, spawnSide } from './harness/interleave';
import { summarize } from './harness/stats';

// Helpers shared with engine-accuracy.ts and engine-gpu.ts, which import them from here.
export { benchCnn, benchMlp, CNN_SHAPE } from './harness/bench-models';

/** Seeded Fashion-MNIST-shaped batches (uniform pixels, uniform labels). */
export function randomBatches(count: number, batchSize: number, seed: number): Batch[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, () => ({
    x: Float32Array.from({ length: batchSize * 784 }, () => rng.next()),
    y: BigInt64Array.from({ length: batchSize }, () => BigInt(Math.floor(rng.next() * 10))),
  }));
}

/**
 * The BLAS library Debian's PyTorch actually loads (libblas.so.3 is a Debian alternative: the
 * reference netlib BLAS unless an optimized one such as libopenblas0 is installed). PyTorch's
 * `Linear` layers run on it, so the MLP comparison depends on it by an order of magnitude
 * (docs/benchmarks.md, "Against PyTorch on OpenBLAS"). Null when PyTorch cannot be started.
 */
export function torchBlas(): string | null {
  const probe = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      "import torch; torch.ones(2, 2) @ torch.ones(2, 2); print(sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.split()[-1]}))",
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (probe.status !== 0) return null;
  const libs = /\[(.*)\]/.exec(probe.stdout)?.[1] ?? '';
  return (
    libs
      .split(',')
      .map((l) => l.trim().replace(/^'|'$/g, ''))
      .find((l) => /libblas\.so|libopenblas|libmkl|libblis/.test(l)) ?? null
  );
}

/** Reads `--name value` flags with defaults. */
export function flag(args: readonly string[], name: string, fallback: number): number {
  return numberFlag(args, name, fallback);
}

export function loadAverage(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

export const seconds = (startNs: bigint): number => Number(process.hrtime.bigint() - startNs) / 1e9;

/**
 * What idle worker threads do between parallel regions (docs/benchmarks.md, "Steady state, idle
 * threads and a fused update"):
 * - best (default): each side as it runs fastest here, measured: the engine spinning (ONNX
 *   Runtime's default), PyTorch with OpenMP threads sleeping (PASSIVE) and OpenBLAS as shipped
 *   (its threads spin between calls); PyTorch with OpenMP spinning too ran 3.6-3.8x slower (MLP).
 * - passive: no thread of either side spins: ORT spinning off, OpenMP PASSIVE and OpenBLAS's
 *   busy-wait cut to 2^4 cycles (OPENBLAS_THREAD_TIMEOUT=4).
 * - active: every pool spins (ORT default, OpenMP ACTIVE, OpenBLAS as shipped); `--spin`.
 */
export type IdleMode = 'best' | 'passive' | 'active';

/** The engine's `--spin` flag: its intra-op threads spin unless `--idle passive`. */
const engineSpin = (o: Settings): '0' | '1' => (o.idle === 'passive' ? '0' : '1');

/** The two sides' commands for one model: the same data, threads and passes. */
function sides(model: 'mlp' | 'cnn', data: string, o: Settings): [SideCommand, SideCommand] {
  const threads = String(o.threads);
  // ORT ignores these; its spinning is a session option (the engine worker's --spin).
  const env = {
    OMP_NUM_THREADS: threads,
    MKL_NUM_THREADS: threads,
    OPENBLAS_NUM_THREADS: threads,
    OMP_WAIT_POLICY: o.idle === 'active' ? 'ACTIVE' : 'PASSIVE',
    ...mallocEnv(o.malloc),
    ...(o.idle === 'passive' ? { OPENBLAS_THREAD_TIMEOUT: '4' } : {}),
  };
  const common = [
    ...['--model', model, '--data', data, '--threads', threads, '--warmup', '10'],
    ...['--warmup-passes', String(o.warmupPasses), '--passes', String(o.passes ?? DEFAULT_PASSES[model])],
  ];
  return [
    {
      name: 'engine',
      command: process.execPath,
      args: [
        join(__dirname, 'harness', 'engine-train-worker.js'),
        ...common,
        '--steps-per-run',
        String(o.stepsPerRun),
        '--spin',
        engineSpin(o),
      ],
      env,
    },
    {
      name: 'torch',
      command: '/usr/bin/python3',
      args: [
        join(__dirname, '..', '..', 'bench', 'torch_throughput.py'),
        ...common,
        '--cnn',
        `${CNN_SHAPE.c1},${CNN_SHAPE.c2},${CNN_SHAPE.hidden}`,
      ],
      env,
    },
  ];
}

/** The kernel-floor worker for `model`, with the engine side's environment and settings. */
function floorSide(model: 'mlp' | 'cnn', engine: SideCommand, o: Settings): SideCommand {
  return {
    name: 'kernel floor',
    command: process.execPath,
    args: [
      join(__dirname, 'harness', 'kernel-floor-worker.js'),
      ...['--model', model, '--threads', String(o.threads), '--batch', String(o.batch)],
      ...['--spin', engineSpin(o)],
    ],
    env: engine.env ?? {},
  };
}

/** Timed passes per process when `--passes` is not given (see the header). */
const DEFAULT_PASSES = { mlp: 5, cnn: 1 } as const;

interface Settings {
  readonly pairs: number;
  readonly steps: number;
  readonly threads: number;
  readonly batch: number;
  readonly stepsPerRun: number;
  readonly warmupPasses: number;
  /** Timed passes per process; undefined: {@link DEFAULT_PASSES}. */
  readonly passes: number | undefined;
  readonly maxSpread: number;
  readonly idle: IdleMode;
  readonly malloc: MallocMode;
  readonly torch: boolean;
  readonly models: ('mlp' | 'cnn')[];
  /** Fresh kernel-floor processes per model; 0 skips the floor. */
  readonly floorRuns: number;
}

function settings(args: readonly string[]): Settings {
  const models = (args.includes('--models') ? (args[args.indexOf('--models') + 1] ?? '') : 'mlp,cnn').split(
    ',',
  );
  if (models.some((m) => m !== 'mlp' && m !== 'cnn'))
    throw new RangeError("'--models' must list mlp and/or cnn");
  const s: Settings = {
    pairs: intFlag(args, 'pairs', 5),
    steps: intFlag(args, 'steps', 468),
    threads: intFlag(args, 'threads', 2),
    batch: intFlag(args, 'batch', 128),
    stepsPerRun: intFlag(args, 'steps-per-run', 4),
    warmupPasses: intFlag(args, 'warmup-passes', 1),
    passes: args.includes('--passes') ? intFlag(args, 'passes', 1) : undefined,
    maxSpread: numberFlag(args, 'max-spread', 0.25),
    idle: args.includes('--spin')
      ? 'active'
      : stringFlag(args, 'idle', ['best', 'passive', 'active'], 'best'),
    malloc: stringFlag(args, 'malloc', ['retain', 'release'], 'retain'),
    torch: !args.includes('--no-torch'),
    models: models as ('mlp' | 'cnn')[],
    floorRuns: intFlag(args, 'floor-runs', 3),
  };
  if (s.floorRuns < 0) throw new RangeError("'--floor-runs' must be >= 0");
  for (const k of ['pairs', 'steps', 'threads', 'batch', 'stepsPerRun'] as const)
    if (s[k] < 1) throw new RangeError(`'${k}' must be >= 1`);
  if (s.warmupPasses < 0) throw new RangeError("'warmup-passes' must be >= 0");
  if (s.passes !== undefined && s.passes < 1) throw new RangeError("'passes' must be >= 1");
  if (!(s.maxSpread > 0)) throw new RangeError("'--max-spread' must be > 0");
  return s;
}

function main(): void {
  const o = settings(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'engine-throughput-'));
  const out: Record<string, unknown> = {};
  const loadBefore = load1();
  const pageFault = measurePageFaultCost();
  const blas = o.torch ? torchBlas() : null;
  if (blas && /\/blas\/libblas\.so/.test(blas))
    console.log(
      `PyTorch's BLAS is the reference (netlib) one (${blas}): its Linear layers run far slower than on ` +
        'OpenBLAS or MKL, which favours the engine on the MLP (apt-get install libopenblas0-pthread; docs/benchmarks.md)',
    );
  try {
    writeBatchFile(dir, { steps: o.steps, batch: o.batch, inputShape: [1, 28, 28], classes: 10, seed: 1 });
    console.log(
      `engine-throughput: ${o.pairs} interleaved pairs, ${o.steps} steps of batch ${o.batch} (same batch file both sides), ` +
        `${o.threads} threads, ${o.stepsPerRun} steps/run, ${o.warmupPasses} untimed warm-up pass(es), ` +
        `timed passes ${o.passes ?? `mlp ${DEFAULT_PASSES.mlp}, cnn ${DEFAULT_PASSES.cnn}`}, ` +
        `idle threads '${o.idle}', allocator '${o.malloc}', a page fault costs ${pageFault.us_per_fault} us here, ` +
        `load ${loadBefore}`,
    );
    // The kernel floor of `model` (fresh processes after its pairs), into out[`${model}_floor`].
    const floor = (
      model: 'mlp' | 'cnn',
      engine: SideCommand,
      torchMedian: number | null,
      engineMedian: number,
    ) => {
      if (o.floorRuns === 0) return;
      const side = floorSide(model, engine, o);
      const reports = Array.from(
        { length: o.floorRuns },
        () => spawnSide(side, 10 * 60_000) as FloorWorkerReport,
      );
      const f = floorJson(reports, torchMedian, engineMedian);
      out[`${model}_floor`] = f;
      out[`${model}_ratio_ceiling`] = f['ratio_ceiling'];
      console.log(
        `${model} kernel floor: ${f['step_ms']} ms per step (${f['samples_per_s']} samples/s; runs ${reports
          .map((x) => x.step_ms)
          .join(', ')} ms)` +
          (torchMedian ? `: at most ${f['ratio_ceiling']}x PyTorch's median on these kernels` : '') +
          `; the engine runs at ${f['engine_share']} of it`,
      );
    };
    for (const model of o.models) {
      const [engine, torch] = sides(model, dir, o);
      const onSample = (side: string, pair: number, r: { samples_per_s: number }) =>
        console.log(
          `  ${model} pair ${pair + 1} ${side}: ${Math.round(r.samples_per_s)} samples/s, load ${load1()}`,
        );
      if (!o.torch) {
        // Engine only: the same fresh-process samples, no ratio.
        const reports = Array.from({ length: o.pairs }, (_, pair) => {
          const r = spawnSide(engine, 15 * 60_000);
          onSample(engine.name, pair, r);
          return r;
        });
        const sum = summarize(reports.map((r) => r.samples_per_s));
        out[model] = {
          engine: {
            median: Math.round(sum.median),
            spread: Math.round(sum.spread * 1000) / 1000,
            samples: sum.samples.map(Math.round),
          },
        };
        floor(model, engine, null, sum.median);
        continue;
      }
      const r = runInterleaved(engine, torch, { pairs: o.pairs, maxSpread: o.maxSpread, onSample });
      const j = resultJson(r);
      out[model] = j;
      floor(model, engine, r.comparison.b.median, r.comparison.a.median);
      out[`${model}_ratio`] = j['ratio_of_medians'];
      out[`${model}_cpu_ratio`] = j['cpu_ratio_of_medians'] ?? null;
      console.log(
        `${model}: engine median ${Math.round(r.comparison.a.median)}, torch median ${Math.round(r.comparison.b.median)} samples/s; ` +
          (r.comparison.refused ??
            `ratio of medians ${j['ratio_of_medians']}, of bests ${j['ratio_of_bests']}`) +
          `; per CPU-second: ${(j['cpu_refused'] as string | null) ?? `ratio of medians ${j['cpu_ratio_of_medians']}`}` +
          (j['first_pass_medians']
            ? `; first pass: medians ${(j['first_pass_medians'] as number[]).join(' / ')}, ` +
              `${(j['first_pass_refused'] as string | null) ?? `ratio ${j['first_pass_ratio_of_medians']}`}`
            : ''),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    JSON.stringify({
      mlp_ratio: out['mlp_ratio'] ?? null,
      cnn_ratio: out['cnn_ratio'] ?? null,
      mlp_cpu_ratio: out['mlp_cpu_ratio'] ?? null,
      cnn_cpu_ratio: out['cnn_cpu_ratio'] ?? null,
      mlp_ratio_ceiling: out['mlp_ratio_ceiling'] ?? null,
      cnn_ratio_ceiling: out['cnn_ratio_ceiling'] ?? null,
      ...out,
      batch: o.batch,
      threads: o.threads,
      steps: o.steps,
      samples_per_pass: o.steps * o.batch,
      steps_per_run: o.stepsPerRun,
      warmup_passes: o.warmupPasses,
      timed_passes: Object.fromEntries(o.models.map((m) => [m, o.passes ?? DEFAULT_PASSES[m]])),
      idle: o.idle,
      engine_spinning: o.idle !== 'passive',
      malloc: o.malloc,
      glibc_tunables: mallocEnv(o.malloc)['GLIBC_TUNABLES'],
      page_fault_us: pageFault.us_per_fault,
      torch_blas: blas,
      pairs: o.pairs,
      load_average_before: loadBefore,
      load_average_after: load1(),
    }),
  );
}

// Only run when executed, not when the other engine benchmarks import the helpers above.
if (require.main === module) {
  try {
    main();
  } catch (err: unknown) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
