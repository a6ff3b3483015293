import { Command, CommanderError } from 'commander';
import { registerPrivacyCommand } from './privacy.command';

async function run(args: string[]): Promise<string> {
  const program = new Command('fedistill').exitOverride().configureOutput({ writeErr: () => undefined });
  registerPrivacyCommand(program);
  program.commands.forEach((c) => c.exitOverride().commands.forEach((s) => s.exitOverride()));
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'fedistill', 'privacy', 'cost', ...args]);
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
      '--queries',
      '100',
      '--delta',
      '1e-5',
    ]);
    expect(text).toMatch(/^epsilon = \d+\.\d{6} at delta = 0\.00001\nbest Renyi order: \d+/);
  });

  it('prints JSON that composes queries x rounds', async () => {
    const sut = JSON.parse(
      await run([
        '--mechanism',
        'skellam',
        '--mu',
        '5000',
        '--sensitivity',
        '2',
        '--queries',
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
    [['--mechanism', 'gaussian', '--queries', '10', '--delta', '1e-5'], /--sigma/],
    [['--mechanism', 'gaussian', '--sigma', 'abc', '--queries', '10', '--delta', '1e-5'], /--sigma 'abc'/],
    [
      ['--mechanism', 'gnmax', '--sigma', '40', '--sensitivity', '2', '--queries', '10', '--delta', '1e-5'],
      /--sensitivity/,
    ],
    [['--mechanism', 'gaussian', '--sigma', '4', '--queries', '0', '--delta', '1e-5'], /--queries/],
    [['--mechanism', 'gaussian', '--sigma', '4', '--queries', '10', '--delta', '3'], /--delta/],
  ])('rejects bad arguments %j naming the option', async (args, message) => {
    await expect(run(args)).rejects.toThrow(message);
    await expect(run(args)).rejects.toBeInstanceOf(RangeError);
  });

  it.each([
    [['--mechanism', 'laplace', '--sigma', '1', '--queries', '1', '--delta', '1e-5'], /--mechanism/],
    [['--mechanism', 'gaussian', '--sigma', '1', '--delta', '1e-5'], /--queries/],
  ])('lets commander refuse %j with a non-zero exit', async (args, message) => {
    const err = await run(args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommanderError);
    expect((err as CommanderError).exitCode).not.toBe(0);
    expect((err as CommanderError).message).toMatch(message);
  });
});
