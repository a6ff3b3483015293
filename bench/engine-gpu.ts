// The same training on GPU execution providers (webgpu, and cuda where its provider
// libraries are installed) as on CPU: samples/s and agreement with the CPU result.
// Usage: npm run bench -- engine-gpu [--steps 200] [--batch 128] [--threads 2] [--providers webgpu,cuda]
// Without a usable GPU it prints why per provider and a JSON line listing them as unavailable.
import { type ModelDefinition, ProviderUnavailableError, Trainer } from '@fedistill/engine';
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
  await check.dispose();
  const timed = await Trainer.create({ ...options, stepsPerRun: 4 });
  const epoch = Array.from({ length: steps }, (_, i) => data[i % data.length]!);
  await timed.trainSteps(epoch.slice(0, 8));
  const start = process.hrtime.bigint();
  await timed.trainSteps(epoch);
  const samplesPerS = (steps * batch) / seconds(start);
  await timed.dispose();
  return { samplesPerS, losses, params };
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
  const results: Record<string, unknown> = {};
  const unavailable: Record<string, string> = {};
  for (const provider of providers) {
    try {
      const out: Record<string, unknown> = {};
      for (const name of ['mlp', 'cnn'] as const) {
        const r = await run(models[name], provider);
        const ref = cpu[name];
        out[name] = {
          samples_per_s: Math.round(r.samplesPerS),
          speedup_vs_cpu: Math.round((r.samplesPerS / ref.samplesPerS) * 100) / 100,
          max_loss_diff: maxDiff([r.losses], [ref.losses]),
          max_param_diff: maxDiff(r.params, ref.params),
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
      providers: results,
      unavailable,
      steps,
      batch,
      check_steps: CHECK_STEPS,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
