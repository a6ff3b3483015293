import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { CliError } from '../cli-error';
import { registerSimulateCommand } from './simulate.command';

const EXAMPLE = path.join(__dirname, '..', '..', '..', '..', 'examples', 'breast-cancer.simulation.yaml');

async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const program = new Command('fedistill').exitOverride().configureOutput({ writeErr: () => undefined });
  registerSimulateCommand(program);
  program.commands.forEach((c) => c.exitOverride());
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'fedistill', 'simulate', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr };
}

describe('registerSimulateCommand', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-simulate-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs the example with overrides, writes the run folder (--force: into a non-empty one) and prints the JSON summary', async () => {
    const out = path.join(dir, 'run');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const { stdout, stderr } = await run([
      '--config',
      EXAMPLE,
      '--out',
      out,
      '--force',
      '--json',
      '--rounds',
      '2',
      '--seed',
      '5',
    ]);
    const summary = JSON.parse(stdout) as {
      rounds: number;
      epsilon: number;
      finalAccuracy: number;
      runFolder: string;
    };
    expect(summary.rounds).toBe(2);
    expect(summary.runFolder).toBe(out);
    expect(summary.finalAccuracy).toBeGreaterThan(0.8);
    expect(stderr).toContain('simulate: round 2/2');
    expect(fs.readdirSync(out).sort()).toEqual([
      'accuracy-by-epsilon.svg',
      'accuracy-by-round.svg',
      'baselines.json',
      'bytes.csv',
      'config.json',
      'notes.txt',
      'privacy.json',
      'rounds.jsonl',
      'student.onnx',
      'summary.json',
    ]);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as {
      rounds: number;
      seed: number;
    };
    expect(config).toMatchObject({ rounds: 2, seed: 5 });
    const rounds = fs.readFileSync(path.join(out, 'rounds.jsonl'), 'utf8').trim().split('\n');
    expect(rounds).toHaveLength(2);
    expect((JSON.parse(rounds[1]!) as { epsilon: number }).epsilon).toBe(summary.epsilon);
    expect(fs.readFileSync(path.join(out, 'bytes.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 2 * 3);
    expect(fs.readFileSync(path.join(out, 'accuracy-by-round.svg'), 'utf8')).toContain('<polyline');
    // An ONNX ModelProto starts with field 1 (ir_version), varint: byte 0x08.
    expect(fs.readFileSync(path.join(out, 'student.onnx'))[0]).toBe(0x08);
  }, 180_000);

  it.each([
    [['--sites', 'many'], /sites: Invalid input: expected number/],
    [['--sites', '1'], /sites: Too small: expected number to be >=2/],
    [['--noise-multiplier', '-1'], /federation\.privacy\.noiseMultiplier: Too small/],
    [
      ['--queries', '100'],
      /'federation\.rounds\.queriesPerRound' x 'federation\.rounds\.maxRounds' must not exceed 'referenceSize'/,
    ],
    // The example's three rounds reach epsilon 7.49 under its cap 8; less noise would pass it.
    [
      ['--noise-multiplier', '1'],
      /federation\.privacy\.epsilonCap: round 3 would bring federation 'simulation' from epsilon .* past its privacy\.epsilonCap 8/,
    ],
  ])('refuses a bad setting %j with exit code 2, naming it, and writes nothing', async (args, message) => {
    const out = path.join(dir, 'run');
    const err = await run(['--config', EXAMPLE, '--out', out, ...args]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(message);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses a non-empty --out without --force, and a file as --out, with exit code 2, touching neither', async () => {
    const out = path.join(dir, 'run');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const err = await run(['--config', EXAMPLE, '--out', out]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toBe(
      `--out ${out} is not empty (1 entry); give an empty or new folder, or --force to write into it (files of the same name are replaced, others are kept)`,
    );
    expect(fs.readdirSync(out)).toEqual(['notes.txt']);
    expect(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine');
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'mine');
    await expect(run(['--config', EXAMPLE, '--out', file])).rejects.toThrow(
      `--out ${file} is a file, not a folder`,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('mine');
  });

  it('refuses an unknown key and an unreadable file with exit code 2', async () => {
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, fs.readFileSync(EXAMPLE, 'utf8') + 'colour: blue\n');
    await expect(run(['--config', file])).rejects.toThrow(/Unrecognized key: "colour"/);
    const missing = await run(['--config', path.join(dir, 'nope.yaml')]).catch((e: unknown) => e);
    expect((missing as CliError).exitCode).toBe(2);
  });

  /** A learnable two-class table: the label says whether x + 2y > 0 (values spread by a fixed rule). */
  function writeCsv(file: string, n: number): void {
    const rows = Array.from({ length: n }, (_, i) => {
      const x = Math.sin(i * 1.7) * 3;
      const y = Math.cos(i * 0.9) * 2;
      return `${x.toFixed(3)},${y.toFixed(3)},${(i % 7) / 7},${x + 2 * y > 0 ? 1 : 0}`;
    });
    fs.writeFileSync(file, ['x,y,noise,outcome', ...rows].join('\n') + '\n');
  }

  it("runs on the user's CSV named in a config file (path relative to it) and writes the run folder", async () => {
    writeCsv(path.join(dir, 'records.csv'), 160);
    const config = path.join(dir, 'sim.yaml');
    fs.writeFileSync(
      config,
      [
        'dataset: { kind: files, train: records.csv, labelColumn: outcome }',
        'sites: 3',
        'teachers: { count: 2, hidden: [8], epochs: 20, batchSize: 8 }',
        'referenceSize: 40',
        'testFraction: 0.25',
        'federation:',
        '  student: { architecture: mlp, hidden: [8] }',
        '  privacy: { mechanism: none }',
        '  distillation: { epochs: 40, batchSize: 8 }',
        '  rounds: { queriesPerRound: 15, maxRounds: 2 }',
        'baselines: { centralized: true }',
      ].join('\n'),
    );
    const out = path.join(dir, 'run');
    const { stdout } = await run(['--config', config, '--out', out, '--json']);
    const summary = JSON.parse(stdout) as {
      rounds: number;
      finalAccuracy: number;
      centralizedAccuracy: number;
    };
    expect(summary.rounds).toBe(2);
    expect(summary.finalAccuracy).toBeGreaterThan(0.75);
    expect(summary.centralizedAccuracy).toBeGreaterThan(0.75);
    const written = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as {
      dataset: unknown;
    };
    expect(written.dataset).toEqual({
      kind: 'files',
      format: 'csv',
      train: path.join(dir, 'records.csv'),
      labelColumn: 'outcome',
      header: true,
      labelValues: 'index',
    });
    const rounds = fs
      .readFileSync(path.join(out, 'rounds.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { queries: number; metrics: { accuracy: number } });
    expect(rounds.map((r) => r.queries)).toEqual([15, 15]);
    expect(rounds[1]!.metrics.accuracy).toBe(summary.finalAccuracy);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'))).toMatchObject({ rounds: 2 });
    // A deployment in one process: a few seconds alone, much more on a loaded machine.
  }, 120_000);

  it('runs on --data without a config file', async () => {
    const data = path.join(dir, 'records.csv');
    writeCsv(data, 120);
    const out = path.join(dir, 'run');
    const args = ['--data', data, '--label-column', 'outcome', '--reference-size', '30', '--rounds', '2'];
    const { stdout } = await run([...args, '--teachers', '1', '--out', out, '--json']);
    expect(JSON.parse(stdout)).toMatchObject({ rounds: 2, runFolder: out });
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as object;
    expect(config).toMatchObject({ sites: 3, referenceSize: 30, queries: { perRound: 15 } });
  }, 120_000);

  it.each([
    [
      ['--label-column', 'label'],
      /dataset\.train: .*records\.csv: label column 'label' not found in columns x, y, noise, outcome/,
    ],
    [['--label-column', 'y'], /records\.csv: line 3: label '1\.243' is not an integer class index/],
    [['--label-column', 'outcome', '--reference-size', '200'], /dataset: 120 records are too few/],
    [['--label-column', 'outcome', '--classes', '1'], /dataset\.classes: Too small/],
    [['--labels', 'y.npy'], /needs --data/],
  ])(
    'refuses bad data %j with exit code 2, naming the problem, and writes nothing',
    async (flags, message) => {
      const data = path.join(dir, 'records.csv');
      writeCsv(data, 120);
      const out = path.join(dir, 'run');
      const withData = flags[0] === '--labels' ? [] : ['--data', data];
      const err = await run(['--config', EXAMPLE, ...withData, ...flags, '--out', out]).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(2);
      expect((err as CliError).message).toMatch(message);
      expect(fs.existsSync(out)).toBe(false);
    },
  );
});
