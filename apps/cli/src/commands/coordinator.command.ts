import { type Command, Option } from 'commander';
import { adminRequest, type AdminConnectionOptions, resolveAdminConnection } from '../admin-client';
import { output } from '../cli-error';
import { registerAccessCommands } from './access.command';
import { registerConsoleViewCommands } from './console-views.command';
import { registerFederationCommands } from './federation.command';
import { registerRoundCommands } from './round.command';
import { registerStudentCommands } from './student.command';

interface SiteView {
  name: string;
  online: boolean;
  enrolledAt: string;
  lastSeenAt: string | null;
  revoked: boolean;
  revokedReason: string | null;
}

function withAdminOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', "the coordinator's config file (admin address and token are read from it)")
    .addOption(new Option('--admin-url <url>', 'admin API base URL').env('FEDISTILL_ADMIN_URL'))
    .addOption(
      new Option('--admin-token <token>', 'bearer token: the operator token or an access token').env(
        'FEDISTILL_ADMIN_TOKEN',
      ),
    )
    .addOption(
      new Option('--admin-ca <file>', "CA certificate (PEM) of the admin API's HTTPS certificate").env(
        'FEDISTILL_ADMIN_CA',
      ),
    );
}

function renderSites(sites: SiteView[]): string {
  if (sites.length === 0) return 'no sites enrolled';
  const rows = sites.map((s) => [
    s.name,
    s.revoked ? 'revoked' : s.online ? 'online' : 'offline',
    s.enrolledAt,
    s.lastSeenAt ?? 'never',
  ]);
  const head = ['SITE', 'STATUS', 'ENROLLED', 'LAST SEEN'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')).join('\n');
}

async function runCoordinator(configFile: string): Promise<void> {
  // Loaded on use: NestJS takes most of a second to load, which other commands should not pay.
  const { loadCoordinatorConfig, startCoordinator } = await import('../../../coordinator/src');
  const config = loadCoordinatorConfig(configFile, process.env);
  const running = await startCoordinator(config);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      running.close().then(resolve, resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

export function registerCoordinatorCommand(program: Command): void {
  const coordinator = program.command('coordinator').description('run and operate the coordinator');
  coordinator
    .command('start')
    .description(
      'start the coordinator (TLS gRPC for nodes, the admin API for operators: HTTPS with admin.tls) until SIGTERM',
    )
    .requiredOption(
      '--config <file>',
      'YAML config; FEDISTILL_<SECTION>__<KEY> environment variables override it',
    )
    .action((opts: { config: string }) => runCoordinator(opts.config));

  registerFederationCommands(coordinator);
  registerRoundCommands(coordinator);
  registerStudentCommands(coordinator);
  registerAccessCommands(coordinator);
  registerConsoleViewCommands(coordinator);

  const token = coordinator.command('token').description('one-time enrolment tokens');
  withAdminOptions(token.command('create'))
    .description('issue a one-time, expiring enrolment token for a site (the token alone on stdout)')
    .requiredOption('--site <name>', 'the site the token enrols')
    .option('--ttl <duration>', 'lifetime, e.g. 30m, 24h, 7d (default: the coordinator default, 24h)')
    .option('--json', 'print JSON')
    .action(async (opts: AdminConnectionOptions & { site: string; ttl?: string; json?: boolean }) => {
      const res = await adminRequest<{ token: string; site: string; expiresAtIso: string }>(
        resolveAdminConnection(opts),
        'POST',
        '/api/v1/enrolment-tokens',
        { site: opts.site, ...(opts.ttl ? { ttl: opts.ttl } : {}) },
      );
      // stdout carries the token alone, so that `TOKEN=$(fedistill coordinator token create ...)`
      // captures exactly the token; the note for the person goes to stderr.
      output(
        Boolean(opts.json),
        { token: res.token, site: res.site, expiresAt: res.expiresAtIso },
        () => res.token,
      );
      if (!opts.json)
        process.stderr.write(`(one-time token for site '${res.site}', expires ${res.expiresAtIso})\n`);
    });

  withAdminOptions(coordinator.command('sites'))
    .description('list enrolled sites: online or offline, last seen, revoked')
    .option('--json', 'print JSON')
    .action(async (opts: AdminConnectionOptions & { json?: boolean }) => {
      const res = await adminRequest<{ sites: SiteView[] }>(
        resolveAdminConnection(opts),
        'GET',
        '/api/v1/sites',
      );
      output(Boolean(opts.json), res.sites, () => renderSites(res.sites));
    });

  const site = coordinator.command('site').description('manage one site');
  withAdminOptions(site.command('revoke'))
    .description('revoke a site: its requests are refused from now on')
    .argument('<name>', 'site name')
    .option('--reason <text>', 'why (kept with the site)')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: AdminConnectionOptions & { reason?: string; json?: boolean }) => {
      const res = await adminRequest<SiteView>(
        resolveAdminConnection(opts),
        'POST',
        `/api/v1/sites/${encodeURIComponent(name)}/revoke`,
        {
          ...(opts.reason ? { reason: opts.reason } : {}),
        },
      );
      output(Boolean(opts.json), res, () => `site '${res.name}' revoked`);
    });
}
