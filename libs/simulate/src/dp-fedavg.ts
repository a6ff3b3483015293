import { type Dataset, miniBatches, Standardizer } from '@fedistill/data';
import { type ClassificationMetrics } from '@fedistill/distill';
import { seededRandom } from '@fedistill/dp';
import { mlp, Trainer } from '@fedistill/engine';
import { packedBytes } from '@fedistill/secagg';
import {
  dpFedAvgEpsilon,
  dpFedAvgNoiseFor,
  type DpFedAvgNoiseSetup,
  dpFedAvgRelease,
  dpFedAvgRingBits,
} from './dp-fedavg-privacy';
import { secureNoisySum } from './dp-fedavg-round';
import { evaluate as evaluateModel } from './fedavg';

/** Settings of the DP-FedAvg baseline. */
export interface DpFedAvgOptions {
  /** Hidden widths of the shared MLP (the student's architecture). */
  readonly hidden: readonly number[];
  /** Communication rounds >= 1; each one is a release the accountant charges. */
  readonly rounds: number;
  /** Local epochs per site per round >= 1. */
  readonly localEpochs: number;
  readonly batchSize: number;
  /** Adam learning rate of local training; default 1e-2 (state reset every local run). */
  readonly learningRate?: number;
  /** Server learning rate η: global += η · (noisy sum / n); default 1. */
  readonly serverLearningRate?: number;
  /** L2 clip C of one site's update (parameter units), > 0. */
  readonly clip: number;
  /** Granularity γ of randomized rounding, > 0; default clip / 1000 (rounding adds ~d·γ²/4 to the norm²). */
  readonly granularity?: number;
  /** δ of the reported (ε, δ), in (0, 1). */
  readonly delta: number;
  /** Target ε of the whole run (dpFedAvgNoiseFor chooses z); give this or noiseMultiplier. */
  readonly targetEpsilon?: number;
  /** Noise multiplier z (aggregate noise stddev / Δ2); give this or targetEpsilon. */
  readonly noiseMultiplier?: number;
  /** Dropouts T the noise survives (default 0) and colluders C it assumes (default 'all'). */
  readonly toleratedDropouts?: number;
  readonly assumedColluders?: number | 'all';
  /** Ring bits of secure aggregation; default the smallest that holds the noisy sum. */
  readonly bits?: number;
  readonly seed: number;
  readonly threads?: number;
  readonly onRound?: (round: number, metrics: ClassificationMetrics) => void;
}

/** What DP-FedAvg reached, what it cost in privacy, and what it cost each site. */
export interface DpFedAvgResult {
  /** Test metrics of the global model after each round. */
  readonly rounds: readonly ClassificationMetrics[];
  readonly parameterCount: number;
  /** (ε, δ) of all rounds, record level, replace-one, under the stated collusion assumption. */
  readonly epsilon: number;
  readonly delta: number;
  readonly noiseMultiplier: number;
  /** Per-site noise standard deviation, in parameter units (γ·sqrt(V/(n - T - C))). */
  readonly perSiteNoiseStddev: number;
  readonly clip: number;
  readonly granularity: number;
  readonly bits: number;
  /**
   * Bytes of the masked update a site uploads per round (d entries packed at the ring's width),
   * without SecAgg's key, share and signature messages (a few kB for 10 sites).
   */
  readonly bytesPerSiteRound: number;
  /**
   * Simulation diagnostic, never released by the mechanism: the fraction of site updates whose
   * norm exceeded the clip, over all rounds.
   */
  readonly clippedFraction: number;
}

/**
 * DP-FedAvg with the distributed discrete Gaussian through secure aggregation (Kairouz, Liu,
 * Steinke 2021, arXiv:2102.06387): every site trains the global model locally (as fedavg.ts),
 * sends its clipped, randomly rounded update plus a discrete Gaussian noise share into SecAgg,
 * and the server applies γ·sum / n (a uniform average: weighting by record counts would release
 * the counts). Inputs are standardized with the public reference set's statistics. The privacy
 * arithmetic is in dp-fedavg-privacy.ts. Throws RangeError naming a bad option before training.
 */
export async function dpFederatedAveraging(
  sites: readonly Dataset[],
  test: Dataset,
  publicInputs: Dataset,
  o: DpFedAvgOptions,
): Promise<DpFedAvgResult> {
  const model = mlp({ inputShape: test.featureShape, hidden: o.hidden, outputs: test.numClasses });
  const dimension = model.parameters.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  const plan = planRun(sites.length, dimension, o);
  const standardizer = Standardizer.fit(publicInputs);
  const scaled = sites.map((s) => standardizer.apply(s));
  const scaledTest = standardizer.apply(test);
  const batchSize = Math.max(1, Math.min(o.batchSize, ...scaled.map((s) => s.count)));
  const trainer = await Trainer.create({
    model,
    loss: { kind: 'cross-entropy' },
    optimizer: { kind: 'adam', lr: o.learningRate ?? 1e-2 },
    batchSize,
    seed: o.seed,
    threads: o.threads,
  });
  try {
    const fresh = trainer.snapshot();
    const global = flatten(fresh.params);
    const random = seededRandom(o.seed, 'dp-fedavg');
    const rounds: ClassificationMetrics[] = [];
    let clipped = 0;
    for (let r = 0; r < o.rounds; r += 1) {
      const updates: Float64Array[] = [];
      for (const [i, site] of scaled.entries()) {
        trainer.restore({ ...fresh, params: unflatten(global, fresh.params) });
        updates.push(await localUpdate(trainer, global, site, batchSize, o, r * 1009 + i * 31));
      }
      clipped += updates.filter((u) => norm(u) > plan.clip).length;
      const noisy = secureNoisySum(updates, plan.release, {
        roundId: `dp-fedavg-${o.seed}-${r + 1}`,
        bits: plan.bits,
        random,
        secaggSeed: (o.seed * 7919 + r) >>> 0,
      });
      const step = ((o.serverLearningRate ?? 1) * plan.granularity) / noisy.survivors;
      for (let j = 0; j < dimension; j += 1)
        global[j] = (global[j] as number) + step * (noisy.sum[j] as number);
      trainer.restore({ ...fresh, params: unflatten(global, fresh.params) });
      rounds.push(await evaluateModel(trainer.exportInference(), scaledTest, o.threads));
      o.onRound?.(r + 1, rounds[r] as ClassificationMetrics);
    }
    return {
      rounds,
      parameterCount: dimension,
      epsilon: plan.epsilon,
      delta: o.delta,
      noiseMultiplier: plan.release.noiseMultiplier,
      perSiteNoiseStddev: plan.granularity * Math.sqrt(plan.release.perSiteVariance),
      clip: plan.clip,
      granularity: plan.granularity,
      bits: plan.bits,
      bytesPerSiteRound: packedBytes(dimension, plan.bits),
      clippedFraction: clipped / (o.rounds * sites.length),
    };
  } finally {
    await trainer.dispose();
  }
}

// Checks the options and plans the noise and ring, before any training.
function planRun(sites: number, dimension: number, o: DpFedAvgOptions) {
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new RangeError("'rounds' must be an integer >= 1");
  if (!Number.isInteger(o.localEpochs) || o.localEpochs < 1)
    throw new RangeError("'localEpochs' must be an integer >= 1");
  if (o.serverLearningRate !== undefined && !(o.serverLearningRate > 0))
    throw new RangeError("'serverLearningRate' must be > 0");
  if ((o.targetEpsilon === undefined) === (o.noiseMultiplier === undefined))
    throw new RangeError("give exactly one of 'targetEpsilon' and 'noiseMultiplier'");
  const setup: DpFedAvgNoiseSetup = {
    sites,
    toleratedDropouts: o.toleratedDropouts,
    assumedColluders: o.assumedColluders,
    clip: o.clip,
    granularity: o.granularity ?? o.clip / 1000,
    dimension,
  };
  const z = o.noiseMultiplier ?? dpFedAvgNoiseFor(o.targetEpsilon as number, o.delta, o.rounds, setup);
  const release = dpFedAvgRelease(setup, z);
  return {
    release,
    clip: setup.clip,
    granularity: setup.granularity,
    bits: dpFedAvgRingBits(release, sites, o.bits),
    epsilon: dpFedAvgEpsilon(setup, z, o.rounds, o.delta),
  };
}

// Trains the global model (already restored into `trainer`) on one site and returns local - global, flattened in parameter order.
async function localUpdate(
  trainer: Trainer,
  global: Float64Array,
  site: Dataset,
  batchSize: number,
  o: DpFedAvgOptions,
  salt: number,
): Promise<Float64Array> {
  for (let e = 0; e < o.localEpochs; e += 1) {
    const seed = (o.seed * 1_000_003 + salt + e) >>> 0;
    await trainer.trainEpoch([...miniBatches(site, { batchSize, seed })].map((b) => ({ x: b.x, y: b.y })));
  }
  const local = flatten(trainer.snapshot().params);
  for (let j = 0; j < local.length; j += 1) local[j] = (local[j] as number) - (global[j] as number);
  return local;
}

function flatten(params: ReadonlyMap<string, Float32Array>): Float64Array {
  const out = new Float64Array([...params.values()].reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of params.values()) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function unflatten(flat: Float64Array, shape: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  let at = 0;
  for (const [k, p] of shape) {
    out.set(k, Float32Array.from(flat.subarray(at, at + p.length)));
    at += p.length;
  }
  return out;
}

function norm(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i += 1) s += (x[i] as number) * (x[i] as number);
  return Math.sqrt(s);
}
