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
