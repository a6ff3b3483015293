import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SignedHead } from '@fedistill/audit';
import { writeFileAtomic } from './atomic-file';

/** The last coordinator log head this node accepted (DIR/coordinator-head.json). */
export const COORDINATOR_HEAD_FILE = 'coordinator-head.json';
/** A raised rollback or fork, until the operator acknowledges it (DIR/coordinator-log-alarm.json). */
export const LOG_ALARM_FILE = 'coordinator-log-alarm.json';

/**
 * What a received head says about the coordinator's log, compared with the last head this node
 * accepted. With heads alone (the anchor exchange carries no entries) a node can detect:
 * - rollback: a smaller sequence number than one it already saw;
 * - fork: the same sequence number with another entry hash.
 * It cannot tell whether a head with a greater sequence number extends the last one (that needs
 * the entries in between: `fedistill audit verify` over the coordinator's exported log checks it).
 */
export type HeadVerdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'rollback' | 'fork'; readonly last: SignedHead; readonly received: SignedHead };

export function compareHeads(last: SignedHead | undefined, received: SignedHead): HeadVerdict {
  if (!last) return { kind: 'ok' };
  if (received.sequence < last.sequence) return { kind: 'rollback', last, received };
  if (received.sequence === last.sequence && received.entrySha256 !== last.entrySha256)
    return { kind: 'fork', last, received };
  return { kind: 'ok' };
}

/** A rollback or fork the node saw, kept until its operator acknowledges it. */
export interface LogAlarm {
  readonly kind: 'rollback' | 'fork';
  readonly raisedAt: string;
  readonly last: SignedHead;
  readonly received: SignedHead;
}

/** A description of an alarm for logs and the operator (no local paths). */
export function describeAlarm(a: Pick<LogAlarm, 'kind' | 'last' | 'received'>): string {
  const { last, received } = a;
  return a.kind === 'rollback'
    ? `the coordinator's log rolled back: it signed a head at sequence ${received.sequence} after one at ${last.sequence}`
    : `the coordinator's log forked: two heads at sequence ${last.sequence} with different entries (${last.entrySha256.slice(0, 16)}..., ${received.entrySha256.slice(0, 16)}...)`;
}

function readJson<T>(file: string): T | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    // A damaged file must not silently reset what the node remembers.
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); restore it from a backup`);
  }
}

/**
 * Remembers the coordinator's log heads in the node directory and raises an alarm on a rollback
 * or fork (SPEC, privacy model item 5: "neither can rewrite history unnoticed"). While an alarm is
 * raised the node answers no round; the alarm stays until the operator acknowledges it.
 */
export class CoordinatorHeadWatch {
  constructor(private readonly dir: string) {}

  last(): SignedHead | undefined {
    return readJson<SignedHead>(path.join(this.dir, COORDINATOR_HEAD_FILE));
  }

  alarm(): LogAlarm | undefined {
    return readJson<LogAlarm>(path.join(this.dir, LOG_ALARM_FILE));
  }

  /**
   * Compares a validly signed head with the last one. An accepted head becomes the new last one;
   * a rollback or fork raises the alarm (the first one is kept if one is already raised) and the
   * last head stays what it was.
   */
  observe(received: SignedHead): HeadVerdict {
    const verdict = compareHeads(this.last(), received);
    if (verdict.kind === 'ok') {
      writeFileAtomic(path.join(this.dir, COORDINATOR_HEAD_FILE), `${JSON.stringify(received, null, 2)}\n`);
      return verdict;
    }
    if (!this.alarm()) {
      const alarm: LogAlarm = { ...verdict, raisedAt: new Date().toISOString() };
      writeFileAtomic(path.join(this.dir, LOG_ALARM_FILE), `${JSON.stringify(alarm, null, 2)}\n`);
    }
    return verdict;
  }

  /**
   * The operator has looked at the alarm: the head that raised it becomes the last one, so later
   * heads are compared with what the coordinator now shows, and rounds are answered again.
   */
  acknowledge(): LogAlarm | undefined {
    const alarm = this.alarm();
    if (!alarm) return undefined;
    writeFileAtomic(
      path.join(this.dir, COORDINATOR_HEAD_FILE),
      `${JSON.stringify(alarm.received, null, 2)}\n`,
    );
    fs.rmSync(path.join(this.dir, LOG_ALARM_FILE));
    return alarm;
  }
}
