// The same training and inference on GPU execution providers (webgpu, and cuda where its provider
// libraries are installed) as on CPU: samples/s and agreement with the CPU result, and what
// executionProvider `auto` picks here and why it refused the others.
// Usage: npm run bench -- engine-gpu [--steps 200] [--batch 128] [--threads 2] [--providers webgpu,cuda]
// Without a usable GPU it prints why per provider and a JSON line listing them as unavailable.
// bench/gpu-check.sh runs it on a lent GPU machine (docs/gpu.md).
import {
  type ModelDefinition,
  Predictor,
  ProviderUnavailableError,
  selectProvider,
  Trainer,
} from '@fedistill/engine';
import { benchCnn, benchMlp, flag, seconds, randomBatches } from './engine-throughput';

const args = process.argv.slice(2);
const steps = flag(args, 'steps', 200);
const batch = flag(args, 'batch', 128);
const threads = flag(args, 'threads', 2);
const CHECK_STEPS = 20;
// `--providers webgpu,cuda` (default) picks the providers to compare with CPU; `cpu` is allowed
// so the comparison path itself can be exercised on a machine without a GPU.
const providersArg = args.indexOf('--providers');
const providers = (providersArg >= 0 ? args[providersArg + 1]! : 'webgpu,cuda').split(',').map((p) => {
  if (p !== 'webgpu' && p !== 'cuda' && p !== 'cpu')
    throw new RangeError(`'--providers' has unknown provider '${p}'`);
  return p;
});

interface Run {
  samplesPerS: number;
  /** Loss of each of the first CHECK_STEPS steps and all parameters after them. */
  losses: number[];
  params: Float32Array[];
  /** The model after the CHECK_STEPS steps, as an inference model. */
  inference: Uint8Array;
}

/** Samples in one inference call, and timed calls. */
const INFER_ROWS = 1024;
const INFER_CALLS = Math.max(5, Math.round(steps / 20));

/** Inference throughput of `model` on `provider`, and its logits for the first call (to compare with cpu). */
async function infer(model: Uint8Array, inputShape: readonly number[], provider: 'cpu' | 'webgpu' | 'cuda') {
  const per = inputShape.reduce((a, b) => a * b, 1);
  const x = randomBatches(1, INFER_ROWS, 5)[0]!.x.subarray(0, INFER_ROWS * per);
  const predictor = await Predictor.create(model, inputShape, { provider, threads });
  try {
    const logits = await predictor.logits(x, INFER_ROWS);
    const start = process.hrtime.bigint();
    for (let i = 0; i < INFER_CALLS; i += 1) await predictor.logits(x, INFER_ROWS);
    return { samplesPerS: (INFER_CALLS * INFER_ROWS) / seconds(start), logits };
  } finally {
    await predictor.dispose();
  }
}

async function run(model: ModelDefinition, provider: 'cpu' | 'webgpu' | 'cuda'): Promise<Run> {
  const data = randomBatches(32, batch, 2);
  const options = {
    model,
    loss: { kind: 'cross-entropy' },
    optimizer: { kind: 'sgd', lr: 0.01, momentum: 0.9 },
    batchSize: batch,
    threads,
    seed: 3,
    provider,
  } as const;
  // Agreement: CHECK_STEPS single steps from the same seed and data as the CPU run.
  const check = await Trainer.create(options);
  const losses = await check.trainSteps(data.slice(0, CHECK_STEPS));
  const params = [...check.snapshot().params.values()];
  const inference = check.exportInference();
  await check.dispose();
  const timed = await Trainer.create({ ...options, stepsPerRun: 4 });
  const epoch = Array.from({ length: steps }, (_, i) => data[i % data.length]!);
  await timed.trainSteps(epoch.slice(0, 8));
  const start = process.hrtime.bigint();
  await timed.trainSteps(epoch);
  const samplesPerS = (steps * batch) / seconds(start);
  await timed.dispose();
  return { samplesPerS, losses, params, inference };
}

function maxDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let m = 0;
  a.forEach((x, i) => {
    for (let j = 0; j < x.length; j += 1) m = Math.max(m, Math.abs(x[j]! - b[i]![j]!));
  });
  return m;
}

async function main(): Promise<void> {
  const models = { mlp: benchMlp(), cnn: benchCnn() };
  const cpu = { mlp: await run(models.mlp, 'cpu'), cnn: await run(models.cnn, 'cpu') };
  console.log(`cpu: MLP ${cpu.mlp.samplesPerS.toFixed(0)}, CNN ${cpu.cnn.samplesPerS.toFixed(0)} samples/s`);
  // Inference compares every provider on the cpu-trained model, so the logits must agree.
  const cpuInfer = {
    mlp: await infer(cpu.mlp.inference, models.mlp.inputShape, 'cpu'),
    cnn: await infer(cpu.cnn.inference, models.cnn.inputShape, 'cpu'),
  };
  console.log(
    `cpu inference: MLP ${cpuInfer.mlp.samplesPerS.toFixed(0)}, CNN ${cpuInfer.cnn.samplesPerS.toFixed(0)} samples/s`,
  );
  const auto = await selectProvider({ provider: 'auto', threads });
  console.log(
    `auto: ${auto.provider}${auto.refused.map((r) => `; ${r.provider} refused: ${r.reason}`).join('')}`,
  );
  const results: Record<string, unknown> = {};
  const unavailable: Record<string, string> = {};
  for (const provider of providers) {
    try {
      const out: Record<string, unknown> = {};
      for (const name of ['mlp', 'cnn'] as const) {
        const r = await run(models[name], provider);
        const ref = cpu[name];
        const inf = await infer(ref.inference, models[name].inputShape, provider);
        out[name] = {
          samples_per_s: Math.round(r.samplesPerS),
          speedup_vs_cpu: Math.round((r.samplesPerS / ref.samplesPerS) * 100) / 100,
          max_loss_diff: maxDiff([r.losses], [ref.losses]),
          max_param_diff: maxDiff(r.params, ref.params),
          infer_samples_per_s: Math.round(inf.samplesPerS),
          infer_speedup_vs_cpu: Math.round((inf.samplesPerS / cpuInfer[name].samplesPerS) * 100) / 100,
          infer_max_logit_diff: maxDiff([inf.logits], [cpuInfer[name].logits]),
        };
        console.log(`${provider} ${name}: ${JSON.stringify(out[name])}`);
      }
      results[provider] = out;
    } catch (err) {
      // A provider that opens but fails while training is reported the same way, with the error.
      const reason =
        err instanceof ProviderUnavailableError ? err.reason : `failed while training: ${String(err)}`;
      unavailable[provider] = reason;
      console.log(`${provider}: unavailable: ${reason}`);
    }
  }
  if (Object.keys(results).length === 0)
    console.log('no GPU execution provider could be used on this machine');
  console.log(
    JSON.stringify({
      cpu_mlp_samples_per_s: Math.round(cpu.mlp.samplesPerS),
      cpu_cnn_samples_per_s: Math.round(cpu.cnn.samplesPerS),
      cpu_mlp_infer_samples_per_s: Math.round(cpuInfer.mlp.samplesPerS),
      cpu_cnn_infer_samples_per_s: Math.round(cpuInfer.cnn.samplesPerS),
      auto: {
        provider: auto.provider,
        refused: Object.fromEntries(auto.refused.map((r) => [r.provider, r.reason])),
      },
      providers: results,
      unavailable,
      steps,
      batch,
      check_steps: CHECK_STEPS,
      infer_rows: INFER_ROWS,
      infer_calls: INFER_CALLS,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
