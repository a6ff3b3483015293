import { epsilonPlotSvg } from './epsilon-plot';
import type { AuditReport } from './report';
import { COMPOSITION_NOTE, formatEpsilon, roundLabel } from './report-format';

/** Renders a table from a header and rows (Markdown or HTML, as the caller's format). */
type Table = (head: string[], rows: (string | number)[][]) => string;

/** The assumption behind the spent epsilon, next to it (one phrase, or a pointer to the rounds). */
function assumptionNote(r: AuditReport): string {
  const a = r.epsilon.assumptions;
  if (a.length === 0) return '';
  return a.length === 1 ? `, ${a[0] ?? ''}` : ', each round assuming what its row in Rounds says';
}

const spent = (r: AuditReport): string =>
  `Epsilon spent: ${formatEpsilon(r.epsilon.total)}${r.epsilon.limit !== null ? ` of a limit of ${formatEpsilon(r.epsilon.limit)}` : ''}${assumptionNote(r)}.`;

/** The coordinator's log holds no egress and no ledger: say what it does hold, counted. */
const coordinatorRecords = (r: AuditReport): string =>
  `This is the coordinator's log: what it received from sites (${r.totals.received} message${r.totals.received === 1 ? '' : 's'}), what it refused or rejected (${r.totals.refusals}), ${r.totals.roundEvents} round events (opened, stage closed, completed or abandoned, student published), enrolments, operator actions and anchors. It holds no site's data: what left each site is in that site's own log (\`fedistill audit report --node-dir DIR\` at the site).`;

const coordinatorPrivacy =
  "The coordinator spends no privacy budget of its own: each site's ledger charges the site's epsilon, recorded in the site's own log. The epsilon in Rounds is that of the student published after the round, as its model card states it (what the rounds it learned from cost each site).";

const studentRows = (r: AuditReport): (string | number)[][] =>
  r.students.map((s) => [
    s.time,
    s.federation,
    s.round,
    s.epsilon === null ? 'none (no privacy)' : formatEpsilon(s.epsilon),
    s.detail,
  ]);
const STUDENT_HEAD = ['time', 'federation', 'after round', 'epsilon', 'what'];

/** The Rounds table's epsilon column: the site's spend on that round alone, or the published student's epsilon. */
export const roundsEpsilonHead = (r: AuditReport): string =>
  r.keeper === 'coordinator' ? 'student epsilon' : 'epsilon (this round alone)';

/** Markdown: what left the site and the privacy it spent, or what the coordinator's log records. */
export function summaryMarkdown(r: AuditReport, table: Table): string[] {
  if (r.keeper === 'coordinator')
    return [
      '## What this log records',
      '',
      coordinatorRecords(r),
      '',
      '## Privacy',
      '',
      coordinatorPrivacy,
      '',
      '### Students published',
      '',
      table(STUDENT_HEAD, studentRows(r)),
    ];
  const svg = epsilonPlotSvg(r.epsilon.points, r.epsilon.limit);
  return [
    '## What left this site',
    '',
    `${r.totals.messagesSent} messages, ${r.totals.bytesSent} bytes in all. Each message's exact bytes are identified by their SHA-256 in the log.`,
    '',
    table(
      ['message kind', 'sent to', 'messages', 'bytes'],
      r.sent.map((s) => [s.kind, s.peer, s.count, s.bytes]),
    ),
    '## Privacy spent',
    '',
    spent(r),
    '',
    `![epsilon over time](data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')})`,
    '',
  ];
}

/** HTML: the same sections as {@link summaryMarkdown}; `escape` escapes text for HTML. */
export function summaryHtml(r: AuditReport, table: Table, escape: (s: string) => string): string {
  if (r.keeper === 'coordinator')
    return `<h2>What this log records</h2><p>${escape(coordinatorRecords(r))}</p>
<h2>Privacy</h2><p>${escape(coordinatorPrivacy)}</p>
<h3>Students published</h3>${table(STUDENT_HEAD, studentRows(r))}`;
  return `<h2>What left this site</h2><p>${r.totals.messagesSent} messages, ${r.totals.bytesSent} bytes.</p>
${table(
  ['message kind', 'sent to', 'messages', 'bytes'],
  r.sent.map((s) => [s.kind, s.peer, s.count, s.bytes]),
)}
<h2>Privacy spent</h2><p>${escape(spent(r))}</p>
${epsilonPlotSvg(r.epsilon.points, r.epsilon.limit)}`;
}

/** The Rounds table's rows: every row labelled, epsilon rounded to what matters. */
export const roundRows = (r: AuditReport): (string | number)[][] =>
  r.rounds.map((x) => [
    x.federation,
    roundLabel(x.round, x.what),
    x.messages,
    x.bytes,
    formatEpsilon(x.epsilon),
    x.assumption,
  ]);

/** Above the Rounds table: how its epsilon column relates to the total. */
export const roundsNote = (r: AuditReport): string =>
  r.keeper === 'coordinator'
    ? 'The student epsilon of a row is that of the student published after that round: all the rounds it learned from, composed.'
    : COMPOSITION_NOTE;
