/**
 * One DP-FedAvg round's release through real secure aggregation: each site clips and randomly
 * rounds its model update (libs/dp `quantize`: KLS21, arXiv:2102.06387, Algorithm 1 without the
 * random rotation, conditional on the rounded norm bound, §4), adds its discrete Gaussian noise
 * share (CKS20, arXiv:2004.00010, Algorithm 3), and the masked integer vectors are summed by
 * libs/secagg's SecAgg+ state machines (full mesh, signed entries in Z_{2^bits}); the
 * coordinator learns only the noisy sum.
 */
import { quantize, type RandomSource as DpRandom, sampleNoiseShare } from '@fedistill/dp';
import {
  decodeSigned,
  encodeSigned,
  type SecAggConfig,
  seededRandom,
  simulateRound,
} from '@fedistill/secagg';
import { dpFedAvgMaxInput, type DpFedAvgRelease } from './dp-fedavg-privacy';

/** What a round produced. */
export interface SecureNoisySum {
  /** The decoded noisy sum of the survivors' integer vectors (quantized units). */
  readonly sum: Int32Array;
  /** Each site's released vector (rounded update plus noise share), as it entered aggregation. */
  readonly inputs: readonly Int32Array[];
  /** Sites whose inputs the sum holds. */
  readonly survivors: number;
}

/** Settings of one secure round. */
export interface SecureRoundOptions {
  readonly roundId: string;
  /** Ring size in bits, already checked with dpFedAvgRingBits. */
  readonly bits: number;
  /** Randomness for rounding and noise (seeded only in simulations). */
  readonly random: DpRandom;
  /** Seed of the secure-aggregation parties' keys and masks. */
  readonly secaggSeed: number;
}

/**
 * Releases `updates` (one real vector per site, all of the release's dimension) as a noisy sum.
 * Throws RangeError on vectors of the wrong length, and Error when secure aggregation abandons
 * the round (its reason attached).
 */
export function secureNoisySum(
  updates: readonly Float64Array[],
  release: DpFedAvgRelease,
  o: SecureRoundOptions,
): SecureNoisySum {
  const n = updates.length;
  const { clip, granularity, beta, dimension: d } = release.setup;
  if (n !== release.noise.sites)
    throw new RangeError(`${n} updates for a release planned for ${release.noise.sites} sites`);
  updates.forEach((u, i) => {
    if (u.length !== d) throw new RangeError(`update ${i} has ${u.length} entries, expected ${d}`);
  });
  const inputs = updates.map((u) => {
    const q = quantize(u, { clip, granularity, beta }, o.random);
    const share = sampleNoiseShare(d, release.noise, o.random);
    for (let i = 0; i < d; i += 1) q[i] = (q[i] as number) + (share[i] as number);
    return q;
  });
  const siteIds = updates.map((_, i) => i + 1);
  const config: SecAggConfig = {
    roundId: o.roundId,
    siteIds,
    // A strict majority of the n - 1 neighbours of the full mesh (config.ts's invariant).
    threshold: Math.floor((n - 1) / 2) + 1,
    neighbours: 'all',
    bits: o.bits,
    maxInput: dpFedAvgMaxInput(release),
    signed: true,
    length: d,
    // Never unmask a sum that carries less than the planned noise.
    minSurvivors: n - release.noise.toleratedDropouts,
  };
  const masked = new Map(siteIds.map((id, i) => [id, encodeSigned(inputs[i] as Int32Array, o.bits)]));
  const { outcome } = simulateRound(config, masked, { random: seededRandom(o.secaggSeed) });
  if (outcome.status !== 'done') throw new Error(`secure aggregation abandoned the round: ${outcome.reason}`);
  return { sum: decodeSigned(outcome.sum, o.bits), inputs, survivors: outcome.survivors.length };
}
