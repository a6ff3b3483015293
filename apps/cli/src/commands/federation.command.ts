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

function withAdmin(cmd: Command): Command {
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
      const res = await adminRequest<FederationView>(
        resolveAdminConnection(opts),
        'POST',
        '/api/v1/federations',
        spec,
      );
      output(Boolean(opts.json), res, () => `created ${describe(res)}`);
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

interface RoundView {
  round: number;
  status: string;
  stage: string;
  participants: string[];
  keysFrom: string[];
  sharesFrom: string[];
  inputsFrom: string[];
  declines: Array<{ site: string; reason: string }>;
  reason: string | null;
  student?:
    | { state: 'published'; version: number; sha256: string }
    | { state: 'training' }
    | { state: 'failed'; reason: string }
    | null;
  kind: 'distill' | 'evaluation';
  queries: number;
  querySelection?: { strategy: 'random' } | { strategy: 'least-confident'; studentVersion: number } | null;
  evaluation?: { studentVersion: number; accuracy: number | null; records: number } | null;
}

/** How a distillation round's queries were chosen ('' for rounds that did not record it). */
function describeQueries(r: RoundView): string {
  const s = r.querySelection;
  if (!s) return '';
  const how = s.strategy === 'least-confident' ? `least-confident by student v${s.studentVersion}` : 'random';
  return `; ${r.queries} queries (${how})`;
}

function describeStudent(s: RoundView['student']): string {
  if (!s) return '';
  if (s.state === 'published') return `; student v${s.version} (${s.sha256.slice(0, 12)}...)`;
  return s.state === 'training' ? '; student training' : `; student failed: ${s.reason}`;
}

const describeRound = (r: RoundView): string =>
  `round ${r.round}: ${r.status} (stage ${r.stage}); sites ${r.participants.join(', ')}; keys from ${r.keysFrom.length}, shares from ${r.sharesFrom.length}, inputs from ${r.inputsFrom.length}` +
  (r.declines.length ? `; declined: ${r.declines.map((d) => d.site).join(', ')}` : '') +
  (r.reason ? `; ${r.reason}` : '') +
  (r.kind === 'evaluation'
    ? r.evaluation
      ? `; evaluation of student v${r.evaluation.studentVersion}: accuracy ${r.evaluation.accuracy === null ? '-' : r.evaluation.accuracy.toFixed(4)} over about ${r.evaluation.records} local test records (noised)`
      : '; evaluation round'
    : describeQueries(r) + describeStudent(r.student));

export function registerRoundCommands(coordinator: Command): void {
  const round = coordinator.command('round').description('rounds: queries answered under secure aggregation');
  withAdmin(round.command('start'))
    .description("open the federation's next round with its online member sites")
    .requiredOption('--federation <id>', 'federation id')
    .option(
      '--evaluate',
      "instead of distilling, evaluate a published student on the sites' local test splits (securely aggregated, noised)",
    )
    .option('--student <version>', 'the student version to evaluate (default: the latest)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1)
        throw new CliError(`--student must be a version number >= 1, not '${v}'`);
      return n;
    })
    .option('--json', 'print JSON')
    .action(
      async (
        opts: AdminConnectionOptions & {
          federation: string;
          json?: boolean;
          evaluate?: boolean;
          student?: number;
        },
      ) => {
        if (opts.student !== undefined && !opts.evaluate) throw new CliError('--student needs --evaluate');
        const res = await adminRequest<RoundView>(
          resolveAdminConnection(opts),
          'POST',
          `/api/v1/federations/${encodeURIComponent(opts.federation)}/rounds`,
          opts.evaluate ? { evaluate: true, studentVersion: opts.student } : {},
        );
        output(Boolean(opts.json), res, () => `opened ${describeRound(res)}`);
      },
    );
  withAdmin(round.command('status'))
    .description("the federation's rounds and where each stands")
    .requiredOption('--federation <id>', 'federation id')
    .option('--json', 'print JSON')
    .action(async (opts: AdminConnectionOptions & { federation: string; json?: boolean }) => {
      const res = await adminRequest<{ rounds: RoundView[] }>(
        resolveAdminConnection(opts),
        'GET',
        `/api/v1/federations/${encodeURIComponent(opts.federation)}/rounds`,
      );
      output(
        Boolean(opts.json),
        res.rounds,
        () => res.rounds.map(describeRound).join('\n') || 'no rounds yet',
      );
    });
}
