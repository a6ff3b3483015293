import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  DataFormatError,
  type Dataset,
  encodeNpy,
  featureSize,
  type IdxArray,
  type NpyArray,
  type LabelledFileOptions,
  loadLabelledFile,
  parseIdx,
  parseNpy,
} from '@fedistill/data';
import { fuzzBytes, mutateBytes } from '../support/mutators';
import type { Rng } from '../support/rng';
import { type FuzzSurface, hexOf, refusedWith } from '../support/surface';

/**
 * Site data files as a node (or the simulator) reads them: NPY, IDX and CSV, plain or gzip,
 * through the same loader (loadLabelledFile), and the raw NPY/IDX parsers the coordinator uses
 * for reference and evaluation sets. An accepted file must give a consistent dataset.
 */

const ROWS = 6;

/** An NPY file with any dtype and header version (encodeNpy writes only <f4/<i4, version 1.0). */
export function npyBytes(descr: string, shape: readonly number[], data: Uint8Array, major = 1): Uint8Array {
  const tuple = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  const lenBytes = major === 1 ? 2 : 4;
  const unpadded = 8 + lenBytes + dict.length + 1;
  const header = Buffer.from(`${dict}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`, 'latin1');
  const out = new Uint8Array(8 + lenBytes + header.length + data.length);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1'), major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(header, 8 + lenBytes);
  out.set(data, 8 + lenBytes + header.length);
  return out;
}

/** An IDX file: magic (0, 0, type, rank), big-endian dims, values. */
export function idxBytes(type: number, dims: readonly number[], values: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  out.set([0, 0, type, dims.length]);
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(values, 4 + 4 * dims.length);
  return out;
}

const f32 = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1));
const labels = Int32Array.from({ length: ROWS }, (_, i) => i % 3);
const u8 = (a: ArrayLike<number>) => Uint8Array.from(a);
const raw = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export const NPY_FEATURES: readonly Uint8Array[] = [
  encodeNpy([ROWS, 4], f32(ROWS * 4)),
  encodeNpy([ROWS, 1, 2, 2], f32(ROWS * 4)),
  npyBytes('<f8', [ROWS, 3], raw(Float64Array.from(f32(ROWS * 3))), 2),
  npyBytes('|u1', [ROWS, 4], u8(Array.from({ length: ROWS * 4 }, (_, i) => i))),
];
export const NPY_LABELS: readonly Uint8Array[] = [
  encodeNpy([ROWS], labels),
  npyBytes('|u1', [ROWS], u8(labels)),
  npyBytes('<i8', [ROWS], raw(BigInt64Array.from(labels, BigInt))),
];
export const IDX_IMAGES: readonly Uint8Array[] = [
  idxBytes(0x08, [ROWS, 2, 2], u8(Array.from({ length: ROWS * 4 }, (_, i) => i * 9))),
  idxBytes(
    0x0d,
    [ROWS, 3],
    (() => {
      const v = new Uint8Array(ROWS * 3 * 4);
      f32(ROWS * 3).forEach((x, i) => new DataView(v.buffer).setFloat32(4 * i, x));
      return v;
    })(),
  ),
];
export const IDX_LABELS: readonly Uint8Array[] = [idxBytes(0x08, [ROWS], u8(labels))];
const CSV_TEXT = ['a,b,c,label\n0.5,1,2,0\n-1,2.5,3,1\n4,5e-3,6,2\n7,8,9,0\n', 'x1,x2,y\n1,2,cat\n3,4,dog\n'];
export const CSV_FILES: readonly Uint8Array[] = [
  Buffer.from(CSV_TEXT[0]!),
  Buffer.from(CSV_TEXT[0]!.replace(/\n/g, '\r\n')),
];

/** Why `d` is not a usable dataset, or undefined. */
export function datasetProblem(d: Dataset): string | undefined {
  if (!Number.isSafeInteger(d.count) || d.count < 0) return `count ${d.count}`;
  if (d.featureShape.some((x) => !Number.isSafeInteger(x) || x < 1))
    return `feature shape [${d.featureShape.join(', ')}]`;
  if (d.features.length !== d.count * featureSize(d))
    return `${d.features.length} feature values for ${d.count} x [${d.featureShape.join(', ')}]`;
  if (d.labels.length !== d.count) return `${d.labels.length} labels for ${d.count} records`;
  if (!Number.isSafeInteger(d.numClasses) || d.numClasses < 1) return `numClasses ${d.numClasses}`;
  const bad = d.labels.findIndex((v) => v < 0 || v >= d.numClasses);
  if (bad >= 0) return `label ${d.labels[bad]} outside [0, ${d.numClasses})`;
  const nonFinite = d.features.findIndex((v) => !Number.isFinite(v));
  if (nonFinite >= 0) return `feature value ${d.features[nonFinite]} at ${nonFinite}`;
  return undefined;
}

function arrayProblem(shape: readonly number[], length: number): string | undefined {
  if (shape.some((x) => !Number.isSafeInteger(x) || x < 0)) return `shape [${shape.join(', ')}]`;
  const count = shape.reduce((a, b) => a * b, 1);
  return count === length ? undefined : `shape [${shape.join(', ')}] holds ${count} values, data ${length}`;
}

const refusal = refusedWith(DataFormatError);

export const npySurface: FuzzSurface<Uint8Array, NpyArray> = {
  name: 'npy',
  generate: (rng) => fuzzBytes(rng, [...NPY_FEATURES, ...NPY_LABELS]),
  feed: (b) => parseNpy('input.npy', b),
  validate: (a) => arrayProblem(a.shape, a.data.length),
  refusal,
  show: hexOf,
};

export const idxSurface: FuzzSurface<Uint8Array, IdxArray> = {
  name: 'idx',
  generate: (rng) => fuzzBytes(rng, [...IDX_IMAGES, ...IDX_LABELS]),
  feed: (b) => parseIdx('input-idx', b),
  validate: (a) => arrayProblem(a.dims, a.data.length),
  refusal,
  show: hexOf,
};

/** Files of one labelled-file case: names and contents, and the loader's options. */
interface FileCase {
  readonly files: Readonly<Record<string, Uint8Array>>;
  readonly main: string;
  readonly options: LabelledFileOptions;
}

let scratch: string | undefined;
/** One scratch directory per process, removed at exit; each case overwrites its files. */
function scratchDir(): string {
  if (!scratch) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-fuzz-'));
    scratch = dir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

function fileSurface(name: string, generate: (rng: Rng) => FileCase): FuzzSurface<FileCase, Dataset> {
  return {
    name,
    generate,
    feed: async (c) => {
      const dir = scratchDir();
      for (const [f, bytes] of Object.entries(c.files)) fs.writeFileSync(path.join(dir, f), bytes);
      const labelsFile = c.options.labels && path.join(dir, c.options.labels);
      return loadLabelledFile(path.join(dir, c.main), { ...c.options, labels: labelsFile });
    },
    validate: (d) => datasetProblem(d),
    refusal,
    show: (c) =>
      `${JSON.stringify(c.options)} ${Object.entries(c.files)
        .map(([f, b]) => `${f}=${hexOf(b, 64)}`)
        .join(' ')}`,
  };
}

const classesOption = (rng: Rng): number | undefined => rng.pick([undefined, undefined, 3, 5, 1]);
const gz = (rng: Rng, b: Uint8Array): Uint8Array =>
  rng.chance(0.5) ? mutateBytes(rng, gzipSync(b)) : gzipSync(mutateBytes(rng, b));

/** A features/labels pair, one (or both) of them damaged. */
function pair(rng: Rng, features: readonly Uint8Array[], labelFiles: readonly Uint8Array[]) {
  // 0: features damaged, 1: labels damaged, 2: both.
  const which = rng.below(3);
  return {
    x: which === 1 ? rng.pick(features) : fuzzBytes(rng, features),
    y: which === 0 ? rng.pick(labelFiles) : fuzzBytes(rng, labelFiles),
  };
}

export const npyDatasetSurface = fileSurface('npy dataset', (rng) => {
  const { x, y } = pair(rng, NPY_FEATURES, NPY_LABELS);
  return {
    files: { 'x.npy': x, 'y.npy': y },
    main: 'x.npy',
    options: { format: 'npy', labels: 'y.npy', classes: classesOption(rng) },
  };
});

export const idxDatasetSurface = fileSurface('idx dataset', (rng) => {
  const { x, y } = pair(rng, IDX_IMAGES, IDX_LABELS);
  return {
    files: { 'images-idx': x, 'labels-idx': y },
    main: 'images-idx',
    options: { format: 'idx', labels: 'labels-idx', classes: classesOption(rng) },
  };
});

export const csvSurface = fileSurface('csv', (rng) => {
  const named = rng.chance(0.2);
  const text = named ? Buffer.from(CSV_TEXT[1]!) : rng.pick(CSV_FILES);
  return {
    files: { 'records.csv': rng.chance(0.95) ? mutateBytes(rng, text, CSV_FILES) : text },
    main: 'records.csv',
    options: named
      ? { format: 'csv', labelColumn: 'y', classes: rng.pick([['cat', 'dog'], undefined]) }
      : {
          format: 'csv',
          labelColumn: rng.chance(0.9) ? rng.pick(['label', -1, 3]) : rng.pick([7, 'missing']),
          classes: classesOption(rng),
        },
  };
});

export const gzipSurface = fileSurface('gzip', (rng): FileCase => {
  if (rng.chance(0.5))
    return {
      files: { 'records.csv.gz': gz(rng, rng.pick(CSV_FILES)) },
      main: 'records.csv.gz',
      options: { format: 'csv', labelColumn: 'label', classes: classesOption(rng) },
    };
  return {
    files: { 'images-idx.gz': gz(rng, rng.pick(IDX_IMAGES)), 'labels-idx.gz': gzipSync(IDX_LABELS[0]!) },
    main: 'images-idx.gz',
    options: { format: 'idx', labels: 'labels-idx.gz', classes: classesOption(rng) },
  };
});

export const dataSurfaces = [
  npySurface,
  idxSurface,
  npyDatasetSurface,
  idxDatasetSurface,
  csvSurface,
  gzipSurface,
];
