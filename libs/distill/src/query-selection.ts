import { ExperimentRandom } from './seeded';

/**
 * Which reference inputs a round asks about. Every query costs privacy, so asking where the
 * student is least sure spends the budget where it helps most (uncertainty sampling, Lewis and
 * Gale 1994; least-confidence as in Settles, "Active Learning Literature Survey", 2009, §3.1).
 * The student's predictions are computed on public reference inputs only, so this choice reveals
 * nothing private beyond what the student (itself post-processing of released targets) does.
 */
export type QueryStrategy = { readonly kind: 'random' } | { readonly kind: 'least-confident' };

/**
 * Picks `count` distinct indices from `candidates` (unasked reference indices), returned in
 * ascending order; all of them when `count` exceeds the candidates. 'random' is a seeded uniform
 * subset. For 'least-confident', `studentProbs` holds the student's [candidates, classes]
 * probabilities (row i for candidates[i]) and the candidates with the lowest top-class
 * probability are chosen (ties broken by the smaller index, so the choice is deterministic).
 */
export function selectQueries(
  candidates: readonly number[],
  count: number,
  strategy: QueryStrategy,
  seed: number,
  studentProbs?: { readonly probs: ArrayLike<number>; readonly classes: number },
): number[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError("'count' must be an integer >= 0");
  if (new Set(candidates).size !== candidates.length)
    throw new RangeError("'candidates' must not repeat an index");
  const take = Math.min(count, candidates.length);
  if (strategy.kind === 'random')
    return new ExperimentRandom(seed)
      .shuffle([...candidates])
      .slice(0, take)
      .sort((a, b) => a - b);
  if (strategy.kind !== 'least-confident')
    throw new RangeError(`unknown query strategy '${(strategy as { kind: string }).kind}'`);
  if (!studentProbs) throw new RangeError("'least-confident' needs the student's probabilities");
  const { probs, classes } = studentProbs;
  if (!Number.isInteger(classes) || classes < 2)
    throw new RangeError("'least-confident' needs an integer number of classes >= 2");
  if (probs.length !== candidates.length * classes)
    throw new RangeError(
      `'least-confident' needs the student's probabilities for every candidate: got ${probs.length} values for ${candidates.length} candidates x ${classes} classes`,
    );
  const confidence = candidates.map((index, i) => {
    let top = -Infinity;
    for (let c = 0; c < classes; c += 1) top = Math.max(top, probs[i * classes + c] as number);
    if (!Number.isFinite(top))
      throw new RangeError(`the student's probabilities for candidate ${index} are not finite`);
    return { index, top };
  });
  confidence.sort((a, b) => a.top - b.top || a.index - b.index);
  return confidence
    .slice(0, take)
    .map((c) => c.index)
    .sort((a, b) => a - b);
}
