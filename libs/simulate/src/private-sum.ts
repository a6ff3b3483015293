import type { RandomSource } from '@fedistill/dp';
import {
  type DropStage,
  decodeSigned,
  encodeSigned,
  type IdentityKeyPair,
  packedBytes,
  type SecAggConfig,
  type SecAggCoordinator,
  simulateRound,
} from '@fedistill/secagg';
import {
  checkRing,
  DEFAULT_GRANULARITY,
  planRelease,
  type ReleasePlan,
  type ReleaseSpec,
  siteRelease,
} from '@fedistill/distill';
import type { SimulationConfig } from './config';

export { DEFAULT_GRANULARITY, type ReleasePlan };

/** The release a simulated round makes: the same description the coordinator announces over the wire. */
export function releaseSpecOf(c: SimulationConfig, queries: number, classes: number): ReleaseSpec {
  const p = c.privacy;
  return {
    summary: c.summary,
    queries,
    classes,
    clipNorm: p.kind === 'none' ? 1 : p.clip,
    granularity: p.kind === 'none' ? DEFAULT_GRANULARITY : (p.granularity ?? DEFAULT_GRANULARITY),
    maxTeachers: c.teachers.perSite,
    noise:
      p.kind === 'none'
        ? null
        : {
            kind: p.kind,
            noiseMultiplier: p.noiseMultiplier,
            sites: c.sites,
            toleratedDropouts: c.secureAggregation.toleratedDropouts,
            assumedColluders: colludersOf(p.assumedColluders, c),
          },
  };
}

/** C of the plan, capped at n - T - 1 like the coordinator's planner ('all' is that cap). */
function colludersOf(assumed: number | 'all' | undefined, c: SimulationConfig): number {
  const most = c.sites - c.secureAggregation.toleratedDropouts - 1;
  return assumed === 'all' ? most : Math.min(assumed ?? 0, most);
}

/** Sensitivity and noise of one simulated round (see ../release.ts, planRelease). */
export function planSimulatedRelease(c: SimulationConfig, queries: number, classes: number): ReleasePlan {
  return planRelease(releaseSpecOf(c, queries, classes));
}

/** Throws RangeError naming 'secureAggregation.bits' when the noisy sum cannot fit the ring. */
export function checkSimulatedRing(plan: ReleasePlan, c: SimulationConfig): void {
  checkRing(plan, c.sites, c.secureAggregation.bits);
}

/** One site's integer summary plus its noise share, as the site would send it into secure aggregation. */
export function siteContribution(
  teacherProbs: readonly Float32Array[],
  plan: ReleasePlan,
  c: SimulationConfig,
  classes: number,
  random: RandomSource,
): Int32Array {
  return siteRelease(teacherProbs, releaseSpecOf(c, plan.dimension / classes, classes), plan, random);
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
  checkSimulatedRing(plan, c);
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
  };
  const encoded = new Map(inputs.map((v, i) => [i, encodeSigned(v, s.bits)]));
  const { outcome, coordinator } = simulateRound(config, encoded, {
    drops: o.drops,
    random: o.random,
    identities: o.identities,
  });
  const bytesPerSite = bytesSent(coordinator, inputs.length, config.roundId, plan.dimension, s.bits);
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
// counted as 4 bytes, the round id as its UTF-8 length; the masked vector as it travels on the
// wire, packed at the ring's width (libs/secagg packing.ts).
function bytesSent(
  coordinator: SecAggCoordinator,
  sites: number,
  roundId: string,
  dimension: number,
  bits: number,
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
  // A masked input carries the sender's signature over the sharer set (64 bytes).
  for (const id of st.inputs) add(id, Buffer.byteLength(roundId) + 4 + packedBytes(dimension, bits) + 64);
  // Consistency round: each survivor's signature over the survivor set.
  for (const sig of st.signatures) add(sig.siteId, Buffer.byteLength(roundId) + 4 + sig.signature.length);
  for (const r of st.responses) {
    const shares = [...r.keyShares, ...r.seedShares].reduce((t, x) => t + 8 + x.share.length, 0);
    add(r.from, Buffer.byteLength(r.roundId) + 4 + shares);
  }
  return bytes;
}
