import { readFile } from 'node:fs/promises';
import { type Dataset, checkFeatures, checkLabels, classIndices } from './dataset';
import { DataFormatError } from './errors';

/** A parsed NPY array (NumPy format 1.0/2.0/3.0, C order). */
export interface NpyArray {
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;
}

const DTYPES: Record<string, { size: number; make: (b: ArrayBuffer) => NpyArray['data'] }> = {
  '<f4': { size: 4, make: (b) => new Float32Array(b) },
  '<f8': { size: 8, make: (b) => new Float64Array(b) },
  '|u1': { size: 1, make: (b) => new Uint8Array(b) },
  '|i1': { size: 1, make: (b) => new Int8Array(b) },
  '<i4': { size: 4, make: (b) => new Int32Array(b) },
  '<i8': { size: 8, make: (b) => new BigInt64Array(b) },
};

// Layout (numpy.lib.format): "\x93NUMPY", major, minor, header length (uint16 LE for 1.0,
// uint32 LE for 2.0/3.0), then a Python dict literal with 'descr', 'fortran_order', 'shape'.
function readHeader(
  source: string,
  bytes: Uint8Array,
): { descr: string; fortran: boolean; shape: number[]; start: number } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m))
    throw new DataFormatError(source, 'not an NPY file (bad magic)');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [len, at] =
    major === 1 ? [view.getUint16(8, true), 10] : [bytes.length >= 12 ? view.getUint32(8, true) : 0, 12];
  if (at + len > bytes.length) throw new DataFormatError(source, 'file truncated inside the NPY header');
  const header = new TextDecoder().decode(bytes.subarray(at, at + len));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shape === undefined)
    throw new DataFormatError(source, `malformed NPY header: ${header.trim()}`);
  const dims = shape
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      // Digits only: Number() would also take '-1', '1.5', '0x10' and '1e3'.
      if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s)))
        throw new DataFormatError(source, `NPY shape entry '${s}' is not a non-negative integer`);
      return Number(s);
    });
  return { descr, fortran: fortran === 'True', shape: dims, start: at + len };
}

/** Parses NPY bytes. @throws DataFormatError on bad magic, unsupported dtype/order or truncation. */
export function parseNpy(source: string, bytes: Uint8Array): NpyArray {
  const h = readHeader(source, bytes);
  const type = DTYPES[h.descr];
  if (!type)
    throw new DataFormatError(
      source,
      `unsupported dtype '${h.descr}' (supported: ${Object.keys(DTYPES).join(', ')})`,
    );
  if (h.fortran) throw new DataFormatError(source, 'Fortran-ordered arrays are not supported');
  const count = h.shape.reduce((a, b) => a * b, 1);
  const end = h.start + count * type.size;
  if (end > bytes.length)
    throw new DataFormatError(
      source,
      `file truncated: shape (${h.shape.join(', ')}) needs ${end - h.start} data bytes, found ${bytes.length - h.start}`,
    );
  return { shape: h.shape, data: type.make(bytes.slice(h.start, end).buffer) };
}

export async function readNpy(path: string): Promise<NpyArray> {
  return parseNpy(path, new Uint8Array(await readFile(path)));
}

/** Loads features [N, ...] and integer labels [N] from two NPY files. */
export async function loadNpyDataset(
  featuresPath: string,
  labelsPath: string,
  numClasses: number,
): Promise<Dataset> {
  const [x, y] = await Promise.all([readNpy(featuresPath), readNpy(labelsPath)]);
  if (x.shape.length < 1)
    throw new DataFormatError(featuresPath, 'holds a single value (shape ()); expected [samples, ...]');
  const n = x.shape[0]!;
  if (y.shape.length !== 1 || y.shape[0] !== n)
    throw new DataFormatError(labelsPath, `holds shape (${y.shape.join(', ')}) for ${n} samples`);
  if (x.data instanceof BigInt64Array)
    throw new DataFormatError(featuresPath, 'int64 features are not supported');
  const labels = classIndices(y.data, (m) => new DataFormatError(labelsPath, m));
  checkLabels(labels, numClasses, (m) => new DataFormatError(labelsPath, m));
  const features = Float32Array.from(x.data);
  const featureShape = x.shape.slice(1);
  checkFeatures(featureShape, features, (m) => new DataFormatError(featuresPath, m));
  return { features, labels, count: n, featureShape, numClasses };
}

/**
 * Encodes a float32 array as an NPY 1.0 file (the format's magic, version, header length and
 * dict, padded with spaces to a multiple of 64 bytes, then little-endian data): what reference
 * sets are registered as.
 */
export function encodeNpyFloat32(shape: readonly number[], values: Float32Array): Uint8Array {
  return encodeNpy(shape, values);
}

/** Encodes float32 or int32 `values` of `shape` as a version 1.0 NPY file (little-endian, C order). */
export function encodeNpy(shape: readonly number[], values: Float32Array | Int32Array): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.some((d) => !Number.isInteger(d) || d < 0) || count !== values.length) {
    throw new RangeError(`'shape' [${shape.join(', ')}] does not match ${values.length} values`);
  }
  const descr = values instanceof Float32Array ? '<f4' : '<i4';
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = `${dict}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + values.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1'), 1, 0], 0);
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 10 + header.length);
  return out;
}
