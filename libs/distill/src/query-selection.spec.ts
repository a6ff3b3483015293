import { ExperimentRandom } from './seeded';
import { selectQueries } from './query-selection';

/** Row-major [n, classes] probabilities whose top class has probability `tops[i]`. */
function withTops(tops: readonly number[], classes: number): Float32Array {
  const out = new Float32Array(tops.length * classes);
  tops.forEach((top, i) => {
    out[i * classes + (i % classes)] = top;
    for (let c = 0; c < classes; c += 1)
      if (c !== i % classes) out[i * classes + c] = (1 - top) / (classes - 1);
  });
  return out;
}

describe(selectQueries.name, () => {
  describe('least-confident', () => {
    it('picks exactly the candidates with the lowest top-class probability', () => {
      const rng = new ExperimentRandom(5);
      const classes = 4;
      // 200 candidates with distinct tops in [0.25, 1): the 30 least confident are known exactly.
      const candidates = Array.from({ length: 200 }, (_, i) => 1000 + 3 * i);
      const tops = rng.shuffle(Array.from({ length: 200 }, (_, i) => 0.26 + (0.7 * i) / 200));
      const probs = withTops(tops, classes);
      const expected = candidates
        .map((index, i) => ({ index, top: tops[i] as number }))
        .sort((a, b) => a.top - b.top)
        .slice(0, 30)
        .map((x) => x.index)
        .sort((a, b) => a - b);
      const sut = selectQueries(candidates, 30, { kind: 'least-confident' }, 0, { probs, classes });
      expect(sut).toEqual(expected);
      // Every unpicked candidate is at least as confident as every picked one.
      const topOf = new Map(candidates.map((index, i) => [index, tops[i] as number]));
      const maxPicked = Math.max(...sut.map((i) => topOf.get(i) as number));
      const minLeft = Math.min(...candidates.filter((i) => !sut.includes(i)).map((i) => topOf.get(i)!));
      expect(maxPicked).toBeLessThan(minLeft);
    });

    it('reads the top class, not the first column, and breaks ties by the smaller index', () => {
      // Candidate 7 is unsure (0.4 / 0.35 / 0.25) although its first column is small; 3 and 9 tie.
      const probs = [0.05, 0.9, 0.05, 0.4, 0.35, 0.25, 0.1, 0.1, 0.8, 0.6, 0.2, 0.2, 0.6, 0.3, 0.1];
      const candidates = [2, 7, 5, 9, 3];
      expect(selectQueries(candidates, 1, { kind: 'least-confident' }, 0, { probs, classes: 3 })).toEqual([
        7,
      ]);
      expect(selectQueries(candidates, 2, { kind: 'least-confident' }, 0, { probs, classes: 3 })).toEqual([
        3, 7,
      ]);
      expect(selectQueries(candidates, 3, { kind: 'least-confident' }, 0, { probs, classes: 3 })).toEqual([
        3, 7, 9,
      ]);
      // The seed plays no part.
      expect(selectQueries(candidates, 3, { kind: 'least-confident' }, 99, { probs, classes: 3 })).toEqual([
        3, 7, 9,
      ]);
    });

    it('rejects missing, short or non-finite probabilities with a clear message', () => {
      expect(() => selectQueries([1], 1, { kind: 'least-confident' }, 0)).toThrow(
        "'least-confident' needs the student's probabilities",
      );
      expect(() =>
        selectQueries([1, 2], 1, { kind: 'least-confident' }, 0, { probs: [0.5, 0.5, 1], classes: 2 }),
      ).toThrow('got 3 values for 2 candidates x 2 classes');
      expect(() =>
        selectQueries([1, 2], 1, { kind: 'least-confident' }, 0, { probs: [0.5, NaN, 1, 0], classes: 2 }),
      ).toThrow("the student's probabilities for candidate 1 are not finite");
      expect(() =>
        selectQueries([1, 2], 1, { kind: 'least-confident' }, 0, { probs: [1, 1], classes: 1 }),
      ).toThrow('classes >= 2');
    });
  });

  describe('random', () => {
    const candidates = Array.from({ length: 500 }, (_, i) => 2 * i + 1);

    it('gives distinct candidates in ascending order, the same for a seed and others for another', () => {
      const a = selectQueries(candidates, 50, { kind: 'random' }, 11);
      expect(a).toHaveLength(50);
      expect(new Set(a).size).toBe(50);
      expect(a.every((i) => candidates.includes(i))).toBe(true);
      expect([...a].sort((x, y) => x - y)).toEqual(a);
      expect(selectQueries(candidates, 50, { kind: 'random' }, 11)).toEqual(a);
      const b = selectQueries(candidates, 50, { kind: 'random' }, 12);
      expect(b).not.toEqual(a);
      // Not a prefix or any fixed window: both halves of the candidate list are drawn from.
      expect(a.some((i) => i < 500) && a.some((i) => i > 500)).toBe(true);
    });

    it('draws each candidate about equally often over seeds', () => {
      const hits = new Array<number>(10).fill(0);
      for (let seed = 0; seed < 2000; seed += 1)
        for (const i of selectQueries([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, { kind: 'random' }, seed))
          hits[i] = (hits[i] as number) + 1;
      // Expected 600 each; binomial sd ≈ 20.5, so ±100 is ~5 sd.
      for (const h of hits) expect(Math.abs(h - 600)).toBeLessThan(100);
    });

    it('returns every candidate when asked for more, nothing for 0', () => {
      expect(selectQueries([4, 2, 9], 5, { kind: 'random' }, 1)).toEqual([2, 4, 9]);
      expect(selectQueries([4, 2, 9], 0, { kind: 'random' }, 1)).toEqual([]);
      expect(selectQueries([], 3, { kind: 'random' }, 1)).toEqual([]);
    });
  });

  it('rejects a bad count, repeated candidates or an unknown strategy', () => {
    expect(() => selectQueries([1, 2], -1, { kind: 'random' }, 0)).toThrow("'count' must be an integer >= 0");
    expect(() => selectQueries([1, 2], 1.5, { kind: 'random' }, 0)).toThrow(
      "'count' must be an integer >= 0",
    );
    expect(() => selectQueries([1, 1], 1, { kind: 'random' }, 0)).toThrow("'candidates' must not repeat");
    expect(() => selectQueries([1, 2], 1, { kind: 'entropy' } as never, 0)).toThrow(
      "unknown query strategy 'entropy'",
    );
  });
});
