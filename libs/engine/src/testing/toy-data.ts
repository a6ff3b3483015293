import type { Batch } from '../runner/trainer';
import { SeededRandom } from '../models/init';

/**
 * Seeded, learnable toy batches: `classes` Gaussian blobs in `features` dimensions (centres
 * 2 apart per axis), with int64 labels. Test data only.
 */
export function blobBatches(
  count: number,
  batchSize: number,
  features: number,
  classes: number,
  seed: number,
): Batch[] {
  const rng = new SeededRandom(seed);
  const centres = Array.from({ length: classes }, () =>
    Array.from({ length: features }, () => 2 * rng.normal()),
  );
  return Array.from({ length: count }, () => {
    const x = new Float32Array(batchSize * features);
    const y = new BigInt64Array(batchSize);
    for (let i = 0; i < batchSize; i += 1) {
      const c = Math.floor(rng.next() * classes);
      y[i] = BigInt(c);
      for (let j = 0; j < features; j += 1) x[i * features + j] = centres[c]![j]! + rng.normal();
    }
    return { x, y };
  });
}
