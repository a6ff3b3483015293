/**
 * A labelled classification dataset held in memory: `count` samples, each of
 * `featureShape` float32 values (row-major), and a class index per sample.
 */
export interface Dataset {
  readonly features: Float32Array;
  /** Class indices in [0, numClasses). */
  readonly labels: Int32Array;
  readonly count: number;
  /** Per-sample shape, e.g. [1, 28, 28] for images or [30] for tabular rows. */
  readonly featureShape: readonly number[];
  readonly numClasses: number;
}

/** Values per sample. */
export function featureSize(d: Pick<Dataset, 'featureShape'>): number {
  return d.featureShape.reduce((a, b) => a * b, 1);
}

/** The samples at `indices`, in that order, as a new dataset. */
export function selectSamples(d: Dataset, indices: ArrayLike<number>): Dataset {
  const per = featureSize(d);
  const features = new Float32Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i += 1) {
    const src = indices[i]!;
    if (!Number.isInteger(src) || src < 0 || src >= d.count)
      throw new RangeError(`index ${src} is outside [0, ${d.count})`);
    features.set(d.features.subarray(src * per, (src + 1) * per), i * per);
    labels[i] = d.labels[src]!;
  }
  return { features, labels, count: indices.length, featureShape: d.featureShape, numClasses: d.numClasses };
}

/** Checks that every label lies in [0, numClasses). */
export function checkLabels(labels: Int32Array, numClasses: number, onError: (m: string) => Error): void {
  for (let i = 0; i < labels.length; i += 1) {
    const v = labels[i]!;
    if (v < 0 || v >= numClasses)
      throw onError(`label ${v} of sample ${i} is outside the declared classes [0, ${numClasses})`);
  }
}

/** Largest class index a labels file may hold: labels are stored as int32. */
const MAX_CLASS_INDEX = 0x7fffffff;

/**
 * Class indices from a labels file's values (any numeric type): each must be an integer in
 * [0, 2^31 - 1], so that none is truncated (1.5 to 1, NaN to 0) or wrapped (2^32 + 1 to 1) on
 * its way into the Int32Array.
 */
export function classIndices(values: ArrayLike<number | bigint>, onError: (m: string) => Error): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i]!;
    const n = typeof v === 'bigint' ? (v < 0n ? -1 : v > BigInt(MAX_CLASS_INDEX) ? Infinity : Number(v)) : v;
    if (!Number.isInteger(n) || n < 0 || n > MAX_CLASS_INDEX)
      throw onError(
        `label ${String(v)} of sample ${i} is not a class index (an integer in [0, ${MAX_CLASS_INDEX}])`,
      );
    out[i] = n;
  }
  return out;
}

/**
 * Checks a loaded dataset's shape and values: each record has at least one feature value
 * (no dimension of 0) and every value is finite, as float32 (a float64 1e300 is not).
 */
export function checkFeatures(
  featureShape: readonly number[],
  features: Float32Array,
  onError: (m: string) => Error,
): void {
  if (featureShape.some((d) => d < 1))
    throw onError(`records of shape [${featureShape.join(', ')}] hold no feature values`);
  const per = featureShape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < features.length; i += 1) {
    if (!Number.isFinite(features[i]))
      throw onError(
        `feature value ${features[i]} at index ${i % per} of sample ${Math.floor(i / per)} is not a finite float32`,
      );
  }
}
