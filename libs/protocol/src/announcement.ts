/**
 * The round announcement to and from the wire: the one codec both ends use. The coordinator
 * encodes a round plan (encodeAnnouncement); a site decodes what arrives into a typed view,
 * checked field by field (decodeAnnouncement), before it recomputes anything from it
 * (announcement-checks.ts). A round trip gives back the plan's terms (announcement.spec.ts).
 */
import { MAX_SITES } from '@fedistill/secagg';
import { NoiseMechanism, type RoundAnnouncement, RoundStage, SummaryKind } from '@fedistill/wire';
import type { FederationSpec } from './federation-spec';
import { siteNoiseStddev } from './noise-split';
import { type Participant, type RoundPlan, releasePlanOf, type StageName } from './round-plan';
import type { SecAggTerms } from './secagg-config';
import { wireBytes, WireFieldError, wireInt } from './wire-field-error';

export const WIRE_STAGE: Readonly<Record<StageName, RoundStage>> = {
  keys: RoundStage.ROUND_STAGE_ADVERTISE_KEYS,
  shares: RoundStage.ROUND_STAGE_SHARE_KEYS,
  inputs: RoundStage.ROUND_STAGE_MASKED_INPUT,
  consistency: RoundStage.ROUND_STAGE_CONSISTENCY,
  unmask: RoundStage.ROUND_STAGE_UNMASK,
};

type MechanismName = 'none' | 'skellam' | 'discrete-gaussian';
const MECHANISM: Readonly<Record<MechanismName, NoiseMechanism>> = {
  none: NoiseMechanism.NOISE_MECHANISM_NONE,
  skellam: NoiseMechanism.NOISE_MECHANISM_SKELLAM,
  'discrete-gaussian': NoiseMechanism.NOISE_MECHANISM_DISCRETE_GAUSSIAN,
};

type SummaryName = 'votes' | 'soft-labels' | 'class-sums' | 'evaluation';
const SUMMARY: Readonly<Record<SummaryName, SummaryKind>> = {
  votes: SummaryKind.SUMMARY_KIND_VOTES,
  'soft-labels': SummaryKind.SUMMARY_KIND_SOFT_LABELS,
  'class-sums': SummaryKind.SUMMARY_KIND_CLASS_SUMS,
  evaluation: SummaryKind.SUMMARY_KIND_EVALUATION,
};

/** A round's announced terms, decoded and checked: what a site reads instead of wire fields. */
export interface Announcement extends SecAggTerms {
  readonly participants: readonly Participant[];
  readonly summary: SummaryName;
  /** The queried reference rows (empty in an evaluation round). */
  readonly queryIndices: readonly number[];
  /** SHA-256 of the federation's reference set (hex). */
  readonly referenceSha256: string;
  /** Softmax temperature of the teachers' scores (> 0). */
  readonly temperature: number;
  /** L2 clipping bound of one teacher's soft labels (0 in an evaluation round). */
  readonly clipNorm: number;
  /** Integer units per unit of probability (1 / granularity). */
  readonly quantizationScale: number;
  readonly mechanism: MechanismName;
  /** Standard deviation of the aggregate noise per entry, in integer units (0 without noise). */
  readonly aggregateNoiseStddev: number;
  /** Standard deviation of one site's noise share (0 without noise). */
  readonly siteNoiseStddev: number;
  /** Colluders C the noise split assumes among the survivors. */
  readonly assumedColluders: number;
  readonly delta: number;
  /** Absolute deadline (Unix ms) of each stage. */
  readonly deadlines: Readonly<Record<StageName, number>>;
  /** The student evaluated (evaluation rounds; 0 otherwise). */
  readonly studentVersion: number;
}

/**
 * The RoundAnnouncement of `plan`: every parameter a site needs to compute what answering would
 * cost it (SPEC, privacy model item 4) and to run its side of secure aggregation. `federation`
 * gives what the plan does not repeat: the reference set's digest, temperature, mechanism, delta.
 */
export function encodeAnnouncement(plan: RoundPlan, federation: FederationSpec): RoundAnnouncement {
  const p = federation.privacy;
  const noise = releasePlanOf(plan).noise;
  const evaluation = plan.kind === 'evaluation';
  const c = plan.config;
  return {
    round: { federationId: plan.federationId, round: plan.round },
    queryIndices: [...plan.queries],
    referenceSha256: Buffer.from(federation.referenceSet.sha256, 'hex'),
    summaryKind: SUMMARY[evaluation ? 'evaluation' : p.summary],
    numClasses: federation.labels.length,
    temperature: p.temperature,
    clipNorm: evaluation ? 0 : plan.release.clipNorm,
    quantizationScale: 1 / releasePlanOf(plan).granularity,
    mechanism: MECHANISM[p.mechanism],
    aggregateNoiseStddev: noise ? Math.sqrt(noise.variance) : 0,
    siteNoiseStddev: noise ? siteNoiseStddev(noise) : 0,
    assumedColluders: noise?.assumedColluders ?? 0,
    delta: p.delta,
    modulusBits: c.bits ?? 32,
    threshold: c.threshold,
    neighbours: c.neighbours === 'all' ? 0 : c.neighbours,
    participants: plan.participants.map((x) => ({
      siteName: x.siteName,
      siteId: x.siteId,
      signingPublicKey: Buffer.from(x.signingPublicKey, 'hex'),
    })),
    deadlines: (Object.keys(WIRE_STAGE) as StageName[]).map((s) => ({
      stage: WIRE_STAGE[s],
      deadlineUnixMs: plan.deadlines[s],
    })),
    minSurvivors: c.minSurvivors ?? 1,
    maxInput: c.maxInput,
    studentVersion: evaluation ? plan.studentVersion : 0,
    featureValues: evaluation ? 0 : (plan.release.features ?? 0),
  };
}

const keyOf = <K extends string, V>(table: Readonly<Record<K, V>>, value: V): K | undefined =>
  (Object.keys(table) as K[]).find((k) => table[k] === value);

function finite(field: string, v: number, min: number, max = Infinity, open = false): number {
  if (!Number.isFinite(v) || v < min || (open && v === min) || v > max)
    throw new WireFieldError(field, `${v} is outside ${open ? '(' : '['}${min}, ${max}]`);
  return v;
}

/** The participants: 2..MAX_SITES sites with distinct names and ids and 32-byte Ed25519 keys. */
function participantsOf(a: RoundAnnouncement): Participant[] {
  const list = a.participants ?? [];
  if (list.length < 2 || list.length > MAX_SITES)
    throw new WireFieldError('participants', `lists ${list.length} sites; a round needs 2..${MAX_SITES}`);
  const out = list.map((p, i) => {
    if (!p.siteName) throw new WireFieldError(`participants[${i}].site_name`, 'is required');
    return {
      siteName: p.siteName,
      siteId: wireInt(`participants[${i}].site_id`, p.siteId, 0, 2 ** 32 - 1),
      signingPublicKey: Buffer.from(
        wireBytes(`participants[${i}].signing_public_key`, p.signingPublicKey, 32),
      ).toString('hex'),
    };
  });
  if (new Set(out.map((p) => p.siteId)).size !== out.length)
    throw new WireFieldError('participants', 'site ids are not distinct');
  if (new Set(out.map((p) => p.siteName)).size !== out.length)
    throw new WireFieldError('participants', 'site names are not distinct');
  return out;
}

/** One deadline per stage, each a positive Unix time in ms. */
function deadlinesOf(a: RoundAnnouncement): Record<StageName, number> {
  const out: Partial<Record<StageName, number>> = {};
  for (const d of a.deadlines ?? []) {
    const stage = keyOf(WIRE_STAGE, d.stage);
    if (!stage) throw new WireFieldError('deadlines', `unknown stage ${d.stage}`);
    if (out[stage] !== undefined) throw new WireFieldError('deadlines', `stage ${stage} appears twice`);
    out[stage] = wireInt(`deadlines[${stage}].deadline_unix_ms`, d.deadlineUnixMs, 1);
  }
  for (const s of Object.keys(WIRE_STAGE) as StageName[])
    if (out[s] === undefined) throw new WireFieldError('deadlines', `no deadline for stage ${s}`);
  return out as Record<StageName, number>;
}

/** Threshold and masking graph as libs/secagg needs them (t a strict majority of the neighbours). */
function graphOf(a: RoundAnnouncement, n: number): Pick<SecAggTerms, 'threshold' | 'neighbours'> {
  const k = wireInt('neighbours', a.neighbours, 0, 1000);
  if (k !== 0 && (k < 2 || k % 2 !== 0))
    throw new WireFieldError('neighbours', `${k} is neither 0 (all) nor an even number >= 2`);
  const degree = k === 0 ? n - 1 : Math.min(k, n - 1);
  const t = a.threshold;
  if (!Number.isInteger(t) || 2 * t <= degree || t > degree)
    throw new WireFieldError(
      'threshold',
      `${t} is outside (${degree}/2, ${degree}] (${degree} neighbours per site)`,
    );
  return { threshold: t, neighbours: k === 0 ? 'all' : k };
}

/**
 * Decodes and checks a RoundAnnouncement from the wire. Throws WireFieldError naming the first
 * bad field (missing round, a key of the wrong length, an out-of-range threshold, an unknown
 * summary kind, ...). Whether the terms are acceptable to a site (its classes, its noise share,
 * its input bound) is announcement-checks.ts's question, not this one's.
 */
export function decodeAnnouncement(a: RoundAnnouncement): Announcement {
  const ref = a.round;
  if (!ref || !ref.federationId) throw new WireFieldError('round', 'is required (federation_id and round)');
  // A federation id is at most 64 characters (federation-spec.ts); libs/secagg refuses a longer
  // round id with a bare RangeError (found by fuzzing, test/fuzz).
  if (ref.federationId.length > 64)
    throw new WireFieldError('round.federation_id', `has ${ref.federationId.length} characters; at most 64`);
  const round = wireInt('round.round', ref.round, 1);
  const participants = participantsOf(a);
  const n = participants.length;
  const modulusBits = wireInt('modulus_bits', a.modulusBits, 1, 32);
  const maxInput = wireInt('max_input', a.maxInput, 0);
  // The sum of every participant's input must fit the signed ring, or it would wrap (libs/secagg
  // validateConfig refuses such a round with a bare RangeError; found by fuzzing, test/fuzz).
  const room = 2 ** (modulusBits - 1) - 1;
  if (n * maxInput > room)
    throw new WireFieldError(
      'max_input',
      `${maxInput} x ${n} participants exceeds ${room}, the largest sum a ${modulusBits}-bit ring holds`,
    );
  const summary = keyOf(SUMMARY, a.summaryKind);
  if (!summary) throw new WireFieldError('summary_kind', `unknown kind ${a.summaryKind}`);
  const mechanism = keyOf(MECHANISM, a.mechanism);
  if (!mechanism) throw new WireFieldError('mechanism', `unknown mechanism ${a.mechanism}`);
  const classes = wireInt('num_classes', a.numClasses, 1, 1_000_000);
  const queryIndices = (a.queryIndices ?? []).map((q, i) => wireInt(`query_indices[${i}]`, q, 0));
  if (new Set(queryIndices).size !== queryIndices.length)
    throw new WireFieldError('query_indices', 'lists a row twice');
  const kind = summary === 'evaluation' ? 'evaluation' : 'distill';
  if (kind === 'evaluation' && queryIndices.length > 0)
    throw new WireFieldError('query_indices', 'must be empty in an evaluation round');
  const classSums = summary === 'class-sums';
  if (classSums && queryIndices.length > 0)
    throw new WireFieldError('query_indices', 'must be empty in a class-sum round');
  const featureValues = wireInt(
    'feature_values',
    a.featureValues ?? 0,
    classSums ? 1 : 0,
    classSums ? 65_536 : 0,
  );
  return {
    federationId: ref.federationId,
    round,
    kind,
    summary,
    queries: queryIndices.length,
    queryIndices,
    classes,
    ...(classSums ? { features: featureValues } : {}),
    participants,
    ...graphOf(a, n),
    modulusBits,
    maxInput,
    minSurvivors: wireInt('min_survivors', a.minSurvivors, 1, n),
    referenceSha256: Buffer.from(wireBytes('reference_sha256', a.referenceSha256, 32)).toString('hex'),
    temperature: finite('temperature', a.temperature, 0, Infinity, true),
    clipNorm: finite('clip_norm', a.clipNorm, 0),
    quantizationScale: finite('quantization_scale', a.quantizationScale, 0, Infinity, true),
    mechanism,
    aggregateNoiseStddev: finite('aggregate_noise_stddev', a.aggregateNoiseStddev, 0),
    siteNoiseStddev: finite('site_noise_stddev', a.siteNoiseStddev, 0),
    assumedColluders: wireInt('assumed_colluders', a.assumedColluders, 0, n),
    delta: finite('delta', a.delta, 0, 1, true),
    deadlines: deadlinesOf(a),
    studentVersion: wireInt('student_version', a.studentVersion, kind === 'evaluation' ? 1 : 0),
  };
}
