import type { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run a local federation: a coordinator and three hospital nodes as separate processes over TLS',
    )
    .option('--out <dir>', 'keep everything the demo makes under this (new or empty) folder')
    .option(
      '--keep-running',
      'after the rounds, leave the coordinator and the nodes running (watch them in the dashboard) until Ctrl-C',
    )
    .action(async (opts: { out?: string; keepRunning?: boolean }) => {
      const { runDemo } = await import('../demo/run-demo');
      await runDemo(opts.out, { keepRunning: opts.keepRunning === true });
    });
}
