import { readFile, writeFile } from 'node:fs/promises';
import type { TrainingSnapshot } from '../runner/trainer';

/** A checkpoint file is damaged or not a checkpoint. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

// Layout: "FDCKPT01" (8 bytes), header length (uint32 LE), JSON header (UTF-8), zero padding to
// 4 bytes, then the float32 LE values of every entry in header order. The JSON header lists
// each entry's group, name and length, and the step count; it is readable with any tool.
const MAGIC = 'FDCKPT01';
type Group = 'params' | 'buffers' | 'optimizer';
interface Header {
  readonly step: number;
  readonly entries: { group: Group; name: string; length: number }[];
}

/** Serializes a training snapshot (parameters, buffers, optimizer state, step). */
export function encodeCheckpoint(s: TrainingSnapshot): Uint8Array {
  const groups: Group[] = ['params', 'buffers', 'optimizer'];
  const entries = groups.flatMap((g) =>
    [...s[g]].map(([name, v]) => ({ group: g, name, length: v.length, v })),
  );
  const header: Header = {
    step: s.step,
    entries: entries.map(({ group, name, length }) => ({ group, name, length })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((12 + json.length) / 4) * 4;
  const total = start + 4 * entries.reduce((a, e) => a + e.length, 0);
  const out = new Uint8Array(total);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  let offset = start;
  for (const e of entries) {
    out.set(new Uint8Array(e.v.buffer, e.v.byteOffset, e.v.byteLength), offset);
    offset += e.v.byteLength;
  }
  return out;
}

/** Parses a checkpoint. @throws CheckpointError for a wrong magic, truncation or a bad header. */
export function decodeCheckpoint(bytes: Uint8Array): TrainingSnapshot {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new CheckpointError('not a fedistill checkpoint (bad magic)');
  }
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + len > bytes.length) throw new CheckpointError('checkpoint truncated inside its header');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as Header;
  } catch {
    throw new CheckpointError('checkpoint header is not valid JSON');
  }
  let offset = Math.ceil((12 + len) / 4) * 4;
  const out: TrainingSnapshot = {
    params: new Map(),
    buffers: new Map(),
    optimizer: new Map(),
    step: header.step,
  };
  if (!Number.isInteger(header.step) || !Array.isArray(header.entries))
    throw new CheckpointError('checkpoint header is malformed');
  for (const e of header.entries) {
    if (!['params', 'buffers', 'optimizer'].includes(e.group) || !(e.length >= 0)) {
      throw new CheckpointError(`checkpoint entry '${String(e.name)}' is malformed`);
    }
    const end = offset + 4 * e.length;
    if (end > bytes.length) throw new CheckpointError(`checkpoint truncated in '${e.name}'`);
    out[e.group].set(e.name, new Float32Array(bytes.slice(offset, end).buffer));
    offset = end;
  }
  if (offset !== bytes.length)
    throw new CheckpointError(`checkpoint has ${bytes.length - offset} trailing bytes`);
  return out;
}

/** Writes a checkpoint file. */
export async function saveCheckpoint(path: string, s: TrainingSnapshot): Promise<void> {
  await writeFile(path, encodeCheckpoint(s));
}

/** Reads a checkpoint file. @throws CheckpointError when it is damaged. */
export async function loadCheckpoint(path: string): Promise<TrainingSnapshot> {
  return decodeCheckpoint(new Uint8Array(await readFile(path)));
}
