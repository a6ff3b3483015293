import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataFormatError } from './errors';
import { dataFormatFromName, loadLabelledFile } from './labelled-file';
import { encodeNpy } from './npy';

describe(dataFormatFromName.name, () => {
  it('tells the format from the name, ignoring .gz, and says nothing when it cannot', () => {
    expect(dataFormatFromName('a/B.CSV')).toBe('csv');
    expect(dataFormatFromName('x.npy')).toBe('npy');
    expect(dataFormatFromName('train-images-idx3-ubyte.gz')).toBe('idx');
    expect(dataFormatFromName('records.csv.gz')).toBe('csv');
    expect(dataFormatFromName('data.bin')).toBeUndefined();
  });
});

describe(loadLabelledFile.name, () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-labelled-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Uint8Array) => {
    fs.writeFileSync(path.join(dir, name), content);
    return path.join(dir, name);
  };

  it('reads a CSV by label column index, name or default (last)', async () => {
    const f = file('r.csv', 'a,y,b\n1,0,2\n3,1,4\n');
    const byIndex = await loadLabelledFile(f, { format: 'csv', labelColumn: 1 });
    expect(Array.from(byIndex.labels)).toEqual([0, 1]);
    expect(Array.from(byIndex.features)).toEqual([1, 2, 3, 4]);
    expect((await loadLabelledFile(f, { format: 'csv', labelColumn: 'y' })).numClasses).toBe(2);
    expect(Array.from((await loadLabelledFile(f, { format: 'csv' })).labels)).toEqual([2, 4]);
  });

  it('infers the NPY class count from its labels, and checks declared classes', async () => {
    const x = file('x.npy', encodeNpy([3, 2], Float32Array.from([1, 2, 3, 4, 5, 6])));
    const y = file('y.npy', encodeNpy([3], Int32Array.from([0, 4, 2])));
    expect((await loadLabelledFile(x, { format: 'npy', labels: y })).numClasses).toBe(5);
    await expect(loadLabelledFile(x, { format: 'npy', labels: y, classes: 3 })).rejects.toThrow(
      /y\.npy: label 4 of sample 1 is outside the declared classes \[0, 3\)/,
    );
    const negative = file('n.npy', encodeNpy([3], Int32Array.from([0, -1, 2])));
    await expect(loadLabelledFile(x, { format: 'npy', labels: negative })).rejects.toThrow(
      /n\.npy: label -1 of record 1 is not an integer class index >= 0/,
    );
  });

  it('refuses misuse as a DataFormatError naming the file', async () => {
    const f = file('r.csv', 'a,y\n1,0\n');
    await expect(loadLabelledFile(f, { format: 'csv', labelColumn: 5 })).rejects.toThrow(
      new DataFormatError(f, "'label' column 5 is outside the 2 columns"),
    );
    await expect(loadLabelledFile(f, { format: 'npy' })).rejects.toThrow(
      /r\.csv: format npy needs a labels file/,
    );
    await expect(loadLabelledFile(f, { format: 'idx', labels: f, classes: ['a', 'b'] })).rejects.toThrow(
      /format idx holds class indices, not label names/,
    );
  });
});
