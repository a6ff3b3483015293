import { gzipSync } from 'node:zlib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFormatError } from './errors';
import { loadIdxDataset, parseIdx } from './idx';

/** Builds IDX bytes by hand: 0, 0, type 0x08, rank, big-endian dims, values. */
function idxBytes(dims: number[], values: number[]): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt8(0x08, 2);
  head.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([head, Buffer.from(values)]));
}

describe(parseIdx.name, () => {
  const images = idxBytes([2, 2, 3], [0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6]);

  it('parses plain and gzipped IDX files alike', () => {
    for (const bytes of [images, new Uint8Array(gzipSync(images))]) {
      const sut = parseIdx('t', bytes);
      expect(sut.dims).toEqual([2, 2, 3]);
      expect(Array.from(sut.data)).toEqual([0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6]);
    }
  });

  it('rejects a wrong magic number', () => {
    const bad = Uint8Array.from(images);
    bad[2] = 0x42;
    expect(() => parseIdx('t.idx', bad)).toThrow(DataFormatError);
    expect(() => parseIdx('t.idx', bad)).toThrow(/^t.idx: not an IDX file \(bad magic number 0x00004203\)/);
  });

  it('rejects truncated files', () => {
    expect(() => parseIdx('t', images.subarray(0, images.length - 1))).toThrow(
      /file truncated: header declares 12 values, found 11/,
    );
    expect(() => parseIdx('t', images.subarray(0, 6))).toThrow(/truncated inside the IDX header/);
    expect(() => parseIdx('t', new Uint8Array(gzipSync(images)).subarray(0, 15))).toThrow(
      /gzip data is damaged or truncated/,
    );
  });
});

describe(loadIdxDataset.name, () => {
  it('loads an image/label pair scaled to [0, 1] and checks labels against the classes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedistill-idx-'));
    try {
      writeFileSync(
        join(dir, 'x.gz'),
        gzipSync(idxBytes([2, 2, 3], [0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6])),
      );
      writeFileSync(join(dir, 'y'), idxBytes([2], [3, 1]));
      writeFileSync(join(dir, 'bad-y'), idxBytes([2], [3, 10]));
      const sut = await loadIdxDataset(join(dir, 'x.gz'), join(dir, 'y'));
      expect(sut.featureShape).toEqual([1, 2, 3]);
      expect(sut.features[5]).toBeCloseTo(1, 6);
      expect(sut.features[1]).toBeCloseTo(0.2, 6);
      expect(Array.from(sut.labels)).toEqual([3, 1]);
      await expect(loadIdxDataset(join(dir, 'x.gz'), join(dir, 'bad-y'))).rejects.toThrow(
        /label 10 of sample 1 is outside the declared classes \[0, 10\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe(`${loadIdxDataset.name} (inputs found by fuzzing, test/fuzz)`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedistill-idx-fuzz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** IDX bytes of float32 values (type 0x0D). */
  const floats = (dims: number[], values: number[]) => {
    const b = Buffer.alloc(4 + 4 * dims.length + 4 * values.length);
    b.writeUInt8(0x0d, 2);
    b.writeUInt8(dims.length, 3);
    dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
    values.forEach((v, i) => b.writeFloatBE(v, 4 + 4 * dims.length + 4 * i));
    return new Uint8Array(b);
  };
  const load = (x: Uint8Array, y: Uint8Array) => {
    writeFileSync(join(dir, 'x'), x);
    writeFileSync(join(dir, 'y'), y);
    return loadIdxDataset(join(dir, 'x'), join(dir, 'y'), { numClasses: 3 });
  };

  it('refuses float features that are not finite', async () => {
    // Fuzz case 1650943240 of 'idx dataset': a bit flip made a float32 image value NaN.
    await expect(load(floats([2, 1], [0.5, NaN]), idxBytes([2], [0, 1]))).rejects.toThrow(
      /x: feature value NaN at index 0 of sample 1 is not a finite float32/,
    );
  });

  it('refuses images with a dimension of 0', async () => {
    // Fuzz case 249550969 of 'gzip': dims [1, 0, 2] gave records of no values.
    await expect(load(idxBytes([1, 0, 2], []), idxBytes([1], [0]))).rejects.toThrow(
      /x: records of shape \[0, 2\] hold no feature values/,
    );
  });

  it('refuses float labels that are not class indices instead of truncating them', async () => {
    await expect(load(idxBytes([2, 1], [1, 2]), floats([2], [0, 1.5]))).rejects.toThrow(
      /y: label 1.5 of sample 1 is not a class index/,
    );
  });
});
