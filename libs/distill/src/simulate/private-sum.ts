import {
  aggregateMechanism,
  type Mechanism,
  type NoiseShareSpec,
  type RandomSource,
  roundedNormBound,
  sampleNoiseShare,
} from '@fedistill/dp';
import {
  type DropStage,
  decodeSigned,
  encodeSigned,
  type IdentityKeyPair,
  type SecAggConfig,
  type SecAggCoordinator,
  simulateRound,
} from '@fedistill/secagg';
import { quantizedSoftLabelSummary, voteSummary } from '../summaries';
import type { SimulationConfig } from './config';

/** Granularity used for soft labels when no privacy is configured (secure aggregation still needs integers). */
export const DEFAULT_GRANULARITY = 0.01;

/** The public parameters of one round's release, fixed before any site computes anything. */
export interface ReleasePlan {
  /** One integer unit in probability (soft labels) or vote units. */
  readonly granularity: number;
  /** Entries of the released vector: queries x classes. */
  readonly dimension: number;
  /** L2 and L1 sensitivity of the release to one record, in integer units. */
  readonly l2: number;
  readonly l1: number;
  /** Noise shares each site adds, or null without privacy. */
  readonly noise: NoiseShareSpec | null;
  /** The mechanism the accountant charges per round, or null without privacy. */
  readonly mechanism: Mechanism | null;
  /** Largest |entry| one site may send. */
  readonly maxInput: number;
}

/**
 * Sensitivity and noise of one round. The privacy unit is one record at one site: a site's
 * teachers train on disjoint partitions (PATE, Papernot et al. 2017, arXiv:1610.05755, §2), so a
 * record changes one teacher's contribution only.
 * - Soft labels: one teacher's [queries x classes] vector, each query's row clipped to L2 norm C,
 *   has norm <= C sqrt(q); after conditional randomized rounding at granularity γ its integer
 *   norm is <= B = roundedNormBound(C sqrt(q), γ, d) (Kairouz, Liu, Steinke 2021,
 *   arXiv:2102.06387, §4). Replacing that vector moves the sum by at most Δ2 = 2B.
 * - Votes: each of the q votes of the teacher may move, each moving two counts by 1
 *   (Papernot et al. 2018, arXiv:1802.08908, §4.1): Δ2 = sqrt(2q), Δ1 = 2q.
 * Integer vectors have Δ1 <= min(Δ2², sqrt(d) Δ2). The aggregate noise has standard deviation
 * z Δ2, split as shares over the n - T sites that must survive (Agarwal, Kairouz, Liu 2021,
 * arXiv:2110.04995, §3 for Skellam; KLS21 Theorem 1 for the discrete Gaussian).
 */
export function planRelease(c: SimulationConfig, queries: number, classes: number): ReleasePlan {
  const d = queries * classes;
  const p = c.privacy;
  const votes = c.summary === 'votes';
  const granularity = votes
    ? 1
    : p.kind === 'none'
      ? DEFAULT_GRANULARITY
      : (p.granularity ?? DEFAULT_GRANULARITY);
  const clip = p.kind === 'none' ? 1 : p.clip;
  const l2 = votes ? Math.sqrt(2 * queries) : 2 * roundedNormBound(clip * Math.sqrt(queries), granularity, d);
  const l1 = votes ? 2 * queries : Math.min(l2 * l2, Math.sqrt(d) * l2);
  const perTeacher = votes ? 1 : Math.ceil(clip / granularity) + 1;
  const signal = c.teachers.perSite * perTeacher;
  if (p.kind === 'none')
    return { granularity, dimension: d, l2, l1, noise: null, mechanism: null, maxInput: signal };
  const noise: NoiseShareSpec = {
    kind: p.kind,
    variance: (p.noiseMultiplier * l2) ** 2,
    sites: c.sites,
    toleratedDropouts: c.secureAggregation.toleratedDropouts,
  };
  const mechanism = aggregateMechanism(noise, { l2, l1, dimension: d });
  // 20 standard deviations of one share: exceeding it has probability far below 2^-80.
  const tail = Math.ceil(20 * Math.sqrt(noise.variance / (c.sites - noise.toleratedDropouts)));
  return { granularity, dimension: d, l2, l1, noise, mechanism, maxInput: signal + tail };
}

/** Throws RangeError naming 'secureAggregation.bits' when the noisy sum cannot fit the ring. */
export function checkRing(plan: ReleasePlan, c: SimulationConfig): void {
  const bits = c.secureAggregation.bits;
  const room = 2 ** (bits - 1) - 1;
  if (c.sites * plan.maxInput > room)
    throw new RangeError(
      `'secureAggregation.bits' ${bits} too small: ${c.sites} sites x ${plan.maxInput} exceeds ${room}; raise bits or granularity`,
    );
}

/** One site's integer summary plus its noise share, as the site would send it into secure aggregation. */
export function siteContribution(
  teacherProbs: readonly Float32Array[],
  plan: ReleasePlan,
  c: SimulationConfig,
  classes: number,
  random: RandomSource,
): Int32Array {
  const queries = plan.dimension / classes;
  const clip = c.privacy.kind === 'none' ? 1 : c.privacy.clip;
  const summary =
    c.summary === 'votes'
      ? voteSummary(teacherProbs, { queries, classes })
      : quantizedSoftLabelSummary(
          teacherProbs,
          { queries, classes, clipNorm: clip, granularity: plan.granularity },
          random,
        );
  if (!plan.noise) return summary;
  const share = sampleNoiseShare(summary.length, plan.noise, random);
  for (let i = 0; i < summary.length; i += 1) summary[i] = (summary[i] as number) + (share[i] as number);
  return summary;
}

/** The outcome of one secure sum: the decoded sum (null when abandoned) and bytes each site sent. */
export interface SecureSum {
  readonly sum: Int32Array | null;
  readonly survivors: readonly number[];
  readonly abandonedReason: string | null;
  /** Bytes site i sent this round: key advertisement, sealed shares, masked vector, unmask response. */
  readonly bytesPerSite: readonly number[];
}

/**
 * Masks and sums the sites' vectors with the real SecAgg+ site and coordinator state machines
 * (`simulateRound`), only the transport being in memory.
 */
export function secureSum(
  inputs: readonly Int32Array[],
  plan: ReleasePlan,
  c: SimulationConfig,
  round: number,
  o: {
    random: RandomSource;
    identities: ReadonlyMap<number, IdentityKeyPair>;
    drops: ReadonlyMap<number, DropStage>;
  },
): SecureSum {
  const s = c.secureAggregation;
  checkRing(plan, c);
  const config: SecAggConfig = {
    roundId: `simulation-round-${round}`,
    siteIds: inputs.map((_, i) => i),
    threshold: s.threshold,
    neighbours: s.neighbours,
    bits: s.bits,
    maxInput: plan.maxInput,
    signed: true,
    length: plan.dimension,
    // With distributed noise the sum must never be revealed with fewer than n - T noise shares.
    minSurvivors: plan.noise ? c.sites - s.toleratedDropouts : undefined,
    graphSeed: o.random.fill(new Uint8Array(32)),
  };
  const encoded = new Map(inputs.map((v, i) => [i, encodeSigned(v, s.bits)]));
  const { outcome, coordinator } = simulateRound(config, encoded, {
    drops: o.drops,
    random: o.random,
    identities: o.identities,
  });
  const bytesPerSite = bytesSent(coordinator, inputs.length, config.roundId, plan.dimension);
  if (outcome.status !== 'done')
    return { sum: null, survivors: [], abandonedReason: outcome.reason, bytesPerSite };
  return {
    sum: decodeSigned(outcome.sum, s.bits),
    survivors: outcome.survivors,
    abandonedReason: null,
    bytesPerSite,
  };
}

// Payload bytes of the messages each site sent, read from what the coordinator accepted: ids are
// counted as 4 bytes, the round id as its UTF-8 length; the masked vector as the Uint32Array sent.
function bytesSent(
  coordinator: SecAggCoordinator,
  sites: number,
  roundId: string,
  dimension: number,
): number[] {
  const st = coordinator.state;
  const bytes = new Array<number>(sites).fill(0);
  const add = (site: number, n: number): void => void (bytes[site] = (bytes[site] ?? 0) + n);
  for (const a of st.adverts)
    add(
      a.siteId,
      Buffer.byteLength(a.roundId) + 4 + a.sealPublicKey.length + a.maskPublicKey.length + a.signature.length,
    );
  for (const sh of st.shares)
    add(sh.from, Buffer.byteLength(sh.roundId) + 8 + sh.nonce.length + sh.ciphertext.length);
  for (const id of st.inputs) add(id, Buffer.byteLength(roundId) + 4 + 4 * dimension);
  for (const r of st.responses) {
    const shares = [...r.keyShares, ...r.seedShares].reduce((t, x) => t + 8 + x.share.length, 0);
    add(r.from, Buffer.byteLength(r.roundId) + 4 + shares);
  }
  return bytes;
}
