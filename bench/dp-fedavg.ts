// The DP-FedAvg baseline alone (bench/lib/dp-fedavg-arm.ts) on the Fashion-MNIST federation of
// `fmnist-federation` (10 sites, Dirichlet(0.5), record level, delta 1e-5, the same split and
// the private arms' dropout and collusion assumption), at each given epsilon and clip.
// Usage: npm run bench -- dp-fedavg [--epsilons 2.7,1] [--clips 1] [--rounds 5]
//        [--local-epochs 1] [--iid] (also the IID split) [--quick] [--seed 1] [--threads 2]
//        [--dir DIR]
import { loadavg } from 'node:os';
import { loadSimulationData, type SimulationConfig } from '@fedistill/simulate';
import { optionalFlag } from './harness/flags';
import { DP_FEDAVG_DEFAULTS, type DpFedAvgArm, runDpFedAvgArm } from './lib/dp-fedavg-arm';
import { FMNIST_DELTA, fmnistBase, fmnistPrivate } from './lib/fmnist';

const args = process.argv.slice(2);
const value = (name: string): string | undefined => optionalFlag(args, name);
function numbers(name: string, fallback: readonly number[]): number[] {
  const v = value(name);
  if (v === undefined) return [...fallback];
  return v.split(',').map((s) => {
    const n = Number(s);
    if (!(n > 0) || !Number.isFinite(n)) throw new RangeError(`'--${name}': '${s}' is not a number > 0`);
    return n;
  });
}
function integer(name: string, fallback: number): number {
  const [n] = numbers(name, [fallback]);
  if (!Number.isInteger(n)) throw new RangeError(`'--${name}' needs an integer >= 1`);
  return n as number;
}
const quick = args.includes('--quick');
const epsilons = numbers('epsilons', [2.7, 1]);
const clips = numbers('clips', [DP_FEDAVG_DEFAULTS.clip]);
const rounds = integer('rounds', DP_FEDAVG_DEFAULTS.rounds);
const localEpochs = integer('local-epochs', DP_FEDAVG_DEFAULTS.localEpochs);
const seed = integer('seed', 1);
const threads = integer('threads', 2);
const directory = value('dir') ?? '/usr/share/datasets/fashion-mnist';

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = loadavg()[0] as number;
  const base = fmnistBase({ quick, directory, seed, threads });
  // The private arms' privacy settings (their collusion assumption), whatever their z.
  const privacy = fmnistPrivate(base, 1, 1, undefined).privacy;
  const splits: SimulationConfig[] = [
    base,
    ...(args.includes('--iid') ? [{ ...base, partition: { kind: 'iid' } } as const] : []),
  ];
  const arms: DpFedAvgArm[] = [];
  for (const config of splits) {
    const data = await loadSimulationData(config);
    for (const targetEpsilon of epsilons) {
      for (const clip of clips) {
        const arm = await runDpFedAvgArm(config, privacy, data, {
          targetEpsilon,
          delta: FMNIST_DELTA,
          rounds,
          localEpochs,
          clip,
          seed,
          threads,
        });
        console.log(
          `${arm.partition}: DP-FedAvg epsilon ${arm.epsilon.toFixed(3)} (z ${arm.noise_multiplier.toFixed(3)}), clip ${clip}, ${rounds} rounds: accuracy by round ${arm.accuracy_by_round.map((a) => a.toFixed(4)).join(' ')}; ${arm.bytes_per_site_round} bytes per site per round (${arm.ring_bits}-bit ring); ${arm.wall_s.toFixed(0)} s, load ${loadavg()[0]!.toFixed(2)}`,
        );
        arms.push(arm);
      }
    }
  }
  console.log(
    JSON.stringify({
      quick,
      seed,
      threads,
      sites: base.sites,
      dp_fedavg: arms,
      wall_s: (Date.now() - started) / 1000,
      load_average_before: Math.round(loadBefore * 100) / 100,
      load_average_after: Math.round((loadavg()[0] as number) * 100) / 100,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
