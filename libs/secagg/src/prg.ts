/**
 * Mask expansion: a KDF turns a 32-byte secret (an X25519 agreement or a self-mask seed) into a
 * PRG key, and the PRG's keystream, read as little-endian 32-bit words, is added to or subtracted
 * from the vector mod 2^32 (Bonawitz et al., CCS 2017, §4: masks are PRG(s_uv) and PRG(b_u)).
 *
 * Why AES-128-CTR: it is a standard PRF-based PRG, it runs on AES-NI through OpenSSL at several
 * GB/s on the reference machine (ChaCha20 measured slower there), and a 128-bit key matches the
 * ~128-bit security of X25519. The keystream is produced in 64 KiB chunks because OpenSSL writes
 * into a freshly allocated Buffer per call, and one 4 MB allocation per mask cost more than the
 * cipher itself in our measurements (`npm run bench -- secagg` reports both rates).
 */
import { createCipheriv, hkdfSync } from 'node:crypto';
import { endianness } from 'node:os';
import { concatBytes, field, u32be, utf8 } from './bytes';

const CHUNK_BYTES = 64 * 1024;
const ZERO_CHUNK = Buffer.alloc(CHUNK_BYTES);
const IV = Buffer.alloc(16);
const SALT = utf8('fedistill/secagg/v1/prg');

// Masks are read as native-endian words; every site and the coordinator must agree on them.
if (endianness() !== 'LE') throw new Error('fedistill secagg requires a little-endian host');

/**
 * HKDF-SHA256 (RFC 5869) of `secret`, bound to a purpose label, the round id and the site ids,
 * so one agreement never yields the same mask in two rounds or two roles. Returns a 16-byte AES key.
 */
export function deriveMaskKey(
  secret: Uint8Array,
  purpose: string,
  roundId: string,
  ids: readonly number[],
): Uint8Array {
  const info = concatBytes(field(utf8(purpose)), field(utf8(roundId)), ...ids.map(u32be));
  return new Uint8Array(hkdfSync('sha256', secret, SALT, info, 16));
}

/** One PRG stream to add (`sign` = 1) or subtract (-1): the AES key that seeds it. */
export interface MaskStream {
  readonly key: Uint8Array;
  readonly sign: 1 | -1;
}

/**
 * Adds (`sign` = 1) or subtracts (`sign` = -1) the PRG stream under `key` to `target`, word by
 * word, mod 2^32 (storing into a Uint32Array wraps). Cost: one AES-CTR pass over 4·length bytes.
 */
export function applyMask(target: Uint32Array, key: Uint8Array, sign: 1 | -1): void {
  applyMasks(target, [{ key, sign }]);
}

/** Adds `v` into `sum` word by word mod 2^32, in cache-sized chunks (the coordinator's running sum). */
export function addInto(sum: Uint32Array, v: Uint32Array): void {
  if (v.length !== sum.length) throw new RangeError("'v' must have the length of 'sum'");
  const wordsPerChunk = CHUNK_BYTES / 4;
  for (let start = 0; start < sum.length; start += wordsPerChunk) {
    const count = Math.min(wordsPerChunk, sum.length - start);
    addChunk(sum, start, v.subarray(start, start + count), count);
  }
}

/**
 * Applies several streams in one sweep over `target`, 64 KiB of it at a time: every stream's
 * chunk is added while that slice of the target is still in cache, instead of one full pass over
 * a multi-megabyte vector per stream.
 */
export function applyMasks(target: Uint32Array, streams: readonly MaskStream[]): void {
  const ciphers = streams.map((m) => ({ cipher: createCipheriv('aes-128-ctr', m.key, IV), sign: m.sign }));
  const wordsPerChunk = CHUNK_BYTES / 4;
  for (let start = 0; start < target.length; start += wordsPerChunk) {
    const count = Math.min(wordsPerChunk, target.length - start);
    const zeros = count === wordsPerChunk ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, count * 4);
    for (const { cipher, sign } of ciphers) {
      const words = alignedWords(cipher.update(zeros), count);
      if (sign === 1) addChunk(target, start, words, count);
      else subtractChunk(target, start, words, count);
    }
  }
}

// Over a subarray whose length bounds the loop, V8 drops the bounds checks; unrolling by eight
// then cuts the remaining loop overhead (~3x faster than indexing the whole vector, measured).
function addChunk(target: Uint32Array, start: number, words: Uint32Array, count: number): void {
  const t = target.subarray(start, start + count);
  const n8 = t.length - (t.length % 8);
  let i = 0;
  for (; i < n8; i += 8) {
    t[i] = (t[i] as number) + (words[i] as number);
    t[i + 1] = (t[i + 1] as number) + (words[i + 1] as number);
    t[i + 2] = (t[i + 2] as number) + (words[i + 2] as number);
    t[i + 3] = (t[i + 3] as number) + (words[i + 3] as number);
    t[i + 4] = (t[i + 4] as number) + (words[i + 4] as number);
    t[i + 5] = (t[i + 5] as number) + (words[i + 5] as number);
    t[i + 6] = (t[i + 6] as number) + (words[i + 6] as number);
    t[i + 7] = (t[i + 7] as number) + (words[i + 7] as number);
  }
  for (; i < t.length; i++) t[i] = (t[i] as number) + (words[i] as number);
}

function subtractChunk(target: Uint32Array, start: number, words: Uint32Array, count: number): void {
  const t = target.subarray(start, start + count);
  const n8 = t.length - (t.length % 8);
  let i = 0;
  for (; i < n8; i += 8) {
    t[i] = (t[i] as number) - (words[i] as number);
    t[i + 1] = (t[i + 1] as number) - (words[i + 1] as number);
    t[i + 2] = (t[i + 2] as number) - (words[i + 2] as number);
    t[i + 3] = (t[i + 3] as number) - (words[i + 3] as number);
    t[i + 4] = (t[i + 4] as number) - (words[i + 4] as number);
    t[i + 5] = (t[i + 5] as number) - (words[i + 5] as number);
    t[i + 6] = (t[i + 6] as number) - (words[i + 6] as number);
    t[i + 7] = (t[i + 7] as number) - (words[i + 7] as number);
  }
  for (; i < t.length; i++) t[i] = (t[i] as number) - (words[i] as number);
}

function alignedWords(bytes: Buffer, count: number): Uint32Array {
  if (bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, count);
  return new Uint32Array(new Uint8Array(bytes).buffer, 0, count);
}

/** Writes the PRG stream under `key` into `out` (the PRG alone, without the masking add). */
export function expandMaskInto(out: Uint32Array, key: Uint8Array): Uint32Array {
  const cipher = createCipheriv('aes-128-ctr', key, IV);
  const wordsPerChunk = CHUNK_BYTES / 4;
  for (let start = 0; start < out.length; start += wordsPerChunk) {
    const count = Math.min(wordsPerChunk, out.length - start);
    out.set(
      alignedWords(
        cipher.update(count === wordsPerChunk ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, count * 4)),
        count,
      ),
      start,
    );
  }
  return out;
}

/** `length` words of the PRG stream under `key` (for tests and the graph permutation). */
export function expandMask(key: Uint8Array, length: number): Uint32Array {
  return expandMaskInto(new Uint32Array(length), key);
}
