import type { Round } from './types';

/** Epsilon as a person reads it: three significant digits ("6.83", "0.412"), never 16. */
export function formatEpsilon(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  return value >= 100 ? value.toFixed(0) : Number(value.toPrecision(3)).toString();
}

export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '—'
    : `${(value * 100).toFixed(1)}%`;
}

/** "12 s ago", "3 min ago", "2 h ago", "4 d ago"; "never" for null. */
export function timeAgo(iso: string | null, now: number): string {
  if (iso === null) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** The secure-aggregation stages of a round, in order (Bonawitz et al. CCS 2017, Fig. 4). */
export const STAGES = ['keys', 'shares', 'inputs', 'consistency', 'unmask'] as const;

export const STAGE_LABELS: Readonly<Record<(typeof STAGES)[number], string>> = {
  keys: 'Keys',
  shares: 'Shares',
  inputs: 'Masked inputs',
  consistency: 'Consistency',
  unmask: 'Unmask',
};

export type StepState = 'done' | 'current' | 'todo' | 'failed';

/**
 * Where a round stands on each stage. An abandoned round fails at the first stage it never got
 * past (judged by who answered: no shares means it stopped at the keys, and so on).
 */
export function stageSteps(r: Round): { stage: (typeof STAGES)[number]; state: StepState }[] {
  let reached: number;
  if (r.status === 'completed') reached = STAGES.length;
  else if (r.status === 'open') reached = Math.max(0, STAGES.indexOf(r.stage as (typeof STAGES)[number]));
  else reached = r.inputsFrom.length > 0 ? 2 : r.sharesFrom.length > 0 ? 1 : 0;
  return STAGES.map((stage, i) => ({
    stage,
    state:
      i < reached
        ? 'done'
        : i > reached
          ? 'todo'
          : r.status === 'abandoned'
            ? 'failed'
            : r.status === 'open'
              ? 'current'
              : 'done',
  }));
}

/** What one participant did in a round, in words. */
export function participantState(r: Round, site: string): string {
  const declined = r.declines.find((d) => d.site === site);
  if (declined) return `refused (${declined.reason})`;
  if (r.awaiting.includes(site)) return `awaited at ${r.stage}`;
  if (r.inputsFrom.includes(site)) return r.status === 'completed' ? 'contributed' : 'sent its masked input';
  if (r.sharesFrom.includes(site))
    return r.status === 'open' ? 'sent its shares' : 'dropped out after its shares';
  if (r.keysFrom.includes(site)) return r.status === 'open' ? 'sent its keys' : 'dropped out after its keys';
  return r.status === 'open' ? 'not yet heard from' : 'dropped out';
}

export function isOpen(rounds: readonly Round[]): boolean {
  return rounds.some((r) => r.status === 'open');
}
