import type { Command } from 'commander';
import { adminRequest, type AdminConnectionOptions, resolveAdminConnection } from '../admin-client';
import { CliError, output } from '../cli-error';
import { withAdmin } from './federation.command';

interface RoundView {
  round: number;
  status: string;
  stage: string;
  participants: string[];
  keysFrom: string[];
  sharesFrom: string[];
  inputsFrom: string[];
  /** Sites the open stage still waits for (absent from older coordinators). */
  awaiting?: string[];
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

/** DECLINE_REASON_BUDGET_EXHAUSTED as "budget exhausted" (the detail is in --json). */
const declineWords = (reason: string): string =>
  reason
    .replace(/^DECLINE_REASON_/, '')
    .toLowerCase()
    .replace(/_/g, ' ');

const describeRound = (r: RoundView): string =>
  `round ${r.round}: ${r.status} (stage ${r.stage}); sites ${r.participants.join(', ')}; keys from ${r.keysFrom.length}, shares from ${r.sharesFrom.length}, inputs from ${r.inputsFrom.length}` +
  (r.status === 'open' && r.awaiting?.length ? `; waiting for ${r.awaiting.join(', ')}` : '') +
  (r.declines.length
    ? `; declined: ${r.declines.map((d) => `${d.site} (${declineWords(d.reason)})`).join(', ')}`
    : '') +
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
