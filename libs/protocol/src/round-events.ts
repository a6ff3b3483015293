import { perSiteVariance } from '@fedistill/dp';
import { NoiseMechanism, type NodeEvent, RoundStage, SummaryKind } from '@fedistill/wire';
import type { FederationView } from './federation-view';
import { type RoundPlan, releasePlanOf, type StageName } from './round-plan';

export const WIRE_STAGE: Readonly<Record<StageName, RoundStage>> = {
  keys: RoundStage.ROUND_STAGE_ADVERTISE_KEYS,
  shares: RoundStage.ROUND_STAGE_SHARE_KEYS,
  inputs: RoundStage.ROUND_STAGE_MASKED_INPUT,
  consistency: RoundStage.ROUND_STAGE_CONSISTENCY,
  unmask: RoundStage.ROUND_STAGE_UNMASK,
};

const MECHANISM = {
  none: NoiseMechanism.NOISE_MECHANISM_NONE,
  skellam: NoiseMechanism.NOISE_MECHANISM_SKELLAM,
  'discrete-gaussian': NoiseMechanism.NOISE_MECHANISM_DISCRETE_GAUSSIAN,
} as const;

/**
 * The RoundAnnouncement event: every parameter a site needs to compute what answering would
 * cost it (SPEC, privacy model item 4) and to run its side of secure aggregation.
 */
export function announcementEvent(plan: RoundPlan, federation: FederationView): NodeEvent['event'] {
  const p = federation.privacy;
  const release = releasePlanOf(plan);
  const noise = release.noise;
  const evaluation = plan.kind === 'evaluation';
  return {
    $case: 'roundAnnounced',
    value: {
      round: { federationId: plan.federationId, round: plan.round },
      queryIndices: [...plan.queries],
      referenceSha256: Buffer.from(federation.referenceSet.sha256, 'hex'),
      summaryKind: evaluation
        ? SummaryKind.SUMMARY_KIND_EVALUATION
        : p.summary === 'votes'
          ? SummaryKind.SUMMARY_KIND_VOTES
          : SummaryKind.SUMMARY_KIND_SOFT_LABELS,
      numClasses: federation.labels.length,
      temperature: p.temperature,
      clipNorm: evaluation ? 0 : plan.release.clipNorm,
      quantizationScale: 1 / release.granularity,
      mechanism: MECHANISM[p.mechanism],
      aggregateNoiseStddev: noise ? Math.sqrt(noise.variance) : 0,
      siteNoiseStddev: noise ? Math.sqrt(perSiteVariance(noise)) : 0,
      assumedColluders: noise?.assumedColluders ?? 0,
      delta: p.delta,
      modulusBits: plan.config.bits ?? 32,
      threshold: plan.config.threshold,
      neighbours: plan.config.neighbours === 'all' ? 0 : plan.config.neighbours,
      participants: plan.participants.map((x) => ({
        siteName: x.siteName,
        siteId: x.siteId,
        signingPublicKey: Buffer.from(x.signingPublicKey, 'hex'),
      })),
      deadlines: (Object.keys(WIRE_STAGE) as StageName[]).map((s) => ({
        stage: WIRE_STAGE[s],
        deadlineUnixMs: plan.deadlines[s],
      })),
      minSurvivors: plan.config.minSurvivors ?? 1,
      maxInput: plan.config.maxInput,
      studentVersion: evaluation ? plan.studentVersion : 0,
    },
  };
}
