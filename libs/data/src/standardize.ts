import { type Dataset, featureSize } from './dataset';

/**
 * Per-feature standardization z = (x - mean) / std. Fit it on the training split only, then
 * apply the same transform to validation and test data, so no statistic leaks from them.
 */
export class Standardizer {
  private constructor(
    /** Mean of each feature on the fitted data. */
    readonly mean: Float64Array,
    /** Population standard deviation of each feature (1 where it is 0). */
    readonly std: Float64Array,
  ) {}

  /** Computes mean and standard deviation per feature (two-pass, float64). */
  static fit(d: Dataset): Standardizer {
    const per = featureSize(d);
    if (d.count < 1) throw new RangeError("'d' must hold at least one sample");
    const mean = new Float64Array(per);
    const std = new Float64Array(per);
    for (let i = 0; i < d.count; i += 1)
      for (let j = 0; j < per; j += 1) mean[j]! += d.features[i * per + j]!;
    mean.forEach((v, j) => (mean[j] = v / d.count));
    for (let i = 0; i < d.count; i += 1) {
      for (let j = 0; j < per; j += 1) std[j]! += (d.features[i * per + j]! - mean[j]!) ** 2;
    }
    std.forEach((v, j) => (std[j] = Math.sqrt(v / d.count) || 1));
    return new Standardizer(mean, std);
  }

  /** A standardized copy of `d`. */
  apply(d: Dataset): Dataset {
    const per = featureSize(d);
    if (per !== this.mean.length)
      throw new RangeError(`'d' has ${per} features, the standardizer ${this.mean.length}`);
    // A plain loop: Float32Array.from with a mapping callback took seconds per reference set.
    const features = new Float32Array(d.features.length);
    const { mean, std } = this;
    for (let row = 0; row < features.length; row += per)
      for (let j = 0; j < per; j += 1) features[row + j] = (d.features[row + j]! - mean[j]!) / std[j]!;
    return { ...d, features };
  }
}
