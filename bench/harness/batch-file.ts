// The batches both sides of a training comparison read: one seeded set written once to a
// directory as raw little-endian arrays, so the engine (Node.js) and PyTorch (numpy.fromfile)
// train on the same bytes in the same order.
//   x.f32   float32 [steps, batch, ...inputShape]
//   y.i64   int64   [steps, batch] class indices in [0, classes)
//   meta.json {steps, batch, inputShape, classes, seed}
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BatchFileMeta {
  readonly steps: number;
  readonly batch: number;
  readonly inputShape: readonly number[];
  readonly classes: number;
  readonly seed: number;
}

/** Batches as views into the two files' bytes (no copy per batch). */
export interface BatchFile {
  readonly meta: BatchFileMeta;
  readonly x: Float32Array;
  readonly y: BigInt64Array;
}

// xorshift32: the same stream on every platform, fast enough for 47 M values.
function* uniform(seed: number): Generator<number> {
  let s = seed >>> 0 || 0x9e3779b9;
  for (;;) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    yield s / 4294967296;
  }
}

/** Writes `steps` batches of uniform [0, 1) pixels and uniform labels to `dir`. */
export function writeBatchFile(dir: string, meta: BatchFileMeta): void {
  for (const k of ['steps', 'batch', 'classes'] as const) {
    if (!Number.isInteger(meta[k]) || meta[k] < 1) throw new RangeError(`'${k}' must be an integer >= 1`);
  }
  const per = meta.inputShape.reduce((a, b) => a * b, 1);
  const n = meta.steps * meta.batch;
  const rng = uniform(meta.seed);
  const x = new Float32Array(n * per);
  for (let i = 0; i < x.length; i += 1) x[i] = rng.next().value as number;
  const y = new BigInt64Array(n);
  for (let i = 0; i < n; i += 1) y[i] = BigInt(Math.floor((rng.next().value as number) * meta.classes));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'x.f32'), new Uint8Array(x.buffer));
  writeFileSync(join(dir, 'y.i64'), new Uint8Array(y.buffer));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
}

/** Reads a directory written by {@link writeBatchFile}, checking the sizes against its meta. */
export function readBatchFile(dir: string): BatchFile {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as BatchFileMeta;
  const per = meta.inputShape.reduce((a, b) => a * b, 1);
  const n = meta.steps * meta.batch;
  const xb = readFileSync(join(dir, 'x.f32'));
  const yb = readFileSync(join(dir, 'y.i64'));
  if (xb.length !== n * per * 4 || yb.length !== n * 8)
    throw new RangeError(`batch files in ${dir} do not match meta.json (${n} samples of ${per} values)`);
  // A view when the bytes are aligned (large files get their own ArrayBuffer), so the peak RSS
  // holds the data once, as numpy.fromfile does on the PyTorch side; else one aligned copy.
  const x =
    xb.byteOffset % 4 === 0 ? new Float32Array(xb.buffer, xb.byteOffset, n * per) : new Float32Array(n * per);
  if (x.buffer !== xb.buffer) new Uint8Array(x.buffer).set(xb);
  const y = yb.byteOffset % 8 === 0 ? new BigInt64Array(yb.buffer, yb.byteOffset, n) : new BigInt64Array(n);
  if (y.buffer !== yb.buffer) new Uint8Array(y.buffer).set(yb);
  return { meta, x, y };
}

/** Batch `i` of a file as subarray views. */
export function batchAt(f: BatchFile, i: number): { x: Float32Array; y: BigInt64Array } {
  const per = f.meta.inputShape.reduce((a, b) => a * b, 1);
  const b = f.meta.batch;
  return { x: f.x.subarray(i * b * per, (i + 1) * b * per), y: f.y.subarray(i * b, (i + 1) * b) };
}
