/** z of a two-sided 95% normal interval. */
const Z95 = 1.959963984540054;

/** What an evaluation round's noised, securely aggregated counts say about the student. */
export interface EvaluationEstimate {
  /**
   * Correct predictions over test records, from the counts clamped to possible values (records
   * >= 0, correct in [0, records]); null when no record is left. Clamping is post-processing of
   * the release: it costs no privacy.
   */
  readonly accuracy: number | null;
  /**
   * A 95% interval of the accuracy given the noise of both sums (Fieller's interval for a ratio
   * of two normally distributed estimates), within [0, 1]; null without noise and records. It covers the
   * noise only, not the sampling error of the sites' test records.
   */
  readonly interval: { readonly low: number; readonly high: number; readonly confidence: 0.95 } | null;
  /** Test records and correct predictions, clamped as above. */
  readonly records: number;
  readonly correct: number;
  /** The sums as released (noise included, possibly negative or inconsistent). */
  readonly noised: { readonly correct: number; readonly records: number };
  /** Standard deviation of the noise in each of the two totals. */
  readonly noiseStddev: number;
  /** Per class, clamped like the totals (records >= 0, correct in [0, records]). */
  readonly perClass: readonly { readonly correct: number; readonly records: number }[];
}

const clamp = (v: number, low: number, high: number) => Math.min(high, Math.max(low, v));

/**
 * The accuracy, its interval and the clamped counts from the decoded (noisy) sum of an
 * evaluation round: per class, correct predictions then test records (2 x classes entries), each
 * entry carrying independent noise of variance `entryVariance` (0 without privacy).
 * Interval: with C and R the noised totals, each the true total plus noise of variance
 * v = classes x entryVariance (Skellam and discrete Gaussian noise of this size are close to
 * normal), C - θR is normal with mean 0 and variance v(1 + θ²) at the true ratio θ, so
 * {θ : (C - θR)² <= z² v (1 + θ²)} is a 95% confidence set (Fieller 1954, J. R. Stat. Soc. B
 * 16(2), 175-185). It is an interval when R² > z² v; otherwise the noise leaves the ratio
 * unbounded and [0, 1] is reported.
 */
export function evaluationFromSum(
  sum: ArrayLike<number>,
  classes: number,
  entryVariance = 0,
): EvaluationEstimate {
  if (!Number.isInteger(classes) || classes < 2) throw new RangeError("'classes' must be an integer >= 2");
  if (sum.length !== 2 * classes)
    throw new RangeError(
      `'sum' has ${sum.length} entries; an evaluation of ${classes} classes has ${2 * classes}`,
    );
  if (!(entryVariance >= 0) || !Number.isFinite(entryVariance))
    throw new RangeError("'entryVariance' must be a finite number >= 0");
  const noised = { correct: 0, records: 0 };
  const perClass = Array.from({ length: classes }, (_, c) => {
    const correct = sum[c] as number;
    const records = sum[classes + c] as number;
    noised.correct += correct;
    noised.records += records;
    const r = Math.max(0, records);
    return { correct: clamp(correct, 0, r), records: r };
  });
  const records = Math.max(0, noised.records);
  const correct = clamp(noised.correct, 0, records);
  const v = classes * entryVariance;
  return {
    accuracy: records > 0 ? correct / records : null,
    interval: intervalOf(noised.correct, noised.records, v),
    records,
    correct,
    noised,
    noiseStddev: Math.sqrt(v),
    perClass,
  };
}

/**
 * Fieller's 95% interval of the ratio of noised totals `c` / `r` (each of noise variance `v`),
 * within [0, 1]: the exact ratio without noise (null without records), [0, 1] when the noised
 * records are not positive or not clear of the noise.
 */
function intervalOf(c: number, r: number, v: number): EvaluationEstimate['interval'] {
  if (v === 0) {
    if (r <= 0) return null;
    const point = clamp(c / r, 0, 1);
    return { low: point, high: point, confidence: 0.95 };
  }
  const zz = Z95 * Z95 * v;
  const a = r * r - zz;
  if (r <= 0 || a <= 0) return { low: 0, high: 1, confidence: 0.95 };
  // Roots of a θ² - 2 c r θ + (c² - zz) = 0; the discriminant / 4 is zz (r² + c² - zz) > 0.
  const half = Math.sqrt(zz * (r * r + c * c - zz));
  return {
    low: clamp((c * r - half) / a, 0, 1),
    high: clamp((c * r + half) / a, 0, 1),
    confidence: 0.95,
  };
}
