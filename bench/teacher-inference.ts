// Teacher inference over a reference set: the engine's Predictor (what teachers use to label the
// reference set) against a bare onnxruntime-node session.run on the same model bytes, same data,
// same session settings, through the interleaved harness (bench/harness/). Target: the Predictor
// within 10% of the bare loop (ratio of medians >= 0.9).
// Usage: npm run bench -- teacher-inference [--pairs 5] [--reference 5120] [--passes 5]
//        [--threads 2] [--models mlp,cnn] [--max-spread 0.25] [--spin] [--malloc retain|release]
// Both sides get the same allocator setting (bench/harness/malloc.ts; default retain).
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeBatchFile } from './harness/batch-file';
import { intFlag, numberFlag, stringFlag } from './harness/flags';
import { mallocEnv } from './harness/malloc';
import { load1, resultJson, runInterleaved, type SideCommand } from './harness/interleave';

const TARGET = 0.9;

function main(): void {
  const args = process.argv.slice(2);
  const pairs = intFlag(args, 'pairs', 5);
  const reference = intFlag(args, 'reference', 5120);
  const passes = intFlag(args, 'passes', 5);
  const threads = intFlag(args, 'threads', 2);
  const maxSpread = numberFlag(args, 'max-spread', 0.25);
  const spin = args.includes('--spin');
  const malloc = stringFlag(args, 'malloc', ['retain', 'release'], 'retain');
  const models = (args.includes('--models') ? (args[args.indexOf('--models') + 1] ?? '') : 'mlp,cnn').split(
    ',',
  );
  if (models.some((m) => m !== 'mlp' && m !== 'cnn'))
    throw new RangeError("'--models' must list mlp and/or cnn");
  if (reference < 128 || reference % 128 !== 0)
    throw new RangeError("'--reference' must be a multiple of 128");
  if (passes < 1) throw new RangeError("'--passes' must be >= 1");
  const dir = mkdtempSync(join(tmpdir(), 'teacher-inference-'));
  const out: Record<string, unknown> = {};
  const loadBefore = load1();
  try {
    writeBatchFile(dir, {
      steps: reference / 128,
      batch: 128,
      inputShape: [1, 28, 28],
      classes: 10,
      seed: 2,
    });
    console.log(
      `teacher-inference: ${pairs} interleaved pairs, ${reference} reference samples x ${passes} passes, ${threads} threads, load ${loadBefore}`,
    );
    for (const model of models) {
      const side = (mode: 'predictor' | 'bare'): SideCommand => ({
        name: mode,
        command: process.execPath,
        args: [
          join(__dirname, 'harness', 'inference-worker.js'),
          ...['--mode', mode, '--model', model, '--data', dir, '--threads', String(threads)],
          ...['--passes', String(passes), '--spin', spin ? '1' : '0'],
        ],
        env: { OMP_NUM_THREADS: String(threads), ...mallocEnv(malloc) },
      });
      const r = runInterleaved(side('predictor'), side('bare'), {
        pairs,
        maxSpread,
        onSample: (s, pair, rep) =>
          console.log(
            `  ${model} pair ${pair + 1} ${s}: ${Math.round(rep.samples_per_s)} samples/s, load ${load1()}`,
          ),
      });
      const j = resultJson(r);
      const ratio = j['ratio_of_medians'] as number | null;
      out[model] = { ...j, within_10_percent: ratio === null ? null : ratio >= TARGET };
      out[`${model}_ratio`] = ratio;
      out[`${model}_cpu_ratio`] = j['cpu_ratio_of_medians'] ?? null;
      console.log(
        `${model}: ${r.comparison.refused ?? `predictor / bare (medians) ${ratio}`}; per CPU-second: ` +
          `${(j['cpu_refused'] as string | null) ?? `predictor / bare (medians) ${j['cpu_ratio_of_medians']}`}`,
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
      ...out,
      reference,
      passes,
      threads,
      spinning: spin,
      malloc,
      pairs,
      load_average_before: loadBefore,
      load_average_after: load1(),
    }),
  );
}

try {
  main();
} catch (err: unknown) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
