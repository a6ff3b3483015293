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
