import type { Dataset } from './dataset';
import { miniBatches } from './batches';

const data: Dataset = {
  features: Float32Array.from({ length: 20 }, (_, i) => i),
  labels: Int32Array.from({ length: 10 }, (_, i) => i % 3),
  count: 10,
  featureShape: [2],
  numClasses: 3,
};

describe(miniBatches.name, () => {
  it('visits every sample once per epoch in a seeded order, dropping the partial batch', () => {
    const sut = [...miniBatches(data, { batchSize: 3, seed: 5 })];
    expect(sut).toHaveLength(3);
    const seen = sut.flatMap((b) => Array.from(b.indices));
    expect(new Set(seen).size).toBe(9);
    const b = sut[0]!;
    expect(b.x[0]).toBe(2 * b.indices[0]!);
    expect(b.y[0]).toBe(BigInt(b.indices[0]! % 3));
    const again = [...miniBatches(data, { batchSize: 3, seed: 5 })].flatMap((x) => Array.from(x.indices));
    const other = [...miniBatches(data, { batchSize: 3, seed: 6 })].flatMap((x) => Array.from(x.indices));
    expect(again).toEqual(seen);
    expect(other).not.toEqual(seen);
  });

  it('keeps order and the last batch when asked', () => {
    const sut = [...miniBatches(data, { batchSize: 4, shuffle: false, dropLast: false })];
    expect(sut.map((b) => b.indices.length)).toEqual([4, 4, 2]);
    expect(Array.from(sut[2]!.indices)).toEqual([8, 9]);
  });
});
