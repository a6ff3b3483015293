// Federated distillation on Fashion-MNIST (Xiao et al., arXiv:1708.07747) with the simulator of
// issue 5: 10 sites, Dirichlet(0.5) label skew (and IID), 5,000 training images held out as the
// unlabelled reference set, the official 10,000 test images. Compares non-private distillation
// with centralized training, local-only training and FedAvg of the same student MLP, and gives
// (epsilon, accuracy) pairs of private arms (record level, delta = 1e-5).
// Usage: npm run bench -- fmnist-federation [--quick] [--dir DIR] [--seed 1] [--threads 2]
//        [--pseudo-labels 0.9] (self-training threshold of the private students; 0: off)
import { loadavg } from 'node:os';
import { runSimulation, type SimulationConfig, type SimulationResult } from '@fedistill/distill';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
function flag(name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v)) throw new RangeError(`'--${name}' needs a number`);
  return v;
}
const dirAt = args.indexOf('--dir');
const directory = dirAt >= 0 ? (args[dirAt + 1] as string) : '/usr/share/datasets/fashion-mnist';
const seed = flag('seed', 1);
const threads = flag('threads', 2);
const DELTA = 1e-5;
// Self-training threshold of the private arms' students (post-processing; 0 turns it off).
const PSEUDO_FLAG = flag('pseudo-labels', 0.9);
const PSEUDO = PSEUDO_FLAG > 0 ? PSEUDO_FLAG : undefined;

const base: SimulationConfig = {
  dataset: quick ? { name: 'fashion-mnist', directory, limit: 12_000 } : { name: 'fashion-mnist', directory },
  sites: 10,
  partition: { kind: 'dirichlet', alpha: 0.5 },
  partitionSeed: seed,
  teachers: { perSite: 1, hidden: [128], epochs: quick ? 5 : 10, batchSize: 64 },
  student: { hidden: [128], epochs: quick ? 15 : 30, batchSize: 64 },
  referenceSize: quick ? 2_000 : 5_000,
  testFraction: 0.2,
  rounds: 1,
  queries: { perRound: quick ? 2_000 : 5_000, strategy: 'random' },
  summary: 'soft-labels',
  aggregation: { kind: 'mean' },
  privacy: { kind: 'none' },
  secureAggregation: { threshold: 6, neighbours: 'all', bits: 32, toleratedDropouts: 1 },
  seed,
  threads,
};

// Private arms: 10 teachers per site (one record influences one of 100 teachers), noisy argmax of
// votes. Fewer queries at higher noise keep each answer readable: the aggregate noise per vote
// count is z·sqrt(2q) (see docs/simulator.md), against 100 votes per query.
const PRIVATE_ARMS: ReadonlyArray<{ z: number; queries: number }> = quick
  ? [{ z: 1, queries: 200 }]
  : [
      { z: 2, queries: 100 },
      { z: 1, queries: 300 },
      { z: 0.5, queries: 1_000 },
    ];

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const accuracyOf = (r: SimulationResult): number => r.rounds.at(-1)?.metrics?.accuracy ?? NaN;
const meanBytes = (r: SimulationResult): number => {
  const all = r.rounds.flatMap((x) => x.bytesPerSite);
  return all.reduce((a, b) => a + b, 0) / all.length;
};

async function nonPrivate(
  partition: SimulationConfig['partition'],
  withBaselines: boolean,
): Promise<SimulationResult> {
  const r = await runSimulation({
    ...base,
    partition,
    baselines: withBaselines
      ? { centralized: true, localOnly: true, fedAvg: { rounds: quick ? 5 : 10, localEpochs: 1 } }
      : {},
  });
  console.log(
    `${partition.kind}: non-private distillation ${accuracyOf(r).toFixed(4)}, ${Math.round(meanBytes(r))} bytes per site per round (${elapsed()})`,
  );
  return r;
}

async function privateArm(
  z: number,
  queries: number,
): Promise<{ epsilon: number; delta: number; accuracy: number }> {
  const r = await runSimulation({
    ...base,
    teachers: { ...base.teachers, perSite: 10 },
    queries: { perRound: queries, strategy: 'random' },
    summary: 'votes',
    aggregation: { kind: 'gnmax' },
    privacy: { kind: 'skellam', noiseMultiplier: z, clip: 1, delta: DELTA },
    student: { ...base.student, pseudoLabelThreshold: PSEUDO },
  });
  const arm = { epsilon: r.epsilon as number, delta: DELTA, accuracy: accuracyOf(r) };
  console.log(
    `private z=${z}, ${queries} queries: epsilon ${arm.epsilon.toFixed(2)} at delta ${DELTA}, accuracy ${arm.accuracy.toFixed(4)} (${elapsed()})`,
  );
  return arm;
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0] as number;
  const dirichlet = await nonPrivate({ kind: 'dirichlet', alpha: 0.5 }, true);
  const b = dirichlet.baselines;
  const fedAvg = b.fedAvg!;
  const distillAccuracy = accuracyOf(dirichlet);
  const roundsToMatch = fedAvg.rounds.findIndex((m) => m.accuracy >= distillAccuracy) + 1;
  console.log(
    `centralized ${b.centralized!.accuracy.toFixed(4)}; local-only mean ${b.localOnly!.meanAccuracy.toFixed(4)} (best ${b.localOnly!.bestAccuracy.toFixed(4)}); FedAvg ${fedAvg.rounds.map((m) => m.accuracy.toFixed(4)).join(' ')}; ${fedAvg.bytesPerSiteRound} bytes per site per round`,
  );
  const iid = await nonPrivate({ kind: 'iid' }, false);
  const privateArms = [];
  for (const arm of PRIVATE_ARMS) privateArms.push(await privateArm(arm.z, arm.queries));
  const distillBytes = meanBytes(dirichlet);
  const result = {
    quick,
    seed,
    threads,
    sites: base.sites,
    centralized_accuracy: b.centralized!.accuracy,
    distill_accuracy: distillAccuracy,
    fedavg_accuracy: fedAvg.rounds.at(-1)!.accuracy,
    fedavg_rounds: fedAvg.rounds.length,
    fedavg_rounds_to_distill_accuracy: roundsToMatch > 0 ? roundsToMatch : null,
    local_only_mean_accuracy: b.localOnly!.meanAccuracy,
    local_only_best_accuracy: b.localOnly!.bestAccuracy,
    iid_distill_accuracy: accuracyOf(iid),
    distill_bytes_per_site_round: distillBytes,
    fedavg_bytes_per_site_round: fedAvg.bytesPerSiteRound,
    bytes_ratio_fedavg_over_distill: fedAvg.bytesPerSiteRound / distillBytes,
    // Upload bytes per site until FedAvg first matches the distilled student (distillation: 1 round).
    fedavg_bytes_per_site_to_distill_accuracy:
      roundsToMatch > 0 ? roundsToMatch * fedAvg.bytesPerSiteRound : null,
    bytes_ratio_at_equal_accuracy:
      roundsToMatch > 0 ? (roundsToMatch * fedAvg.bytesPerSiteRound) / distillBytes : null,
    private: privateArms,
    private_pseudo_label_threshold: PSEUDO ?? null,
    wall_s: (Date.now() - started) / 1000,
    load_average_before: Math.round(loadBefore * 100) / 100,
    load_average_after: Math.round((loadavg()[0] as number) * 100) / 100,
  };
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
