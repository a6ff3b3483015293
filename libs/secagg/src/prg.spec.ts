import { createCipheriv } from 'node:crypto';
import { applyMask, deriveMaskKey, expandMask, expandMaskInto } from './prg';

describe('prg', () => {
  const key = deriveMaskKey(new Uint8Array(32).fill(9), 'pair', 'r1', [1, 2]);

  it('is the raw AES-128-CTR keystream read as little-endian words, across chunk boundaries', () => {
    const length = 16384 * 2 + 5; // two full 64 KiB chunks and a tail
    const raw = createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length * 4));
    const words = expandMask(key, length);
    for (const i of [0, 1, 16383, 16384, 32768, length - 1]) expect(words[i]).toBe(raw.readUInt32LE(i * 4));
  });

  it('expands into a preallocated vector exactly as expandMask does', () => {
    const out = new Uint32Array(20000);
    expect(expandMaskInto(out, key)).toEqual(expandMask(key, 20000));
  });

  it('adding then subtracting the mask restores the vector mod 2^32', () => {
    const v = Uint32Array.from({ length: 1000 }, (_, i) => (i * 2654435761) >>> 0);
    const before = Uint32Array.from(v);
    applyMask(v, key, 1);
    expect(v).not.toEqual(before);
    applyMask(v, key, -1);
    expect(v).toEqual(before);
  });

  it('binds the key to purpose, round and ids', () => {
    const secret = new Uint8Array(32).fill(9);
    const keys = [
      deriveMaskKey(secret, 'pair', 'r1', [1, 2]),
      deriveMaskKey(secret, 'self', 'r1', [1, 2]),
      deriveMaskKey(secret, 'pair', 'r2', [1, 2]),
      deriveMaskKey(secret, 'pair', 'r1', [1, 3]),
    ].map((k) => Buffer.from(k).toString('hex'));
    expect(new Set(keys).size).toBe(4);
  });
});
