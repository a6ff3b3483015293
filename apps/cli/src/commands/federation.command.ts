import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import {
  adminFetch,
  adminRequest,
  type AdminConnectionOptions,
  resolveAdminConnection,
} from '../admin-client';
import { CliError, output } from '../cli-error';

interface FederationView {
  id: string;
  labels: string[];
  members: string[];
  privacyOff: boolean;
  privacy: { mechanism: string; epsilonCap?: number; delta: number };
  referenceSet: { sha256: string };
  createdAt: string;
}

interface ReferenceSetView {
  sha256: string;
  rows: number;
  sampleShape: number[];
  totalBytes: number;
}

/** The coordinator's warnings about an accepted request, on stderr (stdout stays for scripts). */
export function printWarnings(warnings: readonly string[] | undefined): void {
  for (const w of warnings ?? []) process.stderr.write(`warning: ${w}\n`);
}

export function withAdmin(cmd: Command): Command {
  return cmd
    .option('--config <file>', "the coordinator's config file")
    .addOption(new Option('--admin-url <url>', 'admin API base URL').env('FEDISTILL_ADMIN_URL'))
    .addOption(new Option('--admin-token <token>', 'operator bearer token').env('FEDISTILL_ADMIN_TOKEN'))
    .addOption(
      new Option('--admin-ca <file>', "CA certificate (PEM) of the admin API's HTTPS certificate").env(
        'FEDISTILL_ADMIN_CA',
      ),
    );
}

function readFileArg(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch {
    throw new CliError(`${what} ${file} cannot be read`);
  }
}

async function uploadReference(opts: AdminConnectionOptions, file: string): Promise<ReferenceSetView> {
  const conn = resolveAdminConnection(opts);
  const res = await adminFetch(conn, '/api/v1/reference-sets', {
    method: 'POST',
    headers: { authorization: `Bearer ${conn.token}`, 'content-type': 'application/octet-stream' },
    body: readFileArg(file, 'reference set'),
  }).catch((err: Error) => {
    throw new CliError(`cannot reach the coordinator's admin API at ${conn.url}: ${err.message}`);
  });
  const body = (await res.json()) as ReferenceSetView & { error?: string };
  if (!res.ok) throw new CliError(`coordinator refused (${res.status}): ${body.error ?? ''}`);
  return body;
}

interface EvaluationSetView {
  federationId: string;
  inputsSha256: string;
  labelsSha256: string;
  rows: number;
}

async function uploadEvaluationSet(
  opts: AdminConnectionOptions,
  federation: string,
  inputs: string,
  labels: string,
): Promise<EvaluationSetView> {
  const conn = resolveAdminConnection(opts);
  const form = new FormData();
  form.append('inputs', new Blob([readFileArg(inputs, 'inputs')]), path.basename(inputs));
  form.append('labels', new Blob([readFileArg(labels, 'labels')]), path.basename(labels));
  const res = await adminFetch(conn, `/api/v1/federations/${encodeURIComponent(federation)}/evaluation-set`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${conn.token}` },
    body: form,
  }).catch((err: Error) => {
    throw new CliError(`cannot reach the coordinator's admin API at ${conn.url}: ${err.message}`);
  });
  const body = (await res.json()) as EvaluationSetView & { error?: string };
  if (!res.ok) throw new CliError(`coordinator refused (${res.status}): ${body.error ?? ''}`);
  return body;
}

const describe = (f: FederationView): string =>
  `${f.id}: ${f.labels.length} labels, ${f.members.length} sites (${f.members.join(', ') || 'none yet'}), ` +
  (f.privacyOff
    ? 'PRIVACY OFF (experiments only)'
    : `${f.privacy.mechanism}, epsilon cap ${f.privacy.epsilonCap}, delta ${f.privacy.delta}`) +
  `, reference ${f.referenceSet.sha256.slice(0, 12)}...`;

export function registerFederationCommands(coordinator: Command): void {
  const reference = coordinator
    .command('reference')
    .description('reference sets: public, unlabelled inputs every site may see');
  withAdmin(reference.command('add'))
    .description('register a reference set (NPY float32/float64, [rows, ...input shape]); prints its SHA-256')
    .argument('<file>', 'the .npy file')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: AdminConnectionOptions & { json?: boolean }) => {
      const res = await uploadReference(opts, file);
      output(
        Boolean(opts.json),
        res,
        () =>
          `${res.sha256}\n(${res.rows} inputs of shape [${res.sampleShape.join(', ')}], ${res.totalBytes} bytes)`,
      );
    });

  const federation = coordinator
    .command('federation')
    .description('federations: what is learnt, from which sites, under which privacy policy');
  withAdmin(federation.command('create'))
    .description('create a federation from a YAML or JSON definition (see docs/federations.md)')
    .requiredOption('--file <file>', 'the definition; referenceSet.file uploads a reference set first')
    .option('--json', 'print JSON')
    .action(async (opts: AdminConnectionOptions & { file: string; json?: boolean }) => {
      let spec: Record<string, unknown>;
      try {
        spec = parseYaml(readFileArg(opts.file, 'definition').toString('utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new CliError(`${opts.file} is not valid YAML or JSON: ${(err as Error).message}`);
      }
      const ref = (spec?.referenceSet ?? {}) as { file?: string };
      if (typeof ref.file === 'string') {
        const uploaded = await uploadReference(opts, path.resolve(path.dirname(opts.file), ref.file));
        spec = { ...spec, referenceSet: { sha256: uploaded.sha256 } };
      }
      const res = await adminRequest<FederationView & { warnings?: string[] }>(
        resolveAdminConnection(opts),
        'POST',
        '/api/v1/federations',
        spec,
      );
      output(Boolean(opts.json), res, () => `created ${describe(res)}`);
      printWarnings(res.warnings);
    });
  withAdmin(federation.command('list'))
    .description('list federations')
    .option('--json', 'print JSON')
    .action(async (opts: AdminConnectionOptions & { json?: boolean }) => {
      const res = await adminRequest<{ federations: FederationView[] }>(
        resolveAdminConnection(opts),
        'GET',
        '/api/v1/federations',
      );
      output(
        Boolean(opts.json),
        res.federations,
        () => res.federations.map(describe).join('\n') || 'no federations',
      );
    });
  withAdmin(federation.command('show'))
    .description('show one federation in full')
    .argument('<id>', 'federation id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: AdminConnectionOptions & { json?: boolean }) => {
      const res = await adminRequest<FederationView>(
        resolveAdminConnection(opts),
        'GET',
        `/api/v1/federations/${encodeURIComponent(id)}`,
      );
      output(Boolean(opts.json), res, () => `${describe(res)}\n${JSON.stringify(res, null, 2)}`);
    });
  withAdmin(federation.command('evaluation-set'))
    .description(
      'register a labelled evaluation set the coordinator measures each student on (kept by the coordinator, never sent to sites)',
    )
    .requiredOption('--federation <id>', 'federation id')
    .requiredOption('--inputs <file>', 'NPY float32/float64 [rows, ...input shape]')
    .requiredOption('--labels <file>', 'NPY integer class indices [rows]')
    .option('--json', 'print JSON')
    .action(
      async (
        opts: AdminConnectionOptions & { federation: string; inputs: string; labels: string; json?: boolean },
      ) => {
        const res = await uploadEvaluationSet(opts, opts.federation, opts.inputs, opts.labels);
        output(
          Boolean(opts.json),
          res,
          () =>
            `evaluation set of '${res.federationId}' registered: ${res.rows} rows
(inputs sha256 ${res.inputsSha256}, labels sha256 ${res.labelsSha256})`,
        );
      },
    );
  withAdmin(federation.command('add-site'))
    .description('add an enrolled site to a federation')
    .argument('<id>', 'federation id')
    .argument('<site>', 'site name')
    .option('--json', 'print JSON')
    .action(async (id: string, site: string, opts: AdminConnectionOptions & { json?: boolean }) => {
      const res = await adminRequest<FederationView>(
        resolveAdminConnection(opts),
        'POST',
        `/api/v1/federations/${encodeURIComponent(id)}/sites`,
        { site },
      );
      output(Boolean(opts.json), res, () => `site '${site}' added: ${describe(res)}`);
    });
}
