import type { Command } from 'commander';
import type { DoctorCheck } from '../../../node/src';
import { CliError, output } from '../cli-error';

/** node.yaml's data: and teachers: checked against the files; connects to nothing. */
async function siteChecks(dir: string): Promise<DoctorCheck[]> {
  const { checkSiteFiles, loadNodeConfig } = await import('../../../node/src');
  return checkSiteFiles(loadNodeConfig(dir));
}

const lines = (checks: readonly DoctorCheck[]): string => {
  const width = Math.max(0, ...checks.map((c) => c.name.length));
  return checks.map((c) => `${c.status.padEnd(4)} ${c.name.padEnd(width)}  ${c.reason}`).join('\n');
};

/**
 * What `fedistill node start` runs before it joins anything: a node whose data or teachers do not
 * fit the files refuses to start, naming each problem (instead of joining and declining every
 * round); warnings go to stderr and the node starts.
 */
export async function checkBeforeStart(dir: string): Promise<void> {
  const checks = await siteChecks(dir);
  for (const c of checks.filter((x) => x.status === 'warn'))
    process.stderr.write(`warning: ${c.name}: ${c.reason}\n`);
  const failing = checks.filter((c) => c.status === 'fail');
  if (failing.length > 0)
    throw new CliError(
      `node not started: ${failing.map((c) => `${c.name}: ${c.reason}`).join('; ')} (fix node.yaml or the files; \`fedistill node check --dir ${dir}\` checks again)`,
      1,
    );
}

/** `fedistill node check`: one line per check of node.yaml's data: and teachers:, exit 1 when any fails. */
export function registerNodeCheckCommand(node: Command): void {
  node
    .command('check')
    .description(
      "check node.yaml's data: and teachers: against the files (and each federation the node holds) without connecting; node start runs it first",
    )
    .requiredOption('--dir <dir>', 'node directory')
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const checks = await siteChecks(opts.dir);
      const failures = checks.filter((c) => c.status === 'fail').length;
      output(Boolean(opts.json), { dir: opts.dir, ok: failures === 0, checks }, () => lines(checks));
      if (failures > 0) throw new CliError(`node check: ${failures} of ${checks.length} checks failed`, 1);
    });
}
