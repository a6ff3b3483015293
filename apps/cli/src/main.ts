import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error';
import { registerAuditCommand } from './commands/audit.command';
import { registerCoordinatorCommand } from './commands/coordinator.command';
import { registerDataCommand } from './commands/data.command';
import { registerDemoCommand } from './commands/demo.command';
import { registerNodeCommand } from './commands/node.command';
import { registerPkiCommand } from './commands/pki.command';
import { registerPrivacyCommand } from './commands/privacy.command';
import { registerSimulateCommand } from './commands/simulate.command';

/** Builds the `fedistill` program; exported for tests. */
export function buildProgram(): Command {
  const program = new Command('fedistill')
    .description('federated, privacy-preserving distillation: coordinator, site node, auditor and tools')
    .version('0.1.0')
    // Program options only before a subcommand: `student export --version N` is the student's version.
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  registerPkiCommand(program);
  registerCoordinatorCommand(program);
  registerNodeCommand(program);
  registerAuditCommand(program);
  registerPrivacyCommand(program);
  registerDemoCommand(program);
  registerSimulateCommand(program);
  registerDataCommand(program);
  return program;
}

/**
 * The first word of `args` that names no subcommand where one is expected, with the command it
 * follows. Commander would otherwise print the main help and exit 0 for `fedistill frobnicate
 * --help` (the `--help` is handled before the unknown command is noticed).
 */
export function unknownCommandIn(
  program: Command,
  args: readonly string[],
): { readonly parent: Command; readonly word: string } | undefined {
  let cmd = program;
  for (let i = 0; i < args.length && cmd.commands.length > 0; i += 1) {
    const word = args[i] ?? '';
    if (word === '--') return undefined;
    if (word.startsWith('-')) {
      // An option of this level: skip its value too when it takes one (`--config FILE`).
      const [flag] = word.split('=');
      const opt = cmd.options.find((o) => o.long === flag || o.short === flag);
      if (opt && (opt.required || opt.optional) && !word.includes('=')) i += 1;
      continue;
    }
    // Commander's own `help [command]`.
    if (word === 'help') return undefined;
    const next = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) return { parent: cmd, word };
    cmd = next;
  }
  return undefined;
}

function exitCodeFor(err: unknown): number {
  // Commander's own errors are usage errors (unknown option, missing argument, missing or
  // unknown command, a bad option value): exit 2, as README promises; help and --version exit 0.
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof RangeError || err instanceof TypeError) return 2;
  return 1;
}

/** Runs `fedistill` on `argv` (node, script, args...) and returns the exit code; exported for tests. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    const program = buildProgram();
    const unknown = unknownCommandIn(program, argv.slice(2));
    if (unknown)
      unknown.parent.error(`error: unknown command '${unknown.word}'`, {
        exitCode: 2,
        code: 'commander.unknownCommand',
      });
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    // Commander already printed its message (and the help after it) on stderr.
    if (!(err instanceof CommanderError))
      process.stderr.write(`error: ${(err as Error).message ?? String(err)}\n`);
    return exitCodeFor(err);
  }
}

/**
 * Runs `fedistill` on process.argv and sets the exit code. bin/fedistill.js calls it, so the
 * command also runs through a link with another name (`/usr/local/bin/fedistill`, npm's global
 * bin link), where process.argv[1] does not name this file.
 */
export function main(): void {
  void runCli(process.argv).then((code) => {
    // An action may have set its own code (audit verify: 1 when a log fails) and returned.
    if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
  });
}

if (require.main === module) main();
