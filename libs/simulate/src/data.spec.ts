import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '@fedistill/data';
import { parseSimulationConfig } from './config-file';
import { loadSimulationData, SimulationDataError } from './data';

/** An IDX file: magic (0, 0, type, rank), big-endian dims, then values (ubyte or int32). */
function idx(dims: number[], values: number[], type: 0x08 | 0x0c = 0x08): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.set([0, 0, type, dims.length]);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  const body = Buffer.alloc(values.length * (type === 0x08 ? 1 : 4));
  values.forEach((v, i) => (type === 0x08 ? body.writeUInt8(v, i) : body.writeInt32BE(v, 4 * i)));
  return Buffer.concat([head, body]);
}

/** n records of 3 features whose label is i mod `classes`; feature 0 encodes the record index. */
function rows(n: number, classes = 3): Array<[number[], number]> {
  return Array.from({ length: n }, (_, i) => [[i, (i * 7) % 5, -i / 10], i % classes]);
}

const base = {
  sites: 3,
  teachers: { count: 2 },
  referenceSize: 10,
  federation: {
    student: { architecture: 'mlp' },
    privacy: { mechanism: 'none' },
    rounds: { queriesPerRound: 5, maxRounds: 1 },
  },
  testFraction: 0.2,
};

describe(loadSimulationData.name, () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-sim-data-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string | Uint8Array) =>
    fs.writeFileSync(path.join(dir, name), content);
  const csv = (name: string, lines: string[]) => write(name, `${lines.join('\n')}\n`);
  const table = (n: number, classes = 3) => [
    'x0,x1,x2,outcome',
    ...rows(n, classes).map(([x, y]) => `${x.join(',')},${y}`),
  ];
  const load = (dataset: object, extra: object = {}) =>
    loadSimulationData(parseSimulationConfig({ ...base, dataset, ...extra }, 'sim.yaml', { baseDir: dir }));

  it('reads a CSV by label column name and splits it into test, reference and site records', async () => {
    csv('records.csv', table(60));
    const sut = await load({ kind: 'files', train: 'records.csv', labelColumn: 'outcome' });
    expect(sut.test.count).toBe(12);
    expect(sut.reference.count).toBe(10);
    expect(sut.sites.map((s) => s.count).reduce((a, b) => a + b, 0)).toBe(38);
    expect(sut.pooled.count).toBe(38);
    expect(sut.test.featureShape).toEqual([3]);
    expect(sut.test.numClasses).toBe(3);
    // Every record lands in exactly one split, with its own label (feature 0 is its row index).
    const seen = [sut.test, sut.reference, ...sut.sites].flatMap((d) =>
      Array.from({ length: d.count }, (_, i) => {
        const row = d.features[i * 3]!;
        expect(d.labels[i]).toBe(row % 3);
        return row;
      }),
    );
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it('takes a separate test CSV and label names listed in classes', async () => {
    const named = (n: number, offset: number) => [
      'label,a,b',
      ...Array.from({ length: n }, (_, i) => `${['low', 'high'][i % 2]},${i + offset},${i % 4}`),
    ];
    csv('train.csv', named(30, 0));
    csv('test.csv', named(7, 100));
    const sut = await load({
      kind: 'files',
      train: 'train.csv',
      test: 'test.csv',
      labelColumn: 'label',
      labelValues: 'name',
      classes: ['low', 'high'],
    });
    expect(sut.test.count).toBe(7);
    expect(Array.from(sut.test.labels)).toEqual([0, 1, 0, 1, 0, 1, 0]);
    expect(sut.test.features[0]).toBe(100);
    expect(sut.reference.count + sut.pooled.count).toBe(30);
    expect(sut.pooled.numClasses).toBe(2);
  });

  it('reads NPY features with an NPY labels file and flattens each record', async () => {
    const n = 40;
    const x = Float32Array.from({ length: n * 4 }, (_, i) => i / 4);
    write('x.npy', encodeNpy([n, 2, 2], x));
    write(
      'y.npy',
      encodeNpy(
        [n],
        Int32Array.from({ length: n }, (_, i) => i % 4),
      ),
    );
    const sut = await load({ kind: 'files', train: 'x.npy', labels: 'y.npy' });
    expect(sut.test.featureShape).toEqual([4]);
    expect(sut.test.numClasses).toBe(4);
    const total = sut.test.count + sut.reference.count + sut.pooled.count;
    expect(total).toBe(n);
    const record = sut.reference.features.subarray(0, 4);
    const row = record[0]!;
    expect(Array.from(record)).toEqual([row, row + 0.25, row + 0.5, row + 0.75]);
    expect(sut.reference.labels[0]).toBe(row % 4);
  });

  it('reads IDX images and labels (bytes scaled to [0, 1]) with a separate IDX test pair', async () => {
    const images = (n: number) =>
      idx(
        [n, 2, 2],
        Array.from({ length: n * 4 }, (_, i) => (i * 5) % 256),
      );
    write('train-images-idx3-ubyte', images(36));
    write(
      'train-labels-idx1-ubyte',
      idx(
        [36],
        Array.from({ length: 36 }, (_, i) => i % 2),
      ),
    );
    write('test-images-idx3-ubyte', images(6));
    write('test-labels-idx1-ubyte', idx([6], [0, 1, 1, 0, 1, 0]));
    const sut = await load({
      kind: 'files',
      train: 'train-images-idx3-ubyte',
      labels: 'train-labels-idx1-ubyte',
      test: 'test-images-idx3-ubyte',
      testLabels: 'test-labels-idx1-ubyte',
      classes: 2,
    });
    expect(sut.test.count).toBe(6);
    expect(Array.from(sut.test.labels)).toEqual([0, 1, 1, 0, 1, 0]);
    expect(sut.test.featureShape).toEqual([4]);
    expect(sut.test.features[1]).toBeCloseTo(5 / 255, 6);
    expect(sut.reference.count + sut.pooled.count).toBe(36);
  });

  it.each([
    ['a missing file', () => undefined, { train: 'nope.csv' }, /dataset\.train: .*nope\.csv does not exist/],
    [
      'a missing label column',
      () => csv('r.csv', table(60)),
      { labelColumn: 'y' },
      /dataset\.train: .*r\.csv: label column 'y' not found in columns x0, x1, x2, outcome/,
    ],
    [
      'a non-numeric cell',
      () => csv('r.csv', [...table(5), '1,two,3,0', ...table(60).slice(1)]),
      {},
      /r\.csv: line 7, column x1: 'two' is not a number/,
    ],
    [
      'a label that is not an integer',
      () => csv('r.csv', [...table(60), '1,2,3,1.5']),
      {},
      /r\.csv: line 62: label '1\.5' is not an integer class index/,
    ],
    [
      'a label outside the declared classes',
      () => csv('r.csv', table(60, 4)),
      { classes: 3 },
      /r\.csv: line 5: label 3 is outside the declared classes \[0, 3\)/,
    ],
    [
      'labels that are not 0-based',
      () => csv('r.csv', ['a,b,outcome', ...Array.from({ length: 60 }, (_, i) => `${i},1,${1 + (i % 2)}`)]),
      {},
      /labels run to 2 but class 0 never occurs/,
    ],
    [
      'a file in another format',
      () => csv('r.csv', table(60)),
      { format: 'npy' as const, labels: 'r.csv' },
      /dataset\.train: .*r\.csv: not an NPY file \(bad magic\)/,
    ],
    [
      'too few records for test, reference and sites',
      () => csv('r.csv', table(19)),
      {},
      /dataset: 19 records are too few: test 4 \+ referenceSize 10 \+ 3 sites x teachers\.count 2 need 20/,
    ],
  ])('refuses %s, naming it', async (_, setup, override, message) => {
    setup();
    const dataset = { kind: 'files', train: 'r.csv', labelColumn: 'outcome', ...override };
    const err = await load(dataset).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimulationDataError);
    expect((err as Error).message).toMatch(message);
  });

  it('refuses an NPY labels file with the wrong count, a missing labels file and mismatched test width', async () => {
    write('x.npy', encodeNpy([40, 3], new Float32Array(120)));
    write('y.npy', encodeNpy([39], new Int32Array(39)));
    await expect(load({ kind: 'files', train: 'x.npy', labels: 'y.npy' })).rejects.toThrow(
      /y\.npy: holds shape \(39\) for 40 samples/,
    );
    await expect(load({ kind: 'files', train: 'x.npy', labels: 'none.npy' })).rejects.toThrow(
      /dataset\.labels: .*none\.npy does not exist/,
    );
    csv('r.csv', table(60));
    csv('t.csv', ['a,b,outcome', '1,2,0']);
    await expect(
      load({ kind: 'files', train: 'r.csv', test: 't.csv', labelColumn: 'outcome' }),
    ).rejects.toThrow(/dataset\.test: .*t\.csv has 2 features per record; .*r\.csv has 3/);
  });

  it('still loads a built-in data set by name', async () => {
    const sut = await loadSimulationData(
      parseSimulationConfig({ ...base, referenceSize: 100, dataset: 'breast-cancer' }),
    );
    expect(sut.test.numClasses).toBe(2);
    expect(sut.test.count + sut.reference.count + sut.pooled.count).toBe(569);
  });
});
