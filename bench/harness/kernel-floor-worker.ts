// The kernel floor of one training step (bench/harness/kernel-floor.ts), measured in a fresh
// process with the engine's session settings (provider CPU, `--threads` intra-op threads, one
// inter-op thread, sequential execution, graph optimization 'all', spinning as `--spin`).
// Prints {step_ms, samples_per_s, peak_rss_kb, products, runs} as its last line; `samples_per_s` is the batch
// over the floor, the most an engine on these kernels could train here.
// Usage: node kernel-floor-worker.js --model mlp|cnn --threads T [--batch 128] [--runs 40] [--spin 0|1]
import { intFlag, stringFlag } from './flags';
import { measureFloor } from './kernel-floor';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const model = stringFlag(args, 'model', ['mlp', 'cnn']);
  const threads = intFlag(args, 'threads', 2);
  const batch = intFlag(args, 'batch', 128);
  const runs = intFlag(args, 'runs', 40);
  const spin = intFlag(args, 'spin', 0) === 1;
  const floor = await measureFloor({ model, batch, threads, runs, spin });
  console.log(
    JSON.stringify({
      model,
      batch,
      threads,
      runs,
      step_ms: Math.round(floor.step_ms * 1000) / 1000,
      samples_per_s: Math.round((batch / floor.step_ms) * 1000),
      peak_rss_kb: process.resourceUsage().maxRSS,
      products: floor.products,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
