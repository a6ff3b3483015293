import { BLOCK_WORDS, accumulator } from './simd';

describe('SIMD accumulator', () => {
  // Words that overflow on addition and underflow on subtraction, so wrapping mod 2^32 is exercised.
  const words = (n: number, salt: number): Uint32Array =>
    Uint32Array.from({ length: n }, (_, i) => (Math.imul(i + salt, 2654435761) ^ (salt << 28)) >>> 0);

  it.each([1, 3, 4, 5, 1000, BLOCK_WORDS - 1, BLOCK_WORDS])(
    'adds and subtracts %i words mod 2^32 exactly as scalar arithmetic does',
    (count) => {
      const target = words(count + 7, 1);
      const a = words(count, 2);
      const b = words(count, 3);
      const expected = Uint32Array.from(target);
      for (let i = 0; i < count; i++) expected[i + 5] = (target[i + 5]! + a[i]! - b[i]!) >>> 0;
      accumulator.load(target, 5, count);
      accumulator.apply(new Uint8Array(a.buffer), count, 1);
      accumulator.apply(new Uint8Array(b.buffer), count, -1);
      accumulator.store(target, 5, count);
      // Words outside [5, 5 + count) are untouched, including the padding of the last SIMD lane.
      expect(target).toEqual(expected);
    },
  );

  it('reads sources at any byte alignment (OpenSSL buffers need not be word aligned)', () => {
    const a = words(9, 4);
    const shifted = new Uint8Array(37);
    shifted.set(new Uint8Array(a.buffer), 1);
    const target = new Uint32Array(9).fill(0xffffffff);
    accumulator.load(target, 0, 9);
    accumulator.apply(shifted.subarray(1), 9, 1);
    accumulator.store(target, 0, 9);
    expect(target).toEqual(Uint32Array.from(a, (x) => (x - 1) >>> 0));
  });
});
