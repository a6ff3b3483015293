/**
 * GNMax and confident GNMax (Papernot et al. 2018, "Scalable Private Learning with PATE",
 * arXiv:1802.08908, §4, Algorithm 1) on vote counts that already carry their noise: in fedistill
 * the noise is added by the sites before secure aggregation, so what remains at the coordinator
 * is post-processing (argmax, threshold test), which costs no privacy. The privacy cost is what
 * `gnmaxCharges` declares to the ledger.
 */
import type { Release } from './ledger';

/** Index of the largest count (the lowest index among ties), for one query's noisy vote counts. */
export function noisyArgmax(noisyCounts: ArrayLike<number>): number {
  if (noisyCounts.length === 0) throw new RangeError("'noisyCounts' must not be empty");
  let best = 0;
  for (let j = 1; j < noisyCounts.length; j++)
    if ((noisyCounts[j] as number) > (noisyCounts[best] as number)) best = j;
  return best;
}

/**
 * Confident GNMax for one query: if the largest count of the σ1-noised check release reaches
 * `threshold`, answer with the argmax of the σ2-noised answer release; otherwise abstain (null).
 */
export function confidentGnmax(
  checkCounts: ArrayLike<number>,
  answerCounts: ArrayLike<number>,
  threshold: number,
): number | null {
  if (checkCounts.length !== answerCounts.length)
    throw new RangeError("'checkCounts' and 'answerCounts' must align");
  let max = -Infinity;
  for (let j = 0; j < checkCounts.length; j++) max = Math.max(max, checkCounts[j] as number);
  return max >= threshold ? noisyArgmax(answerCounts) : null;
}

/**
 * The releases to charge for a round of confident GNMax with data-independent bounds: the check
 * for every query (Gaussian on the max count, sensitivity 1) and GNMax for each answered query
 * (Proposition 8). With `sigmaCheck` undefined, plain GNMax: every query is answered.
 */
export function gnmaxCharges(
  label: string,
  queries: number,
  answered: number,
  sigmaAnswer: number,
  sigmaCheck?: number,
): Release[] {
  if (!Number.isInteger(queries) || queries < 0) throw new RangeError("'queries' must be an integer >= 0");
  if (!Number.isInteger(answered) || answered < 0 || answered > queries) {
    throw new RangeError("'answered' must be an integer in [0, queries]");
  }
  const answer: Release = {
    label: `${label}/answer`,
    mechanism: { kind: 'gnmax', sigma: sigmaAnswer },
    count: answered,
  };
  if (sigmaCheck === undefined) return [{ ...answer, count: queries }];
  return [
    { label: `${label}/check`, mechanism: { kind: 'gnmax-threshold', sigma: sigmaCheck }, count: queries },
    answer,
  ];
}
