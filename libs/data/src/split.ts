import { type Dataset, selectSamples } from './dataset';
import { permutation } from './random';

/**
 * Splits a dataset into training and validation parts after a seeded shuffle:
 * round(count * validationFraction) samples go to validation.
 */
export function trainValidationSplit(
  d: Dataset,
  validationFraction: number,
  seed: number,
): { train: Dataset; validation: Dataset } {
  if (!(validationFraction > 0 && validationFraction < 1))
    throw new RangeError("'validationFraction' must be in (0, 1)");
  const order = permutation(d.count, seed);
  const nVal = Math.round(d.count * validationFraction);
  if (nVal === 0 || nVal === d.count)
    throw new RangeError(`'validationFraction' leaves an empty split of ${d.count} samples`);
  return {
    validation: selectSamples(d, order.subarray(0, nVal)),
    train: selectSamples(d, order.subarray(nVal)),
  };
}
