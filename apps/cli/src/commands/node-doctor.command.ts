import type { Command } from 'commander';
import { parseDuration } from '@fedistill/identity';
import { CliError, output } from '../cli-error';

const PROVIDERS = ['cpu', 'webgpu', 'cuda'] as const;
type Provider = (typeof PROVIDERS)[number];

function parseProviders(list: string | undefined): Provider[] {
  if (list === undefined) return [];
  return list
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      if (!(PROVIDERS as readonly string[]).includes(p))
        throw new RangeError(`--providers: '${p}' is not one of ${PROVIDERS.join(', ')}`);
      return p as Provider;
    });
}

function parseTimeout(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (err) {
    throw new RangeError(`--timeout: ${(err as Error).message}`);
  }
  if (ms < 1 || ms > 600_000) throw new RangeError(`--timeout '${text}' must be between 1ms and 10m`);
  return ms;
}

/** `fedistill node doctor`: one line per check of a node directory, exit 1 when any fails. */
export function registerNodeDoctorCommand(node: Command): void {
  node
    .command('doctor')
    .description(
      "check a node directory before the service starts: permissions, keys, node.yaml, enrolment, the coordinator's TLS, the data files and the execution providers",
    )
    .requiredOption('--dir <dir>', 'node directory')
    .option('--providers <list>', 'also try these execution providers, comma-separated (cpu, webgpu, cuda)')
    .option('--timeout <duration>', "how long to wait for the coordinator's TLS handshake", '5s')
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; providers?: string; timeout: string; json?: boolean }) => {
      const providers = parseProviders(opts.providers);
      const timeoutMs = parseTimeout(opts.timeout);
      const { runNodeDoctor } = await import('../../../node/src');
      const { checkCoordinator } = await import('../doctor/coordinator-check');
      const checks = await runNodeDoctor(opts.dir, {
        providers,
        timeoutMs,
        probeCoordinator: checkCoordinator,
      });
      const failures = checks.filter((c) => c.status === 'fail').length;
      const width = Math.max(...checks.map((c) => c.name.length));
      output(Boolean(opts.json), { dir: opts.dir, ok: failures === 0, checks }, () =>
        checks.map((c) => `${c.status.padEnd(4)} ${c.name.padEnd(width)}  ${c.reason}`).join('\n'),
      );
      if (failures > 0) throw new CliError(`node doctor: ${failures} of ${checks.length} checks failed`, 1);
    });
}
