// One spec for the three `fedistill data` commands (inspect, split, holdout), over 300 lines:
// each command's cases, its refusals and the round trips through the node's and the
// coordinator's own readers sit together, on the same small fixtures.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { type Dataset, encodeNpy, featureSize, loadCsv, loadLabelledFile, parseNpy } from '@fedistill/data';
import { loadSimulationData, parseSimulationConfig } from '@fedistill/simulate';
import { parseEvaluationSet } from '../../../coordinator/src/federation/evaluation-sets';
import { loadNodeConfig } from '../../../node/src/node-config';
import { loadSiteData } from '../../../node/src/site-data';
import { CliError } from '../cli-error';
import { registerDataCommand } from './data.command';

const BREAST_CANCER = path.join(__dirname, '..', '..', '..', '..', 'data', 'breast_cancer.csv');

interface Ran {
  stdout: string;
  error: CliError | null;
}

async function run(args: string[]): Promise<Ran> {
  const program = new Command('fedistill').exitOverride().configureOutput({ writeErr: () => undefined });
  registerDataCommand(program);
  let stdout = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'fedistill', 'data', ...args]);
    return { stdout, error: null };
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    return { stdout, error: err };
  } finally {
    out.mockRestore();
  }
}

/** 30 records: features a, b, c (not all exact in float32) and a `kind` label 0..2 in column 2. */
function smallCsv(file: string): void {
  const lines = ['a,b,kind,c'];
  for (let i = 0; i < 30; i += 1) lines.push(`${i * 12.345678 + 0.1},${(i * 7) % 11},${i % 3},-${i / 3}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Each record as text (features then label), sorted: a multiset to compare sets of records. */
function rows(d: Dataset): string[] {
  const per = featureSize(d);
  return Array.from({ length: d.count }, (_, r) =>
    [...d.features.subarray(r * per, (r + 1) * per), d.labels[r]].join(','),
  ).sort();
}

/** A node directory whose node.yaml holds `data` as `data split` printed it; loaded by the node. */
async function nodeReads(dir: string, snippet: string, features: number, classes: number): Promise<Dataset> {
  fs.mkdirSync(dir);
  const yaml = `site: st-marys\ncoordinator: localhost:7443\n${snippet}\n  testFraction: 0\n`;
  fs.writeFileSync(path.join(dir, 'node.yaml'), yaml);
  const schema = {
    id: 'f',
    labels: Array.from({ length: classes }, (_, i) => `c${i}`),
    inputShape: [features],
  };
  return (await loadSiteData(loadNodeConfig(dir), schema)).train;
}

/** The `data:` blocks of `data split`'s text output, one per site. */
function snippets(stdout: string): string[] {
  return stdout
    .split(/^# .*$/m)
    .slice(1)
    .map((b) => b.split('\nfederation definition')[0]!.trim());
}

describe('registerDataCommand', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-data-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('data inspect', () => {
    it("reports the bundled scikit-learn file with the node's own refusal, and reads past its header", async () => {
      const node = await loadLabelledFile(BREAST_CANCER, {
        format: 'csv',
        labelColumn: -1,
        header: true,
      }).then(
        () => null,
        (err: Error) => err.message,
      );
      const { stdout, error } = await run(['inspect', BREAST_CANCER, '--json']);
      const report = JSON.parse(stdout) as Record<string, unknown>;
      expect(node).toContain('line 2: 31 cells, expected 4 (ragged row)');
      expect(report).toMatchObject({ nodeReads: false, error: node, rows: 569, featureShape: [30] });
      expect(report.labels).toEqual([
        { value: '0', name: 'malignant', count: 212 },
        { value: '1', name: 'benign', count: 357 },
      ]);
      expect(report.sklearn).toEqual({ rows: 569, features: 30, classNames: ['malignant', 'benign'] });
      expect(error?.exitCode).toBe(1);
    });

    it('shows rows, shape, columns and label counts of a file the node reads', async () => {
      const file = path.join(dir, 'records.csv');
      smallCsv(file);
      const { stdout, error } = await run(['inspect', file, '--label-column', 'kind']);
      expect(error).toBeNull();
      expect(stdout).toContain('the node reads it');
      expect(stdout).toContain('rows: 30\nfeatures per row: 3 (shape [3])');
      expect(stdout).toContain('columns (4): a, b, kind, c');
      expect(stdout).toContain('label values: 0: 10, 1: 10, 2: 10');
      expect(stdout).toContain('problems: none');
    });

    it('names label cells that are names, and reads them with --classes', async () => {
      const file = path.join(dir, 'named.csv');
      fs.writeFileSync(file, 'x,y,diagnosis\n1,2,M\n3,4,B\n5,6,B\n');
      const refused = await run(['inspect', file, '--json']);
      const report = JSON.parse(refused.stdout) as { error: string; problems: string[]; labels: unknown };
      expect(report.error).toBe(`${file}: line 2: label 'M' is not an integer class index`);
      expect(report.labels).toEqual([
        { value: 'M', count: 1 },
        { value: 'B', count: 2 },
      ]);
      expect(report.problems.join('\n')).toContain('give --classes M,B in class order');
      const read = await run(['inspect', file, '--classes', 'B,M']);
      expect(read.error).toBeNull();
      expect(read.stdout).toContain('label values: 0 (B): 2, 1 (M): 1');
    });

    it('warns of a first line of numbers read as a header, and of missing classes and non-finite values', async () => {
      const csv = path.join(dir, 'plain.csv');
      fs.writeFileSync(csv, '1,2,0\n3,4,2\n5,6,2\n');
      expect((await run(['inspect', csv])).stdout).toContain(
        'the first line holds numbers, not column names',
      );
      const x = path.join(dir, 'x.npy');
      const y = path.join(dir, 'y.npy');
      fs.writeFileSync(x, encodeNpy([3, 2], Float32Array.from([1, 2, 3, 4, 5, 6])));
      fs.writeFileSync(y, encodeNpy([3], Int32Array.from([0, 2, 2])));
      const { stdout } = await run(['inspect', x, '--labels', y]);
      expect(stdout).toContain('labels run to 2 but class 1 never occurs');
      // Non-finite features: the node's loader refuses the file (libs/data checkFeatures).
      fs.writeFileSync(x, encodeNpy([3, 2], Float32Array.from([1, NaN, 3, 4, 5, Infinity])));
      expect((await run(['inspect', x, '--labels', y])).stdout).toContain(
        'the node refuses it: ' + `${x}: feature value NaN at index 1 of sample 0 is not a finite float32`,
      );
    });

    it('refuses a missing file and misused flags', async () => {
      const missing = path.join(dir, 'none.csv');
      expect((await run(['inspect', missing])).error).toMatchObject({
        message: `data: ${missing} does not exist`,
        exitCode: 1,
      });
      const npy = path.join(dir, 'x.npy');
      expect((await run(['inspect', npy])).error).toMatchObject({
        message: '--labels FILE is required with format npy (node.yaml data.labels)',
        exitCode: 2,
      });
      expect((await run(['inspect', path.join(dir, 'records.txt')])).error?.message).toContain(
        'cannot tell the format',
      );
    });
  });

  describe('data split', () => {
    it('writes per-site files that the node reads back, with every record once (CSV and NPY)', async () => {
      const file = path.join(dir, 'records.csv');
      smallCsv(file);
      const all = rows(await loadLabelledFile(file, { format: 'csv', labelColumn: 'kind' }));
      for (const to of ['csv', 'npy']) {
        const out = path.join(dir, `sites-${to}`);
        const args = [file, '--label-column', 'kind', '--sites', '3', '--partition', 'label-skew'];
        const { stdout, error } = await run([
          'split',
          ...args,
          '--alpha',
          '2',
          '--seed',
          '4',
          '--to',
          to,
          '--out',
          out,
        ]);
        expect(error).toBeNull();
        const blocks = snippets(stdout);
        expect(blocks).toHaveLength(3);
        const read: string[] = [];
        for (const [i, block] of blocks.entries())
          read.push(...rows(await nodeReads(path.join(dir, `node-${to}-${i}`), block, 3, 3)));
        expect(read.sort()).toEqual(all);
        const manifest = JSON.parse(fs.readFileSync(path.join(out, 'split.json'), 'utf8')) as {
          sites: { records: number }[];
        };
        expect(manifest.sites.map((s) => s.records).reduce((a, b) => a + b)).toBe(30);
      }
      expect(fs.readFileSync(path.join(dir, 'sites-csv', 'site-1.csv'), 'utf8').split('\n')[0]).toBe(
        'a,b,c,kind',
      );
    });

    it('splits the same way for the same seed, and skews quantities', async () => {
      const file = path.join(dir, 'records.csv');
      smallCsv(file);
      const split = async (out: string) => {
        const r = await run([
          'split',
          file,
          '--label-column',
          '2',
          '--sites',
          '2',
          '--partition',
          'quantity-skew',
          '--alpha',
          '0.3',
          '--json',
          '--out',
          path.join(dir, out),
        ]);
        return (JSON.parse(r.stdout) as { sites: { records: number; data: { train: string } }[] }).sites;
      };
      const [a, b] = [await split('a'), await split('b')];
      expect(a.map((s) => s.records)).toEqual(b.map((s) => s.records));
      expect(fs.readFileSync(a[0]!.data.train, 'utf8')).toBe(fs.readFileSync(b[0]!.data.train, 'utf8'));
      expect(a.map((s) => s.records).reduce((x, y) => x + y)).toBe(30);
      const tiny = await run([
        'split',
        file,
        '--label-column',
        'kind',
        '--sites',
        '10',
        '--out',
        path.join(dir, 'c'),
      ]);
      expect(tiny.stdout).toContain('note: site-1 keeps 2 of its 3 records for training');
    });

    it('refuses a non-empty --out unless --force, and --force on a folder holding the input', async () => {
      const file = path.join(dir, 'records.csv');
      smallCsv(file);
      const out = path.join(dir, 'sites');
      fs.mkdirSync(out);
      fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
      const args = ['split', file, '--label-column', 'kind', '--sites', '2', '--out', out];
      expect((await run(args)).error).toMatchObject({
        exitCode: 2,
        message: expect.stringContaining('is not empty'),
      });
      expect(fs.readdirSync(out)).toEqual(['keep.txt']);
      expect((await run([...args, '--force'])).error).toBeNull();
      expect(fs.readdirSync(out).sort()).toEqual(['site-1.csv', 'site-2.csv', 'split.json']);
      const inside = ['split', file, '--label-column', 'kind', '--sites', '2', '--out', dir, '--force'];
      expect((await run(inside)).error?.message).toContain(`holds the input ${file}`);
      expect(fs.existsSync(file)).toBe(true);
    });

    it('refuses bad settings and unsplittable data, writing nothing', async () => {
      const file = path.join(dir, 'records.csv');
      smallCsv(file);
      const out = path.join(dir, 'deep', 'sites');
      const base = ['split', file, '--label-column', 'kind', '--out', out];
      const refusals: [string[], string][] = [
        [['--sites', '0'], "--sites '0' must be an integer in [1, 255]"],
        [['--sites', '2', '--alpha', '1'], '--alpha applies to label-skew and quantity-skew, not iid'],
        [['--sites', '2', '--partition', 'label-skew', '--alpha', 'x'], "--alpha 'x' must be a number > 0"],
        [['--sites', '31'], '30 records cannot be split across 31 sites'],
        [['--sites', '9', '--partition', 'label-skew', '--alpha', '0.01'], 'would hold no records'],
      ];
      for (const [flags, message] of refusals) {
        const { error } = await run([...base, ...flags]);
        expect(error?.message).toContain(message);
      }
      const bad = path.join(dir, 'bad.csv');
      fs.writeFileSync(bad, 'a,label\n1,0\n2\n');
      expect((await run(['split', bad, '--sites', '2', '--out', out])).error?.message).toBe(
        `${bad}: line 3: 1 cells, expected 2 (ragged row)`,
      );
      expect(fs.readdirSync(dir).sort()).toEqual(['bad.csv', 'records.csv']);
    });
  });

  describe('data holdout', () => {
    it('makes the reference and evaluation sets the coordinator takes, and leaves the rest to split', async () => {
      const out = path.join(dir, 'prepared');
      const { stdout, error } = await run([
        'holdout',
        BREAST_CANCER,
        '--reference',
        '100',
        '--evaluation',
        '50',
        '--out',
        out,
      ]);
      expect(error).toBeNull();
      expect(stdout).toContain('federation definition: labels: [malignant, benign]; input: { shape: [30] }');
      const read = (f: string) => new Uint8Array(fs.readFileSync(path.join(out, f)));
      const reference = parseNpy('reference', read('reference.npy'));
      expect(reference.shape).toEqual([100, 30]);
      expect(reference.data).toBeInstanceOf(Float32Array);
      const evaluation = parseEvaluationSet(
        read('evaluation-inputs.npy'),
        read('evaluation-labels.npy'),
        [30],
        2,
      );
      const remainder = await loadLabelledFile(path.join(out, 'remainder.csv'), {
        format: 'csv',
        labelColumn: 'label',
      });
      expect(remainder.count).toBe(419);
      const full = (await loadCsv(BREAST_CANCER, { skipLines: 1, header: false, label: -1 })).dataset;
      const records = (x: Float32Array, n: number) =>
        Array.from({ length: n }, (_, r) => x.subarray(r * 30, (r + 1) * 30).join(','));
      const held = [
        ...records(evaluation.features, 50),
        ...records(reference.data as Float32Array, 100),
        ...records(remainder.features, 419),
      ];
      expect(held.sort()).toEqual(records(full.features, 569).sort());
    });

    it('holds out and splits as the simulator does with the same seed', async () => {
      const out = path.join(dir, 'prepared');
      await run([
        'holdout',
        BREAST_CANCER,
        '--reference',
        '100',
        '--evaluation',
        '114',
        '--seed',
        '5',
        '--out',
        out,
      ]);
      const sites = path.join(dir, 'sites');
      const split = await run([
        'split',
        path.join(out, 'remainder.csv'),
        '--sites',
        '3',
        '--partition',
        'label-skew',
        '--seed',
        '5',
        '--to',
        'npy',
        '--out',
        sites,
      ]);
      expect(split.error).toBeNull();
      const config = parseSimulationConfig({
        dataset: { name: 'breast-cancer' },
        sites: 3,
        partition: { kind: 'dirichlet', alpha: 1 },
        partitionSeed: 5,
        teachers: { count: 1 },
        referenceSize: 100,
        testFraction: 0.2,
        federation: {
          student: { architecture: 'mlp' },
          privacy: { mechanism: 'none' },
          rounds: { queriesPerRound: 10, maxRounds: 1 },
        },
      });
      const simulated = await loadSimulationData(config);
      const written = await Promise.all(
        [1, 2, 3].map((s) =>
          loadLabelledFile(path.join(sites, `site-${s}.npy`), {
            format: 'npy',
            labels: path.join(sites, `site-${s}.labels.npy`),
          }),
        ),
      );
      expect(written.map((d) => d.features)).toEqual(simulated.sites.map((d) => d.features));
      const reference = parseNpy(
        'reference',
        new Uint8Array(fs.readFileSync(path.join(out, 'reference.npy'))),
      );
      expect(reference.data).toEqual(simulated.reference.features);
      const evaluation = parseNpy(
        'evaluation',
        new Uint8Array(fs.readFileSync(path.join(out, 'evaluation-inputs.npy'))),
      );
      expect(evaluation.data).toEqual(simulated.test.features);
    });

    it('refuses holding out every record, or nothing, and writes nothing', async () => {
      const out = path.join(dir, 'prepared');
      const all = await run([
        'holdout',
        BREAST_CANCER,
        '--reference',
        '300',
        '--evaluation',
        '269',
        '--out',
        out,
      ]);
      expect(all.error?.message).toBe(
        '569 records are too few: --reference 300 + --evaluation 269 leave none for the sites',
      );
      const none = await run([
        'holdout',
        BREAST_CANCER,
        '--reference',
        '0',
        '--evaluation',
        '0',
        '--out',
        out,
      ]);
      expect(none.error).toMatchObject({
        exitCode: 2,
        message: '--reference and --evaluation are both 0: nothing to hold out',
      });
      expect(fs.readdirSync(dir)).toEqual([]);
    });
  });
});
