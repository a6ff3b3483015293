/**
 * What a site checks in a round announcement before it computes anything: it recomputes the
 * release (sensitivity, noise share, input bound) from the announced terms and its own
 * federation schema, and refuses terms that do not add up (RoundRefusal, reported to the
 * coordinator). Split from round-answerer.ts, which runs a round once these checks pass.
 */
import * as fs from 'node:fs';
import { perSiteVariance } from '@fedistill/dp';
import { parseNpy } from '@fedistill/data';
import {
  type EvaluationSpec,
  planEvaluation,
  planRelease,
  type ReleasePlan,
  type ReleaseSpec,
} from '@fedistill/distill';
import { DeclineReason, NoiseMechanism, type RoundAnnouncement, SummaryKind } from '@fedistill/wire';
import { type FederationSchema } from './site-data';

/** Why the site will not answer a round; reported to the coordinator, never silent. */
export class RoundRefusal extends Error {
  override readonly name = 'RoundRefusal';
  constructor(
    readonly reason: DeclineReason,
    message: string,
    readonly epsilon?: { spent: number; limit: number; round: number },
  ) {
    super(message);
  }
}

/** A refusal of the round's parameters (DECLINE_REASON_PARAMETERS_REFUSED) naming why. */
export const refuse = (m: string) => new RoundRefusal(DeclineReason.DECLINE_REASON_PARAMETERS_REFUSED, m);

/** What every kind of round must agree on with the site: the classes, and a sane survivor floor. */
function checkCommon(a: RoundAnnouncement, schema: FederationSchema): void {
  if (a.numClasses !== schema.labels.length)
    throw refuse(`the round has ${a.numClasses} classes; the federation has ${schema.labels.length}`);
  const n = a.participants.length;
  if (!(a.minSurvivors >= 1 && a.minSurvivors <= n))
    throw refuse(`min_survivors ${a.minSurvivors} is outside [1, ${n}]`);
}

/**
 * The release a round announcement describes, recomputed by the site from the announced
 * parameters alone (libs/distill release.ts: the same calibration as the coordinator and the
 * simulator), with the site's own teacher count. Anything the site cannot verify or will not
 * accept is refused with a reason:
 * - the noise it will add is its own computation from the announced aggregate standard deviation,
 *   sensitivity and survivor floor, and must match the announced share (else the announcement is
 *   inconsistent);
 * - a round without noise is refused unless node.yaml allows non-private rounds;
 * - the site's input must fit the announced bound (it has too many teachers otherwise).
 */
export function releaseFromAnnouncement(
  a: RoundAnnouncement,
  schema: FederationSchema,
  teachers: number,
  allowNonPrivate: boolean,
): { spec: ReleaseSpec; plan: ReleasePlan } {
  checkCommon(a, schema);
  const summary =
    a.summaryKind === SummaryKind.SUMMARY_KIND_VOTES
      ? 'votes'
      : a.summaryKind === SummaryKind.SUMMARY_KIND_SOFT_LABELS
        ? 'soft-labels'
        : undefined;
  if (!summary) throw refuse(`unknown summary kind ${a.summaryKind}`);
  if (a.queryIndices.length === 0) throw refuse('the round asks no queries');
  if (summary === 'soft-labels' && !(a.quantizationScale >= 1))
    throw refuse(`quantization scale ${a.quantizationScale} must be >= 1`);
  const base: ReleaseSpec = {
    summary,
    queries: a.queryIndices.length,
    classes: a.numClasses,
    clipNorm: summary === 'votes' ? 1 : a.clipNorm,
    granularity: summary === 'votes' ? 1 : 1 / a.quantizationScale,
    maxTeachers: teachers,
    noise: null,
  };
  let spec: ReleaseSpec;
  try {
    spec = { ...base, noise: noiseFromAnnouncement(a, planRelease(base).l2, allowNonPrivate) };
  } catch (err) {
    if (err instanceof RoundRefusal) throw err;
    throw refuse((err as Error).message);
  }
  const plan = planRelease(spec);
  checkPlan(a, plan, `${teachers} teachers`, 'reduce teachers.count');
  return { spec, plan };
}

/**
 * The evaluation an announcement asks for, recomputed by the site like a distillation release:
 * its own count of test records, the noise checked against the announced figures.
 */
export function evaluationFromAnnouncement(
  a: RoundAnnouncement,
  schema: FederationSchema,
  testRecords: number,
  allowNonPrivate: boolean,
): { spec: EvaluationSpec; plan: ReleasePlan } {
  checkCommon(a, schema);
  const base = { classes: a.numClasses, maxRecords: Math.max(1, testRecords), noise: null };
  let spec: EvaluationSpec = {
    ...base,
    noise: noiseFromAnnouncement(a, planEvaluation(base).l2, allowNonPrivate),
  };
  let plan = planEvaluation(spec);
  // A test split larger than the federation counts is truncated to what the announced bound allows.
  const allowed = a.maxInput - (plan.maxInput - spec.maxRecords);
  if (plan.maxInput > a.maxInput && allowed >= 1) {
    spec = { ...spec, maxRecords: allowed };
    plan = planEvaluation(spec);
  }
  checkPlan(a, plan, `${spec.maxRecords} test records`, 'the announcement leaves no room for any record');
  return { spec, plan };
}

/** The distributed noise an announcement implies, from the site's own sensitivity `l2`. */
function noiseFromAnnouncement(
  a: RoundAnnouncement,
  l2: number,
  allowNonPrivate: boolean,
): ReleaseSpec['noise'] {
  if (a.mechanism === NoiseMechanism.NOISE_MECHANISM_NONE) {
    if (!allowNonPrivate)
      throw refuse(
        'the round adds no noise (mechanism none) and this site requires differential privacy (privacy.allowNonPrivate is false)',
      );
    return null;
  }
  const kind =
    a.mechanism === NoiseMechanism.NOISE_MECHANISM_SKELLAM
      ? 'skellam'
      : a.mechanism === NoiseMechanism.NOISE_MECHANISM_DISCRETE_GAUSSIAN
        ? 'discrete-gaussian'
        : undefined;
  if (!kind) throw refuse(`unknown noise mechanism ${a.mechanism}`);
  if (!(a.aggregateNoiseStddev > 0)) throw refuse('the aggregate noise standard deviation must be > 0');
  const n = a.participants.length;
  if (a.assumedColluders >= a.minSurvivors)
    throw refuse(
      `assumed_colluders ${a.assumedColluders} leaves no honest survivor of ${a.minSurvivors} (it must be below min_survivors)`,
    );
  return {
    kind,
    noiseMultiplier: a.aggregateNoiseStddev / l2,
    sites: n,
    toleratedDropouts: n - a.minSurvivors,
    assumedColluders: a.assumedColluders,
  };
}

/** The site's noise share must be the announced one, and its input must fit the announced bound. */
function checkPlan(a: RoundAnnouncement, plan: ReleasePlan, what: string, remedy: string): void {
  if (plan.noise) {
    const share = Math.sqrt(perSiteVariance(plan.noise));
    if (Math.abs(share - a.siteNoiseStddev) > 1e-6 * share)
      throw refuse(
        `the announced noise share ${a.siteNoiseStddev} does not match this site's computation ${share} for ${a.minSurvivors} survivors and ${a.assumedColluders} assumed colluders`,
      );
  }
  if (plan.maxInput > a.maxInput)
    throw refuse(
      `this site's input bound ${plan.maxInput} (${what}) exceeds the round's ${a.maxInput}; ${remedy}`,
    );
}

/** Reference inputs at `indices`, as float32 row-major, from the federation's reference NPY. */
export function referenceRows(
  file: string,
  indices: readonly number[],
  shape: readonly number[],
): Float32Array {
  const npy = parseNpy(file, new Uint8Array(fs.readFileSync(file)));
  const per = shape.reduce((x, y) => x * y, 1);
  const rows = npy.shape[0] ?? 0;
  if (npy.data instanceof BigInt64Array)
    throw new RangeError(`${file}: 64-bit integer reference sets are not supported`);
  const out = new Float32Array(indices.length * per);
  for (const [i, row] of indices.entries()) {
    if (!Number.isInteger(row) || row < 0 || row >= rows)
      throw new RoundRefusal(
        DeclineReason.DECLINE_REASON_PARAMETERS_REFUSED,
        `query index ${row} is outside the reference set's ${rows} rows`,
      );
    for (let j = 0; j < per; j += 1) out[i * per + j] = Number(npy.data[row * per + j]);
  }
  return out;
}
