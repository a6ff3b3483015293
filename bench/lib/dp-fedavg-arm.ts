// The DP-FedAvg baseline arm (distributed discrete Gaussian through secure aggregation, KLS21
// arXiv:2102.06387) on the Fashion-MNIST federation of bench/lib/fmnist.ts, at a given epsilon.
// `fmnist-federation` runs it beside each private distillation arm; `dp-fedavg` runs it alone.
import { dpFederatedAveraging, type SimulationConfig, type SimulationData } from '@fedistill/simulate';

/** Defaults chosen on the Dirichlet(0.5) split (see docs/benchmarks.md, "DP-FedAvg"). */
export const DP_FEDAVG_DEFAULTS = { rounds: 5, localEpochs: 1, clip: 1 } as const;

export interface DpFedAvgArmOptions {
  readonly targetEpsilon: number;
  readonly delta: number;
  readonly rounds: number;
  readonly localEpochs: number;
  /** L2 clip C of one site's model update. */
  readonly clip: number;
  readonly seed: number;
  readonly threads: number;
  readonly onRound?: (round: number, accuracy: number) => void;
}

/** One arm's JSON entry. */
export interface DpFedAvgArm {
  readonly partition: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly accuracy: number;
  readonly accuracy_by_round: readonly number[];
  readonly rounds: number;
  readonly local_epochs: number;
  readonly clip: number;
  readonly noise_multiplier: number;
  readonly per_site_noise_stddev: number;
  readonly ring_bits: number;
  readonly bytes_per_site_round: number;
  readonly tolerated_dropouts: number;
  readonly assumed_colluders: number | 'all';
  readonly clipped_fraction: number;
  readonly wall_s: number;
}

/**
 * Runs DP-FedAvg of the student's architecture on `data` (the split of `config`) at
 * `o.targetEpsilon`, under the same dropout tolerance and collusion assumption as the
 * simulation's private arms (`config.secureAggregation.toleratedDropouts`, and
 * `privacy.assumedColluders`, absent meaning 0 as in libs/simulate), so that the two epsilons
 * are comparable.
 */
export async function runDpFedAvgArm(
  config: SimulationConfig,
  privacy: SimulationConfig['privacy'],
  data: SimulationData,
  o: DpFedAvgArmOptions,
): Promise<DpFedAvgArm> {
  const started = Date.now();
  const assumedColluders = privacy.kind === 'none' ? 0 : (privacy.assumedColluders ?? 0);
  const toleratedDropouts = config.secureAggregation.toleratedDropouts;
  const r = await dpFederatedAveraging(data.sites, data.test, data.reference, {
    hidden: config.student.hidden,
    rounds: o.rounds,
    localEpochs: o.localEpochs,
    batchSize: config.student.batchSize,
    clip: o.clip,
    delta: o.delta,
    targetEpsilon: o.targetEpsilon,
    toleratedDropouts,
    assumedColluders,
    seed: o.seed * 7 + 3000,
    threads: o.threads,
    onRound: (round, m) => o.onRound?.(round, m.accuracy),
  });
  const accuracy = r.rounds.map((m) => m.accuracy);
  return {
    partition:
      config.partition.kind === 'dirichlet' ? `dirichlet(${config.partition.alpha})` : config.partition.kind,
    epsilon: r.epsilon,
    delta: r.delta,
    accuracy: accuracy.at(-1)!,
    accuracy_by_round: accuracy,
    rounds: o.rounds,
    local_epochs: o.localEpochs,
    clip: r.clip,
    noise_multiplier: r.noiseMultiplier,
    per_site_noise_stddev: r.perSiteNoiseStddev,
    ring_bits: r.bits,
    bytes_per_site_round: r.bytesPerSiteRound,
    tolerated_dropouts: toleratedDropouts,
    assumed_colluders: assumedColluders,
    clipped_fraction: r.clippedFraction,
    wall_s: (Date.now() - started) / 1000,
  };
}
