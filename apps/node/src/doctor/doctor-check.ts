/** How one check of a node directory came out: `warn` does not stop the service from starting. */
export type DoctorStatus = 'ok' | 'warn' | 'fail';

/** One line of `fedistill node doctor`. */
export interface DoctorCheck {
  /** What was checked: directory, keys, config, ca, enrolment, coordinator, data, provider:cpu, ... */
  readonly name: string;
  readonly status: DoctorStatus;
  /** One line: what was found, or why it fails and what to do about it. */
  readonly reason: string;
  /** For an execution provider that loads: the probe's session and run times (ms) and its largest difference from cpu. */
  readonly probe?: { readonly sessionMs: number; readonly runMs: number; readonly maxDiff: number };
}

export const passed = (name: string, reason: string): DoctorCheck => ({ name, status: 'ok', reason });
export const warned = (name: string, reason: string): DoctorCheck => ({ name, status: 'warn', reason });
export const failed = (name: string, reason: string): DoctorCheck => ({ name, status: 'fail', reason });

/** An error's message on one line (configuration errors list one setting per line). */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .reduce(
      (line, part) => (line === '' ? part : line.endsWith(':') ? `${line} ${part}` : `${line}; ${part}`),
      '',
    );
}

/** Days from now until `date` (negative when past). */
export function daysUntil(date: Date, now: Date): number {
  return (date.getTime() - now.getTime()) / 86_400_000;
}

/** A certificate expiring sooner than this is reported as a warning. */
export const EXPIRY_WARNING_DAYS = 30;
