// One side of `teacher-inference`: logits of a reference set through the engine's Predictor
// (as teachers label the reference set), or through a bare onnxruntime-node session.run on the
// same model bytes and session settings. One fresh process per sample; prints
// {samples_per_s, peak_rss_kb, ...} as its last line.
// Usage: node inference-worker.js --mode predictor|bare --model mlp|cnn --data DIR --threads T
//        [--passes 5] [--spin 0|1]
import * as ort from 'onnxruntime-node';
import { Predictor, Trainer } from '@fedistill/engine';
import { benchModel } from './bench-models';
import { readBatchFile } from './batch-file';
import { intFlag, stringFlag } from './flags';

async function inferenceModel(model: 'mlp' | 'cnn'): Promise<Uint8Array> {
  // Throughput does not depend on the weights: the seeded initial model is exported as is.
  const t = await Trainer.create({
    model: benchModel(model),
    loss: { kind: 'cross-entropy' },
    optimizer: { kind: 'sgd', lr: 0.1 },
    batchSize: 1,
    threads: 1,
  });
  const bytes = t.exportInference();
  await t.dispose();
  return bytes;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const mode = stringFlag(args, 'mode', ['predictor', 'bare']);
  const model = stringFlag(args, 'model', ['mlp', 'cnn']);
  const data = readBatchFile(stringFlag(args, 'data'));
  const threads = intFlag(args, 'threads', 2);
  const passes = intFlag(args, 'passes', 5);
  const spin = intFlag(args, 'spin', 0) === 1;
  const n = data.meta.steps * data.meta.batch;
  const shape = data.meta.inputShape;
  const bytes = await inferenceModel(model);
  let pass: () => Promise<Float32Array>;
  let close: () => Promise<void>;
  if (mode === 'predictor') {
    const p = await Predictor.create(bytes, shape, { threads, allowSpinning: spin });
    pass = () => p.logits(data.x, n);
    close = () => p.dispose();
  } else {
    const s = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } },
    });
    const [input, output] = [s.inputNames[0]!, s.outputNames[0]!];
    pass = async () =>
      (await s.run({ [input]: new ort.Tensor('float32', data.x, [n, ...shape]) }, [output]))[output]!
        .data as Float32Array;
    close = () => s.release();
  }
  await pass(); // warm-up
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let check = 0;
  for (let i = 0; i < passes; i += 1) check += (await pass())[0]!;
  const cpu = process.cpuUsage(cpu0);
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  await close();
  console.log(
    JSON.stringify({
      samples_per_s: (passes * n) / s,
      peak_rss_kb: process.resourceUsage().maxRSS,
      cpu_samples_per_s: (passes * n) / ((cpu.user + cpu.system) / 1e6),
      seconds: s,
      reference_samples: n,
      first_logit_sum: check,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
