// Statistics of an interleaved A/B benchmark: per-side summaries of throughput samples (higher is
// better) and the ratio of the two sides, refused when either side is too noisy to compare.

/** Median, best, worst and relative spread of one side's samples (e.g. samples/s). */
export interface SideSummary {
  /** The samples in the order they were taken. */
  readonly samples: readonly number[];
  readonly median: number;
  /** The highest sample (throughputs: higher is better). */
  readonly best: number;
  readonly worst: number;
  /** (best - worst) / median: 0 for identical samples, 1 when the range equals the median. */
  readonly spread: number;
}

/** The comparison of side A with side B. */
export interface Comparison {
  readonly a: SideSummary;
  readonly b: SideSummary;
  /** The largest spread either side may have for a ratio to be printed, > 0. */
  readonly maxSpread: number;
  /** median(A) / median(B), or null when refused. */
  readonly ratioOfMedians: number | null;
  /** best(A) / best(B), or null when refused. */
  readonly ratioOfBests: number | null;
  /** Why no ratio is given (a side's spread exceeds `maxSpread`), or null. */
  readonly refused: string | null;
}

function checkSamples(samples: readonly number[], what: string): void {
  if (samples.length === 0) throw new RangeError(`'${what}' needs at least one sample`);
  const bad = samples.find((v) => !(Number.isFinite(v) && v > 0));
  if (bad !== undefined) throw new RangeError(`'${what}' samples must be finite and > 0, got ${bad}`);
}

/** The median (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("'values' must not be empty");
  const s = [...values].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Summarizes one side's throughput samples (each finite and > 0). */
export function summarize(samples: readonly number[], what = 'samples'): SideSummary {
  checkSamples(samples, what);
  const m = median(samples);
  const best = Math.max(...samples);
  const worst = Math.min(...samples);
  return { samples: [...samples], median: m, best, worst, spread: (best - worst) / m };
}

/**
 * Compares two sides' throughput samples. A ratio of noisy medians is not a measurement, so
 * when either side's spread exceeds `maxSpread` both ratios are null and `refused` says which
 * side was too noisy and by how much.
 */
export function compare(
  a: readonly number[],
  b: readonly number[],
  maxSpread: number,
  names = ['A', 'B'],
): Comparison {
  if (!(Number.isFinite(maxSpread) && maxSpread > 0))
    throw new RangeError("'maxSpread' must be a finite number > 0");
  const [na, nb] = [names[0] ?? 'A', names[1] ?? 'B'];
  const sa = summarize(a, na);
  const sb = summarize(b, nb);
  const noisy = [
    [na, sa],
    [nb, sb],
  ].filter(([, s]) => (s as SideSummary).spread > maxSpread) as [string, SideSummary][];
  const refused =
    noisy.length === 0
      ? null
      : `ratio refused: spread ${noisy
          .map(([n, s]) => `of ${n} ${s.spread.toFixed(3)}`)
          .join(' and ')} exceeds the bound ${maxSpread} ((max - min) / median)`;
  return {
    a: sa,
    b: sb,
    maxSpread,
    ratioOfMedians: refused ? null : sa.median / sb.median,
    ratioOfBests: refused ? null : sa.best / sb.best,
    refused,
  };
}
