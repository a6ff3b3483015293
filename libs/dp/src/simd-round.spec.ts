import { seededRandom } from './random-source';
import { ROUND_BLOCK, roundBlock } from './simd-round';

describe('SIMD randomized rounding', () => {
  // The scalar formula of KLS21 randomized rounding, one coordinate at a time.
  function scalar(x: Float64Array, scale: number, u: Uint32Array): { out: number[]; sq: number } {
    const out = Array.from(x, (v, i) => Math.floor(v * scale + u[i]! * 2.3283064365386963e-10));
    return { out, sq: out.reduce((a, r) => a + r * r, 0) };
  }

  it.each([1, 2, 7, 1000, ROUND_BLOCK - 1, ROUND_BLOCK])(
    'gives exactly the scalar integers and sum of squares on %i coordinates',
    (n) => {
      // Positive and negative values, integers, and values a hair below an integer.
      const x = Float64Array.from({ length: n }, (_, i) =>
        i % 5 === 0 ? (i % 3) - 1 : i % 5 === 1 ? 3 - 1e-12 : Math.sin(i * 1.7) * 0.9,
      );
      const scale = 731.25;
      const out = new Int32Array(n);
      const sq = roundBlock(x, scale, seededRandom(n, 'simd-round-test'), out);
      // The same uniforms again, from a second source with the same seed.
      const u = new Uint32Array(n);
      seededRandom(n, 'simd-round-test').fill(new Uint8Array(u.buffer));
      const expected = scalar(x, scale, u);
      expect(Array.from(out)).toEqual(expected.out);
      expect(sq).toBe(expected.sq);
    },
  );

  it('refuses a block longer than the kernel memory or a mismatched output', () => {
    expect(() =>
      roundBlock(new Float64Array(ROUND_BLOCK + 1), 1, seededRandom(1), new Int32Array(ROUND_BLOCK + 1)),
    ).toThrow(RangeError);
    expect(() => roundBlock(new Float64Array(4), 1, seededRandom(1), new Int32Array(3))).toThrow(RangeError);
  });
});
