/**
 * What a site checks in a decoded announcement before it computes anything: it recomputes the
 * release (sensitivity, noise share, input bound) from the announced terms and its own
 * federation schema, and refuses terms that do not add up. Pure: the node (apps/node
 * announcement-checks.ts) turns a TermsRefusedError into its refusal, and the simulator calls
 * the same functions.
 */
import {
  type EvaluationSpec,
  planEvaluation,
  planRelease,
  type ReleasePlan,
  type ReleaseSpec,
} from '@fedistill/distill';
import type { Announcement } from './announcement';
import { noiseSplitOf, siteNoiseStddev } from './noise-split';

/** Why a site will not answer a round with these terms (the message says which term and why). */
export class TermsRefusedError extends Error {
  override readonly name = 'TermsRefusedError';
}

const refuse = (m: string) => new TermsRefusedError(m);

/** What the site brings to a round: its classes and whether it accepts rounds without noise. */
export interface SiteTerms {
  readonly classes: number;
  /** node.yaml privacy.allowNonPrivate. */
  readonly allowNonPrivate: boolean;
}

/** What every kind of round must agree on with the site: the classes. */
function checkCommon(a: Announcement, site: SiteTerms): void {
  if (a.classes !== site.classes)
    throw refuse(`the round has ${a.classes} classes; the federation has ${site.classes}`);
}

/**
 * The release an announcement describes, recomputed by the site from the announced terms alone
 * (libs/distill release.ts: the same calibration as the coordinator's planner) with the site's
 * own `teachers` count. Refuses (TermsRefusedError):
 * - a noise share that is not the site's own computation from the announced aggregate standard
 *   deviation, sensitivity and survivor floor (the announcement is inconsistent);
 * - a round without noise, unless the site allows non-private rounds;
 * - an input bound the site's teachers do not fit in.
 */
export function releaseFromTerms(
  a: Announcement,
  site: SiteTerms & { readonly teachers: number },
): { spec: ReleaseSpec; plan: ReleasePlan } {
  checkCommon(a, site);
  if (a.summary === 'evaluation') throw refuse('the round is an evaluation, not a distillation round');
  if (a.summary === 'class-sums')
    throw refuse('the round asks for class sums (classSumsFromTerms), not teachers');
  if (a.queryIndices.length === 0) throw refuse('the round asks no queries');
  const summary = a.summary;
  if (summary === 'soft-labels' && !(a.quantizationScale >= 1))
    throw refuse(`quantization scale ${a.quantizationScale} must be >= 1`);
  const base: ReleaseSpec = {
    summary,
    queries: a.queryIndices.length,
    classes: a.classes,
    clipNorm: summary === 'votes' ? 1 : a.clipNorm,
    granularity: summary === 'votes' ? 1 : 1 / a.quantizationScale,
    maxTeachers: site.teachers,
    noise: null,
  };
  const spec = {
    ...base,
    noise: guarded(() => noiseFromTerms(a, planRelease(base).l2, site.allowNonPrivate)),
  };
  const plan = guarded(() => planRelease(spec));
  checkPlan(a, plan, `${site.teachers} teachers`, 'reduce teachers.count');
  return { spec, plan };
}

/**
 * The evaluation an announcement asks for, recomputed by the site like a distillation release:
 * its own count of test records, the noise checked against the announced figures.
 */
export function evaluationFromTerms(
  a: Announcement,
  site: SiteTerms & { readonly testRecords: number },
): { spec: EvaluationSpec; plan: ReleasePlan } {
  checkCommon(a, site);
  if (a.summary !== 'evaluation') throw refuse('the round is a distillation round, not an evaluation');
  const base = { classes: a.classes, maxRecords: Math.max(1, site.testRecords), noise: null };
  let spec: EvaluationSpec = {
    ...base,
    noise: guarded(() => noiseFromTerms(a, planEvaluation(base).l2, site.allowNonPrivate)),
  };
  let plan = guarded(() => planEvaluation(spec));
  // A test split larger than the federation counts is truncated to what the announced bound allows.
  const allowed = a.maxInput - (plan.maxInput - spec.maxRecords);
  if (plan.maxInput > a.maxInput && allowed >= 1) {
    spec = { ...spec, maxRecords: allowed };
    plan = planEvaluation(spec);
  }
  checkPlan(a, plan, `${spec.maxRecords} test records`, 'the announcement leaves no room for any record');
  return { spec, plan };
}

/**
 * The class-sum release an announcement asks for (summary 'class-sums'), recomputed by the site
 * like a distillation release: the announced feature count must be its own (`features`: the
 * output size of the extractor it rebuilt from the approved definition and checked, or its
 * input's values without one), the
 * noise is checked against the announced figures, and a site with more records than the
 * announced input bound allows counts only as many as fit (like an evaluation's test split).
 */
export function classSumsFromTerms(
  a: Announcement,
  site: SiteTerms & { readonly records: number; readonly features: number },
): { spec: ReleaseSpec; plan: ReleasePlan } {
  checkCommon(a, site);
  if (a.summary !== 'class-sums') throw refuse(`the round asks for ${a.summary}, not class sums`);
  if (a.features !== site.features)
    throw refuse(
      `the round's class sums have ${a.features} feature values; this site's records give ${site.features}`,
    );
  if (!(a.quantizationScale >= 1)) throw refuse(`quantization scale ${a.quantizationScale} must be >= 1`);
  const base: ReleaseSpec = {
    summary: 'class-sums',
    queries: 0,
    classes: a.classes,
    clipNorm: 1,
    granularity: 1 / a.quantizationScale,
    maxTeachers: 1, // no teacher answers a class-sum round
    features: site.features,
    maxRecords: Math.max(1, site.records),
    noise: null,
  };
  let spec: ReleaseSpec = {
    ...base,
    noise: guarded(() => noiseFromTerms(a, planRelease(base).l2, site.allowNonPrivate)),
  };
  let plan = guarded(() => planRelease(spec));
  // What one record can add to an entry (classSumSizes: maxSignal = maxRecords x that).
  const perRecord = plan.maxSignal / (spec.maxRecords ?? 1);
  const allowed = Math.floor((a.maxInput - (plan.maxInput - plan.maxSignal)) / perRecord);
  if (plan.maxInput > a.maxInput && allowed >= 1) {
    spec = { ...spec, maxRecords: allowed };
    plan = planRelease(spec);
  }
  checkPlan(a, plan, `${spec.maxRecords} records`, 'the announcement leaves no room for any record');
  return { spec, plan };
}

/** Runs `fn`; a RangeError from the release maths becomes a refusal naming it. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TermsRefusedError) throw err;
    throw refuse((err as Error).message);
  }
}

/** The distributed noise the terms imply, from the site's own sensitivity `l2` (noiseSplitOf). */
function noiseFromTerms(a: Announcement, l2: number, allowNonPrivate: boolean): ReleaseSpec['noise'] {
  if (a.mechanism === 'none') {
    if (!allowNonPrivate)
      throw refuse(
        'the round adds no noise (mechanism none) and this site requires differential privacy (privacy.allowNonPrivate is false)',
      );
    return null;
  }
  if (!(a.aggregateNoiseStddev > 0)) throw refuse('the aggregate noise standard deviation must be > 0');
  if (a.assumedColluders >= a.minSurvivors)
    throw refuse(
      `assumed_colluders ${a.assumedColluders} leaves no honest survivor of ${a.minSurvivors} (it must be below min_survivors)`,
    );
  return {
    kind: a.mechanism,
    noiseMultiplier: a.aggregateNoiseStddev / l2,
    ...noiseSplitOf(a.participants.length, a.minSurvivors, a.assumedColluders),
  };
}

/** The site's noise share must be the announced one, and its input must fit the announced bound. */
function checkPlan(a: Announcement, plan: ReleasePlan, what: string, remedy: string): void {
  if (plan.noise) {
    const share = siteNoiseStddev(plan.noise);
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
