import type { Command } from 'commander';
import { output } from '../cli-error';
import type { LogSource } from '../audit/load-logs';

interface InputOptions {
  nodeDir: string[];
  coordinatorData?: string;
  key?: string;
}

function sources(paths: string[], opts: InputOptions): LogSource[] {
  const list: LogSource[] = paths.map((p) => ({ kind: 'file', path: p, expectedKey: opts.key }));
  for (const dir of opts.nodeDir) list.push({ kind: 'node', path: dir });
  if (opts.coordinatorData) list.push({ kind: 'coordinator', path: opts.coordinatorData });
  return list;
}

function withInputs(cmd: Command): Command {
  return cmd
    .argument('[logs...]', 'exported logs (.jsonl) or log databases (audit-log.db)')
    .option(
      '--node-dir <dir>',
      "a site node's directory (its audit-log.db, checked against its key); repeat for several",
      (dir: string, dirs: string[]) => [...dirs, dir],
      [] as string[],
    )
    .option('--coordinator-data <dir>', "the coordinator's data directory (its transcript)")
    .option('--key <hex>', 'the Ed25519 public key the log files must be signed with');
}

export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('verify and report the tamper-evident audit logs');
  withInputs(audit.command('verify'))
    .description('verify chains, signatures and anchors; exits 1 naming the first bad entry')
    .option(
      '--full',
      "check every entry's signature, not only the head's (the default, whose signature covers every entry's content)",
    )
    .option('--json', 'print JSON')
    .action(async (paths: string[], opts: InputOptions & { json?: boolean; full?: boolean }) => {
      const { verifyLogs, renderVerification } = await import('../audit/verify-logs');
      const result = await verifyLogs(sources(paths, opts), opts.full ? 'every' : 'head');
      output(Boolean(opts.json), result, () => renderVerification(result));
      if (!result.ok) process.exitCode = 1;
    });
  withInputs(audit.command('report'))
    .description('a report for a privacy officer: what left, when, how big, at what privacy cost')
    .option('--format <format>', 'md, json or html', 'md')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (paths: string[], opts: InputOptions & { format: string; out?: string }) => {
      const { writeReport } = await import('../audit/verify-logs');
      await writeReport(sources(paths, opts), opts.format, opts.out);
    });
  withInputs(audit.command('export'))
    .description('export a log as JSON Lines (format: docs/audit-log.md)')
    .requiredOption('--out <file>', 'the .jsonl file to write')
    .action(async (paths: string[], opts: InputOptions & { out: string }) => {
      const { exportLog } = await import('../audit/verify-logs');
      const n = await exportLog(sources(paths, opts), opts.out);
      process.stdout.write(`${n} entries written to ${opts.out}\n`);
    });
}
