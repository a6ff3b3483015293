import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeSigned, encodeSigned, packWords, unpackWords } from '@fedistill/secagg';
import { snapshotDatabase } from './processes';

/** A vector-sized value found somewhere the coordinator keeps things, as ring words. */
export interface FoundVector {
  readonly where: string;
  readonly words: Uint32Array;
}

/** Vector length d, ring bits, and the largest |entry| a sum of real (unmasked) summaries can have. */
export interface VectorShape {
  readonly length: number;
  readonly bits: number;
  readonly plausibleBound: number;
}

const BASE64 = /[A-Za-z0-9+/]{16,}={0,2}/g;

/**
 * Every vector-sized value inside `value` (a database cell, a log line, a JSON document), in each
 * encoding a careless implementation could use: raw bytes (a BLOB), base64 or hex text of the
 * packed words, or a JSON array of d integers. An auditor's scan: it does not know where the
 * coordinator keeps vectors, so it looks everywhere for anything of the right size.
 */
export function findVectors(
  where: string,
  value: unknown,
  shape: VectorShape,
  out: FoundVector[] = [],
): FoundVector[] {
  const bytes = Math.ceil((shape.length * shape.bits) / 8);
  const fromBytes = (b: Uint8Array, how: string) => {
    if (b.length === bytes)
      out.push({ where: `${where} (${how})`, words: unpackWords(b, shape.length, shape.bits) });
  };
  if (value instanceof Uint8Array) {
    fromBytes(value, 'blob');
    return out;
  }
  if (Array.isArray(value)) {
    if (value.length === shape.length && value.every((v) => Number.isInteger(v)))
      out.push({
        where: `${where} (JSON integers)`,
        words: encodeSigned(Int32Array.from(value as number[]), shape.bits),
      });
    else value.forEach((v, i) => findVectors(`${where}[${i}]`, v, shape, out));
    return out;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) findVectors(`${where}.${k}`, v, shape, out);
    return out;
  }
  if (typeof value !== 'string') return out;
  for (const token of value.match(BASE64) ?? []) {
    fromBytes(Buffer.from(token, 'base64'), 'base64');
    if (/^[0-9a-fA-F]+$/.test(token) && token.length === 2 * bytes)
      fromBytes(Buffer.from(token, 'hex'), 'hex');
  }
  const trimmed = value.trim();
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && trimmed.length > 2) {
    try {
      findVectors(`${where} (JSON)`, JSON.parse(trimmed) as unknown, shape, out);
    } catch {
      // Not JSON: its base64 and hex tokens were scanned above.
    }
  }
  return out;
}

/** Whether every entry, read as a signed integer, is as small as a sum of real summaries can be. */
export function plausible(words: Uint32Array, shape: VectorShape): boolean {
  return decodeSigned(words, shape.bits).every((v) => Math.abs(v) <= shape.plausibleBound);
}

/** (a + sign·b) mod 2^bits, entry by entry. */
export function ringAdd(a: Uint32Array, b: Uint32Array, bits: number, sign: 1 | -1 = 1): Uint32Array {
  const mod = 2 ** bits;
  return Uint32Array.from(a, (v, i) => (((v + sign * (b[i] as number)) % mod) + mod) % mod);
}

/**
 * Every sum of a subset of `vectors`: the running masked sums a coordinator may hold (the empty
 * subset is the all-zero sum it starts the input stage with).
 */
export function subsetSums(vectors: readonly Uint32Array[], bits: number): Uint32Array[] {
  const sums: Uint32Array[] = [];
  for (let m = 0; m < 1 << vectors.length; m += 1) {
    let s: Uint32Array = new Uint32Array(vectors[0]!.length);
    vectors.forEach((v, i) => {
      if (m & (1 << i)) s = ringAdd(s, v, bits);
    });
    sums.push(s);
  }
  return sums;
}

export const sameWords = (a: Uint32Array, b: Uint32Array): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** The packed wire bytes of `words` (to search raw files for a known vector). */
export const packed = (words: Uint32Array, bits: number): Buffer => Buffer.from(packWords(words, bits));

/**
 * Every vector-sized value in everything the coordinator keeps: each row of each table of each
 * SQLite database in its data directory (registry, rounds, students, artifacts, the audit
 * transcript), every other file there, and each line of its log file.
 */
export function scanCoordinator(dataDir: string, logFile: string, shape: VectorShape): FoundVector[] {
  const found: FoundVector[] = [];
  for (const name of fs.readdirSync(dataDir)) {
    const file = path.join(dataDir, name);
    if (name.endsWith('.db'))
      for (const [table, rows] of Object.entries(snapshotDatabase(file)))
        rows.forEach((r, i) => findVectors(`${name}:${table}[${i}]`, r, shape, found));
    else if (!/\.db-(wal|shm)$/.test(name) && fs.statSync(file).isFile())
      findVectors(name, fs.readFileSync(file, 'utf8'), shape, found);
  }
  fs.readFileSync(logFile, 'utf8')
    .split('\n')
    .forEach((line, i) => findVectors(`log:${i + 1}`, line, shape, found));
  return found;
}
