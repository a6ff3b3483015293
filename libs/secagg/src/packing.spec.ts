import { packedBytes, packWords, unpackWords } from './packing';

describe('packWords / unpackWords', () => {
  it('round-trips every width from 1 to 32 bits, at the documented size', () => {
    for (let bits = 1; bits <= 32; bits += 1) {
      const limit = 2 ** bits;
      const v = Uint32Array.from({ length: 37 }, (_x, i) =>
        Math.floor(((i * 2654435761) % 4294967296) % limit),
      );
      v[0] = limit - 1;
      const packed = packWords(v, bits);
      expect(packed.length).toBe(Math.ceil((37 * bits) / 8));
      expect([...unpackWords(packed, 37, bits)]).toEqual([...v]);
    }
  });

  it('is little-endian u32 at 32 bits and LSB-first below', () => {
    expect([...packWords(Uint32Array.from([0x04030201]), 32)]).toEqual([1, 2, 3, 4]);
    // 12-bit entries 0xabc and 0x123: bits 0..11 then 12..23.
    expect([...packWords(Uint32Array.from([0xabc, 0x123]), 12)]).toEqual([0xbc, 0x3a, 0x12]);
    expect([...packWords(Uint32Array.from([0xbeef]), 16)]).toEqual([0xef, 0xbe]);
  });

  it('halves a 16-bit ring, and refuses bad sizes, out-of-range entries and stray padding bits', () => {
    expect(packedBytes(1_000_000, 16)).toBe(2_000_000);
    expect(() => packWords(Uint32Array.from([1, 65536]), 16)).toThrow('entry 1 (65536) does not fit 16 bits');
    expect(() => unpackWords(new Uint8Array(5), 2, 16)).toThrow(
      '5 bytes for 2 entries of 16 bits; expected 4',
    );
    expect(() => unpackWords(Uint8Array.from([0xff, 0xff]), 1, 12)).toThrow(/padding bits/);
    expect(() => packedBytes(3, 33)).toThrow("'bits' must be an integer in [1, 32]");
  });
});
