import * as fs from 'node:fs';
import { type Command, Option } from 'commander';
import { formatEpsilon } from '@fedistill/audit';
import {
  adminFetch,
  adminRequest,
  type AdminConnection,
  type AdminConnectionOptions,
  resolveAdminConnection,
} from '../admin-client';
import { CliError, output } from '../cli-error';

/**
 * The dashboard's views that the admin API's own routes do not already give the CLI (sites,
 * federations, rounds and students have their commands): epsilon per site over rounds, and the
 * transcript's audit status and report. Each reads the same route as the dashboard page, so
 * `--json` prints exactly what the page shows.
 */

/** GET /api/v1/console/federations/:id/privacy (apps/coordinator/src/console/privacy-by-site.ts). */
export interface PrivacyBySite {
  readonly federationId: string;
  readonly delta: number;
  readonly epsilonCap: number | null;
  readonly points: ReadonlyArray<{
    readonly round: number;
    readonly status: string;
    readonly federation: number;
    readonly sites: Readonly<Record<string, number>>;
  }>;
  readonly siteLimits: Readonly<Record<string, number | null>>;
}

/** GET /api/v1/console/audit (apps/coordinator/src/console/transcript-status.ts). */
export interface TranscriptStatus {
  readonly ok: boolean;
  readonly entries: number;
  readonly head: { readonly seq: number; readonly hash: string } | null;
  readonly publicKey: string;
  readonly problem: {
    readonly seq: string;
    readonly position: number;
    readonly field: string;
    readonly reason: string;
  } | null;
  readonly anchors: ReadonlyArray<{
    readonly site: string;
    readonly received: number;
    readonly verified: number;
    readonly latest: {
      readonly sequence: number;
      readonly signedAt: string;
      readonly recordedAt: string;
    } | null;
  }>;
  readonly checkedAt: string;
}

const REPORT_FORMATS = ['html', 'md', 'json'] as const;

function withAdmin(cmd: Command): Command {
  return cmd
    .option('--config <file>', "the coordinator's config file")
    .addOption(new Option('--admin-url <url>', 'admin API base URL').env('FEDISTILL_ADMIN_URL'))
    .addOption(
      new Option('--admin-token <token>', 'bearer token: operator or auditor').env('FEDISTILL_ADMIN_TOKEN'),
    )
    .addOption(
      new Option('--admin-ca <file>', "CA certificate (PEM) of the admin API's HTTPS certificate").env(
        'FEDISTILL_ADMIN_CA',
      ),
    );
}

/** A table of epsilon after each round: the federation's, then each site's (blank before its first). */
export function renderPrivacy(p: PrivacyBySite): string {
  const sites = [...new Set(p.points.flatMap((x) => Object.keys(x.sites)))].sort();
  const head = ['round', 'status', 'federation', ...sites];
  const rows = p.points.map((x) => [
    String(x.round),
    x.status,
    formatEpsilon(x.federation),
    ...sites.map((s) => (x.sites[s] === undefined ? '-' : formatEpsilon(x.sites[s]))),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const limits = Object.entries(p.siteLimits)
    .filter((e): e is [string, number] => e[1] !== null)
    .map(([site, limit]) => `${site} ${formatEpsilon(limit)}`);
  return [
    `federation ${p.federationId}: epsilon at delta ${p.delta}, cap ${p.epsilonCap === null ? 'none' : formatEpsilon(p.epsilonCap)}`,
    p.points.length === 0 ? 'no rounds yet' : [line(head), ...rows.map(line)].join('\n'),
    "Each column composes that party's rounds up to the row (RDP), under the rounds' announced noise plan; a site that trusts less charges its own ledger more.",
    ...(limits.length ? [`site limits (as reported when declining): ${limits.join(', ')}`] : []),
  ].join('\n');
}

export function renderAuditStatus(s: TranscriptStatus): string {
  const verdict = s.ok
    ? `transcript verified: ${s.entries} entries, head ${s.head?.seq ?? '-'}, signed by ${s.publicKey}`
    : `TRANSCRIPT FAILED VERIFICATION at entry ${s.problem?.seq || s.problem?.position || '?'}, field ${s.problem?.field ?? '?'}: ${s.problem?.reason ?? ''}`;
  const anchors = s.anchors.map(
    (a) =>
      `  ${a.site}: ${a.verified} of ${a.received} anchors verify${a.latest ? `; latest covers its entry ${a.latest.sequence}, signed ${a.latest.signedAt}` : ''}`,
  );
  return [
    verdict,
    anchors.length ? 'anchors received from sites:' : 'no anchors received yet',
    ...anchors,
  ].join('\n');
}

async function download(conn: AdminConnection, route: string): Promise<string> {
  const res = await adminFetch(conn, route, { headers: { authorization: `Bearer ${conn.token}` } }).catch(
    (err: Error) => {
      throw new CliError(`cannot reach the coordinator's admin API at ${conn.url}: ${err.message}`);
    },
  );
  const text = await res.text();
  if (!res.ok) {
    const error = (() => {
      try {
        return (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        return text;
      }
    })();
    throw new CliError(`coordinator refused (${res.status}): ${error}`);
  }
  return text;
}

export function registerConsoleViewCommands(coordinator: Command): void {
  withAdmin(coordinator.command('privacy'))
    .description("epsilon spent after each round of a federation: the federation's and each site's")
    .requiredOption('--federation <id>', 'federation id')
    .option('--json', 'print JSON')
    .action(async (opts: AdminConnectionOptions & { federation: string; json?: boolean }) => {
      const p = await adminRequest<PrivacyBySite>(
        resolveAdminConnection(opts),
        'GET',
        `/api/v1/console/federations/${encodeURIComponent(opts.federation)}/privacy`,
      );
      output(Boolean(opts.json), p, () => renderPrivacy(p));
    });
  const audit = coordinator
    .command('audit')
    .description("the coordinator's transcript, as the running coordinator verifies it");
  withAdmin(audit.command('status'))
    .description(
      "verify the coordinator's transcript and the sites' anchors it recorded; exits 1 if it fails",
    )
    .option('--json', 'print JSON')
    .action(async (opts: AdminConnectionOptions & { json?: boolean }) => {
      const s = await adminRequest<TranscriptStatus>(
        resolveAdminConnection(opts),
        'GET',
        '/api/v1/console/audit',
      );
      output(Boolean(opts.json), s, () => renderAuditStatus(s));
      if (!s.ok) process.exitCode = 1;
    });
  withAdmin(audit.command('report'))
    .description("download the transcript's audit report (as `fedistill audit report` writes it)")
    .option('--format <format>', 'html, md or json', 'html')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (opts: AdminConnectionOptions & { format: string; out?: string }) => {
      if (!(REPORT_FORMATS as readonly string[]).includes(opts.format))
        throw new CliError(`--format must be one of ${REPORT_FORMATS.join(', ')}, not '${opts.format}'`, 2);
      const text = await download(
        resolveAdminConnection(opts),
        `/api/v1/console/audit/report?format=${opts.format}`,
      );
      if (opts.out) fs.writeFileSync(opts.out, text);
      else process.stdout.write(text);
    });
}
