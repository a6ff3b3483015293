import type { Command } from 'commander';
import {
  type AdminConnection,
  adminRequest,
  type AdminConnectionOptions,
  resolveAdminConnection,
} from '../admin-client';
import { CliError, output } from '../cli-error';
import { withAdmin } from './federation.command';

/** An access token as the coordinator lists it (never its secret). */
export interface AccessTokenListing {
  name: string;
  role: 'operator' | 'auditor';
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  state: 'active' | 'expired' | 'revoked';
}

/** A new access token: `token` is the secret, shown once. */
export interface IssuedAccessToken {
  name: string;
  role: 'operator' | 'auditor';
  token: string;
  expiresAt: string;
}

/**
 * Creates a named access token through the admin API (the programmatic form of
 * `fedistill coordinator access create`): the demo uses it for the dashboard's read-only token.
 */
export function createAccessToken(
  conn: AdminConnection,
  request: { name: string; role: 'operator' | 'auditor'; ttl?: string },
): Promise<IssuedAccessToken> {
  return adminRequest<IssuedAccessToken>(conn, 'POST', '/api/v1/access-tokens', request);
}

function renderTokens(tokens: AccessTokenListing[]): string {
  if (tokens.length === 0) return 'no access tokens (the configured operator token always works)';
  const head = ['NAME', 'ROLE', 'STATE', 'EXPIRES', 'CREATED BY'];
  const rows = tokens.map((t) => [t.name, t.role, t.state, t.expiresAt, t.createdBy]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `fedistill coordinator access create|list|revoke`: named admin API tokens with a role. */
export function registerAccessCommands(coordinator: Command): void {
  const access = coordinator
    .command('access')
    .description('named access tokens of the admin API: operator (everything) or auditor (read-only)');

  withAdmin(access.command('create'))
    .description('create a named token with a role and an expiry (the secret alone on stdout, shown once)')
    .requiredOption('--name <name>', 'unique name, recorded in the transcript with every change it makes')
    .requiredOption('--role <role>', 'operator or auditor')
    .option('--ttl <duration>', 'lifetime, e.g. 12h, 30d (default: admin.accessTokens.defaultTtl, 30d)')
    .option('--json', 'print JSON')
    .action(
      async (opts: AdminConnectionOptions & { name: string; role: string; ttl?: string; json?: boolean }) => {
        if (opts.role !== 'operator' && opts.role !== 'auditor')
          throw new CliError(`--role must be operator or auditor, not '${opts.role}'`, 2);
        const res = await createAccessToken(resolveAdminConnection(opts), {
          name: opts.name,
          role: opts.role,
          ...(opts.ttl ? { ttl: opts.ttl } : {}),
        });
        // stdout carries the secret alone (TOKEN=$(...)); the note for the person goes to stderr.
        output(Boolean(opts.json), res, () => res.token);
        if (!opts.json)
          process.stderr.write(
            `(${res.role} token '${res.name}', expires ${res.expiresAt}; it is not shown again)\n`,
          );
      },
    );

  withAdmin(access.command('list'))
    .description('list access tokens: name, role, state, expiry (never the secrets)')
    .option('--json', 'print JSON')
    .action(async (opts: AdminConnectionOptions & { json?: boolean }) => {
      const res = await adminRequest<{ accessTokens: AccessTokenListing[] }>(
        resolveAdminConnection(opts),
        'GET',
        '/api/v1/access-tokens',
      );
      output(Boolean(opts.json), res.accessTokens, () => renderTokens(res.accessTokens));
    });

  withAdmin(access.command('revoke'))
    .description('revoke an access token: refused from its next request on')
    .argument('<name>', 'token name')
    .option('--reason <text>', 'why (recorded in the transcript)')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: AdminConnectionOptions & { reason?: string; json?: boolean }) => {
      const res = await adminRequest<AccessTokenListing>(
        resolveAdminConnection(opts),
        'POST',
        `/api/v1/access-tokens/${encodeURIComponent(name)}/revoke`,
        opts.reason ? { reason: opts.reason } : {},
      );
      output(Boolean(opts.json), res, () => `access token '${res.name}' revoked`);
    });

  withAdmin(access.command('whoami'))
    .description('the name and role of the token the CLI uses')
    .option('--json', 'print JSON')
    .action(async (opts: AdminConnectionOptions & { json?: boolean }) => {
      const me = await adminRequest<{ name: string; role: string; expiresAt: string | null }>(
        resolveAdminConnection(opts),
        'GET',
        '/api/v1/whoami',
      );
      output(
        Boolean(opts.json),
        me,
        () => `${me.name} (${me.role}${me.expiresAt ? `, expires ${me.expiresAt}` : ''})`,
      );
    });
}
