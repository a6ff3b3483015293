import type { AuditEntry } from './entry';
import type { AuditVerification } from './verify';
import { roundRows, roundsEpsilonHead, roundsNote, summaryHtml, summaryMarkdown } from './report-sections';

export type ReportFormat = 'md' | 'json' | 'html';

/** What a privacy officer needs from one log, computed from its entries alone. */
export interface AuditReport {
  readonly actor: string;
  /**
   * Whose log: a site's (what left the site, the epsilon its ledger spent) or the coordinator's
   * (what it received, rejected, decided and published; it spends no epsilon of its own).
   */
  readonly keeper: 'site' | 'coordinator';
  readonly publicKey: string;
  readonly verified: boolean;
  readonly problem: string | null;
  readonly generatedAt: string;
  readonly period: { readonly from: string; readonly to: string } | null;
  readonly totals: {
    readonly entries: number;
    readonly messagesSent: number;
    readonly bytesSent: number;
    readonly refusals: number;
    readonly anchors: number;
    /** Messages the actor accepted from others ('received' entries). */
    readonly received: number;
    /** Round events: opened, stage closed, completed, abandoned, student published. */
    readonly roundEvents: number;
  };
  /**
   * Students the coordinator published (its log only): after which round, and their epsilon as
   * their model card states it (null: trained without privacy).
   */
  readonly students: ReadonlyArray<{
    time: string;
    federation: string;
    round: string;
    epsilon: number | null;
    detail: string;
  }>;
  /** Messages that left, by kind and destination. */
  readonly sent: ReadonlyArray<{ kind: string; peer: string; count: number; bytes: number }>;
  /**
   * Per federation and round: messages, bytes and epsilon (of that round alone: rounds compose,
   * they do not add up). Round "" gathers a federation's messages outside any round
   * (enrolment in it, reference set, evaluation reports); `what` names their kinds.
   */
  readonly rounds: ReadonlyArray<{
    federation: string;
    round: string;
    /** The distinct message kinds (or events, for entries without a kind) of the row. */
    what: readonly string[];
    messages: number;
    bytes: number;
    epsilon: number;
    /** The trust assumption the round's epsilon holds under, as the site recorded it, or "". */
    assumption: string;
  }>;
  /** Cumulative epsilon over time, and the limit. */
  readonly epsilon: {
    readonly limit: number | null;
    readonly total: number;
    /** The distinct trust assumptions the spent epsilon holds under (node.yaml privacy.trust). */
    readonly assumptions: readonly string[];
    readonly points: ReadonlyArray<{ time: string; total: number }>;
  };
  readonly refusals: ReadonlyArray<{
    time: string;
    federation: string;
    round: string;
    kind: string;
    detail: string;
  }>;
  readonly anchors: ReadonlyArray<{ time: string; peer: string; detail: string }>;
  /** Other events (enrolments, revocations, operator actions, round stages). */
  readonly events: ReadonlyArray<{ time: string; event: string; peer: string; detail: string }>;
}

const num = (s: string): number => (s === '' ? 0 : Number(s));

function aggregate<K extends string>(
  entries: readonly AuditEntry[],
  key: (e: AuditEntry) => Record<K, string>,
) {
  const map = new Map<
    string,
    Record<K, string> & { count: number; bytes: number; epsilon: number; what: Set<string> }
  >();
  for (const e of entries) {
    const k = key(e);
    const id = JSON.stringify(k);
    const row = map.get(id) ?? { ...k, count: 0, bytes: 0, epsilon: 0, what: new Set<string>() };
    row.count += 1;
    row.what.add(e.kind || e.event);
    row.bytes += num(e.bytes);
    row.epsilon += num(e.epsilon);
    map.set(id, row);
  }
  return [...map.values()];
}

/**
 * The trust assumption in a priced egress entry's detail: the words themselves, or the
 * `assumption` field when the node wrote JSON (with the ledger charge beside it).
 */
function assumptionIn(detail: string): string {
  if (!detail.startsWith('{')) return detail;
  try {
    const parsed = JSON.parse(detail) as { assumption?: unknown };
    return typeof parsed.assumption === 'string' ? parsed.assumption : '';
  } catch {
    return '';
  }
}

/** Builds the report model for one log and its verification result. */
export function buildAuditReport(
  entries: readonly AuditEntry[],
  verification: AuditVerification,
  now: Date = new Date(),
): AuditReport {
  const sent = entries.filter((e) => e.event === 'egress');
  const withEpsilon = entries.filter((e) => e.epsilonTotal !== '');
  const limits = entries.filter((e) => e.epsilonLimit !== '').map((e) => num(e.epsilonLimit));
  // A node's priced egress (the masked summary) carries its trust assumption in `detail`.
  const priced = entries
    .filter((e) => e.event === 'egress' && e.epsilon !== '')
    .map((e) => ({ ...e, assumption: assumptionIn(e.detail) }))
    .filter((e) => e.assumption !== '');
  const assumptionOf = (federation: string, round: string): string =>
    priced.find((e) => e.federation === federation && e.round === round)?.assumption ?? '';
  return {
    actor: verification.actor,
    // entry.ts: the actor is a site name, or "coordinator" for the coordinator's transcript.
    keeper: verification.actor === 'coordinator' ? 'coordinator' : 'site',
    publicKey: verification.publicKey,
    verified: verification.ok,
    problem: verification.problem
      ? `entry ${verification.problem.seq || verification.problem.position}, field ${verification.problem.field}: ${verification.problem.reason}`
      : null,
    generatedAt: now.toISOString(),
    period: entries.length ? { from: entries[0]?.time ?? '', to: entries.at(-1)?.time ?? '' } : null,
    totals: {
      entries: entries.length,
      messagesSent: sent.length,
      bytesSent: sent.reduce((s, e) => s + num(e.bytes), 0),
      refusals: entries.filter((e) => e.event === 'refusal' || e.event === 'rejected').length,
      anchors: entries.filter((e) => e.event === 'anchor').length,
      received: entries.filter((e) => e.event === 'received').length,
      roundEvents: entries.filter((e) => e.event === 'round').length,
    },
    // The coordinator's record of a publication is a round event naming the student's digest.
    students: entries
      .filter((e) => e.event === 'round' && e.sha256 !== '')
      .map((e) => ({
        time: e.time,
        federation: e.federation,
        round: e.round,
        epsilon: e.epsilon === '' ? null : num(e.epsilon),
        detail: e.detail,
      })),
    sent: aggregate(sent, (e) => ({ kind: e.kind, peer: e.peer })).map(({ kind, peer, count, bytes }) => ({
      kind,
      peer,
      count,
      bytes,
    })),
    rounds: aggregate(
      entries.filter((e) => e.federation !== ''),
      (e) => ({ federation: e.federation, round: e.round }),
    ).map(({ federation, round, count, bytes, epsilon, what }) => ({
      federation,
      round,
      what: [...what].sort(),
      messages: count,
      bytes,
      epsilon,
      assumption: assumptionOf(federation, round),
    })),
    epsilon: {
      limit: limits.length ? (limits.at(-1) ?? null) : null,
      assumptions: [...new Set(priced.map((e) => e.assumption))],
      total: withEpsilon.length ? num(withEpsilon.at(-1)?.epsilonTotal ?? '') : 0,
      points: withEpsilon.map((e) => ({ time: e.time, total: num(e.epsilonTotal) })),
    },
    refusals: entries
      .filter((e) => e.event === 'refusal' || e.event === 'rejected')
      .map((e) => ({
        time: e.time,
        federation: e.federation,
        round: e.round,
        kind: e.kind,
        detail: e.detail,
      })),
    anchors: entries
      .filter((e) => e.event === 'anchor')
      .map((e) => ({ time: e.time, peer: e.peer, detail: e.detail })),
    events: entries
      .filter((e) => ['enrolment', 'revocation', 'admin', 'round'].includes(e.event))
      .map((e) => ({ time: e.time, event: e.event, peer: e.peer, detail: e.detail })),
  };
}

const table = (head: string[], rows: (string | number)[][]): string =>
  rows.length === 0
    ? '_none_\n'
    : `| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|\n${rows.map((r) => `| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`).join('\n')}\n`;

function markdown(r: AuditReport): string {
  return [
    `# Audit report: ${r.actor}`,
    '',
    r.verified
      ? `**Log verified**: every entry is in sequence, chained to the one before, and signed by key \`${r.publicKey}\`.`
      : `**LOG FAILED VERIFICATION**: ${r.problem ?? ''}. Nothing below can be trusted past that entry.`,
    '',
    `Period: ${r.period ? `${r.period.from} to ${r.period.to}` : 'empty log'}. Generated ${r.generatedAt}.`,
    '',
    ...summaryMarkdown(r, table),
    '## Rounds',
    '',
    roundsNote(r),
    '',
    table(['federation', 'round', 'messages', 'bytes', roundsEpsilonHead(r), 'assuming'], roundRows(r)),
    '## Refusals',
    '',
    table(
      ['time', 'federation', 'round', 'what', 'why'],
      r.refusals.map((x) => [x.time, x.federation, x.round, x.kind, x.detail]),
    ),
    '## Log heads exchanged (anchors)',
    '',
    `${r.totals.anchors} anchors: each records the other party's signed log head, so neither side can rewrite its history unnoticed.`,
    '',
    table(
      ['time', 'with'],
      r.anchors.map((a) => [a.time, a.peer]),
    ),
    '## Other events',
    '',
    table(
      ['time', 'event', 'about', 'detail'],
      r.events.map((x) => [x.time, x.event, x.peer, x.detail]),
    ),
  ].join('\n');
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

function html(r: AuditReport): string {
  const rows = (cells: (string | number)[][]) =>
    cells.map((c) => `<tr>${c.map((x) => `<td>${escapeHtml(String(x))}</td>`).join('')}</tr>`).join('');
  const tableHtml = (head: string[], cells: (string | number)[][]) =>
    cells.length
      ? `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows(cells)}</tbody></table>`
      : '<p><em>none</em></p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Audit report: ${escapeHtml(r.actor)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}.bad{color:#b00;font-weight:bold}.ok{color:#060}</style></head><body>
<h1>Audit report: ${escapeHtml(r.actor)}</h1>
<p class="${r.verified ? 'ok' : 'bad'}">${r.verified ? `Log verified: every entry is in sequence, chained and signed by key <code>${r.publicKey}</code>.` : `LOG FAILED VERIFICATION: ${escapeHtml(r.problem ?? '')}`}</p>
<p>Period: ${r.period ? `${r.period.from} to ${r.period.to}` : 'empty log'}. Generated ${r.generatedAt}.</p>
${summaryHtml(r, tableHtml, escapeHtml)}
<h2>Rounds</h2><p>${escapeHtml(roundsNote(r))}</p>${tableHtml(
    ['federation', 'round', 'messages', 'bytes', roundsEpsilonHead(r), 'assuming'],
    roundRows(r),
  )}
<h2>Refusals</h2>${tableHtml(
    ['time', 'federation', 'round', 'what', 'why'],
    r.refusals.map((x) => [x.time, x.federation, x.round, x.kind, x.detail]),
  )}
<h2>Log heads exchanged (anchors)</h2>${tableHtml(
    ['time', 'with'],
    r.anchors.map((a) => [a.time, a.peer]),
  )}
<h2>Other events</h2>${tableHtml(
    ['time', 'event', 'about', 'detail'],
    r.events.map((x) => [x.time, x.event, x.peer, x.detail]),
  )}
</body></html>
`;
}

export function renderAuditReport(report: AuditReport, format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  return format === 'html' ? html(report) : markdown(report);
}
