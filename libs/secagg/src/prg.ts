/**
 * Mask expansion: a KDF turns a 32-byte secret (an X25519 agreement or a self-mask seed) into a
 * PRG key, and the PRG's keystream, read as little-endian 32-bit words, is added to or subtracted
 * from the vector mod 2^32 (Bonawitz et al., CCS 2017, §4: masks are PRG(s_uv) and PRG(b_u)).
 *
 * Why AES-128-CTR: it is a standard PRF-based PRG, it runs on AES-NI through OpenSSL at several
 * GB/s on the reference machine (ChaCha20 measured slower there), and a 128-bit key matches the
 * ~128-bit security of X25519. The keystream is produced in 64 KiB chunks because OpenSSL writes
 * into a freshly allocated Buffer per call, and one 4 MB allocation per mask cost more than the
 * cipher itself in our measurements; each chunk is added into the vector with WebAssembly SIMD
 * (`simd.ts`) while it is in cache (`npm run bench -- secagg` reports the PRG, the PRG with the
 * masking add, and raw AES-CTR over the same sizes).
 */
import { createCipheriv, hkdfSync } from 'node:crypto';
import { endianness } from 'node:os';
import { concatBytes, field, u32be, utf8 } from './bytes';
import { BLOCK_WORDS, accumulator } from './simd';

const CHUNK_BYTES = BLOCK_WORDS * 4;
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

/**
 * Adds `v` into `sum` word by word mod 2^32 (the coordinator's running sum), one 64 KiB block at
 * a time through the SIMD kernel of `simd.ts`.
 */
export function addInto(sum: Uint32Array, v: Uint32Array): void {
  if (v.length !== sum.length) throw new RangeError("'v' must have the length of 'sum'");
  for (let start = 0; start < sum.length; start += BLOCK_WORDS) {
    const count = Math.min(BLOCK_WORDS, sum.length - start);
    accumulator.load(sum, start, count);
    accumulator.apply(new Uint8Array(v.buffer, v.byteOffset + start * 4, count * 4), count, 1);
    accumulator.store(sum, start, count);
  }
}

// Why `enableHeapRetention` exists, and why it is opt-in: the keystream chunks are fresh Buffers
// from node:crypto (it cannot encrypt into a caller's memory), about 40 MB of them per full-mesh
// site mask, freed in bulk at each garbage collection. glibc's malloc returns freed heap to the
// kernel whenever more than M_TRIM_THRESHOLD is free at its top (128 KiB at start), so the next
// chunks fault their pages back in: up to 10,000-340,000 minor faults per round measured at
// d = 10^6 on a loaded VM. glibc raises that threshold to twice the size of the largest
// mmap-backed block ever freed (blocks up to 32 MiB count), so allocating one untouched 31 MiB
// block and letting it go makes it keep up to 62 MiB of freed heap for reuse.
// That is a process-wide change of the allocator (it also applies to the coordinator's and the
// node's other allocations and to ONNX Runtime), and it keeps freed pages that held inputs, noise
// and masks resident instead of handing them back to the kernel. A library must not do that behind
// its caller's back (issue 11, finding 8), so nothing in this package calls it: only an entry
// point that wants the speed and accepts the trade calls it (bench/secagg.ts does; the node and
// the coordinator do not). See docs/benchmarks.md ("secagg") for the cost of leaving it off.
let heapRetained = false;

/**
 * Opt-in, process-wide: makes glibc keep up to 62 MiB of freed heap for reuse instead of returning
 * it to the kernel (see the comment above), which removes most of the page faults of large masks.
 * Idempotent; on allocators other than glibc it is one malloc and free without effect. Returns
 * whether this call changed anything (false when already enabled).
 */
export function enableHeapRetention(): boolean {
  if (heapRetained) return false;
  heapRetained = true;
  // Uninitialized, so its pages are never touched; collected at the next garbage collection.
  void Buffer.allocUnsafeSlow(31 * 1024 * 1024);
  return true;
}

/**
 * Applies several streams in one sweep over `target`, 64 KiB of it at a time: that block of the
 * target is loaded once into the SIMD kernel's accumulator, every stream's next 64 KiB of keystream
 * is added or subtracted there while it is still in cache, and the block is written back once,
 * instead of one full pass over a multi-megabyte vector per stream.
 */
export function applyMasks(target: Uint32Array, streams: readonly MaskStream[]): void {
  const ciphers = streams.map((m) => ({ cipher: createCipheriv('aes-128-ctr', m.key, IV), sign: m.sign }));
  for (let start = 0; start < target.length; start += BLOCK_WORDS) {
    const count = Math.min(BLOCK_WORDS, target.length - start);
    const zeros = count === BLOCK_WORDS ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, count * 4);
    accumulator.load(target, start, count);
    for (const { cipher, sign } of ciphers) accumulator.apply(cipher.update(zeros), count, sign);
    accumulator.store(target, start, count);
  }
}

/** Writes the PRG stream under `key` into `out` (the PRG alone, without the masking add). */
export function expandMaskInto(out: Uint32Array, key: Uint8Array): Uint32Array {
  const cipher = createCipheriv('aes-128-ctr', key, IV);
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
    const n = Math.min(CHUNK_BYTES, bytes.length - at);
    // A byte copy (memmove) whatever the alignment of OpenSSL's output buffer.
    bytes.set(cipher.update(n === CHUNK_BYTES ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, n)), at);
  }
  return out;
}

/** `length` words of the PRG stream under `key` (for tests and the graph permutation). */
export function expandMask(key: Uint8Array, length: number): Uint32Array {
  return expandMaskInto(new Uint32Array(length), key);
}
