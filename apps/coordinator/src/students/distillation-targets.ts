import type { Dataset } from '@fedistill/data';
import {
  classSumFeatures,
  classSumTargets,
  classSumTermsOf,
  planRelease,
  type TargetRule,
  targetsFromSum,
} from '@fedistill/distill';
import type { FederationSpec } from '@fedistill/protocol';
import type { CompletedRound } from './completed-rounds';

/** Distillation data: reference-set row indices and their target probabilities, row-major. */
export interface DistillationData {
  /** Reference-set rows, ascending. */
  readonly rows: readonly number[];
  /** [rows x classes] targets, in the order of `rows`. */
  readonly probs: Float32Array;
}

/** The federation's rule for turning a noisy sum into targets (libs/distill release.ts). */
export function targetRuleOf(d: FederationSpec['distillation']): TargetRule {
  if (d.aggregation === 'era') return { kind: 'era', temperature: d.eraTemperature ?? 0.5 };
  if (d.aggregation === 'gnmax') return { kind: 'gnmax', threshold: d.gnmaxThreshold };
  return { kind: 'mean' };
}

/**
 * The targets of every completed round, gathered over the federation's history: each round adds
 * the reference rows it answered; a row asked again keeps the latest round's targets. Turning a
 * released sum into targets is post-processing, so reusing old rounds costs no extra privacy.
 */
export function accumulateTargets(
  rounds: readonly CompletedRound[],
  rule: TargetRule,
  classes: number,
): DistillationData {
  const byRow = new Map<number, Float32Array>();
  for (const r of [...rounds].sort((a, b) => a.round - b.round)) {
    if (r.plan.release.summary === 'class-sums') continue; // classSumData's
    if (r.plan.release.classes !== classes)
      throw new RangeError(
        `round ${r.round} has ${r.plan.release.classes} classes, the federation ${classes}`,
      );
    const targets = targetsFromSum(r.sum, planRelease(r.plan.release), rule, classes);
    targets.answered.forEach((q, i) => {
      const row = r.plan.queries[q];
      if (row === undefined) throw new RangeError(`round ${r.round} answered query ${q} it never asked`);
      byRow.set(row, targets.probs.slice(i * classes, (i + 1) * classes));
    });
  }
  const rows = [...byRow.keys()].sort((a, b) => a - b);
  const probs = new Float32Array(rows.length * classes);
  rows.forEach((row, i) => probs.set(byRow.get(row) as Float32Array, i * classes));
  return { rows, probs };
}

/**
 * Targets from the federation's class-sum rounds (privacy.summary 'class-sums'), or null when it
 * has none: the mean of the rounds' released sums (each the same statistic with its own noise)
 * through the ridge classifier of libs/distill classSumTargets, fitted with the second moment of
 * the public reference rows' features (`reference`: the reference set through the federation's
 * extractor, or as it is without one), labels every reference row. Post-processing of the releases only.
 */
export function classSumData(
  rounds: readonly CompletedRound[],
  reference: Dataset,
  classes: number,
): DistillationData | null {
  const sums = rounds.filter((r) => r.plan.release.summary === 'class-sums');
  const first = sums[0];
  if (!first) return null;
  const terms = classSumTermsOf(first.plan.release);
  if (terms.classes !== classes)
    throw new RangeError(`round ${first.round} has ${terms.classes} classes, the federation ${classes}`);
  if (reference.featureShape.reduce((a, b) => a * b, 1) !== terms.features)
    throw new RangeError(
      `the reference rows have shape [${reference.featureShape.join(', ')}]; the class sums ${terms.features} values`,
    );
  const mean = new Float64Array(first.sum.length);
  for (const r of sums) {
    const t = classSumTermsOf(r.plan.release);
    if (t.features !== terms.features || t.granularity !== terms.granularity || r.sum.length !== mean.length)
      throw new RangeError(`round ${r.round}'s class sums differ in shape from round ${first.round}'s`);
    for (let i = 0; i < mean.length; i += 1)
      mean[i] = (mean[i] as number) + (r.sum[i] as number) / sums.length;
  }
  const phi = classSumFeatures(reference.features, reference.count, terms.features);
  const targets = classSumTargets(mean, terms, phi);
  return { rows: targets.answered, probs: targets.probs };
}
