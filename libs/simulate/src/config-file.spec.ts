// Over 300 lines on purpose: one spec of the simulation file format, its federation section and
// the refusals of the old names, beside the dataset, ONNX teacher and dropout forms it shares a parser with.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseSimulationConfig, SimulationConfigError } from './config-file';
import { federationDefinition, nodeSettings } from './product/federation-terms';

const minimal = {
  dataset: { name: 'digits' },
  sites: 5,
  teachers: { count: 2 },
  referenceSize: 200,
  federation: {
    privacy: { mechanism: 'none' },
    student: { architecture: 'mlp', hidden: [32] },
    rounds: { queriesPerRound: 50, maxRounds: 1 },
  },
};

/** `minimal` with `changes` merged into its federation definition, section by section. */
const withFederation = (changes: Record<string, Record<string, unknown> | string>) => {
  const f: Record<string, unknown> = { ...minimal.federation };
  for (const [k, v] of Object.entries(changes))
    f[k] = typeof v === 'object' ? { ...((f[k] as object | undefined) ?? {}), ...v } : v;
  return { ...minimal, federation: f };
};
const skellam = { mechanism: 'skellam', noiseMultiplier: 1, epsilonCap: 100 };

describe(parseSimulationConfig.name, () => {
  it("reads the federation definition with the deployment's names and defaults, the SecAgg threshold a strict majority", () => {
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
    expect(sut.student).toMatchObject({ hidden: [32], epochs: 30, batchSize: 32, schedule: 'cosine' });
    expect(sut.federation).toEqual(minimal.federation);
    const sparse = parseSimulationConfig({
      ...withFederation({ secureAggregation: { neighbours: 4 } }),
      sites: 10,
    });
    expect(sparse.secureAggregation).toMatchObject({ threshold: 3, neighbours: 4 });
    const p = parseSimulationConfig(
      withFederation({
        privacy: { ...skellam, clipNorm: 0.5, granularity: 0.02, assumedColluders: 1 },
        secureAggregation: { dropoutTolerance: 1, modulusBits: 24 },
        distillation: { aggregation: 'era', eraTemperature: 0.5 },
      }),
    );
    expect(p.privacy).toEqual({
      kind: 'skellam',
      noiseMultiplier: 1,
      clip: 0.5,
      granularity: 0.02,
      delta: 1e-5,
      assumedColluders: 1,
    });
    expect(p.secureAggregation).toMatchObject({ bits: 24, toleratedDropouts: 1 });
    expect(p.aggregation).toEqual({ kind: 'era', temperature: 0.5 });
  });

  it('names the bad setting, from the schema or from a cross-field rule', () => {
    expect(() => parseSimulationConfig({ ...minimal, sites: 2.5 }, 'sim.yaml')).toThrow(
      /^sim\.yaml: sites: Invalid input: expected int/,
    );
    expect(() => parseSimulationConfig(withFederation({ privacy: { ...skellam, delta: 0 } }))).toThrow(
      /federation\.privacy\.delta: Too small/,
    );
    expect(() => parseSimulationConfig(withFederation({ rounds: { maxRounds: 5 } }))).toThrow(
      "config: 'federation.rounds.queriesPerRound' x 'federation.rounds.maxRounds' must not exceed 'referenceSize' (each input is asked once)",
    );
    expect(() =>
      parseSimulationConfig(withFederation({ secureAggregation: { dropoutTolerance: 2 } })),
    ).toThrow(SimulationConfigError);
    expect(() => parseSimulationConfig('sites: 3')).toThrow(/\(top level\)/);
    expect(() => parseSimulationConfig({ ...minimal, federation: undefined })).toThrow(/federation: /);
  });

  it('refuses what `federation create` refuses, with its messages', () => {
    // Soft labels with GNMax, as the old docs example paired them.
    expect(() =>
      parseSimulationConfig(withFederation({ privacy: skellam, distillation: { aggregation: 'gnmax' } })),
    ).toThrow("config: federation.distillation.aggregation: gnmax needs privacy.summary 'votes'");
    expect(() =>
      parseSimulationConfig(withFederation({ privacy: { mechanism: 'skellam', noiseMultiplier: 1 } })),
    ).toThrow("federation.privacy.epsilonCap: is required with mechanism 'skellam'");
    expect(() => parseSimulationConfig(withFederation({ secureAggregation: { modulusBits: 8 } }))).toThrow(
      /federation\.secureAggregation\.modulusBits: Too small/,
    );
    expect(() => parseSimulationConfig(withFederation({ privacy: { kind: 'skellam' } }))).toThrow(
      /federation\.privacy: Unrecognized key: "kind"/,
    );
    expect(() => parseSimulationConfig(withFederation({ rounds: { minSites: 6 } }))).toThrow(
      "federation.rounds.minSites: 6 exceeds the simulation's 5 sites: no round could open",
    );
    expect(() => parseSimulationConfig(withFederation({ referenceSet: { sha256: 'a'.repeat(64) } }))).toThrow(
      /federation\.referenceSet: set by the simulation from its data/,
    );
  });

  it('refuses rounds past the epsilon cap, with the message the coordinator refuses the round with', () => {
    const capped = withFederation({
      privacy: { mechanism: 'skellam', summary: 'votes', noiseMultiplier: 1, epsilonCap: 6 },
      rounds: { queriesPerRound: 10, maxRounds: 3 },
    });
    expect(() => parseSimulationConfig(capped)).toThrow(
      /^config: federation\.privacy\.epsilonCap: round 2 would bring federation 'simulation' from epsilon \d+\.\d{4} to \d+\.\d{4} \(delta 0\.00001\), past its privacy\.epsilonCap 6; the coordinator would refuse to open it/,
    );
    // A target epsilon sets the cap and the noise that keeps every round within it.
    const target = withFederation({
      privacy: { mechanism: 'skellam', summary: 'votes', targetEpsilon: 3 },
      rounds: { queriesPerRound: 10, maxRounds: 3 },
    });
    expect(parseSimulationConfig(target).privacy).toMatchObject({ kind: 'skellam', delta: 1e-5 });
  });

  it("refuses the simulator's old names, saying the new one (no silent aliasing)", () => {
    const old = {
      dataset: 'digits',
      sites: 5,
      teachers: { perSite: 2 },
      referenceSize: 200,
      rounds: 1,
      queries: { perRound: 50 },
      summary: 'soft-labels',
      aggregation: { kind: 'gnmax' },
      privacy: { kind: 'skellam', noiseMultiplier: 1, clip: 1, delta: 1e-5 },
      secureAggregation: { bits: 32, toleratedDropouts: 0, neighbours: 'all' },
      student: { hidden: [16] },
      revisit: { digestEpochs: 1 },
    };
    let message = '';
    try {
      parseSimulationConfig(old, 'sim.yaml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(
      /^sim\.yaml: rounds: the simulator's old name; .*use federation\.rounds\.maxRounds/,
    );
    for (const expected of [
      "queries: the simulator's old name; a simulation is a federation definition plus sites and data: use federation.rounds.queriesPerRound and federation.rounds.querySelection (perRound → queriesPerRound, strategy → querySelection)",
      "privacy: the simulator's old name; a simulation is a federation definition plus sites and data: use federation.privacy (kind → mechanism, clip → clipNorm;",
      "secureAggregation: the simulator's old name; a simulation is a federation definition plus sites and data: use federation.secureAggregation (toleratedDropouts → dropoutTolerance, bits → modulusBits, neighbours: all → neighbours: 0), and its dropouts → the top-level dropouts",
      "aggregation: the simulator's old name; a simulation is a federation definition plus sites and data: use federation.distillation.aggregation (kind → aggregation",
      "summary: the simulator's old name; a simulation is a federation definition plus sites and data: use federation.privacy.summary",
      "student: the simulator's old name",
      "revisit: the simulator's old name; a simulation is a federation definition plus sites and data: use federation.revisit",
      "teachers.perSite: the simulator's old name; use teachers.count (node.yaml teachers.count)",
    ])
      expect(message).toContain(expected);
  });

  it('reads the multi-round revisit and the least-confident strategy', () => {
    const sut = parseSimulationConfig(
      withFederation({
        rounds: { maxRounds: 3, queriesPerRound: 50, querySelection: 'least-confident' },
        revisit: { digestEpochs: 2, localEpochs: 1 },
      }),
    );
    expect(sut.revisit).toEqual({ digestEpochs: 2, localEpochs: 1, learningRate: 1e-3 });
    expect(sut.queries).toEqual({ perRound: 50, strategy: 'least-confident' });
    expect(parseSimulationConfig(minimal).revisit).toBeUndefined();
    expect(() =>
      parseSimulationConfig(withFederation({ revisit: { digestEpochs: 1, localEpochs: 0 } })),
    ).toThrow('config: federation.revisit: needs rounds.maxRounds >= 2 (it acts between rounds)');
    expect(() => parseSimulationConfig(withFederation({ rounds: { querySelection: 'entropy' } }))).toThrow(
      /federation\.rounds\.querySelection/,
    );
  });
});

describe('parseSimulationConfig features', () => {
  it("reads the federation's features section, and refuses a bad one with the deployment's message", () => {
    const sut = parseSimulationConfig(
      withFederation({ features: { pca: { components: 16, whiten: true } } }),
    );
    expect(sut.features).toEqual({ pca: { components: 16, whiten: true } });
    expect(parseSimulationConfig(minimal).features).toBeUndefined();
    expect(() => parseSimulationConfig(withFederation({ features: { pca: { components: 0 } } }))).toThrow(
      'config: federation.features.pca.components: Too small: expected number to be >=1',
    );
    // Rules against the input shape apply once the data set decides it, as `federation create` does.
    const late = parseSimulationConfig(withFederation({ features: { pca: { components: 65 } } }));
    expect(() =>
      federationDefinition(late, { classes: 10, inputShape: [64], referenceSha256: 'ab'.repeat(32) }),
    ).toThrow('federation.features.pca.components: is 65; input.shape [64] has only 64 values');
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
  const threeWith = (f: Record<string, Record<string, unknown>>) => ({
    ...withFederation(f),
    sites: 3,
    teachers: {},
  });
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
    // The teacher count is not used for training; it defaults to the longest list.
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

  it('refuses revisit with site-provided teachers, outputKind without them, and no count without them', () => {
    const lists = [['a.onnx'], ['b.onnx'], ['a.onnx']];
    const revisit = threeWith({
      rounds: { maxRounds: 2, queriesPerRound: 50 },
      revisit: { digestEpochs: 1, localEpochs: 1 },
    });
    expect(() =>
      parseSimulationConfig({ ...revisit, teachers: { onnx: lists } }, 'sim.yaml', { baseDir: dir }),
    ).toThrow(/'federation\.revisit' cannot be used with 'teachers\.onnx'/);
    expect(() => parseSimulationConfig({ ...three, teachers: { count: 2, outputKind: 'logits' } })).toThrow(
      "config: 'teachers.outputKind' applies to 'teachers.onnx' only",
    );
    expect(() => parseSimulationConfig(three)).toThrow(/teachers\.count: is required/);
  });

  it('passes teachers.abstain to every node.yaml and refuses a bad fraction or abstain with site-provided teachers', () => {
    const sut = parseSimulationConfig({ ...minimal, teachers: { count: 2, abstain: { fraction: 0.3 } } });
    expect(sut.teachers.abstain).toEqual({ fraction: 0.3 });
    for (const site of [0, 4])
      expect(nodeSettings(sut, site).teachers).toMatchObject({ count: 2, abstain: { fraction: 0.3 } });
    expect(nodeSettings(parseSimulationConfig(minimal), 0).teachers).not.toHaveProperty('abstain');
    expect(() =>
      parseSimulationConfig({ ...minimal, teachers: { count: 2, abstain: { fraction: 0 } } }),
    ).toThrow(/teachers\.abstain\.fraction: must be > 0/);
    const lists = [['a.onnx'], ['b.onnx'], ['a.onnx']];
    expect(() =>
      parseSimulationConfig({ ...three, teachers: { onnx: lists, abstain: {} } }, 'sim.yaml', {
        baseDir: dir,
      }),
    ).toThrow(/'teachers\.abstain' cannot be used with 'teachers\.onnx'/);
  });
});

describe('parseSimulationConfig dropouts', () => {
  const withDropouts = (dropouts: unknown) =>
    parseSimulationConfig({
      ...withFederation({
        rounds: { maxRounds: 2, queriesPerRound: 50 },
        secureAggregation: { dropoutTolerance: 1 },
      }),
      dropouts,
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
    [[{ round: 1, site: 0, stage: 'mask' }], /^config: dropouts\.0\.stage/],
  ])('refuses %j, naming the dropout', (dropouts, message) => {
    expect(() => withDropouts(dropouts)).toThrow(SimulationConfigError);
    expect(() => withDropouts(dropouts)).toThrow(message);
  });
});
