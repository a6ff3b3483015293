import { ExperimentRandom } from './seeded';

/**
 * Which reference inputs a round asks about. Every query costs privacy, so asking where the
 * student is least sure spends the budget where it helps most (uncertainty sampling, Lewis and
 * Gale 1994). The student's predictions are computed on public reference inputs only, so this
 * choice reveals nothing private.
 */
export type QueryStrategy = { readonly kind: 'random' } | { readonly kind: 'least-confident' };

/**
 * Picks `count` distinct indices from `candidates` (unasked reference indices). For
 * 'least-confident', `studentProbs` holds the student's [candidates, classes] probabilities and
 * the candidates with the lowest top-class probability are chosen (ties by index).
 */
export function selectQueries(
  candidates: readonly number[],
  count: number,
  strategy: QueryStrategy,
  seed: number,
  studentProbs?: { readonly probs: ArrayLike<number>; readonly classes: number },
): number[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError("'count' must be an integer >= 0");
  const take = Math.min(count, candidates.length);
  if (strategy.kind === 'random')
    return new ExperimentRandom(seed)
      .shuffle([...candidates])
      .slice(0, take)
      .sort((a, b) => a - b);
  if (!studentProbs || studentProbs.probs.length !== candidates.length * studentProbs.classes) {
    throw new RangeError("'least-confident' needs the student's probabilities for every candidate");
  }
  const { probs, classes } = studentProbs;
  const confidence = candidates.map((index, i) => {
    let top = 0;
    for (let c = 0; c < classes; c += 1) top = Math.max(top, probs[i * classes + c] as number);
    return { index, top };
  });
  confidence.sort((a, b) => a.top - b.top || a.index - b.index);
  return confidence
    .slice(0, take)
    .map((c) => c.index)
    .sort((a, b) => a - b);
}
