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
