import type { Command } from 'commander';
import {
  type AdminConnection,
  adminRequest,
  type AdminConnectionOptions,
  resolveAdminConnection,
} from '../admin-client';
import { CliError, output } from '../cli-error';
import { type EvaluationResult, evaluationWords } from './evaluation-words';
import { printWarnings, withAdmin } from './federation.command';

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
  evaluation?: EvaluationResult | null;
  /** The planner's warnings, in the answer to `round start` only. */
  warnings?: string[];
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
      ? `; evaluation of student v${r.evaluation.studentVersion}: ${evaluationWords(r.evaluation)}`
      : '; evaluation round'
    : describeQueries(r) + describeStudent(r.student));

/** A distillation round is done once it closed and its student is published (or failed). */
const settled = (r: RoundView): boolean =>
  r.status !== 'open' &&
  (r.kind === 'evaluation' ||
    r.status !== 'completed' ||
    r.student?.state === 'published' ||
    r.student?.state === 'failed');

/**
 * Polls the round until it settles. The admin API has no event stream; the round's own stage
 * deadlines bound how long it stays open, and the coordinator trains the student right after.
 */
async function waitForRound(conn: AdminConnection, federation: string, round: number): Promise<RoundView> {
  for (;;) {
    const { rounds } = await adminRequest<{ rounds: RoundView[] }>(
      conn,
      'GET',
      `/api/v1/federations/${encodeURIComponent(federation)}/rounds`,
    );
    const r = rounds.find((x) => x.round === round);
    if (!r) throw new CliError(`round ${round} of '${federation}' is gone from the coordinator's list`);
    if (settled(r)) return r;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

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
    .option(
      '--wait',
      'then wait until the round closes (and its student is published): exit 0 when it completed, 1 otherwise',
    )
    .option('--json', 'print JSON')
    .action(
      async (
        opts: AdminConnectionOptions & {
          federation: string;
          json?: boolean;
          evaluate?: boolean;
          student?: number;
          wait?: boolean;
        },
      ) => {
        if (opts.student !== undefined && !opts.evaluate) throw new CliError('--student needs --evaluate');
        const conn = resolveAdminConnection(opts);
        const res = await adminRequest<RoundView>(
          conn,
          'POST',
          `/api/v1/federations/${encodeURIComponent(opts.federation)}/rounds`,
          opts.evaluate ? { evaluate: true, studentVersion: opts.student } : {},
        );
        printWarnings(res.warnings);
        if (!opts.wait) return output(Boolean(opts.json), res, () => `opened ${describeRound(res)}`);
        if (!opts.json) process.stderr.write(`opened round ${res.round}; waiting for it to close\n`);
        const done = await waitForRound(conn, opts.federation, res.round);
        output(Boolean(opts.json), done, () => describeRound(done));
        if (done.status !== 'completed' || done.student?.state === 'failed')
          throw new CliError(`round ${done.round} did not complete with a student: ${describeRound(done)}`);
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
