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

  it('runs the example with overrides, writes the run folder and prints the JSON summary', async () => {
    const out = path.join(dir, 'run');
    const { stdout, stderr } = await run([
      '--config',
      EXAMPLE,
      '--out',
      out,
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
      'privacy.json',
      'rounds.jsonl',
      'student-standardizer.json',
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
  }, 60_000);

  it.each([
    [['--sites', 'many'], /sites: Invalid input: expected number/],
    [['--sites', '1'], /sites: Too small: expected number to be >=2/],
    [['--noise-multiplier', '-1'], /privacy.noiseMultiplier: Too small/],
    [['--queries', '100'], /'queries.perRound' x 'rounds' must not exceed 'referenceSize'/],
  ])('refuses a bad setting %j with exit code 2, naming it, and writes nothing', async (args, message) => {
    const out = path.join(dir, 'run');
    const err = await run(['--config', EXAMPLE, '--out', out, ...args]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(message);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses an unknown key and an unreadable file with exit code 2', async () => {
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, fs.readFileSync(EXAMPLE, 'utf8') + 'colour: blue\n');
    await expect(run(['--config', file])).rejects.toThrow(/Unrecognized key: "colour"/);
    const missing = await run(['--config', path.join(dir, 'nope.yaml')]).catch((e: unknown) => e);
    expect((missing as CliError).exitCode).toBe(2);
  });
});
