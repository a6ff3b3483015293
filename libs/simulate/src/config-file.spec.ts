import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseSimulationConfig, SimulationConfigError } from './config-file';

const minimal = {
  dataset: { name: 'digits' },
  sites: 5,
  teachers: { perSite: 2 },
  referenceSize: 200,
  queries: { perRound: 50 },
};

describe(parseSimulationConfig.name, () => {
  it('fills in defaults, the SecAgg threshold being a strict majority of the neighbours', () => {
    const sut = parseSimulationConfig(minimal);
    expect(sut.secureAggregation).toEqual({
      threshold: 3,
      neighbours: 'all',
      bits: 32,
      toleratedDropouts: 0,
    });
    expect(sut.privacy).toEqual({ kind: 'none' });
    expect(sut.partition).toEqual({ kind: 'iid' });
    expect(sut.rounds).toBe(1);
    expect(sut.student.hidden).toEqual([32]);
    const sparse = parseSimulationConfig({ ...minimal, sites: 10, secureAggregation: { neighbours: 4 } });
    expect(sparse.secureAggregation.threshold).toBe(3);
  });

  it('names the bad setting, from the schema or from a cross-field rule', () => {
    expect(() => parseSimulationConfig({ ...minimal, sites: 2.5 }, 'sim.yaml')).toThrow(
      /^sim\.yaml: sites: Invalid input: expected int/,
    );
    expect(() =>
      parseSimulationConfig({ ...minimal, privacy: { kind: 'skellam', noiseMultiplier: 1, delta: 0 } }),
    ).toThrow(/privacy\.delta: Too small/);
    expect(() => parseSimulationConfig({ ...minimal, rounds: 5 })).toThrow(
      "config: 'queries.perRound' x 'rounds' must not exceed 'referenceSize' (each input is asked once)",
    );
    expect(() => parseSimulationConfig({ ...minimal, secureAggregation: { toleratedDropouts: 2 } })).toThrow(
      SimulationConfigError,
    );
    expect(() => parseSimulationConfig('sites: 3')).toThrow(/\(top level\)/);
  });

  it("takes the noise plan's collusion assumption as the federation definition does (a count or 'all')", () => {
    // How the noise plan uses it (capped at n - T - 1) is tested where the plan is derived.
    const privacy = { kind: 'skellam', noiseMultiplier: 1, delta: 1e-5 };
    const colluders = (assumedColluders?: number | 'all') => {
      const p = parseSimulationConfig({ ...minimal, privacy: { ...privacy, assumedColluders } }).privacy;
      return p.kind === 'none' ? null : p.assumedColluders;
    };
    expect(colluders()).toBeUndefined();
    expect(colluders(2)).toBe(2);
    expect(colluders('all')).toBe('all');
    expect(() =>
      parseSimulationConfig({ ...minimal, privacy: { ...privacy, assumedColluders: -1 } }),
    ).toThrow(/privacy\.assumedColluders: /);
  });

  it('reads the multi-round revisit and the least-confident strategy', () => {
    const sut = parseSimulationConfig({
      ...minimal,
      rounds: 3,
      revisit: { digestEpochs: 2 },
      queries: { perRound: 50, strategy: 'least-confident' },
    });
    expect(sut.revisit).toEqual({ digestEpochs: 2, localEpochs: 1 });
    expect(sut.queries.strategy).toBe('least-confident');
    expect(parseSimulationConfig(minimal).revisit).toBeUndefined();
    expect(() => parseSimulationConfig({ ...minimal, revisit: {} })).toThrow(
      "config: 'revisit' needs 'rounds' >= 2 (it acts between rounds)",
    );
    expect(() => parseSimulationConfig({ ...minimal, rounds: 2, revisit: { epochs: 1 } })).toThrow(
      /revisit: Unrecognized key/,
    );
    expect(() =>
      parseSimulationConfig({ ...minimal, queries: { perRound: 5, strategy: 'entropy' } }),
    ).toThrow(/queries\.strategy/);
  });
});

describe('parseSimulationConfig dataset', () => {
  const files = (dataset: object, baseDir = '/data/sim') =>
    parseSimulationConfig({ ...minimal, dataset: { kind: 'files', ...dataset } }, 'sim.yaml', { baseDir })
      .dataset;

  it('takes a built-in data set by name alone, as a shortcut for { name }', () => {
    expect(parseSimulationConfig({ ...minimal, dataset: 'digits' }).dataset).toEqual({ name: 'digits' });
    expect(parseSimulationConfig({ ...minimal, dataset: 'fashion-mnist' }).dataset).toEqual({
      name: 'fashion-mnist',
      directory: '/usr/share/datasets/fashion-mnist',
    });
    expect(() => parseSimulationConfig({ ...minimal, dataset: 'mnist' }, 'sim.yaml')).toThrow(
      /^sim\.yaml: dataset: 'mnist' is not a built-in data set \(breast-cancer, digits, fashion-mnist\)/,
    );
  });

  it("reads the user's files with node.yaml's names and defaults, paths relative to the config's directory", () => {
    expect(files({ train: 'records.csv', labelColumn: 'outcome' })).toEqual({
      kind: 'files',
      format: 'csv',
      train: '/data/sim/records.csv',
      labelColumn: 'outcome',
      header: true,
      labelValues: 'index',
    });
    expect(
      files({ train: '/abs/x.npy', labels: 'y.npy', test: 'tx.npy', testLabels: 'ty.npy', classes: 4 }),
    ).toEqual({
      kind: 'files',
      format: 'npy',
      train: '/abs/x.npy',
      labels: '/data/sim/y.npy',
      test: '/data/sim/tx.npy',
      testLabels: '/data/sim/ty.npy',
      labelColumn: -1,
      header: true,
      labelValues: 'index',
      classes: 4,
    });
    expect(files({ train: 'train-images-idx3-ubyte.gz', labels: 'l.gz' })).toMatchObject({ format: 'idx' });
    expect(files({ train: 'data.bin', format: 'npy', labels: 'l.npy' })).toMatchObject({ format: 'npy' });
  });

  it.each([
    [
      { train: 'data.bin', labels: 'l' },
      /dataset\.format: cannot tell the format of data\.bin; set csv, npy or idx/,
    ],
    [{ train: 'x.npy' }, /'dataset\.labels' is required with format npy/],
    [{ train: 'x.idx', test: 't.idx', labels: 'l.idx' }, /'dataset\.testLabels' is required with format idx/],
    [{ train: 'x.csv', labels: 'y.csv' }, /'dataset\.labels' and 'dataset\.testLabels' are for npy\/idx/],
    [{ train: 'x.csv', labelValues: 'name' }, /'dataset\.labelValues' name needs 'dataset\.classes'/],
    [
      { train: 'x.csv', classes: ['a', 'a'] },
      /'dataset\.classes' must list at least two distinct label names/,
    ],
    [{ train: 'x.csv', classes: 1 }, /dataset\.classes: /],
    [{ train: 'x.csv', testFraction: 0.3 }, /dataset\.testFraction: set the top-level 'testFraction'/],
    [{ train: 'x.csv', labelColum: 'y' }, /dataset: Unrecognized key: "labelColum"/],
    [{ train: '' }, /dataset\.train: Too small/],
  ])('refuses %j, naming the setting', (dataset, message) => {
    expect(() => files(dataset)).toThrow(SimulationConfigError);
    expect(() => files(dataset)).toThrow(message);
  });
});

describe('parseSimulationConfig teachers.onnx', () => {
  const three = { ...minimal, sites: 3, teachers: {} };
  let dir = '';
  const onnx = (lists: unknown, extra: object = {}) =>
    parseSimulationConfig({ ...three, teachers: { onnx: lists, ...extra } }, 'sim.yaml', { baseDir: dir });

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-sim-onnx-'));
    fs.mkdirSync(path.join(dir, 'm'));
    for (const f of ['a.onnx', 'b.onnx', 'm/c.onnx']) fs.writeFileSync(path.join(dir, f), 'not checked here');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("takes one list per site in node.yaml's form, paths relative to the config's directory", () => {
    const sut = onnx(
      [
        ['a.onnx', 'b.onnx'],
        [{ path: 'm/c.onnx', input: 'x', output: 'probs', outputKind: 'probabilities' }],
        ['a.onnx'],
      ],
      { outputKind: 'logits' },
    );
    expect(sut.teachers.onnx).toEqual([
      [{ path: path.join(dir, 'a.onnx') }, { path: path.join(dir, 'b.onnx') }],
      [{ path: path.join(dir, 'm', 'c.onnx'), input: 'x', output: 'probs', outputKind: 'probabilities' }],
      [{ path: path.join(dir, 'a.onnx') }],
    ]);
    expect(sut.teachers.outputKind).toBe('logits');
    // perSite is not used for training; it defaults to the longest list.
    expect(sut.teachers.perSite).toBe(2);
    expect(parseSimulationConfig(minimal).teachers.onnx).toBeUndefined();
  });

  it.each([
    [
      [['a.onnx'], ['b.onnx']],
      {},
      /'teachers\.onnx' must hold one list of models per site: 3 lists for 'sites' 3, not 2/,
    ],
    [
      [['a.onnx'], ['b.onnx'], ['missing.onnx']],
      {},
      /'teachers\.onnx\[2\]\[0\]': .*missing\.onnx is not a file/,
    ],
    [[['a.onnx'], ['m'], ['b.onnx']], {}, /'teachers\.onnx\[1\]\[0\]': .*m is not a file/],
    [[['a.onnx'], [], ['b.onnx']], {}, /teachers\.onnx\.1: Too small/],
    [[['a.onnx'], [{ path: 'b.onnx', outputKind: 'softmax' }], ['b.onnx']], {}, /teachers\.onnx\.1\.0/],
    [[['a.onnx'], [{ file: 'b.onnx' }], ['b.onnx']], {}, /teachers\.onnx\.1\.0/],
    [[['a.onnx'], ['b.onnx'], ['a.onnx']], { outputKind: 'scores' }, /teachers\.outputKind/],
  ])('refuses teachers.onnx %j (%j), naming the setting', (lists, extra, message) => {
    expect(() => onnx(lists, extra)).toThrow(SimulationConfigError);
    expect(() => onnx(lists, extra)).toThrow(message);
  });

  it('refuses revisit with site-provided teachers, outputKind without them, and no perSite without them', () => {
    const lists = [['a.onnx'], ['b.onnx'], ['a.onnx']];
    expect(() =>
      parseSimulationConfig({ ...three, rounds: 2, revisit: {}, teachers: { onnx: lists } }, 'sim.yaml', {
        baseDir: dir,
      }),
    ).toThrow(/'revisit' cannot be used with 'teachers\.onnx'/);
    expect(() => parseSimulationConfig({ ...three, teachers: { perSite: 2, outputKind: 'logits' } })).toThrow(
      "config: 'teachers.outputKind' applies to 'teachers.onnx' only",
    );
    expect(() => parseSimulationConfig(three)).toThrow(/teachers\.perSite: is required/);
  });
});

describe('parseSimulationConfig secureAggregation.dropouts', () => {
  const withDropouts = (dropouts: unknown) =>
    parseSimulationConfig({
      ...minimal,
      rounds: 2,
      queries: { perRound: 50 },
      secureAggregation: { toleratedDropouts: 1, dropouts },
    });

  it('takes sites silent before shares, input or unmask in chosen rounds', () => {
    const dropouts = [
      { round: 1, site: 2, stage: 'input' },
      { round: 2, site: 2, stage: 'input' },
      { round: 2, site: 1, stage: 'unmask' },
    ];
    expect(withDropouts(dropouts).secureAggregation.dropouts).toEqual(dropouts);
  });

  it.each([
    [[{ round: 1, site: 0, stage: 'keys' }], /dropouts\[0\]\.stage' 'keys' is not supported/],
    [
      [
        { round: 1, site: 0, stage: 'input' },
        { round: 2, site: 0, stage: 'unmask' },
      ],
      /dropouts\[1\]\.stage': site 0 already goes silent before 'input'/,
    ],
    [
      [
        { round: 1, site: 0, stage: 'input' },
        { round: 1, site: 0, stage: 'input' },
      ],
      /dropouts\[1\]': site 0 is listed twice for round 1/,
    ],
    [[{ round: 3, site: 0, stage: 'input' }], /dropouts\[0\]\.round' must be an integer in \[1, 2\]/],
    [[{ round: 1, site: 5, stage: 'input' }], /dropouts\[0\]\.site' must be an integer in \[0, 4\]/],
    [[{ round: 1, site: 0, stage: 'mask' }], /secureAggregation\.dropouts\.0\.stage/],
  ])('refuses %j, naming the dropout', (dropouts, message) => {
    expect(() => withDropouts(dropouts)).toThrow(SimulationConfigError);
    expect(() => withDropouts(dropouts)).toThrow(message);
  });
});
