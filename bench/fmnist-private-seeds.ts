// One private arm of `fmnist-federation` (the same federation: bench/lib/fmnist.ts) over several
// seeds, so that a difference between two runs of the arm can be told from seed noise. The seed
// drives the teachers' and the student's initialization and shuffling, the sites' noise and the
// query draw; the data split stays fixed (`--partition-seed`, default 1, as in fmnist-federation).
// Usage: npm run bench -- fmnist-private-seeds [--z 1] [--queries 300] [--seeds 1,2,3,4,5]
//        [--partition-seed 1] [--pseudo-labels 0.9] [--threads 2] [--quick] [--dir DIR]
//        [--reference 0.6625] (a recorded single-seed figure to place within the spread)
//        [--teachers 10] (per site) [--features scattering|pca:K|scattering+pca:K] [--whiten]
//        (the federation's feature extractor, issue 13: teachers and student are heads on it)
import { loadavg } from 'node:os';
import { runSimulation } from '@fedistill/simulate';
import { numberFlag, optionalFlag } from './harness/flags';
import { fmnistBase, fmnistPrivate, withFeatures } from './lib/fmnist';
import { parseFeatures } from './lib/fmnist-features';

const args = process.argv.slice(2);
const value = (name: string): string | undefined => optionalFlag(args, name);
const number = (name: string, fallback: number): number => numberFlag(args, name, fallback);
const seeds = (value('seeds') ?? '1,2,3,4,5').split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`'--seeds': '${s}' is not a seed (0, 1, 2, ...)`);
  return n;
});
const z = number('z', 1);
const queries = number('queries', 300);
const pseudo = number('pseudo-labels', 0.9);
const reference = value('reference') === undefined ? null : number('reference', NaN);
const quick = args.includes('--quick');
const partitionSeed = number('partition-seed', 1);
const threads = number('threads', 2);
const directory = value('dir') ?? '/usr/share/datasets/fashion-mnist';
const teachers = number('teachers', 10);
const features = parseFeatures(value('features'), args.includes('--whiten'));

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: readonly number[]): number =>
  xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = loadavg()[0] as number;
  const runs: Array<{
    seed: number;
    accuracy: number;
    epsilon: number;
    rows_pseudo_labelled: number | null;
  }> = [];
  for (const seed of seeds) {
    const base = fmnistBase({ quick, directory, seed, partitionSeed, threads });
    const arm = fmnistPrivate(base, z, queries, pseudo > 0 ? pseudo : undefined);
    const r = await runSimulation(
      withFeatures({ ...arm, teachers: { ...arm.teachers, perSite: teachers } }, features),
    );
    const accuracy = r.rounds.at(-1)?.metrics?.accuracy ?? NaN;
    const selfTraining = (r.techniques as { selfTraining?: { rowsPseudoLabelled?: number } | null })
      .selfTraining;
    runs.push({
      seed,
      accuracy,
      epsilon: r.epsilon as number,
      rows_pseudo_labelled: selfTraining?.rowsPseudoLabelled ?? null,
    });
    console.log(
      `seed ${seed}: accuracy ${accuracy.toFixed(4)}, epsilon ${(r.epsilon as number).toFixed(3)} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
  const accuracies = runs.map((r) => r.accuracy);
  const m = mean(accuracies);
  const s = sd(accuracies);
  console.log(
    `z=${z}, ${queries} queries: mean ${m.toFixed(4)}, sd ${s.toFixed(4)}, range ${Math.min(...accuracies).toFixed(4)}–${Math.max(...accuracies).toFixed(4)} over ${runs.length} seeds`,
  );
  const cpu = process.cpuUsage();
  console.log(
    JSON.stringify({
      quick,
      z,
      queries,
      teachers_per_site: teachers,
      features: features ?? null,
      partition_seed: partitionSeed,
      pseudo_label_threshold: pseudo > 0 ? pseudo : null,
      threads,
      runs,
      accuracy_mean: round4(m),
      accuracy_sd: round4(s),
      accuracy_min: Math.min(...accuracies),
      accuracy_max: Math.max(...accuracies),
      reference,
      // How far a recorded single-seed figure is from this mean, in standard deviations.
      reference_z_score: reference === null || s === 0 ? null : round4((reference - m) / s),
      wall_s: (Date.now() - started) / 1000,
      cpu_s: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      load_average_before: Math.round(loadBefore * 100) / 100,
      load_average_after: Math.round((loadavg()[0] as number) * 100) / 100,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
