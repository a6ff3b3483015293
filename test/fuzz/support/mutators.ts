import type { Rng } from './rng';

/**
 * Byte-level mutators in the manner of AFL's havoc stage: each takes a valid input and returns a
 * damaged copy. Header fields are reached by the integer mutators (a 16- or 32-bit value written
 * at a random offset, either byte order, from a list of boundary values), text formats by the
 * number mutator (a run of digits replaced by a boundary number).
 */

/** Boundary values a length, count or dimension field is likely to mishandle. */
export const INTERESTING_U32 = [
  0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe,
  0xffffffff,
];

/** Numbers written into text formats in place of a digit run. */
export const INTERESTING_NUMBERS = [
  '0',
  '-1',
  '1.5',
  '-0',
  '1e309',
  '-1e309',
  'NaN',
  'Infinity',
  '4294967296',
  '2147483648',
  '9007199254740993',
  '1099511627776',
  '99999999999999999999',
  '0x10',
  '1e-400',
  '',
];

type Mutator = (rng: Rng, b: Uint8Array, pool: readonly Uint8Array[]) => Uint8Array;

const at = (rng: Rng, b: Uint8Array): number => rng.below(Math.max(1, b.length));

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function writeInt(rng: Rng, b: Uint8Array, width: 2 | 4): Uint8Array {
  if (b.length < width) return b;
  const out = new Uint8Array(b); // a copy (Buffer#slice would be a view)
  const v = rng.pick(INTERESTING_U32) ^ (rng.chance(0.2) ? rng.u32() : 0);
  const view = new DataView(out.buffer);
  const o = rng.below(out.length - width + 1);
  if (width === 2) view.setUint16(o, v & 0xffff, rng.chance(0.5));
  else view.setUint32(o, v >>> 0, rng.chance(0.5));
  return out;
}

/** Replaces one run of ASCII digits (a dimension, a count, a header length) with a boundary number. */
function replaceNumber(rng: Rng, b: Uint8Array): Uint8Array {
  const runs: [number, number][] = [];
  for (let i = 0; i < b.length;) {
    if (b[i]! >= 0x30 && b[i]! <= 0x39) {
      const start = i;
      while (i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39) i += 1;
      runs.push([start, i]);
    } else i += 1;
  }
  if (runs.length === 0) return b;
  const [s, e] = rng.pick(runs);
  return concat(b.subarray(0, s), Buffer.from(rng.pick(INTERESTING_NUMBERS), 'latin1'), b.subarray(e));
}

const MUTATORS: readonly Mutator[] = [
  (rng, b) => {
    // flip one bit
    if (b.length === 0) return b;
    const out = new Uint8Array(b); // a copy (Buffer#slice would be a view)
    const i = rng.below(out.length);
    out[i] = out[i]! ^ (1 << rng.below(8));
    return out;
  },
  (rng, b) => {
    // set one byte to a boundary or random value
    if (b.length === 0) return b;
    const out = new Uint8Array(b); // a copy (Buffer#slice would be a view)
    out[rng.below(out.length)] = rng.chance(0.5) ? rng.pick([0, 0x7f, 0x80, 0xff]) : rng.u32() & 0xff;
    return out;
  },
  (rng, b) => writeInt(rng, b, 2),
  (rng, b) => writeInt(rng, b, 4),
  (rng, b) => writeInt(rng, b, 4),
  (rng, b) => b.subarray(0, rng.below(b.length + 1)), // truncate
  (rng, b) => {
    // delete a range
    const s = at(rng, b);
    return concat(b.subarray(0, s), b.subarray(Math.min(b.length, s + 1 + rng.below(16))));
  },
  (rng, b) => {
    // insert random bytes
    const s = at(rng, b);
    return concat(b.subarray(0, s), rng.bytes(1 + rng.below(16)), b.subarray(s));
  },
  (rng, b) => {
    // duplicate a range in place
    const s = at(rng, b);
    const e = Math.min(b.length, s + 1 + rng.below(64));
    return concat(b.subarray(0, e), b.subarray(s, e), b.subarray(e));
  },
  (rng, b, pool) => {
    // splice: our head, another valid input's tail
    const other = rng.pick(pool);
    return concat(b.subarray(0, at(rng, b)), other.subarray(at(rng, other)));
  },
  (rng, b) => concat(b, rng.bytes(1 + rng.below(32))), // trailing garbage
  (rng, b) => replaceNumber(rng, b),
  (rng, b) => replaceNumber(rng, b),
];

/** `base` with 1 to `maxSteps` random mutations applied in turn (never `base` itself). */
export function mutateBytes(
  rng: Rng,
  base: Uint8Array,
  pool: readonly Uint8Array[] = [base],
  maxSteps = 4,
): Uint8Array {
  let out = base;
  const steps = 1 + rng.below(maxSteps);
  for (let i = 0; i < steps; i += 1) out = rng.pick(MUTATORS)(rng, out, pool);
  return out;
}

/** Bytes for one case: mostly a mutated seed, sometimes a seed untouched, sometimes random bytes. */
export function fuzzBytes(rng: Rng, seeds: readonly Uint8Array[]): Uint8Array {
  const roll = rng.below(100);
  if (roll < 3) return rng.pick(seeds);
  if (roll < 10) return rng.bytes(rng.below(512));
  return mutateBytes(rng, rng.pick(seeds), seeds);
}
