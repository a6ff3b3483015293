/**
 * The wire form of a masked vector: entries of Z_{2^bits} packed at `bits` bits each,
 * least-significant bit first, so entry i occupies bits [i·bits, (i+1)·bits) of the byte string
 * (bit k of byte j is bit 8j + k). With bits = 32 this is plain little-endian u32; a 16-bit ring
 * halves what a site uploads. The last byte's unused high bits are zero.
 */

/** Bytes that `length` entries of `bits` bits take. */
export function packedBytes(length: number, bits: number): number {
  checkBits(bits);
  if (!Number.isInteger(length) || length < 0) throw new RangeError("'length' must be an integer >= 0");
  return Math.ceil((length * bits) / 8);
}

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32)
    throw new RangeError("'bits' must be an integer in [1, 32]");
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Packs `v` (each entry < 2^bits); throws RangeError naming the first entry out of range. */
export function packWords(v: Uint32Array, bits: number): Uint8Array {
  const out = new Uint8Array(packedBytes(v.length, bits));
  if (bits === 32 && littleEndian) {
    out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return out;
  }
  const limit = 2 ** bits;
  let pos = 0;
  for (let i = 0; i < v.length; i += 1) {
    let value = v[i] as number;
    if (value >= limit) throw new RangeError(`entry ${i} (${value}) does not fit ${bits} bits`);
    let remaining = bits;
    while (remaining > 0) {
      const offset = pos & 7;
      const take = Math.min(8 - offset, remaining);
      out[pos >>> 3] = (out[pos >>> 3] as number) | ((value & ((1 << take) - 1)) << offset);
      value = value >>> take;
      pos += take;
      remaining -= take;
    }
  }
  return out;
}

/**
 * Unpacks `length` entries of `bits` bits. Throws RangeError when the byte count is not exactly
 * `packedBytes(length, bits)` or the padding bits of the last byte are not zero.
 */
export function unpackWords(bytes: Uint8Array, length: number, bits: number): Uint32Array {
  const expected = packedBytes(length, bits);
  if (bytes.length !== expected)
    throw new RangeError(`${bytes.length} bytes for ${length} entries of ${bits} bits; expected ${expected}`);
  const out = new Uint32Array(length);
  if (bits === 32 && littleEndian) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  let pos = 0;
  for (let i = 0; i < length; i += 1) {
    let value = 0;
    let got = 0;
    while (got < bits) {
      const offset = pos & 7;
      const take = Math.min(8 - offset, bits - got);
      const part = ((bytes[pos >>> 3] as number) >>> offset) & ((1 << take) - 1);
      value += part * 2 ** got;
      pos += take;
      got += take;
    }
    out[i] = value;
  }
  const used = (length * bits) % 8;
  if (used !== 0 && (bytes[expected - 1] as number) >>> used !== 0)
    throw new RangeError('the padding bits after the last entry are not zero');
  return out;
}
