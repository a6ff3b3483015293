import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Command, Option } from 'commander';
import {
  adminFetch,
  adminRequest,
  type AdminConnection,
  type AdminConnectionOptions,
  resolveAdminConnection,
} from '../admin-client';
import { CliError, output } from '../cli-error';
import { type EvaluationResult, evaluationWords } from './evaluation-words';

interface StudentView {
  federationId: string;
  version: number;
  sha256: string;
  bytes: number;
  rounds: number[];
  publishedAt: string;
  modelCard: {
    warning?: string;
    privacy: { mechanism: string; epsilon: number | null; delta: number };
    /** Absent from cards written before metrics; accuracy absent without an evaluation set. */
    metrics?: { accuracy?: number; measuredOn?: { evaluationSet?: { rows: number } } | string };
    /** The student's evaluation rounds at the sites (absent from older coordinators). */
    siteEvaluations?: Array<Omit<EvaluationResult, 'studentVersion'> & { round: number }>;
  };
  modelCardMarkdown: string;
}

/** The files `student export` writes. */
export const STUDENT_FILES = {
  model: 'student.onnx',
  cardJson: 'model-card.json',
  cardMarkdown: 'model-card.md',
} as const;

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

function versionArg(raw: string | undefined): string {
  if (raw === undefined) return 'latest';
  if (!/^[1-9][0-9]*$/.test(raw)) throw new CliError(`--version must be a number >= 1, not '${raw}'`, 2);
  return raw;
}

const privacyOf = (s: StudentView): string =>
  s.modelCard.warning ??
  `${s.modelCard.privacy.mechanism}, epsilon ${s.modelCard.privacy.epsilon?.toFixed(3)}, delta ${s.modelCard.privacy.delta}`;

/** "accuracy 0.9400 on 100 evaluation records", or that no evaluation set was registered. */
function metricsOf(s: StudentView): string {
  const m = s.modelCard.metrics;
  if (m?.accuracy === undefined) return 'no evaluation set';
  const on = typeof m.measuredOn === 'object' ? m.measuredOn.evaluationSet?.rows : undefined;
  return `accuracy ${m.accuracy.toFixed(4)}${on === undefined ? '' : ` on ${on} evaluation records`}`;
}

/** "; at the sites (round 3): accuracy ... (95% interval ...)" for the latest evaluation round of the student. */
function siteEvaluationOf(s: StudentView): string {
  const e = s.modelCard.siteEvaluations?.at(-1);
  return e
    ? `; at the sites (round ${e.round}): ${evaluationWords({ ...e, studentVersion: s.version })}`
    : '';
}

const describe = (s: StudentView): string =>
  `v${s.version}  ${s.sha256}  ${s.bytes} bytes  rounds ${s.rounds.join(',')}  ${s.publishedAt}  ${privacyOf(s)}  ${metricsOf(s)}${siteEvaluationOf(s)}`;

/** An empty (or new) directory, or a non-empty one with --force. */
function prepareDirectory(dir: string, force: boolean): void {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new CliError(`--out ${dir} exists and is not a directory`);
    if (fs.readdirSync(dir).length > 0 && !force)
      throw new CliError(`--out ${dir} is not empty; use --force to write into it anyway`);
  }
  fs.mkdirSync(dir, { recursive: true });
}

async function downloadModel(conn: AdminConnection, route: string): Promise<Buffer> {
  const res = await adminFetch(conn, route, {
    headers: { authorization: `Bearer ${conn.token}` },
  }).catch((err: Error) => {
    throw new CliError(`cannot reach the coordinator's admin API at ${conn.url}: ${err.message}`);
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new CliError(`coordinator refused (${res.status}): ${body.error ?? ''}`);
  }
  return Buffer.from(await res.arrayBuffer());
}

export function registerStudentCommands(coordinator: Command): void {
  const student = coordinator.command('student').description('published students: list and export');
  withAdmin(student.command('list'))
    .description("the federation's published students, oldest first")
    .requiredOption('--federation <id>', 'federation id')
    .option('--json', 'print JSON')
    .action(async (opts: AdminConnectionOptions & { federation: string; json?: boolean }) => {
      const res = await adminRequest<{ students: StudentView[] }>(
        resolveAdminConnection(opts),
        'GET',
        `/api/v1/federations/${encodeURIComponent(opts.federation)}/students`,
      );
      output(
        Boolean(opts.json),
        res.students.map(({ modelCardMarkdown: _md, ...rest }) => rest),
        () => res.students.map(describe).join('\n') || `no student published for '${opts.federation}' yet`,
      );
    });
  withAdmin(student.command('export'))
    .description(
      `write ${STUDENT_FILES.model}, ${STUDENT_FILES.cardJson} and ${STUDENT_FILES.cardMarkdown} of a student into a directory, checking its SHA-256`,
    )
    .requiredOption('--federation <id>', 'federation id')
    .requiredOption('--out <dir>', 'directory to write (created; must be empty unless --force)')
    .option('--version <n>', 'student version (default: the latest)')
    .option('--force', 'write into a non-empty directory')
    .option('--json', 'print JSON')
    .action(
      async (
        opts: AdminConnectionOptions & {
          federation: string;
          out: string;
          version?: string;
          force?: boolean;
          json?: boolean;
        },
      ) => {
        const conn = resolveAdminConnection(opts);
        const route = `/api/v1/federations/${encodeURIComponent(opts.federation)}/students/${versionArg(opts.version)}`;
        const view = await adminRequest<StudentView>(conn, 'GET', route);
        const bytes = await downloadModel(
          conn,
          `/api/v1/federations/${encodeURIComponent(opts.federation)}/students/${view.version}/model`,
        );
        const digest = createHash('sha256').update(bytes).digest('hex');
        if (digest !== view.sha256)
          throw new CliError(
            `the downloaded student has SHA-256 ${digest}, not the published ${view.sha256}; nothing written`,
          );
        const dir = path.resolve(opts.out);
        prepareDirectory(dir, Boolean(opts.force));
        const files = {
          model: path.join(dir, STUDENT_FILES.model),
          cardJson: path.join(dir, STUDENT_FILES.cardJson),
          cardMarkdown: path.join(dir, STUDENT_FILES.cardMarkdown),
        };
        fs.writeFileSync(files.model, bytes);
        fs.writeFileSync(files.cardJson, `${JSON.stringify(view.modelCard, null, 2)}\n`);
        fs.writeFileSync(files.cardMarkdown, view.modelCardMarkdown);
        output(
          Boolean(opts.json),
          { federationId: view.federationId, version: view.version, sha256: view.sha256, files },
          () =>
            [
              ...(view.modelCard.warning ? [`WARNING: ${view.modelCard.warning}`] : []),
              `student ${view.federationId} v${view.version} (sha256 ${view.sha256}, verified) written to ${dir}:`,
              `  ${STUDENT_FILES.model}, ${STUDENT_FILES.cardJson}, ${STUDENT_FILES.cardMarkdown}`,
            ].join('\n'),
        );
      },
    );
}
