import * as path from 'node:path';
import type { Dataset } from '@fedistill/data';
import { heldDigits, splitDemoData } from './demo-data';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const TEN = Array.from({ length: 10 }, (_, d) => d);

describe('splitDemoData', () => {
  it('keeps all ten digits for evaluation and gives each hospital three or four of them', async () => {
    const sut = await splitDemoData(REPO, 3);
    expect(heldDigits(sut.evaluation)).toEqual(TEN);
    expect(sut.evaluation.count).toBe(359);
    expect(sut.reference.count).toBe(359);
    const held = sut.hospitals.map(heldDigits);
    for (const digits of held) expect([3, 4]).toContain(digits.length);
    expect([...new Set(held.flat())].sort((a, b) => a - b)).toEqual(TEN);
    const all = [sut.evaluation, sut.reference, ...sut.hospitals].reduce((n, d) => n + d.count, 0);
    expect(all).toBe(1797);
  });

  it('splits the same way every time (seeded)', async () => {
    const [a, b] = await Promise.all([splitDemoData(REPO, 3), splitDemoData(REPO, 3)]);
    expect(a.hospitals.map((h) => Array.from(h.labels))).toEqual(
      b.hospitals.map((h) => Array.from(h.labels)),
    );
    expect(Array.from(a.reference.features)).toEqual(Array.from(b.reference.features));
  });
});

describe('heldDigits', () => {
  it('lists the classes a dataset holds at least one record of, in increasing order', () => {
    const d: Dataset = {
      features: new Float32Array(5),
      labels: Int32Array.from([7, 2, 7, 9, 2]),
      count: 5,
      featureShape: [1],
      numClasses: 10,
    };
    expect(heldDigits(d)).toEqual([2, 7, 9]);
  });
});
