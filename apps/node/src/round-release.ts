import * as fs from 'node:fs';
import { cryptoRandom, type RandomSource } from '@fedistill/dp';
import {
  argmaxRows,
  classSumFeatures,
  type ReleasePlan,
  siteClassSumRelease,
  siteEvaluationRelease,
  siteRelease,
} from '@fedistill/distill';
import { type ExecutionProvider, Predictor } from '@fedistill/engine';
import { DeclineReason, type RoundAnnouncement } from '@fedistill/wire';
import {
  classSumsFromAnnouncement,
  evaluationFromAnnouncement,
  releaseFromAnnouncement,
  RoundRefusal,
} from './announcement-checks';
import type { LocalFederation } from './federation-sync';
import { teacherInputs } from './site-features';
import type { PreparedSite } from './site-preparation';

/** A round's release, planned (and so priced) before anything is computed, and how to compute it. */
export interface RoundRelease {
  readonly plan: ReleasePlan;
  readonly compute: () => Promise<Int32Array>;
  /**
   * After compute, with node.yaml teachers.abstain: the (teacher, query) answers cast and
   * withheld this round, summed over all queries (an aggregate the site may log locally).
   */
  readonly answers?: () => { readonly cast: number; readonly abstained: number } | null;
}

export interface ReleaseOptions {
  readonly allowNonPrivate: boolean;
  /** Noise and rounding randomness: the CSPRNG (a seeded source only in tests). */
  readonly random?: RandomSource;
  readonly provider: ExecutionProvider;
  /** The verified ONNX file of a published student, for evaluation rounds. */
  readonly student?: (federationId: string, version: number) => Promise<string>;
}

/**
 * A distillation round: the site picks the queried reference rows, runs its teachers on them and
 * builds the clipped, rounded and noised summary the announcement describes.
 */
export function distillationRelease(
  a: RoundAnnouncement,
  local: LocalFederation,
  site: PreparedSite,
  o: ReleaseOptions,
): RoundRelease {
  const { spec, plan } = releaseFromAnnouncement(a, site.schema, site.teachers.size, o.allowNonPrivate);
  let answers: { cast: number; abstained: number } | null = null;
  const compute = async () => {
    const x = teacherInputs(local, site, a.queryIndices);
    const n = a.queryIndices.length;
    const probs = await site.teachers.probabilities(x, n, a.temperature);
    // An abstaining teacher's row is zero: no vote, a zero soft-label vector (abstention.ts).
    const gated = site.abstention?.apply(probs, x, n);
    if (gated) answers = { cast: gated.cast, abstained: gated.abstained };
    return siteRelease(gated?.probs ?? probs, spec, plan, o.random ?? cryptoRandom);
  };
  return { plan, compute, answers: () => answers };
}

/**
 * A class-sum round (privacy.summary 'class-sums'): per class, the sum of the site's records'
 * unit-norm features (libs/distill class-sums.ts), rounded per record and noised. The records
 * are those the teachers train on, through the extractor this site rebuilt and checked (or its
 * inputs, flattened, without one); a site with more records than the announced bound allows
 * counts the first ones that fit.
 */
export function classSumRelease(a: RoundAnnouncement, site: PreparedSite, o: ReleaseOptions): RoundRelease {
  // The records through the extractor this site rebuilt and checked, or as loaded without one.
  const train = site.trainFeatures ?? site.data.train;
  const size = train.featureShape.reduce((x, y) => x * y, 1);
  const { spec, plan } = classSumsFromAnnouncement(
    a,
    site.schema,
    { records: train.count, features: size },
    o.allowNonPrivate,
  );
  const compute = () => {
    const count = Math.min(train.count, spec.maxRecords ?? train.count);
    const phi = classSumFeatures(train.features.subarray(0, count * size), count, size);
    return Promise.resolve(
      siteClassSumRelease(phi, train.labels.subarray(0, count), spec, plan, o.random ?? cryptoRandom),
    );
  };
  return { plan, compute };
}

/**
 * An evaluation round: the site runs the published student on its local test split and releases
 * per-class correct counts and record counts, noised like any release.
 */
export async function evaluationRelease(
  a: RoundAnnouncement,
  local: LocalFederation,
  site: PreparedSite,
  o: ReleaseOptions,
): Promise<RoundRelease> {
  const unavailable = (m: string, reported?: string) =>
    new RoundRefusal(DeclineReason.DECLINE_REASON_UNAVAILABLE, m, undefined, reported);
  const test = site.data.test;
  if (!test || test.count === 0)
    throw unavailable('this site has no local test split (data.test or data.testFraction)');
  if (!o.student) throw unavailable('this node keeps no students');
  const { spec, plan } = evaluationFromAnnouncement(a, site.schema, test.count, o.allowNonPrivate);
  const file = await o.student(local.id, a.studentVersion).catch((err: Error) => {
    // The download's error may name the node's own files: the coordinator hears only the version.
    throw unavailable(
      `student v${a.studentVersion} is not available here: ${err.message}`,
      `student v${a.studentVersion} is not available at this site; the reason is in the node's log`,
    );
  });
  const compute = async () => {
    const predictor = await Predictor.create(new Uint8Array(fs.readFileSync(file)), site.schema.inputShape, {
      provider: o.provider,
    });
    try {
      const logits = await predictor.logits(test.features, test.count);
      const predicted = argmaxRows(logits, site.schema.labels.length);
      return siteEvaluationRelease(predicted, test.labels, spec, plan, o.random ?? cryptoRandom);
    } finally {
      await predictor.dispose();
    }
  };
  return { plan, compute };
}
