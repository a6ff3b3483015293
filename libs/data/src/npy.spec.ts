import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy, encodeNpyFloat32, loadNpyDataset, parseNpy } from './npy';

/** Builds NPY 1.0 bytes by hand (header padded so data starts at a multiple of 64). */
function npy(descr: string, shape: number[], data: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  return new Uint8Array(Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data)]));
}
const f32 = (v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

describe(parseNpy.name, () => {
  it('parses a float32 C-order array', () => {
    const sut = parseNpy('x.npy', npy('<f4', [2, 2], f32([1, 2.5, -3, 4])));
    expect(sut.shape).toEqual([2, 2]);
    expect(Array.from(sut.data as Float32Array)).toEqual([1, 2.5, -3, 4]);
  });

  it('rejects bad magic, truncation and unsupported dtypes', () => {
    const good = npy('<f4', [2, 2], f32([1, 2, 3, 4]));
    const bad = Uint8Array.from(good);
    bad[1] = 0;
    expect(() => parseNpy('x.npy', bad)).toThrow(/^x.npy: not an NPY file \(bad magic\)/);
    expect(() => parseNpy('x.npy', good.subarray(0, good.length - 2))).toThrow(
      /file truncated: shape \(2, 2\) needs 16 data bytes, found 14/,
    );
    expect(() => parseNpy('x.npy', npy('<c8', [1], new Uint8Array(8)))).toThrow(/unsupported dtype '<c8'/);
  });
});

describe(`${parseNpy.name} (inputs found by fuzzing, test/fuzz)`, () => {
  it('refuses a shape entry that is not a non-negative integer, before allocating anything', () => {
    // Fuzz case 26 of 'npy': shape (-1,) was accepted as an empty array of shape [-1];
    // shape (1.5,) threw an untyped RangeError from the Float32Array constructor.
    for (const entry of ['-1', '1.5', '0x10', '1e3', 'NaN', '99999999999999999999']) {
      const bytes = npy('<f4', [], f32([1, 2]));
      const text = Buffer.from(bytes).toString('latin1').replace("'shape': ()", `'shape': (${entry},)`);
      expect(() => parseNpy('x.npy', Buffer.from(text, 'latin1'))).toThrow(
        `x.npy: NPY shape entry '${entry}' is not a non-negative integer`,
      );
    }
  });
});

describe(loadNpyDataset.name, () => {
  it('loads features and int64 labels and checks the labels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedistill-npy-'));
    try {
      writeFileSync(join(dir, 'x.npy'), npy('<f4', [3, 2], f32([1, 2, 3, 4, 5, 6])));
      writeFileSync(
        join(dir, 'y.npy'),
        npy('<i8', [3], new Uint8Array(BigInt64Array.from([0n, 2n, 1n]).buffer)),
      );
      const sut = await loadNpyDataset(join(dir, 'x.npy'), join(dir, 'y.npy'), 3);
      expect(sut.featureShape).toEqual([2]);
      expect(Array.from(sut.labels)).toEqual([0, 2, 1]);
      await expect(loadNpyDataset(join(dir, 'x.npy'), join(dir, 'y.npy'), 2)).rejects.toThrow(
        /label 2 of sample 1 is outside/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe(`${loadNpyDataset.name} (inputs found by fuzzing, test/fuzz)`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedistill-npy-fuzz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const i64 = (v: bigint[]) => new Uint8Array(BigInt64Array.from(v).buffer);
  const load = (x: Uint8Array, y: Uint8Array, classes = 3) => {
    writeFileSync(join(dir, 'x.npy'), x);
    writeFileSync(join(dir, 'y.npy'), y);
    return loadNpyDataset(join(dir, 'x.npy'), join(dir, 'y.npy'), classes);
  };
  const x = npy('<f4', [2, 1], f32([1, 2]));

  it('refuses labels that would wrap or be truncated into another class', async () => {
    // Fuzz case 1700680402 of 'npy dataset': an int64 label of about 6.9e18 became a class
    // count of that size; 2^32 + 1 silently became class 1, a float 1.5 class 1.
    await expect(load(x, npy('<i8', [2], i64([0n, 2n ** 32n + 1n])))).rejects.toThrow(
      'y.npy: label 4294967297 of sample 1 is not a class index (an integer in [0, 2147483647])',
    );
    await expect(load(x, npy('<f4', [2], f32([0, 1.5])))).rejects.toThrow(
      /label 1.5 of sample 1 is not a class/,
    );
    await expect(load(x, npy('<f4', [2], f32([NaN, 1])))).rejects.toThrow(
      /label NaN of sample 0 is not a class/,
    );
  });

  it('refuses features that are not finite as float32, or records with no values', async () => {
    const y = npy('<i8', [2], i64([0n, 1n]));
    await expect(load(npy('<f4', [2, 1], f32([1, NaN])), y)).rejects.toThrow(
      'x.npy: feature value NaN at index 0 of sample 1 is not a finite float32',
    );
    const big = new Uint8Array(Float64Array.from([1e300, 0]).buffer);
    await expect(load(npy('<f8', [2, 1], big), y)).rejects.toThrow(
      /feature value Infinity at index 0 of sample 0/,
    );
    await expect(load(npy('<f4', [2, 0], f32([])), y)).rejects.toThrow(
      'x.npy: records of shape [0] hold no feature values',
    );
    await expect(load(npy('<f4', [], f32([1])), y)).rejects.toThrow(/holds a single value/);
  });
});

describe('encodeNpyFloat32', () => {
  it('round-trips through parseNpy with the header aligned to 64 bytes', () => {
    const values = Float32Array.from([1.5, -2, 3.25, 0, 7, 8]);
    const bytes = encodeNpyFloat32([2, 3], values);
    expect((10 + (bytes[8]! | (bytes[9]! << 8))) % 64).toBe(0);
    const sut = parseNpy('x.npy', bytes);
    expect(sut.shape).toEqual([2, 3]);
    expect([...(sut.data as Float32Array)]).toEqual([...values]);
    expect(() => encodeNpyFloat32([4], values)).toThrow("'shape' [4] does not match 6 values");
  });
});

describe('encodeNpy', () => {
  it('writes int32 class indices that parseNpy reads back as int32', () => {
    const labels = Int32Array.from([0, 1, 1, 0, 2]);
    const sut = parseNpy('y.npy', encodeNpy([5], labels));
    expect(sut.shape).toEqual([5]);
    expect(sut.data).toBeInstanceOf(Int32Array);
    expect([...(sut.data as Int32Array)]).toEqual([0, 1, 1, 0, 2]);
  });
});
