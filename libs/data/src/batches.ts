import { type Dataset, featureSize } from './dataset';
import { permutation } from './random';

/** One mini-batch: features [batchSize, ...featureShape] and int64 labels (as the engine takes). */
export interface LabelledBatch {
  readonly x: Float32Array;
  readonly y: BigInt64Array;
  /** Dataset indices of the samples, in batch order. */
  readonly indices: Uint32Array;
}

/** Options of {@link miniBatches}. */
export interface BatchOptions {
  /** Samples per batch, >= 1. */
  readonly batchSize: number;
  /** Shuffle with a seeded permutation (default true). */
  readonly shuffle?: boolean;
  /** Seed of the shuffle; combine with the epoch number for a new order per epoch. */
  readonly seed?: number;
  /** Drop the last partial batch (default true: training graphs have a fixed batch size). */
  readonly dropLast?: boolean;
}

/** Yields mini-batches over `d` in a seeded order. */
export function* miniBatches(d: Dataset, o: BatchOptions): Generator<LabelledBatch> {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
    throw new RangeError("'batchSize' must be an integer >= 1");
  const order =
    o.shuffle === false
      ? Uint32Array.from({ length: d.count }, (_, i) => i)
      : permutation(d.count, o.seed ?? 0);
  const per = featureSize(d);
  const dropLast = o.dropLast ?? true;
  for (let start = 0; start < d.count; start += o.batchSize) {
    const m = Math.min(o.batchSize, d.count - start);
    if (m < o.batchSize && dropLast) return;
    const indices = order.slice(start, start + m);
    const x = new Float32Array(m * per);
    const y = new BigInt64Array(m);
    indices.forEach((src, i) => {
      x.set(d.features.subarray(src * per, (src + 1) * per), i * per);
      y[i] = BigInt(d.labels[src]!);
    });
    yield { x, y, indices };
  }
}
