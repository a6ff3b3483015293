import { noisyArgmax } from '@fedistill/dp';
import { softmaxRows } from './metrics';

/**
 * Aggregation rules at the coordinator: they turn the noisy sum of all sites' summaries into
 * distillation targets. Each is post-processing of the one noisy release, so it costs no extra
 * privacy. `sums` is row-major [queries, classes].
 */
export interface Targets {
  /** Row-major [answered queries, classes] target probabilities. */
  readonly probs: Float32Array;
  /** Which queries (indices into the round's query list) were answered, in order. */
  readonly answered: readonly number[];
}

function rows(sums: ArrayLike<number>, classes: number): number {
  if (!Number.isInteger(classes) || classes < 2) throw new RangeError("'classes' must be an integer >= 2");
  if (sums.length % classes !== 0)
    throw new RangeError(`'sums' length ${sums.length} is not a multiple of ${classes} classes`);
  return sums.length / classes;
}

/**
 * Normalized mean of soft labels (FedMD, Li and Wang 2019, arXiv:1910.03581; FedDF, Lin et al.
 * 2020, arXiv:2006.07242): noise can push entries below zero, so they are clamped at 0 and each
 * row is renormalized; a row with no mass left becomes uniform.
 */
export function normalizedMean(sums: ArrayLike<number>, classes: number): Targets {
  const n = rows(sums, classes);
  const probs = new Float32Array(n * classes);
  for (let q = 0; q < n; q += 1) {
    let total = 0;
    for (let c = 0; c < classes; c += 1) total += Math.max(0, sums[q * classes + c] as number);
    for (let c = 0; c < classes; c += 1) {
      probs[q * classes + c] = total > 0 ? Math.max(0, sums[q * classes + c] as number) / total : 1 / classes;
    }
  }
  return { probs, answered: Array.from({ length: n }, (_, q) => q) };
}

/**
 * Entropy reduction aggregation (ERA) of DS-FL (Itahara et al. 2020, arXiv:2008.06180, §III-C):
 * the averaged soft labels go through a softmax at temperature T < 1, which lowers their entropy
 * and speeds up distillation under non-IID data.
 */
export function eraSharpen(targets: Targets, classes: number, temperature: number): Targets {
  return { probs: softmaxRows(targets.probs, classes, temperature), answered: targets.answered };
}

/**
 * Noisy argmax of votes (GNMax, Papernot et al. 2018, arXiv:1802.08908, §4.1) on the aggregated
 * noisy vote histogram, with an optional confidence threshold: a query whose largest noisy count
 * is below `threshold` is dropped (the ensemble does not agree). The threshold is applied to the
 * same noisy release, so it is post-processing: the accountant charges the histogram release
 * for every query, answered or not (no data-dependent savings are claimed).
 */
export function noisyArgmaxVotes(
  noisyVotes: ArrayLike<number>,
  classes: number,
  threshold?: number,
): Targets {
  const n = rows(noisyVotes, classes);
  const answered: number[] = [];
  const picked: number[] = [];
  for (let q = 0; q < n; q += 1) {
    const row = Array.from({ length: classes }, (_, c) => noisyVotes[q * classes + c] as number);
    if (threshold !== undefined && Math.max(...row) < threshold) continue;
    answered.push(q);
    picked.push(noisyArgmax(row));
  }
  const probs = new Float32Array(answered.length * classes);
  picked.forEach((c, i) => (probs[i * classes + c] = 1));
  return { probs, answered };
}
