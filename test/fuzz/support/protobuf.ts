import type { Rng } from './rng';

/**
 * A mutator that knows the protobuf wire format but no schema: it parses an encoding into a tree
 * of fields (a length-delimited field that itself parses as a message becomes a subtree), changes
 * one field (a varint to a boundary value, a float to NaN or infinity, bytes cut or grown, a
 * field dropped or repeated) and encodes the tree again with every enclosing length fixed. It
 * reaches what byte damage rarely does: an ONNX tensor's dims or data type, an attribute, a
 * repeated field's count.
 */

interface Field {
  no: number;
  wt: 0 | 1 | 2 | 5;
  /** Varint value (wt 0), or the raw bytes (wt 1, 2, 5). */
  value: bigint | Uint8Array;
  children?: Field[];
}

const MAX_DEPTH = 12;

function readVarint(b: Uint8Array, at: number): [bigint, number] | undefined {
  let v = 0n;
  for (let i = 0; i < 10 && at + i < b.length; i += 1) {
    const byte = b[at + i]!;
    v |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return [v, at + i + 1];
  }
  return undefined;
}

function parse(b: Uint8Array, depth = 0): Field[] | undefined {
  const out: Field[] = [];
  let at = 0;
  while (at < b.length) {
    const tag = readVarint(b, at);
    if (!tag) return undefined;
    const no = Number(tag[0] >> 3n);
    const wt = Number(tag[0] & 7n);
    at = tag[1];
    if (no < 1 || no > 2 ** 29 - 1) return undefined;
    if (wt === 0) {
      const v = readVarint(b, at);
      if (!v) return undefined;
      out.push({ no, wt, value: v[0] });
      at = v[1];
    } else if (wt === 1 || wt === 5) {
      const n = wt === 1 ? 8 : 4;
      if (at + n > b.length) return undefined;
      out.push({ no, wt, value: b.subarray(at, at + n) });
      at += n;
    } else if (wt === 2) {
      const len = readVarint(b, at);
      if (!len || len[1] + Number(len[0]) > b.length) return undefined;
      const payload = b.subarray(len[1], len[1] + Number(len[0]));
      const children = depth < MAX_DEPTH && payload.length > 1 ? parse(payload, depth + 1) : undefined;
      out.push({ no, wt, value: payload, ...(children ? { children } : {}) });
      at = len[1] + payload.length;
    } else return undefined;
  }
  return out;
}

function varint(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    const byte = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x > 0n ? byte | 0x80 : byte);
  } while (x > 0n);
  return out;
}

function encode(fields: readonly Field[]): Uint8Array {
  const parts: number[] = [];
  for (const f of fields) {
    parts.push(...varint((BigInt(f.no) << 3n) | BigInt(f.wt)));
    if (f.wt === 0) parts.push(...varint(f.value as bigint));
    else if (f.wt === 2) {
      const payload = f.children ? encode(f.children) : (f.value as Uint8Array);
      parts.push(...varint(BigInt(payload.length)));
      for (const x of payload) parts.push(x);
    } else for (const x of f.value as Uint8Array) parts.push(x);
  }
  return Uint8Array.from(parts);
}

function allFields(fields: Field[], out: [Field[], number][] = []): [Field[], number][] {
  fields.forEach((f, i) => {
    out.push([fields, i]);
    if (f.children) allFields(f.children, out);
  });
  return out;
}

const VARINTS = [
  0n,
  1n,
  2n,
  0x7fn,
  0x80n,
  0xffffn,
  2n ** 31n - 1n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  -1n,
];
const FLOATS32 = [0x7fc00000, 0x7f800000, 0xff800000, 0x7f7fffff, 0];

function changeField(rng: Rng, f: Field): void {
  if (f.wt === 0) {
    f.value = rng.chance(0.8) ? rng.pick(VARINTS) : BigInt(rng.u32());
  } else if (f.wt === 5 || f.wt === 1) {
    const out = new Uint8Array(f.value as Uint8Array);
    new DataView(out.buffer).setUint32(0, rng.chance(0.7) ? rng.pick(FLOATS32) : rng.u32(), true);
    f.value = out;
  } else {
    const b = f.value as Uint8Array;
    delete f.children;
    const roll = rng.below(4);
    if (roll === 0) f.value = b.subarray(0, rng.below(b.length + 1));
    else if (roll === 1) f.value = new Uint8Array(0);
    else if (roll === 2) f.value = Uint8Array.from([...b, ...rng.bytes(1 + rng.below(64))]);
    else f.value = rng.bytes(b.length);
  }
}

/** One schema-less structural mutation of a protobuf encoding, or undefined when `b` does not parse. */
export function mutateProtobuf(rng: Rng, b: Uint8Array): Uint8Array | undefined {
  const tree = parse(b);
  if (!tree || tree.length === 0) return undefined;
  const steps = 1 + rng.below(2);
  for (let s = 0; s < steps; s += 1) {
    const fields = allFields(tree);
    if (fields.length === 0) break; // the first step dropped the only field
    const [parent, i] = rng.pick(fields);
    const f = parent[i]!;
    const roll = rng.below(10);
    if (roll < 6) changeField(rng, f);
    else if (roll < 8) parent.splice(i, 1);
    else if (roll < 9) parent.splice(i, 0, { ...f });
    else f.no = rng.chance(0.5) ? f.no + 1 : 1 + rng.below(20);
  }
  return encode(tree);
}
