/** An evaluation round's result as the admin API shows it (older coordinators send no interval). */
export interface EvaluationResult {
  readonly studentVersion: number;
  readonly accuracy: number | null;
  readonly records: number;
  readonly interval?: { readonly low: number; readonly high: number; readonly confidence: number } | null;
}

/**
 * "accuracy 0.6000 (95% interval 0.48-0.71 for the noise) over about 60 local test records of
 * the sites (noised)": the clamped point estimate, then the interval the noise allows. Both are
 * post-processing of the release (docs/federations.md, "Evaluation rounds").
 */
export function evaluationWords(e: EvaluationResult): string {
  const accuracy = e.accuracy === null ? '-' : e.accuracy.toFixed(4);
  const interval = e.interval
    ? ` (${Math.round(e.interval.confidence * 100)}% interval ${e.interval.low.toFixed(2)}-${e.interval.high.toFixed(2)} for the noise)`
    : '';
  return `accuracy ${accuracy}${interval} over about ${e.records} local test records of the sites (noised)`;
}
