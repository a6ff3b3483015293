// Over 350 lines on purpose: one benchmark whose arms (private by epsilon, IID, DP-FedAvg beside each,
// non-private, baselines) share one loaded and extracted split and one JSON line; the shared arm
// definitions are in bench/lib/.
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
//        [--features scattering+pca:200|scattering|pca:K|none] [--no-whiten] [--no-standardize]
//        (default scattering+pca:200, standardized and whitened: every arm runs on the
//        federation's features, extracted once
//        per run (PCA fitted on the public reference set only; bench/lib/fmnist-features.ts);
//        none: raw pixels and the private arms by noise multiplier recorded before issue 13)
//        [--private class-sums|votes] (with features: what the private arms release; default
//        class-sums, privacy.summary 'class-sums': per class, the sum of each site's records'
//        unit-norm features, one release per round; votes: --teachers linear teachers per site
//        answering --queries noisy-argmax queries)
//        [--epsilons 1,2,2.7] [--queries 500] [--teachers 100] (with features: the private arms,
//        on the Dirichlet split at each epsilon (planned, bench/lib/fmnist.ts atEpsilon) and on
//        the IID split at the largest; queries asked, teachers per site; the private arms run
//        first, then DP-FedAvg, then the non-private arms and baselines)
//        [--colluders all|N] (the private and DP-FedAvg arms' privacy.assumedColluders; default
//        all, the federation definition's default, under which a site with node.yaml's default
//        trust (paranoid) records each arm's epsilon in its ledger)
//        [--student-hidden 128] (with features: the student's hidden widths, comma-separated)
//        [--dp-fedavg-hidden none] (with features: DP-FedAvg's model, a linear head by default)
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
  atEpsilon,
  FMNIST_DELTA,
  fmnistBase,
  fmnistPrivate,
  fmnistPrivateArms,
  fmnistReferenceSize,
} from './lib/fmnist';
import { DP_FEDAVG_DEFAULTS, type DpFedAvgArm, runDpFedAvgArm } from './lib/dp-fedavg-arm';
import { extractFmnistFeatures, type FeatureSplits, parseFeatures } from './lib/fmnist-features';

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
// Default: the scattering's 3,969 values per image, standardized, projected on 200 whitened
// principal components fitted on the public reference set: the arms' files and heads are 20 times smaller,
// which is what fits every arm in one run (docs/benchmarks.md); `--features scattering` keeps all 3,969.
const FEATURES_FLAG = text('features') ?? 'scattering+pca:200';
const FEATURE_SPEC = parseFeatures(
  FEATURES_FLAG,
  !args.includes('--no-whiten'),
  !args.includes('--no-standardize'),
);
const PRIVATE_KIND = text('private') ?? 'class-sums';
if (PRIVATE_KIND !== 'class-sums' && PRIVATE_KIND !== 'votes')
  throw new RangeError(`'--private' must be class-sums or votes, not '${PRIVATE_KIND}'`);
const FEATURES = FEATURE_SPEC !== undefined;
const EPSILONS = (text('epsilons') ?? '1,2,2.7').split(',').map((e) => {
  const v = Number(e);
  if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`'--epsilons': '${e}' is not an epsilon > 0`);
  return v;
});
const PRIVATE_QUERIES = flag('queries', quick ? 200 : 500);
const TEACHERS = flag('teachers', quick ? 50 : 100);
const COLLUDERS_FLAG = text('colluders') ?? 'all';
if (COLLUDERS_FLAG !== 'all' && !/^[0-9]+$/.test(COLLUDERS_FLAG))
  throw new RangeError(`'--colluders' must be all or a count (0, 1, ...), not '${COLLUDERS_FLAG}'`);
const COLLUDERS: number | 'all' = COLLUDERS_FLAG === 'all' ? 'all' : Number(COLLUDERS_FLAG);
const widthsFlag = (name: string, fallback: string): number[] => {
  const v = text(name) ?? fallback;
  if (v === 'none') return [];
  return v.split(',').map((w) => {
    if (!/^[1-9][0-9]*$/.test(w)) throw new RangeError(`'--${name}': '${w}' is not a width (or none)`);
    return Number(w);
  });
};
const STUDENT_HIDDEN = widthsFlag('student-hidden', '128');
const DP_FEDAVG_HIDDEN = widthsFlag('dp-fedavg-hidden', 'none');

const rawBase: SimulationConfig = fmnistBase({ quick, directory, seed, threads });
// With features, every teacher is a linear head on them (cheap in stacked graphs) and the
// student is an MLP head; the data the arms run on is the extracted split (featureData).
const base: SimulationConfig = FEATURES
  ? {
      ...rawBase,
      teachers: { ...rawBase.teachers, hidden: [] },
      student: { ...rawBase.student, hidden: STUDENT_HIDDEN },
    }
  : rawBase;
let featureData: FeatureSplits | null = null;
/** The split `c` runs on: extracted features, or undefined (the simulator loads raw pixels). */
const dataOf = (c: SimulationConfig): SimulationData | undefined => featureData?.split(c);

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
  const c: SimulationConfig = {
    ...base,
    ...extra,
    partition,
    baselines: withBaselines
      ? { centralized: true, localOnly: true, fedAvg: { rounds: FEDAVG_ROUNDS, localEpochs: 1 } }
      : {},
  };
  const r = await runSimulation(c, { data: dataOf(c) });
  console.log(
    `${partition.kind}: non-private distillation, ${r.rounds.length} round(s) of ${r.rounds[0]?.queries} queries: accuracy by round ${r.rounds.map((x) => x.metrics?.accuracy.toFixed(4)).join(' ')}, ${Math.round(mean(bytesByRound(r)))} bytes per site per round (${elapsed()})`,
  );
  return r;
}

/** One private arm's JSON entry. */
interface PrivateArm {
  readonly partition: string;
  /** What each round released: 'class-sums' or 'votes'. */
  readonly summary: string;
  /** ε under the federation plan's collusion assumption (the coordinator's accountant). */
  readonly epsilon: number;
  /** ε the ledger of a site with node.yaml's default trust (paranoid) records for the same rounds. */
  readonly epsilon_paranoid_site: number;
  readonly assumed_colluders: number | 'all';
  /** The planned ε the noise was chosen for; null for the arms set by noise multiplier. */
  readonly target_epsilon: number | null;
  readonly delta: number;
  readonly accuracy: number;
  readonly queries: number;
  readonly teachers_per_site: number;
  readonly noise_multiplier: number;
  readonly techniques: unknown;
}

const partitionName = (c: SimulationConfig): string =>
  c.partition.kind === 'dirichlet' ? `dirichlet(${c.partition.alpha})` : c.partition.kind;

async function privateArm(arm: SimulationConfig, targetEpsilon: number | null): Promise<PrivateArm> {
  const r = await runSimulation(arm, { data: dataOf(arm) });
  const p = arm.privacy;
  if (p.kind === 'none') throw new Error('a private arm without privacy');
  const result: PrivateArm = {
    partition: partitionName(arm),
    summary: arm.summary,
    epsilon: r.epsilon as number,
    epsilon_paranoid_site: r.paranoidEpsilon as number,
    assumed_colluders: p.assumedColluders ?? 0,
    target_epsilon: targetEpsilon,
    delta: DELTA,
    accuracy: accuracyOf(r),
    // A class-sum round asks no queries and counts records, not teachers' answers.
    queries: arm.summary === 'class-sums' ? 0 : arm.queries.perRound,
    teachers_per_site: arm.summary === 'class-sums' ? 0 : arm.teachers.perSite,
    noise_multiplier: p.noiseMultiplier,
    techniques: r.techniques,
  };
  console.log(
    `private ${result.summary} ${result.partition}, z=${p.noiseMultiplier.toFixed(4)}, ${result.queries} queries, ${result.teachers_per_site} teachers per site, ${result.assumed_colluders} colluders assumed: epsilon ${result.epsilon.toFixed(3)} (a paranoid site's ledger: ${result.epsilon_paranoid_site.toFixed(3)}) at delta ${DELTA}, accuracy ${result.accuracy.toFixed(4)} (${elapsed()})`,
  );
  return result;
}

/**
 * The private arms: on raw pixels, the arms by noise multiplier recorded before issue 13; with
 * features, `TEACHERS` linear teachers per site and `PRIVATE_QUERIES` queries at the noise the
 * planner gives for each of EPSILONS (Dirichlet split), and for the last one on the IID split.
 */
function privateConfigs(): Array<{ config: SimulationConfig; target: number | null }> {
  if (!featureData)
    return PRIVATE_ARMS.map((a) => ({ config: fmnistPrivate(base, a.z, a.queries, PSEUDO), target: null }));
  const shape = [featureData.outputSize];
  const arm = (partition: SimulationConfig['partition'], target: number, colluders = COLLUDERS) => {
    if (PRIVATE_KIND === 'class-sums') {
      // One class-sum round (a 32-bit ring: each entry sums up to every record of a class); the
      // sites' one teacher each is trained and never asked.
      const config: SimulationConfig = {
        ...base,
        partition,
        teachers: { ...base.teachers, perSite: 1, hidden: [], epochs: 1 },
        queries: { perRound: 1, strategy: 'random' },
        summary: 'class-sums',
        aggregation: { kind: 'mean' },
        privacy: { kind: 'skellam', noiseMultiplier: 1, clip: 1, delta: DELTA, assumedColluders: colluders },
        secureAggregation: { ...base.secureAggregation, bits: 32 },
        student: { ...base.student, pseudoLabelThreshold: undefined },
      };
      return { config: atEpsilon(config, target, shape, 10), target };
    }
    const c = fmnistPrivate({ ...base, partition }, 1, PRIVATE_QUERIES, PSEUDO);
    if (c.privacy.kind === 'none') throw new Error('fmnistPrivate gave no privacy');
    const config: SimulationConfig = {
      ...c,
      teachers: { ...c.teachers, perSite: TEACHERS },
      privacy: { ...c.privacy, assumedColluders: colluders },
    };
    return { config: atEpsilon(config, target, shape, 10), target };
  };
  return [
    ...EPSILONS.map((e) => arm(base.partition, e)),
    arm({ kind: 'iid' }, Math.max(...EPSILONS)),
    // Under 'all' colluders: the same Dirichlet arm at the largest epsilon with the simulator's
    // earlier assumption (0 colluders, all sites honest), to show what the default costs.
    ...(COLLUDERS === 0 ? [] : [arm(base.partition, Math.max(...EPSILONS), 0)]),
  ];
}

/**
 * The DP-FedAvg baseline beside each private arm: on its split, at its epsilon, under its
 * collusion and dropout assumption (on raw pixels, whose private arms are all Dirichlet, also on
 * the IID split at the first one's). With features DP-FedAvg trains DP_FEDAVG_HIDDEN (a linear
 * head by default) on the same features.
 */
async function dpFedAvgArms(
  arms: ReadonlyArray<{ config: SimulationConfig; epsilon: number }>,
): Promise<DpFedAvgArm[]> {
  const withIid = arms.some((a) => a.config.partition.kind === 'iid')
    ? arms
    : [
        ...arms,
        { config: { ...arms[0]!.config, partition: { kind: 'iid' as const } }, epsilon: arms[0]!.epsilon },
      ];
  const out: DpFedAvgArm[] = [];
  const loaded = new Map<string, SimulationData>();
  for (const { config: arm, epsilon } of withIid) {
    const config: SimulationConfig = featureData
      ? { ...arm, student: { ...arm.student, hidden: DP_FEDAVG_HIDDEN } }
      : arm;
    const key = partitionName(config);
    const data = loaded.get(key) ?? dataOf(config) ?? (await loadSimulationData(config));
    loaded.set(key, data);
    const result = await runDpFedAvgArm(config, arm.privacy, data, {
      targetEpsilon: epsilon,
      delta: DELTA,
      rounds: DP_FEDAVG_ROUNDS,
      localEpochs: DP_FEDAVG_DEFAULTS.localEpochs,
      clip: DP_FEDAVG_CLIP,
      seed,
      threads,
    });
    console.log(
      `${result.partition}: DP-FedAvg at epsilon ${result.epsilon.toFixed(3)}, ${result.rounds} rounds, clip ${result.clip}, ${result.assumed_colluders} colluders assumed: accuracy ${result.accuracy.toFixed(4)} (${elapsed()})`,
    );
    out.push(result);
  }
  return out;
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
  dpFedAvg: ReadonlyArray<{ partition: string; epsilon: number; accuracy: number }> | null,
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
        title: 'accuracy by epsilon (delta = 1e-5); DP-SGD: arXiv:2007.14191, 2011.11660',
        xLabel: 'epsilon',
        yLabel: 'accuracy',
        series: [
          {
            name: `fedistill (${PRIVATE_KIND})`,
            points: [...privateArms]
              .sort((x, y) => x.epsilon - y.epsilon)
              .map((a) => [a.epsilon, a.accuracy]),
          },
          ...(dpFedAvg
            ? [
                {
                  name: 'DP-FedAvg',
                  points: dpFedAvg
                    .filter((a) => a.partition !== 'iid')
                    .sort((x, y) => x.epsilon - y.epsilon)
                    .map((a) => [a.epsilon, a.accuracy] as const),
                },
              ]
            : []),
          { name: 'DP-SGD', points: [[2.7, 0.819]] },
          { name: 'DP-SGD, tempered', points: [[2.7, 0.861]] },
          { name: 'DP-SGD, ScatterNet', points: [[2.6, 0.897]] },
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
  if (FEATURES) {
    featureData = await extractFmnistFeatures(rawBase, FEATURE_SPEC!, threads);
    console.log(
      `${FEATURES_FLAG} features (${featureData.outputSize} per image, extractor ${featureData.sha256.slice(0, 12)}...) of ${featureData.images} images in ${featureData.seconds.toFixed(1)} s (${elapsed()})`,
    );
  }
  const privateRuns: Array<{
    config: SimulationConfig;
    epsilon: number;
    arm: Omit<PrivateArm, 'techniques'>;
  }> = [];
  let privateTechniques: unknown = null;
  for (const { config, target } of privateConfigs()) {
    const { techniques, ...arm } = await privateArm(config, target);
    privateRuns.push({ config, epsilon: arm.epsilon, arm });
    privateTechniques = techniques;
  }
  const planned = privateRuns.filter((r) => r.arm.assumed_colluders === (featureData ? COLLUDERS : 0));
  const privateArms = planned.filter((r) => r.config.partition.kind !== 'iid').map((r) => r.arm);
  const privateIid = planned.filter((r) => r.config.partition.kind === 'iid').map((r) => r.arm);
  const privateComparison = privateRuns.filter((r) => !planned.includes(r)).map((r) => r.arm);
  // DP-FedAvg beside each private arm of the plan's assumption (not beside the comparison arm).
  const dpFedAvg = args.includes('--no-dp-fedavg') ? null : await dpFedAvgArms(planned);
  // The non-private arms and baselines last: the private arms are the figures a short run needs.
  const dirichlet = await nonPrivate({ kind: 'dirichlet', alpha: 0.5 }, multiRound, true);
  const b = dirichlet.baselines;
  const fedAvg = b.fedAvg!;
  const fedAvgAcc = fedAvg.rounds.map((m) => m.accuracy);
  console.log(
    `centralized ${b.centralized!.accuracy.toFixed(4)}; local-only mean ${b.localOnly!.meanAccuracy.toFixed(4)} (best ${b.localOnly!.bestAccuracy.toFixed(4)}); FedAvg by round ${fedAvgAcc.map((a) => a.toFixed(4)).join(' ')}; ${fedAvg.bytesPerSiteRound} bytes per site per round`,
  );
  const iid = await nonPrivate({ kind: 'iid' }, {}, false);
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
    ? await writePlots(plotDir, dirichlet, fedAvgAcc, fedAvg.bytesPerSiteRound, privateArms, dpFedAvg)
    : [];
  if (plots.length > 0) console.log(`plots: ${plots.join(', ')}`);
  const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;
  const cpu = process.cpuUsage();
  const result = {
    quick,
    seed,
    threads,
    sites: base.sites,
    // The federation's feature extractor every arm ran on (null: raw pixels), extracted once.
    features: featureData
      ? {
          spec: FEATURE_SPEC,
          sha256: featureData.sha256,
          output_size: featureData.outputSize,
          images: featureData.images,
          extraction_s: featureData.seconds,
        }
      : null,
    teachers_hidden: base.teachers.hidden,
    student_hidden: base.student.hidden,
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
    // Private arms on the Dirichlet split: `epsilon` under the plan's collusion assumption
    // (`assumed_colluders`), `epsilon_paranoid_site` what a site with node.yaml's default trust
    // (paranoid) records in its ledger for the same rounds (equal with 'all' colluders).
    private: privateArms,
    // The same on the IID split (with features only).
    private_iid: privateIid,
    // With features and --colluders other than 0: the Dirichlet arm at the largest epsilon
    // planned for 0 colluders (all sites honest), the assumption of the runs before issue 13.
    private_zero_colluders: privateComparison,
    private_pseudo_label_threshold: PSEUDO ?? null,
    // DP-FedAvg (distributed discrete Gaussian through SecAgg) beside each private arm: its
    // split, its epsilon, its collusion assumption (raw pixels: IID at the first one's too).
    dp_fedavg: dpFedAvg,
    dp_fedavg_hidden: featureData ? DP_FEDAVG_HIDDEN : base.student.hidden,
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
