// Federated distillation on Fashion-MNIST (Xiao et al., arXiv:1708.07747) with the simulator of
// issue 5: 10 sites, Dirichlet(0.5) label skew (and IID), 5,000 training images held out as the
// unlabelled reference set, the official 10,000 test images. Compares non-private distillation
// with centralized training, local-only training and FedAvg of the same student MLP (accuracy,
// and upload bytes per site per round and until equal accuracy), and gives (epsilon, accuracy)
// pairs of private arms (record level, delta = 1e-5).
// Usage: npm run bench -- fmnist-federation [--quick] [--dir DIR] [--seed 1] [--threads 2]
//        [--rounds 5] (non-private Dirichlet arm: rounds of referenceSize/rounds queries with
//        FedMD digest and revisit between them; 1: one round asking every reference input)
//        [--pseudo-labels 0.9] (self-training threshold of the private students; 0: off)
//        [--plots DIR] (writes fmnist-accuracy-by-{round,bytes,epsilon}.svg there)
//        [--dp-fedavg-clip 1] [--dp-fedavg-rounds 5] (the DP-FedAvg arm beside each private
//        arm, at its epsilon; `npm run bench -- dp-fedavg` runs that arm alone; --no-dp-fedavg
//        skips it)
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import {
  lineChartSvg,
  loadSimulationData,
  runSimulation,
  type SimulationConfig,
  type SimulationData,
  type SimulationResult,
} from '@fedistill/simulate';
import {
  FMNIST_DELTA,
  fmnistBase,
  fmnistPrivate,
  fmnistPrivateArms,
  fmnistReferenceSize,
} from './lib/fmnist';
import { DP_FEDAVG_DEFAULTS, type DpFedAvgArm, runDpFedAvgArm } from './lib/dp-fedavg-arm';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
function flag(name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v)) throw new RangeError(`'--${name}' needs a number`);
  return v;
}
function text(name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v || v.startsWith('--')) throw new RangeError(`'--${name}' needs a value`);
  return v;
}
const directory = text('dir') ?? '/usr/share/datasets/fashion-mnist';
const plotDir = text('plots');
const seed = flag('seed', 1);
const threads = flag('threads', 2);
const DELTA = FMNIST_DELTA;
// Self-training threshold of the private arms' students (post-processing; 0 turns it off).
const PSEUDO_FLAG = flag('pseudo-labels', 0.9);
const PSEUDO = PSEUDO_FLAG > 0 ? PSEUDO_FLAG : undefined;
const REFERENCE = fmnistReferenceSize(quick);
const ROUNDS = flag('rounds', quick ? 3 : 5);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 50)
  throw new RangeError("'--rounds' must be in 1..50");
const FEDAVG_ROUNDS = quick ? 5 : 10;
const DP_FEDAVG_CLIP = flag('dp-fedavg-clip', DP_FEDAVG_DEFAULTS.clip);
const DP_FEDAVG_ROUNDS = flag('dp-fedavg-rounds', DP_FEDAVG_DEFAULTS.rounds);

const base: SimulationConfig = fmnistBase({ quick, directory, seed, threads });

// The non-private Dirichlet arm: ROUNDS rounds, each asking a fresh share of the reference set;
// between rounds every site's teacher digests the released targets of all inputs answered so
// far and revisits its own records (FedMD, arXiv:1910.03581; DS-FL, arXiv:2008.06180).
const multiRound: Partial<SimulationConfig> =
  ROUNDS > 1
    ? {
        rounds: ROUNDS,
        queries: { perRound: Math.floor(REFERENCE / ROUNDS), strategy: 'random' },
        revisit: { digestEpochs: 2, localEpochs: 1 },
      }
    : {};

const PRIVATE_ARMS = fmnistPrivateArms(quick);

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const accuracyOf = (r: SimulationResult): number => r.rounds.at(-1)?.metrics?.accuracy ?? NaN;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Mean over sites of the bytes each uploaded, per round. */
const bytesByRound = (r: SimulationResult): number[] => r.rounds.map((x) => mean(x.bytesPerSite));

async function nonPrivate(
  partition: SimulationConfig['partition'],
  extra: Partial<SimulationConfig>,
  withBaselines: boolean,
): Promise<SimulationResult> {
  const r = await runSimulation({
    ...base,
    ...extra,
    partition,
    baselines: withBaselines
      ? { centralized: true, localOnly: true, fedAvg: { rounds: FEDAVG_ROUNDS, localEpochs: 1 } }
      : {},
  });
  console.log(
    `${partition.kind}: non-private distillation, ${r.rounds.length} round(s) of ${r.rounds[0]?.queries} queries: accuracy by round ${r.rounds.map((x) => x.metrics?.accuracy.toFixed(4)).join(' ')}, ${Math.round(mean(bytesByRound(r)))} bytes per site per round (${elapsed()})`,
  );
  return r;
}

async function privateArm(
  z: number,
  queries: number,
): Promise<{
  epsilon: number;
  delta: number;
  accuracy: number;
  queries: number;
  noise_multiplier: number;
  techniques: unknown;
}> {
  const r = await runSimulation(fmnistPrivate(base, z, queries, PSEUDO));
  const arm = {
    epsilon: r.epsilon as number,
    delta: DELTA,
    accuracy: accuracyOf(r),
    queries,
    noise_multiplier: z,
    techniques: r.techniques,
  };
  console.log(
    `private z=${z}, ${queries} queries: epsilon ${arm.epsilon.toFixed(2)} at delta ${DELTA}, accuracy ${arm.accuracy.toFixed(4)} (${elapsed()})`,
  );
  return arm;
}

/**
 * The DP-FedAvg baseline at each private arm's epsilon (Dirichlet split) and at the first one's
 * on the IID split, under the private arms' collusion and dropout assumption.
 */
async function dpFedAvgArms(epsilons: readonly number[]): Promise<DpFedAvgArm[]> {
  const privacy = fmnistPrivate(base, 1, 1, PSEUDO).privacy;
  const iid: SimulationConfig = { ...base, partition: { kind: 'iid' } };
  const runs: Array<[SimulationConfig, number]> = [
    ...epsilons.map((e) => [base, e] as [SimulationConfig, number]),
    ...epsilons.slice(0, 1).map((e) => [iid, e] as [SimulationConfig, number]),
  ];
  const arms: DpFedAvgArm[] = [];
  const loaded = new Map<SimulationConfig, SimulationData>();
  for (const [config, targetEpsilon] of runs) {
    const data = loaded.get(config) ?? (await loadSimulationData(config));
    loaded.set(config, data);
    const arm = await runDpFedAvgArm(config, privacy, data, {
      targetEpsilon,
      delta: DELTA,
      rounds: DP_FEDAVG_ROUNDS,
      localEpochs: DP_FEDAVG_DEFAULTS.localEpochs,
      clip: DP_FEDAVG_CLIP,
      seed,
      threads,
    });
    console.log(
      `${arm.partition}: DP-FedAvg at epsilon ${arm.epsilon.toFixed(3)}, ${arm.rounds} rounds, clip ${arm.clip}: accuracy ${arm.accuracy.toFixed(4)} (${elapsed()})`,
    );
    arms.push(arm);
  }
  return arms;
}

/**
 * Upload bytes per site until each method first reaches `target` accuracy: distillation after
 * its rounds (cumulative), FedAvg after its first round at or above `target`. The ratio is null
 * when FedAvg never gets there within its rounds (then `lowerBound` holds the ratio for all of
 * its rounds, which the true ratio exceeds).
 */
function equalAccuracy(
  distillBytes: number,
  target: number,
  fedAvg: readonly number[],
  fedAvgRoundBytes: number,
): { rounds: number | null; ratio: number | null; lowerBound: number | null } {
  const reached = fedAvg.findIndex((a) => a >= target) + 1;
  if (reached > 0)
    return { rounds: reached, ratio: (reached * fedAvgRoundBytes) / distillBytes, lowerBound: null };
  return { rounds: null, ratio: null, lowerBound: (fedAvg.length * fedAvgRoundBytes) / distillBytes };
}

async function writePlots(
  dir: string,
  distill: SimulationResult,
  fedAvg: readonly number[],
  fedAvgRoundBytes: number,
  privateArms: ReadonlyArray<{ epsilon: number; accuracy: number }>,
): Promise<string[]> {
  const b = distill.baselines;
  const references = [
    { name: 'centralized', y: b.centralized!.accuracy },
    { name: 'local-only mean', y: b.localOnly!.meanAccuracy },
  ];
  const distillAcc = distill.rounds.map((r) => r.metrics?.accuracy ?? NaN);
  let cumulative = 0;
  const distillBytes = bytesByRound(distill).map((x) => (cumulative += x));
  const files: Array<[string, string]> = [
    [
      'fmnist-accuracy-by-round.svg',
      lineChartSvg({
        title: 'Fashion-MNIST, 10 sites, Dirichlet(0.5): test accuracy by round',
        xLabel: 'round',
        yLabel: 'accuracy',
        series: [
          { name: 'distillation', points: distillAcc.map((a, i) => [i + 1, a] as const) },
          { name: 'FedAvg', points: fedAvg.map((a, i) => [i + 1, a] as const) },
        ],
        references,
      }),
    ],
    [
      'fmnist-accuracy-by-bytes.svg',
      lineChartSvg({
        title: 'accuracy by cumulative upload per site (log10 bytes)',
        xLabel: 'log10(bytes uploaded per site)',
        yLabel: 'accuracy',
        series: [
          {
            name: 'distillation',
            points: distillAcc.map((a, i) => [Math.log10(distillBytes[i]!), a] as const),
          },
          {
            name: 'FedAvg',
            points: fedAvg.map((a, i) => [Math.log10((i + 1) * fedAvgRoundBytes), a] as const),
          },
        ],
        references,
      }),
    ],
    [
      'fmnist-accuracy-by-epsilon.svg',
      lineChartSvg({
        title: 'accuracy by epsilon (delta = 1e-5); DP-SGD from arXiv:2007.14191',
        xLabel: 'epsilon',
        yLabel: 'accuracy',
        series: [
          {
            name: 'fedistill (votes)',
            points: [...privateArms]
              .sort((x, y) => x.epsilon - y.epsilon)
              .map((a) => [a.epsilon, a.accuracy]),
          },
          { name: 'DP-SGD', points: [[2.7, 0.819]] },
          { name: 'DP-SGD, tempered', points: [[2.7, 0.861]] },
        ],
        references: [
          { name: 'non-private distill.', y: distillAcc.at(-1)! },
          { name: 'centralized', y: b.centralized!.accuracy },
        ],
      }),
    ],
  ];
  await mkdir(dir, { recursive: true });
  for (const [name, svg] of files) await writeFile(path.join(dir, name), svg);
  return files.map(([name]) => path.join(dir, name));
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0] as number;
  const dirichlet = await nonPrivate({ kind: 'dirichlet', alpha: 0.5 }, multiRound, true);
  const b = dirichlet.baselines;
  const fedAvg = b.fedAvg!;
  const fedAvgAcc = fedAvg.rounds.map((m) => m.accuracy);
  console.log(
    `centralized ${b.centralized!.accuracy.toFixed(4)}; local-only mean ${b.localOnly!.meanAccuracy.toFixed(4)} (best ${b.localOnly!.bestAccuracy.toFixed(4)}); FedAvg by round ${fedAvgAcc.map((a) => a.toFixed(4)).join(' ')}; ${fedAvg.bytesPerSiteRound} bytes per site per round`,
  );
  const iid = await nonPrivate({ kind: 'iid' }, {}, false);
  const privateArms = [];
  let privateTechniques: unknown = null;
  for (const arm of PRIVATE_ARMS) {
    const { techniques, ...result } = await privateArm(arm.z, arm.queries);
    privateArms.push(result);
    privateTechniques = techniques;
  }
  const dpFedAvg = args.includes('--no-dp-fedavg')
    ? null
    : await dpFedAvgArms(privateArms.map((a) => a.epsilon));
  const perRound = bytesByRound(dirichlet);
  const distillBytes = mean(perRound);
  const distillTotal = perRound.reduce((a, x) => a + x, 0);
  const distillAccuracy = accuracyOf(dirichlet);
  const firstRound = dirichlet.rounds[0]!;
  const final = equalAccuracy(distillTotal, distillAccuracy, fedAvgAcc, fedAvg.bytesPerSiteRound);
  const afterOne = equalAccuracy(
    perRound[0]!,
    firstRound.metrics!.accuracy,
    fedAvgAcc,
    fedAvg.bytesPerSiteRound,
  );
  const plots = plotDir
    ? await writePlots(plotDir, dirichlet, fedAvgAcc, fedAvg.bytesPerSiteRound, privateArms)
    : [];
  if (plots.length > 0) console.log(`plots: ${plots.join(', ')}`);
  const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;
  const cpu = process.cpuUsage();
  const result = {
    quick,
    seed,
    threads,
    sites: base.sites,
    centralized_accuracy: b.centralized!.accuracy,
    distill_accuracy: distillAccuracy,
    distill_rounds: dirichlet.rounds.length,
    distill_queries_per_round: firstRound.queries,
    distill_revisit: dirichlet.rounds.length > 1 ? multiRound.revisit : null,
    distill_accuracy_by_round: dirichlet.rounds.map((r) => r.metrics?.accuracy ?? null),
    fedavg_accuracy: fedAvgAcc.at(-1)!,
    fedavg_accuracy_by_round: fedAvgAcc,
    local_only_mean_accuracy: b.localOnly!.meanAccuracy,
    local_only_best_accuracy: b.localOnly!.bestAccuracy,
    iid_distill_accuracy: accuracyOf(iid),
    iid_distill_rounds: iid.rounds.length,
    distill_bytes_per_site_round: distillBytes,
    fedavg_bytes_per_site_round: fedAvg.bytesPerSiteRound,
    bytes_ratio_per_round: round4(fedAvg.bytesPerSiteRound / distillBytes),
    distill_bytes_per_site_total: distillTotal,
    // Equal accuracy: distillation's total upload per site against FedAvg's until FedAvg first
    // reaches the distilled student's final accuracy.
    fedavg_rounds_to_match: final.rounds,
    bytes_ratio_at_equal_accuracy: final.ratio === null ? null : round4(final.ratio),
    bytes_ratio_at_equal_accuracy_lower_bound: final.lowerBound === null ? null : round4(final.lowerBound),
    // The same after the first distillation round only (its accuracy, its bytes).
    fedavg_rounds_to_match_first_round: afterOne.rounds,
    bytes_ratio_at_equal_accuracy_first_round: afterOne.ratio === null ? null : round4(afterOne.ratio),
    private: privateArms,
    private_pseudo_label_threshold: PSEUDO ?? null,
    // DP-FedAvg (distributed discrete Gaussian through SecAgg) at each private arm's epsilon, on
    // the Dirichlet split, and on the IID split at the first one's.
    dp_fedavg: dpFedAvg,
    // Every arm runs the deployment's coordinator and nodes in one process (libs/simulate); the
    // techniques each used, as their students' model cards record them.
    techniques: {
      dirichlet: dirichlet.techniques,
      iid: iid.techniques,
      private: privateTechniques,
    },
    wall_s: (Date.now() - started) / 1000,
    // CPU time of this process (ONNX Runtime's threads included): on an idle 2-core machine the
    // wall time is about cpu_s / 2; under other load it is longer.
    cpu_s: Math.round((cpu.user + cpu.system) / 1e4) / 100,
    load_average_before: Math.round(loadBefore * 100) / 100,
    load_average_after: Math.round((loadavg()[0] as number) * 100) / 100,
  };
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
