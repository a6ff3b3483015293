import * as fs from 'node:fs';
import {
  type AuditProblem,
  type AuditVerification,
  buildAuditReport,
  crossCheckAnchors,
  renderAuditReport,
  type ReportFormat,
  type SignatureCheck,
  toJsonLines,
  verifyAuditLog,
} from '@fedistill/audit';
import { CliError } from '../cli-error';
import { loadLogs, type LogSource } from './load-logs';

export interface VerificationResult {
  readonly ok: boolean;
  readonly logs: ReadonlyArray<AuditVerification & { source: string }>;
  /** Anchor entries whose counterpart log was given, and the problems found in them. */
  readonly anchorsChecked: number;
  readonly anchorProblems: readonly AuditProblem[];
}

/**
 * Verifies every log given and the anchors between them. By default each log's chain and head
 * signature (which covers every entry's content); `signatures: 'every'` (`audit verify --full`)
 * checks each entry's own signature too. What each proves: docs/audit-log.md.
 */
export async function verifyLogs(
  sources: readonly LogSource[],
  signatures: SignatureCheck = 'head',
): Promise<VerificationResult> {
  const loaded = await loadLogs(sources);
  const verified = loaded.map((l) => ({
    ...verifyAuditLog(l.entries, { expectedPublicKey: l.expectedKey, signatures }),
    source: l.source,
  }));
  const usable = loaded
    .map((l, i) => ({ verification: verified[i] as AuditVerification, entries: l.entries }))
    .filter((l) => l.verification.ok);
  const actors = new Set(usable.map((l) => l.verification.actor));
  const anchorsChecked = usable
    .flatMap((l) => l.entries)
    .filter((e) => e.event === 'anchor' && [...actors].some((a) => a !== e.actor && e.peer === a)).length;
  const anchorProblems = crossCheckAnchors(usable);
  return {
    ok: verified.every((v) => v.ok) && anchorProblems.length === 0,
    logs: verified,
    anchorsChecked,
    anchorProblems,
  };
}

const where = (p: AuditProblem) =>
  `entry ${p.seq || p.position} (position ${p.position}), field '${p.field}': ${p.reason}`;

export function renderVerification(r: VerificationResult): string {
  const lines = r.logs.map((l) =>
    l.ok
      ? `OK      ${l.actor}: ${l.entries} entries, head ${l.head?.seq ?? 0}, signed by ${l.publicKey.slice(0, 16)}... (${l.signatures === 'every' ? 'every signature' : 'chain and head signature'}; ${l.source})`
      : `FAILED  ${l.actor || l.source}: ${l.problem ? where(l.problem) : 'unknown problem'} (${l.source})`,
  );
  if (r.logs.length > 1 || r.anchorsChecked > 0) {
    lines.push(
      r.anchorProblems.length === 0
        ? `OK      anchors: ${r.anchorsChecked} cross-checked between the logs`
        : `FAILED  anchors: ${r.anchorProblems.map((p) => `${p.log} ${where(p)}`).join('; ')}`,
    );
  }
  lines.push(r.ok ? 'every log verified' : 'verification FAILED');
  return lines.join('\n');
}

function singleLog(sources: readonly LogSource[]) {
  if (sources.length !== 1) throw new CliError('give exactly one log for this command', 2);
}

export async function writeReport(
  sources: readonly LogSource[],
  format: string,
  out: string | undefined,
): Promise<void> {
  singleLog(sources);
  if (!['md', 'json', 'html'].includes(format))
    throw new CliError(`--format '${format}' must be md, json or html`, 2);
  const [log] = await loadLogs(sources);
  if (!log) return;
  const text = renderAuditReport(
    buildAuditReport(log.entries, verifyAuditLog(log.entries, log.expectedKey)),
    format as ReportFormat,
  );
  if (out) {
    fs.writeFileSync(out, text);
    process.stdout.write(`report written to ${out}\n`);
  } else {
    process.stdout.write(text);
  }
}

export async function exportLog(sources: readonly LogSource[], out: string): Promise<number> {
  singleLog(sources);
  const [log] = await loadLogs(sources);
  fs.writeFileSync(out, toJsonLines(log?.entries ?? []));
  return log?.entries.length ?? 0;
}
