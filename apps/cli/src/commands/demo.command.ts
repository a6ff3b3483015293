import type { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run a local federation: a coordinator and three hospital nodes as separate processes over TLS',
    )
    .option('--out <dir>', 'keep everything the demo makes under this (new or empty) folder')
    .action(async (opts: { out?: string }) => {
      const { runDemo } = await import('../demo/run-demo');
      await runDemo(opts.out);
    });
}
