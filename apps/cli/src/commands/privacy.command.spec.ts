import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { federationEpsilon, parseFederationSpec, planRound } from '@fedistill/protocol';
import { CliError } from '../cli-error';
import { registerPrivacyCommand } from './privacy.command';

async function run(args: string[], command = 'cost'): Promise<string> {
  const program = new Command('fedistill').exitOverride().configureOutput({ writeErr: () => undefined });
  registerPrivacyCommand(program);
  program.commands.forEach((c) => c.exitOverride().commands.forEach((s) => s.exitOverride()));
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'fedistill', 'privacy', command, ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('registerPrivacyCommand', () => {
  it('prints epsilon and the best Renyi order', async () => {
    const text = await run([
      '--mechanism',
      'gaussian',
      '--sigma',
      '10',
      '--releases',
      '100',
      '--delta',
      '1e-5',
    ]);
    expect(text).toMatch(/^epsilon = \d+\.\d{6} at delta = 0\.00001\nbest Renyi order: \d+/);
  });

  it('prints JSON that composes releases x rounds', async () => {
    const sut = JSON.parse(
      await run([
        '--mechanism',
        'skellam',
        '--mu',
        '5000',
        '--sensitivity',
        '2',
        '--releases',
        '50',
        '--rounds',
        '4',
        '--delta',
        '1e-6',
        '--json',
      ]),
    ) as { epsilon: number; order: number; compositions: number };
    expect(sut.compositions).toBe(200);
    expect(sut.epsilon).toBeGreaterThan(0);
    expect(Number.isInteger(sut.order)).toBe(true);
  });

  it.each([
    [['--mechanism', 'gaussian', '--releases', '10', '--delta', '1e-5'], /--sigma/],
    [['--mechanism', 'gaussian', '--sigma', 'abc', '--releases', '10', '--delta', '1e-5'], /--sigma 'abc'/],
    [
      ['--mechanism', 'gnmax', '--sigma', '40', '--sensitivity', '2', '--releases', '10', '--delta', '1e-5'],
      /--sensitivity/,
    ],
    [['--mechanism', 'gaussian', '--sigma', '4', '--releases', '0', '--delta', '1e-5'], /--releases/],
    [['--mechanism', 'gaussian', '--sigma', '4', '--releases', '10', '--delta', '3'], /--delta/],
  ])('rejects bad arguments %j naming the option', async (args, message) => {
    await expect(run(args)).rejects.toThrow(message);
    await expect(run(args)).rejects.toBeInstanceOf(RangeError);
  });

  it.each([
    [['--mechanism', 'gaussian', '--sigma', '1', '--delta', '1e-5'], /--releases is required/],
    [['--mechanism', 'gaussian', '--sigma', '1', '--releases', '1'], /--delta is required/],
    [['--sigma', '1', '--releases', '1', '--delta', '1e-5'], /--federation FILE .* or --mechanism/],
    [
      ['--mechanism', 'gaussian', '--sigma', '2', '--queries', '100', '--delta', '1e-5'],
      /--queries is now --releases: .*one release however many queries/,
    ],
    [
      ['--mechanism', 'gaussian', '--sigma', '2', '--releases', '1', '--delta', '1e-5', '--sites', '3'],
      /--sites: only with --federation/,
    ],
  ])('refuses %j with exit code 2, saying what to give', async (args, message) => {
    const err = await run(args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(message);
  });

  it.each([
    [['--mechanism', 'laplace', '--sigma', '1', '--releases', '1', '--delta', '1e-5'], /--mechanism/],
  ])('lets commander refuse %j with a non-zero exit', async (args, message) => {
    const err = await run(args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommanderError);
    expect((err as CommanderError).exitCode).not.toBe(0);
    expect((err as CommanderError).message).toMatch(message);
  });
});

describe('privacy plan', () => {
  const plan = (args: string[]) => run(args, 'plan');
  const flags = [
    '--target-epsilon',
    '2.7',
    '--classes',
    '10',
    '--summary',
    'votes',
    '--queries',
    '300',
    '--rounds',
    '4',
    '--sites',
    '10',
  ];

  interface PlanJson {
    noiseMultiplier: number;
    epsilon: number;
    worstEpsilon: number;
    noiseStddev: number;
    maxSignal: number;
    rows: Array<{ scenario: string; queriesPerRound: number; rounds: number; noiseMultiplier: number }>;
  }

  it("chooses z for the target and reports the accountant's epsilon of the planned rounds", async () => {
    const sut = JSON.parse(await plan([...flags, '--json'])) as PlanJson;
    expect(sut.worstEpsilon).toBeLessThanOrEqual(2.7);
    expect(sut.worstEpsilon).toBeGreaterThan(2.7 * 0.99);
    // The same definition through planRound and the one composition gives the same epsilon.
    const parsed = parseFederationSpec({
      id: 'plan',
      labels: Array.from({ length: 10 }, (_, i) => `c${i}`),
      input: { shape: [1] },
      referenceSet: { sha256: '0'.repeat(64) },
      student: { architecture: 'mlp' },
      privacy: { mechanism: 'skellam', summary: 'votes', targetEpsilon: 2.7 },
      rounds: { queriesPerRound: 300, maxRounds: 4, minSites: 10 },
    });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    const sites = Array.from({ length: 10 }, (_, i) => ({ name: `s${i}`, signingPublicKey: 'aa' }));
    const queries = Array.from({ length: 300 }, (_, i) => i);
    const plans = [1, 2, 3, 4].map((r) => planRound(parsed.spec, r, sites, queries, 0));
    expect(sut.epsilon).toBe(federationEpsilon(plans, 1e-5).epsilon);
    expect(plans[0]?.release.noise?.noiseMultiplier).toBe(sut.noiseMultiplier);
    expect(sut.noiseStddev).toBeCloseTo(sut.noiseMultiplier * Math.sqrt(600), 9);
    expect(sut.maxSignal).toBe(160);
    expect(sut.rows.map((r) => [r.scenario, r.queriesPerRound, r.rounds])).toEqual([
      ['as defined', 300, 4],
      ['half the queries', 150, 4],
      ['double the queries', 600, 4],
      ['half the rounds', 300, 2],
      ['double the rounds', 300, 8],
    ]);
    const z = Object.fromEntries(sut.rows.map((r) => [r.scenario, r.noiseMultiplier]));
    expect(z['double the rounds']).toBeGreaterThan(z['as defined'] as number);
    expect(z['half the rounds']).toBeLessThan(z['as defined'] as number);
  });

  it('prints the trade-off table in words', async () => {
    const text = await plan(flags);
    expect(text).toMatch(
      /^target epsilon 2\.7 at delta 0\.00001 over 4 rounds of 300 queries .*noise multiplier z = \d+\.\d{4}/,
    );
    expect(text).toMatch(/at most 160 votes per query/);
    expect(text).toMatch(/\| double the rounds \| 8 \| 300 \|/);
  });

  it('reads a federation definition file, flags overriding its fields', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-'));
    const file = path.join(dir, 'federation.yaml');
    fs.writeFileSync(
      file,
      [
        'id: cancer',
        'labels: [malignant, benign]',
        'input: { shape: [30] }',
        'referenceSet: { file: reference.npz }',
        'student: { architecture: mlp }',
        'privacy: { mechanism: skellam, noiseMultiplier: 2, epsilonCap: 50 }',
        'rounds: { minSites: 3, maxRounds: 6, queriesPerRound: 40 }',
      ].join('\n'),
    );
    try {
      const expert = JSON.parse(await plan(['--file', file, '--json'])) as PlanJson & { chosen: boolean };
      expect(expert).toMatchObject({ noiseMultiplier: 2, chosen: false });
      const target = JSON.parse(await plan(['--file', file, '--target-epsilon', '1', '--json'])) as PlanJson;
      expect(target.worstEpsilon).toBeLessThanOrEqual(1);
      expect(target.rows[0]).toMatchObject({ rounds: 6, queriesPerRound: 40 });
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it.each([
    [['--classes', '10'], /--target-epsilon is required/],
    [['--target-epsilon', '1'], /--classes is required/],
    [['--target-epsilon', 'abc', '--classes', '10'], /--target-epsilon 'abc'/],
    [['--target-epsilon', '-1', '--classes', '10'], /--target-epsilon \(privacy\.targetEpsilon: /],
    [['--target-epsilon', '1', '--classes', '10', '--rounds', '0'], /--rounds \(rounds\.maxRounds: /],
    [['--target-epsilon', '1', '--classes', '1'], /--classes '1'/],
    [['--file', '/nonexistent/federation.yaml'], /cannot be read/],
  ])('refuses %j with exit code 2, naming the flag', async (args, message) => {
    const err = await plan(args).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(message);
    const code = err instanceof CliError ? err.exitCode : err instanceof RangeError ? 2 : -1;
    expect(code).toBe(2);
  });
});
