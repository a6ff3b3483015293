import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error';
import { registerAuditCommand } from './commands/audit.command';
import { registerCoordinatorCommand } from './commands/coordinator.command';
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
  return program;
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof RangeError || err instanceof TypeError) return 2;
  return 1;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`error: ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = exitCodeFor(err);
  }
}

if (require.main === module || process.argv[1]?.endsWith('fedistill.js')) {
  void main(process.argv);
}
